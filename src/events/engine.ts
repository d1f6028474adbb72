// Polling audit-log feeds: for each source with `[sources.events]`, every (scope, feed) is read from where its
// covered window ends (minus the overlap for the provider's delivery lag) or the configured look-back. Each
// page is stored with its cursor in one transaction; a feed's health (ok / unavailable / failed) is recorded,
// never taken for "no events". One feed failing never ends the others.
import pLimit from "p-limit";
import type { Logger } from "../connector.js";
import type { Config, SourceConfig } from "../config/load.js";
import { Redactor } from "../redact.js";
import { resolveSecret } from "../secrets.js";
import type { Db } from "../store/db.js";
import { collectedScopes, endFeed, feedNotOk, feedState, pruneEvents, startFeedPoll, storeEventPage, type FeedStatus } from "../store/events.js";
import { sidFor } from "../store/writer.js";
import type { FeedContext, FeedEvent, FeedRequest } from "./contract.js";

export interface FeedPollResult {
  source: string;
  scope: string;
  feed: string;
  status: Exclude<FeedStatus, "polling">;
  /** Why not ok. */
  reason?: string;
  inserted: number;
  duplicates: number;
  rejected: number;
  requests: number;
}

export interface SourcePollResult {
  source: string;
  /** Why nothing was polled: no feed reader, no scope collected yet, the reader could not be built. */
  skipped?: string;
  feeds: FeedPollResult[];
}

export interface PollOptions {
  /** Only these source ids (default: every enabled source with `[sources.events]`). */
  sources?: string[];
  signal?: AbortSignal;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** The clock (tests). */
  now?: () => number;
}

export interface PollResult {
  sources: SourcePollResult[];
  /** Events deleted by `[events] retention_days`. */
  pruned: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Sources whose feeds a poll reads: enabled ones with `[sources.events]`, or the named ones (which must have it). */
export function eventSources(config: Config, ids?: string[]): SourceConfig[] {
  if (!ids || ids.length === 0) return config.sources.filter((s) => s.enabled && s.events);
  return config.sources.filter((s) => ids.includes(s.id) && s.events);
}

export async function pollEvents(db: Db, config: Config, opts: PollOptions): Promise<PollResult> {
  const limit = pLimit(config.collect.concurrency);
  const sources = eventSources(config, opts.sources);
  const results = await Promise.all(sources.map((s) => limit(() => pollSource(db, s, config, opts))));
  let pruned = 0;
  if (config.events.retentionDays > 0) {
    const now = opts.now?.() ?? Date.now();
    pruned = pruneEvents(db, new Date(now - config.events.retentionDays * DAY).toISOString());
  }
  return { sources: results, pruned };
}

interface Pending {
  req: FeedRequest;
  sid: number;
  result: FeedPollResult;
  done: boolean;
}

export async function pollSource(db: Db, source: SourceConfig, config: Config, opts: PollOptions): Promise<SourcePollResult> {
  const settings = source.events;
  if (!settings) return { source: source.id, skipped: "no [sources.events] table", feeds: [] };
  const log = opts.log;
  const redactor = new Redactor();
  const clock = opts.now ?? Date.now;
  const nowIso = () => new Date(clock()).toISOString();

  const scopes = new Map(collectedScopes(db, source.id).map((s) => [s.scope, s.sid]));
  for (const scope of settings.scopes) if (!scopes.has(scope)) scopes.set(scope, sidFor(db, source.id, source.type, scope));
  if (scopes.size === 0) return { source: source.id, skipped: "no scope collected yet: run whohas collect first, or list [sources.events] scopes", feeds: [] };

  const deadlineMs = (source.deadlineSeconds ?? config.collect.deadlineSeconds) * 1000;
  const stop = new AbortController();
  const deadlineAt = Date.now() + deadlineMs;
  const deadline = setTimeout(() => stop.abort(new Error(`timed out: the feeds were not read within ${deadlineMs / 1000} s`)), deadlineMs);
  const onShutdown = () => stop.abort(opts.signal?.reason ?? new Error("aborted by shutdown"));
  if (opts.signal?.aborted) onShutdown();
  else opts.signal?.addEventListener("abort", onShutdown, { once: true });
  const releases: (() => unknown)[] = [];
  const pending = new Map<string, Pending>();
  const key = (scope: string, feed: string) => `${scope}\u001f${feed}`;
  const requestsBy = new Map<string, number>();

  const finish = (p: Pending, status: "unavailable" | "failed", reason: string) => {
    p.done = true;
    p.result.status = status;
    p.result.reason = redactor.redact(reason);
    feedNotOk(db, p.sid, p.req.feed, status, p.result.reason, nowIso());
    log.warn({ source: source.id, scope: p.req.scope, feed: p.req.feed, status, reason: p.result.reason }, `event feed ${status}`);
  };

  try {
    const impl = await source.connector.load();
    if (!impl.events) return { source: source.id, skipped: `the ${source.type} connector has no event feed reader`, feeds: [] };
    const reader = impl.events(source.id, source.options);
    for (const [scope, sid] of scopes) {
      for (const feed of reader.feeds) {
        const state = feedState(db, sid, feed);
        const since = state?.coveredUntil
          ? new Date(Date.parse(state.coveredUntil) - settings.overlapMinutes * MINUTE).toISOString()
          : new Date(clock() - settings.lookbackDays * DAY).toISOString();
        const req: FeedRequest = { scope, feed, cursor: state?.cursor ?? null, since };
        pending.set(key(scope, feed), {
          req,
          sid,
          done: false,
          result: { source: source.id, scope, feed, status: "failed", inserted: 0, duplicates: 0, rejected: 0, requests: 0 },
        });
        startFeedPoll(db, sid, feed, nowIso());
      }
    }
    const ctx: FeedContext = {
      sourceId: source.id,
      signal: stop.signal,
      deadlineAt,
      log: {
        debug: (o, m) => log.debug({ source: source.id, ...o }, m),
        info: (o, m) => log.info({ source: source.id, ...o }, m),
        warn: (o, m) => log.warn({ source: source.id, ...o }, m),
        error: (o, m) => log.error({ source: source.id, ...o }, m),
      },
      countRequest(scope, n = 1) {
        requestsBy.set(scope, (requestsBy.get(scope) ?? 0) + n);
      },
      async resolveSecret(ref, k) {
        const value = await resolveSecret(ref, `sources.${source.id}.${k}`, opts.env);
        redactor.add(value);
        return value;
      },
      defer(release) {
        releases.push(release);
      },
    };
    const stopped = new Promise<"stopped">((resolve) => {
      if (stop.signal.aborted) resolve("stopped");
      else stop.signal.addEventListener("abort", () => resolve("stopped"), { once: true });
    });
    const events = reader.read(ctx, [...pending.values()].map((p) => p.req))[Symbol.asyncIterator]();
    try {
      for (;;) {
        // A reader that ignores its signal cannot hold the poll past its deadline or a shutdown.
        const next = await Promise.race([events.next(), stopped]);
        if (next === "stopped" || stop.signal.aborted || next.done) break;
        handle(next.value);
      }
    } finally {
      void events.return?.(undefined).catch(() => undefined);
    }
    const why = stop.signal.aborted ? (stop.signal.reason as Error)?.message ?? "aborted" : "the reader ended without finishing this feed";
    for (const p of pending.values()) if (!p.done) finish(p, "failed", `source ${source.id}: ${why}`);
  } catch (err) {
    const why = stop.signal.aborted ? ((stop.signal.reason as Error)?.message ?? "aborted") : ((err as Error).message ?? String(err));
    for (const p of pending.values()) if (!p.done) finish(p, "failed", `source ${source.id}: ${why}`);
    if (pending.size === 0) return { source: source.id, skipped: redactor.redact(`the feed reader could not start: ${why}`), feeds: [] };
  } finally {
    clearTimeout(deadline);
    opts.signal?.removeEventListener("abort", onShutdown);
    if (!stop.signal.aborted) stop.abort(new Error("poll finished"));
    for (const release of releases.reverse()) {
      try {
        await release();
      } catch (err) {
        log.warn({ source: source.id, error: (err as Error).message }, "releasing a client failed");
      }
    }
  }
  const feeds = [...pending.values()].map((p) => ({ ...p.result, requests: requestsBy.get(p.req.scope) ?? 0 }));
  return { source: source.id, feeds };

  function handle(ev: FeedEvent): void {
    const p = pending.get(key(ev.scope, ev.feed));
    if (!p) {
      log.warn({ source: source.id, scope: ev.scope, feed: ev.feed, type: ev.type }, "the reader reported a feed it was not asked for; ignored");
      return;
    }
    if (p.done && ev.type !== "feed-start") {
      log.warn({ source: source.id, scope: ev.scope, feed: ev.feed, type: ev.type }, "the reader reported a feed it had already finished; ignored");
      return;
    }
    switch (ev.type) {
      case "feed-start":
        return;
      case "events": {
        if (!Array.isArray(ev.events) || typeof ev.cursor !== "string") {
          finish(p, "failed", `source ${source.id}: the reader yielded a malformed page`);
          return;
        }
        try {
          const r = storeEventPage(db, p.sid, ev.feed, ev.events, ev.cursor, nowIso());
          p.result.inserted += r.inserted;
          p.result.duplicates += r.duplicates;
          p.result.rejected += r.rejected.length;
          if (r.rejected.length > 0) {
            log.warn({ source: source.id, scope: ev.scope, feed: ev.feed, rejected: r.rejected.length, first: redactor.redact(r.rejected[0]!.reason) }, "events could not be stored");
          }
        } catch (err) {
          // The page and its cursor were rolled back together: the next poll reads it again.
          finish(p, "failed", `source ${source.id}: the store failed while writing events (${(err as Error).message})`);
        }
        return;
      }
      case "feed-end": {
        if (typeof ev.coveredUntil !== "string" || Number.isNaN(Date.parse(ev.coveredUntil))) {
          finish(p, "failed", `source ${source.id}: the reader ended the feed without a valid coveredUntil`);
          return;
        }
        p.done = true;
        p.result.status = "ok";
        endFeed(db, p.sid, ev.feed, p.req.since, ev.coveredUntil, nowIso());
        return;
      }
      case "feed-unavailable":
        finish(p, "unavailable", String(ev.reason));
        return;
      case "feed-failed":
        finish(p, "failed", String(ev.error));
        return;
    }
  }
}

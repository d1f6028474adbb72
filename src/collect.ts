// One collect run: every enabled source, concurrently under a bound, into one snapshot.
// A source or scope that fails is recorded as failed and keeps its previous state; the others are stored.
import pLimit from "p-limit";
import type { CollectContext, CollectEvent, Logger } from "./connector.js";
import type { Config, SourceConfig } from "./config/load.js";
import { resolveSecret } from "./secrets.js";
import { pollEvents } from "./events/engine.js";
import { containEscapes, describeEscape } from "./escapes.js";
import { Redactor } from "./redact.js";
import { openStore, type Db } from "./store/db.js";
import { acquireLock } from "./store/lock.js";
import { pruneStore } from "./store/retention.js";
import { scopeRuns, type ScopeRunRow } from "./store/reader.js";
import { recoverInterruptedRuns, RunWriter, type ScopeWriter } from "./store/writer.js";

export interface CollectOptions {
  /** Only these source ids (they must exist; disabled ones are collected when named). */
  sources?: string[];
  /** Shutdown: in-flight requests are cancelled and open scopes end "aborted by shutdown". */
  signal?: AbortSignal;
  /** Epoch ms no source may run past (the daemon's next scheduled collect); each source's own deadline applies too. */
  deadlineAt?: number;
  log: Logger;
  trigger?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Called once the run exists: its id, and `abortNow`, which marks it failed at once (open scopes failed,
   * their partial rows rolled back) and releases the store and lock, for a process that must exit without
   * waiting for its sources (a second Ctrl-C). Nothing is written by the run after it.
   */
  onRunStarted?: (run: { runId: number; abortNow(reason: string): void }) => void;
  /** Called as scopes start, make requests, store records and finish, for a progress display. */
  onProgress?: (event: ProgressEvent) => void;
}

/**
 * Where one scope stands. "collecting" comes after every request the scope counts and every batch it stores,
 * so a display must throttle; the counts are the scope's own so far (a failed scope's are what it got to).
 */
export interface ProgressEvent {
  source: string;
  scope: string;
  state: "started" | "collecting" | "ok" | "partial" | "failed";
  /** Requests counted for the scope (pages, and per-record calls where the provider needs them). */
  requests: number;
  /** Principals, credentials, grants and role definitions received. */
  records: number;
  quarantined: number;
}

export interface CollectResult {
  runId: number;
  status: "ok" | "partial" | "failed";
  scopes: ScopeRunRow[];
  recoveredRuns: number[];
}

export class UsageError extends Error {
  override name = "UsageError";
}

export function selectSources(config: Config, ids?: string[]): SourceConfig[] {
  if (!ids || ids.length === 0) return config.sources.filter((s) => s.enabled);
  const unknown = ids.filter((id) => !config.sources.some((s) => s.id === id));
  if (unknown.length > 0) {
    throw new UsageError(`unknown source ${unknown.join(", ")} in ${config.file}; configured: ${config.sources.map((s) => s.id).join(", ") || "none"}`);
  }
  return config.sources.filter((s) => ids.includes(s.id));
}

export async function collect(config: Config, opts: CollectOptions): Promise<CollectResult> {
  const sources = selectSources(config, opts.sources);
  if (sources.length === 0) throw new UsageError(`${config.file}: no enabled sources to collect`);
  const lock = acquireLock(config.store.path);
  let db: Db | undefined;
  try {
    db = openStore(config.store.path);
    const recoveredRuns = recoverInterruptedRuns(db);
    for (const id of recoveredRuns) opts.log.warn({ run: id }, "run interrupted by an earlier crash marked failed");
    const run = RunWriter.begin(db, opts.trigger ?? "cli");
    opts.onRunStarted?.({
      runId: run.runId,
      abortNow: (reason) => {
        recoverInterruptedRuns(db!, reason);
        db!.close();
        lock.release();
      },
    });
    const limit = pLimit(config.collect.concurrency);
    try {
      await Promise.all(sources.map((s) => limit(() => collectSource(db!, run, s, config, opts))));
    } catch (err) {
      run.abort(`collect stopped: ${(err as Error).message}`);
      throw err;
    }
    if (opts.signal?.aborted) {
      run.abort("collect stopped: aborted by shutdown");
    } else {
      await pollFeedsAfterSnapshot(db, config, sources, opts);
    }
    const status = opts.signal?.aborted ? "failed" : run.finish();
    if (config.store.keepRuns > 0) pruneStore(db, config.store.keepRuns, config.remediation.dir, opts.log);
    db.pragma("wal_checkpoint(TRUNCATE)");
    return { runId: run.runId, status, scopes: scopeRuns(db, run.runId), recoveredRuns };
  } finally {
    db?.close();
    lock.release();
  }
}

/**
 * The audit-log feeds of the collected sources, read before the run is sealed so its digest covers the events
 * and its diff can be attributed. A feed failure is recorded as that feed's health; it never fails the snapshot.
 */
async function pollFeedsAfterSnapshot(db: Db, config: Config, sources: SourceConfig[], opts: CollectOptions): Promise<void> {
  const ids = sources.filter((s) => s.events).map((s) => s.id);
  if (ids.length === 0) return;
  try {
    const result = await pollEvents(db, config, { sources: ids, signal: opts.signal, log: opts.log, env: opts.env });
    for (const s of result.sources) {
      if (s.skipped) opts.log.info({ source: s.source, reason: s.skipped }, "event feeds not polled");
      for (const f of s.feeds) opts.log.info({ source: s.source, scope: f.scope, feed: f.feed, status: f.status, inserted: f.inserted }, "event feed polled");
    }
  } catch (err) {
    opts.log.warn({ error: (err as Error).message }, "polling the event feeds failed; the snapshot is kept");
  }
}

/** Why a source stopped before its connector finished: the daemon's shutdown or the source's own deadline. */
function stopReason(shutdown: AbortSignal | undefined, timedOut: boolean, deadlineSeconds: number): string {
  if (timedOut) return `timed out: the source did not finish within its collect deadline (${deadlineSeconds} s); previous state kept`;
  return shutdown?.aborted ? "aborted by shutdown" : "aborted";
}

async function collectSource(db: Db, run: RunWriter, source: SourceConfig, config: Config, opts: CollectOptions): Promise<void> {
  const redactor = new Redactor();
  const writers = new Map<string, ScopeWriter>();
  const pendingRequests = new Map<string, number>();
  let unscopedRequests = 0;
  const log = opts.log;
  // The source's own signal: the caller's (shutdown) or its deadline, whichever comes first.
  const deadlineSeconds = source.deadlineSeconds ?? config.collect.deadlineSeconds;
  const deadlineMs = Math.max(0, Math.min(deadlineSeconds * 1000, opts.deadlineAt !== undefined ? opts.deadlineAt - Date.now() : Infinity));
  const stop = new AbortController();
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    stop.abort(new Error(stopReason(opts.signal, true, Number((deadlineMs / 1000).toFixed(1)))));
  }, deadlineMs);
  const onShutdown = () => stop.abort(opts.signal?.reason ?? new Error("aborted by shutdown"));
  // An error that escaped the connector's promises (a stream's unheard 'error' event): the source fails with it.
  let escape: unknown;
  let ended = false;
  const onEscape = (err: unknown) => {
    log.error({ source: source.id, error: redactor.redact(describeEscape(err)), stack: redactor.redact((err as Error)?.stack ?? ""), afterEnd: ended }, "error escaped the connector");
    if (ended || escape !== undefined) return;
    escape = err;
    stop.abort(err);
  };
  const stopWhy = () => (escape !== undefined ? describeEscape(escape) : stopReason(opts.signal, timedOut, Number((deadlineMs / 1000).toFixed(1))));
  if (opts.signal?.aborted) onShutdown();
  else opts.signal?.addEventListener("abort", onShutdown, { once: true });
  const releases: (() => unknown)[] = [];
  const ctx: CollectContext = {
    sourceId: source.id,
    signal: stop.signal,
    deadlineAt: Date.now() + deadlineMs,
    log: {
      debug: (o, m) => log.debug({ source: source.id, ...o }, m),
      info: (o, m) => log.info({ source: source.id, ...o }, m),
      warn: (o, m) => log.warn({ source: source.id, ...o }, m),
      error: (o, m) => log.error({ source: source.id, ...o }, m),
    },
    countRequest(scope, n = 1) {
      const w = writers.get(scope);
      if (w) {
        w.addRequests(n);
        progress(scope, "collecting");
      } else if (scope) pendingRequests.set(scope, (pendingRequests.get(scope) ?? 0) + n);
      else unscopedRequests += n;
    },
    async resolveSecret(ref, key) {
      const value = await resolveSecret(ref, `sources.${source.id}.${key}`, opts.env);
      redactor.add(value);
      return value;
    },
    defer(release) {
      releases.push(release);
    },
    quarantine(scope, note) {
      // A scope already failed by a store failure ignores the rest of what the connector says about it.
      if (!rejected.has(scope)) writerFor(scope).quarantine(note);
    },
  };

  const writerFor = (scope: string, label?: string): ScopeWriter => {
    let w = writers.get(scope);
    if (!w) {
      w = run.openScope(source.id, source.type, scope, label, (text) => redactor.redact(text));
      w.addRequests(pendingRequests.get(scope) ?? 0);
      pendingRequests.delete(scope);
      writers.set(scope, w);
      progress(scope, "started");
    }
    return w;
  };
  const progress = (scope: string, state: ProgressEvent["state"]) => {
    const w = writers.get(scope);
    // A request counted after the scope ended (a connector's late retry) is not progress of a running scope.
    if (!opts.onProgress || (state === "collecting" && w?.finished)) return;
    const c = w?.counts;
    const records = c ? c.principals + c.credentials + c.grants + c.roles : 0;
    opts.onProgress({ source: source.id, scope, state, requests: c?.requests ?? 0, records, quarantined: c?.quarantined ?? 0 });
  };
  const started = Date.now();
  // Scopes failed here because the store failed as a whole while writing them (a full disk): the rest of what
  // the connector says about them is ignored, and its other scopes carry on. Single records the store cannot
  // take never land here: the writer quarantines them.
  const rejected = new Set<string>();
  const handle = (ev: CollectEvent) => {
    if (rejected.has(ev.scope)) return;
    switch (ev.type) {
      case "scope-start":
        writerFor(ev.scope, ev.label);
        return;
      case "records": {
        const w = writerFor(ev.scope);
        try {
          w.write(ev);
          progress(ev.scope, "collecting");
        } catch (err) {
          const error = redactor.redact(`source ${source.id}, scope ${ev.scope}: the store failed while writing this scope (${(err as Error).message})`);
          w.fail(error);
          rejected.add(ev.scope);
          log.warn({ source: source.id, scope: ev.scope, error }, "scope failed");
          progress(ev.scope, "failed");
        }
        return;
      }
      case "quarantine":
        writerFor(ev.scope).quarantine(ev.note);
        return;
      case "scope-end": {
        const w = writerFor(ev.scope);
        w.end(ev.meta, ev.preserve);
        const { requests, principals, quarantined, unresolved } = w.counts;
        const state = quarantined > 0 ? "partial" : "ok";
        log.info({ source: source.id, scope: ev.scope, requests, principals, quarantined, unresolved, ms: Date.now() - started }, "scope collected");
        if (quarantined > 0) log.warn({ source: source.id, scope: ev.scope, quarantined }, "records quarantined: see whohas runs");
        progress(ev.scope, state);
        return;
      }
      case "scope-failed": {
        const error = redactor.redact(ev.error);
        writerFor(ev.scope).fail(error);
        log.warn({ source: source.id, scope: ev.scope, error }, "scope failed");
        progress(ev.scope, "failed");
        return;
      }
    }
  };

  const stopped = new Promise<"stopped">((resolve) => {
    if (stop.signal.aborted) resolve("stopped");
    else stop.signal.addEventListener("abort", () => resolve("stopped"), { once: true });
  });
  const failOpen = (message: string) => {
    let open = 0;
    for (const [scope, w] of writers) {
      const ended = w.finished;
      w.fail(message);
      // A scope that had already ended keeps its state (fail does nothing to it), so it is not reported again.
      if (!ended) progress(scope, "failed");
      open++;
    }
    return open;
  };
  let events: AsyncIterator<CollectEvent> | undefined;
  try {
    await containEscapes(onEscape, async () => {
      // The provider's SDK is imported here, when a source of its type runs, and not before.
      const connector = (await source.connector.load()).create(source.id, source.options);
      events = connector.collect(ctx)[Symbol.asyncIterator]();
      for (;;) {
        // A connector that ignores its signal (a request with no timeout, a hung endpoint) cannot hold the
        // engine: past the deadline or on shutdown the source ends here, whatever the connector is waiting for.
        const next = await Promise.race([events.next(), stopped]);
        if (next === "stopped" || stop.signal.aborted) break;
        if (next.done) break;
        handle(next.value);
      }
    });
    if (stop.signal.aborted) {
      const message = redactor.redact(`source ${source.id}: ${stopWhy()}`);
      log.warn({ source: source.id, error: message }, escape !== undefined ? "source failed" : timedOut ? "source timed out" : "source stopped");
      if (failOpen(message) === 0) run.sourceFailed(source.id, source.type, message, unscopedRequests);
      return;
    }
    for (const [scope, w] of writers) {
      // The connector returned without ending a scope: its data may be partial, so it is not trusted.
      w.fail(`source ${source.id}: scope ${scope} was not finished by the connector`);
    }
  } catch (err) {
    // An error caused by stopping (an aborted request's odd error text) is reported as the stop it was.
    const why = stop.signal.aborted ? stopWhy() : ((err as Error).message ?? String(err));
    const message = redactor.redact(`source ${source.id}: ${why}`);
    log.warn({ source: source.id, error: message }, "source failed");
    const open = failOpen(message);
    const requests = unscopedRequests + [...pendingRequests.values()].reduce((a, b) => a + b, 0);
    if (open === 0 || requests > 0) run.sourceFailed(source.id, source.type, message, requests);
  } finally {
    ended = true;
    clearTimeout(deadline);
    opts.signal?.removeEventListener("abort", onShutdown);
    // Stop the connector's own work too (its requests see the signal), then release what it holds.
    if (!stop.signal.aborted) stop.abort(new Error("source finished"));
    void events?.return?.(undefined).catch(() => undefined);
    await releaseAll(releases, source.id, log);
  }
}

/** Runs a source's deferred releases newest first; a release that throws or hangs does not stop the others. */
async function releaseAll(releases: (() => unknown)[], source: string, log: Logger): Promise<void> {
  for (const release of releases.reverse()) {
    try {
      await Promise.race([Promise.resolve().then(release), new Promise((r) => setTimeout(r, RELEASE_WAIT_MS).unref())]);
    } catch (err) {
      log.warn({ source, error: (err as Error).message }, "releasing a client failed");
    }
  }
}

const RELEASE_WAIT_MS = 5_000;

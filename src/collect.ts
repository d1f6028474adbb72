// One collect run: every enabled source, concurrently under a bound, into one snapshot.
// A source or scope that fails is recorded as failed and keeps its previous state; the others are stored.
import pLimit from "p-limit";
import { findConnector } from "../connectors/index.js";
import type { CollectContext, CollectEvent, Logger } from "./connector.js";
import type { Config, SourceConfig } from "./config/load.js";
import { resolveSecret } from "./config/secrets.js";
import { Redactor } from "./redact.js";
import { openStore, type Db } from "./store/db.js";
import { acquireLock } from "./store/lock.js";
import { pruneRuns } from "./store/prune.js";
import { scopeRuns, type ScopeRunRow } from "./store/reader.js";
import { recoverInterruptedRuns, RunWriter, type ScopeWriter } from "./store/writer.js";

export interface CollectOptions {
  /** Only these source ids (they must exist; disabled ones are collected when named). */
  sources?: string[];
  signal?: AbortSignal;
  log: Logger;
  trigger?: string;
  env?: NodeJS.ProcessEnv;
  /** Called as scopes start and finish, for progress display. */
  onProgress?: (event: { source: string; scope: string; state: "started" | "ok" | "failed"; records?: number }) => void;
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
    const limit = pLimit(config.collect.concurrency);
    try {
      await Promise.all(sources.map((s) => limit(() => collectSource(db!, run, s, opts))));
    } catch (err) {
      run.abort(`collect stopped: ${(err as Error).message}`);
      throw err;
    }
    if (opts.signal?.aborted) {
      run.abort("collect stopped: aborted");
    }
    const status = opts.signal?.aborted ? "failed" : run.finish();
    if (config.store.keepRuns > 0) pruneRuns(db, config.store.keepRuns);
    db.pragma("wal_checkpoint(TRUNCATE)");
    return { runId: run.runId, status, scopes: scopeRuns(db, run.runId), recoveredRuns };
  } finally {
    db?.close();
    lock.release();
  }
}

async function collectSource(db: Db, run: RunWriter, source: SourceConfig, opts: CollectOptions): Promise<void> {
  const definition = findConnector(source.type)!;
  const redactor = new Redactor();
  const writers = new Map<string, ScopeWriter>();
  const pendingRequests = new Map<string, number>();
  let unscopedRequests = 0;
  const log = opts.log;
  const ctx: CollectContext = {
    sourceId: source.id,
    signal: opts.signal ?? new AbortController().signal,
    log: {
      debug: (o, m) => log.debug({ source: source.id, ...o }, m),
      info: (o, m) => log.info({ source: source.id, ...o }, m),
      warn: (o, m) => log.warn({ source: source.id, ...o }, m),
      error: (o, m) => log.error({ source: source.id, ...o }, m),
    },
    countRequest(scope, n = 1) {
      const w = writers.get(scope);
      if (w) w.addRequests(n);
      else if (scope) pendingRequests.set(scope, (pendingRequests.get(scope) ?? 0) + n);
      else unscopedRequests += n;
    },
    async resolveSecret(ref, key) {
      const value = await resolveSecret(ref, `sources.${source.id}.${key}`, opts.env);
      redactor.add(value);
      return value;
    },
  };

  const writerFor = (scope: string, label?: string): ScopeWriter => {
    let w = writers.get(scope);
    if (!w) {
      w = run.openScope(source.id, source.type, scope, label);
      w.addRequests(pendingRequests.get(scope) ?? 0);
      pendingRequests.delete(scope);
      writers.set(scope, w);
      opts.onProgress?.({ source: source.id, scope, state: "started" });
    }
    return w;
  };
  const started = Date.now();
  // Scopes failed here because the connector handed over records the store refuses: the rest of what the
  // connector says about them is ignored, and its other scopes carry on.
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
        } catch (err) {
          const error = redactor.redact(`source ${source.id}, scope ${ev.scope}: the connector produced a record the store refuses (${(err as Error).message})`);
          w.fail(error);
          rejected.add(ev.scope);
          log.warn({ source: source.id, scope: ev.scope, error }, "scope failed");
          opts.onProgress?.({ source: source.id, scope: ev.scope, state: "failed" });
        }
        return;
      }
      case "scope-end": {
        const w = writerFor(ev.scope);
        w.end(ev.meta, ev.preserve);
        log.info({ source: source.id, scope: ev.scope, requests: w.counts.requests, principals: w.counts.principals, ms: Date.now() - started }, "scope collected");
        opts.onProgress?.({ source: source.id, scope: ev.scope, state: "ok", records: w.counts.principals });
        return;
      }
      case "scope-failed": {
        const error = redactor.redact(ev.error);
        writerFor(ev.scope).fail(error);
        log.warn({ source: source.id, scope: ev.scope, error }, "scope failed");
        opts.onProgress?.({ source: source.id, scope: ev.scope, state: "failed" });
        return;
      }
    }
  };

  try {
    const connector = definition.create(source.id, source.options);
    for await (const ev of connector.collect(ctx)) {
      if (opts.signal?.aborted) break;
      handle(ev);
    }
    if (opts.signal?.aborted) {
      for (const [, w] of writers) w.fail("aborted before the scope finished");
      return;
    }
    for (const [scope, w] of writers) {
      // The connector returned without ending a scope: its data may be partial, so it is not trusted.
      w.fail(`source ${source.id}: scope ${scope} was not finished by the connector`);
    }
  } catch (err) {
    const message = redactor.redact(`source ${source.id}: ${(err as Error).message ?? String(err)}`);
    log.warn({ source: source.id, error: message }, "source failed");
    let open = 0;
    for (const [scope, w] of writers) {
      w.fail(message);
      opts.onProgress?.({ source: source.id, scope, state: "failed" });
      open++;
    }
    const requests = unscopedRequests + [...pendingRequests.values()].reduce((a, b) => a + b, 0);
    if (open === 0 || requests > 0) run.sourceFailed(source.id, source.type, message, requests);
  }
}

// One unit of the daemon's work, without any scheduling: collect every enabled source (the same collect() as
// the CLI, under the same lock), build the report against the previous run, write it, alert, email.
import { collect, type CollectResult } from "../collect.js";
import type { Config } from "../config/load.js";
import { buildReport } from "../build-report.js";
import type { Report } from "../report/report.js";
import { openStore } from "../store/db.js";
import { deliveryBase, type Delivery } from "../store/deliveries.js";
import { deliverAlerts, deliverEmail, deliverFiles, reportSince, type DeliverOptions } from "./deliver.js";

export interface CycleOptions extends DeliverOptions {
  signal: AbortSignal;
  /** Stored with the run ("daemon", "timer"). */
  trigger?: string;
  /** Send the email in this cycle; false when [schedule] report sends it on its own time. */
  email: boolean;
  /** Epoch ms by which every source must have ended (the next scheduled collect, less time to report). */
  deadlineAt?: number;
}

export interface CycleResult extends Pick<CollectResult, "runId" | "status" | "scopes"> {
  /** Null when the collect was stopped: an aborted run is not reported on. */
  report: Report | null;
  deliveries: Delivery[];
}

const elapsed = (from: string, to: string | null) => (to ? Date.parse(to) - Date.parse(from) : null);

export async function runCycle(config: Config, opts: CycleOptions): Promise<CycleResult> {
  const { log } = opts;
  const started = Date.now();
  log.info({ trigger: opts.trigger ?? "daemon", sources: config.sources.filter((s) => s.enabled).map((s) => s.id) }, "collect started");
  const result = await collect(config, { signal: opts.signal, log, trigger: opts.trigger ?? "daemon", env: opts.env, ...(opts.deadlineAt !== undefined ? { deadlineAt: opts.deadlineAt } : {}) });
  const ms = Date.now() - started;
  for (const s of result.scopes) {
    const line = { run: result.runId, source: s.source, scope: s.scope, status: s.status, requests: s.requests, principals: s.principals, credentials: s.credentials, grants: s.grants, quarantined: s.quarantined, unresolved: s.unresolved, ms: elapsed(s.startedAt, s.finishedAt) };
    if (s.status === "ok") log.info(line, "scope");
    else log.warn({ ...line, error: s.error }, "scope");
  }
  log.info({ run: result.runId, status: result.status, ms, scopes: result.scopes.length, failed: result.scopes.filter((s) => s.status === "failed").length, quarantined: result.scopes.reduce((n, s) => n + s.quarantined, 0) }, "collect finished");
  opts.metrics?.observeRun(result, ms);

  // Remediation (notices, blocked-plan alerts, auto_apply entries) before the report, which then shows it.
  if (config.remediate.length > 0 && !opts.signal.aborted) {
    const { remediationCycle } = await import("./remediation.js");
    await remediationCycle(config, { log, env: opts.env, signal: opts.signal, ...(opts.sleep ? { sleep: opts.sleep } : {}) });
  }

  const db = openStore(config.store.path);
  try {
    opts.metrics?.observeStore(db);
    if (opts.signal.aborted) return { ...result, report: null, deliveries: [] };
    // The report starts where the last one written left off: a run whose cycle was cut short is covered here.
    const built = buildReport(db, config, { run: result.runId, type: config.report.type, history: config.report.history, top: config.report.top });
    const report = reportSince(db, config, built, deliveryBase(db, "file", config.report.dir), opts);
    opts.metrics?.observeReport(report);
    log.info({ run: report.run.id, previousRun: report.previousRun?.id ?? null, findings: report.counts.findings, newFindings: report.counts.newFindings }, "report built");
    const deliveries: Delivery[] = [deliverFiles(db, config, report, opts)];
    const [alerts, email] = await Promise.all([
      deliverAlerts(db, config, report, opts),
      opts.email && config.email ? deliverEmail(db, config, { run: result.runId, report }, opts) : undefined,
    ]);
    deliveries.push(...alerts, ...(email ? [email] : []));
    return { ...result, report, deliveries };
  } finally {
    db.close();
  }
}

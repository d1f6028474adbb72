// Getting a report out: files first (so nothing is lost), then webhook alerts and the email. Every outcome is
// recorded in the store for `whohas status`; a failed delivery is logged and recorded, never thrown, so it
// cannot fail or block the run it belongs to.
import type { Logger } from "../connector.js";
import type { Config } from "../config/load.js";
import { buildReport } from "../build-report.js";
import { ReportError, type Report } from "../report/report.js";
import type { Db } from "../store/db.js";
import { listRuns, oldestRunId } from "../store/reader.js";
import { alertBody, alertFindings, postAlert } from "./alerts.js";
import { deliveryBase, recordDelivery, type Channel, type Delivery } from "../store/deliveries.js";
import { composeEmail, emailSubject, sendEmail, somethingChanged, type ComposedEmail } from "./mail.js";
import type { DaemonMetrics } from "./metrics.js";
import { DeliveryError } from "./retry.js";
import { pruneReportFiles, writeReportFiles } from "./report-files.js";

export interface DeliverOptions {
  log: Logger;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  metrics?: DaemonMetrics;
  /** Backoff waits; tests pass one that does not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function record(db: Db, d: Delivery, opts: DeliverOptions): Delivery {
  opts.metrics?.deliveries.inc({ channel: d.channel, status: d.status });
  try {
    recordDelivery(db, d);
  } catch (err) {
    // The run may have been pruned meanwhile by a `whohas prune`; the log line is then the only record.
    opts.log.warn({ run: d.runId, channel: d.channel, error: (err as Error).message }, "could not record the delivery");
  }
  return d;
}

function outcome(runId: number, channel: Channel, target: string, startedAt: string, fields: Partial<Delivery>): Delivery {
  return { runId, channel, target, status: "ok", attempts: 1, startedAt, finishedAt: new Date().toISOString(), sinceRun: null, detail: null, error: null, ...fields };
}

/**
 * The report of the same run compared from `base` (where a channel's last delivery left off) when that is
 * earlier than the report's own previous run: a run whose cycle was cut short, or a delivery that failed, is
 * then covered by the next one instead of lost. Falls back to the report as it is when `base` was pruned.
 */
export function reportSince(db: Db, config: Config, report: Report, base: number | undefined, opts: Pick<DeliverOptions, "log">): Report {
  if (base === undefined || !report.previousRun || base >= report.previousRun.id) return report;
  try {
    return buildReport(db, config, { run: report.run.id, type: report.type, history: config.report.history, since: base, top: config.report.top });
  } catch (err) {
    if (!(err instanceof ReportError)) throw err;
    opts.log.warn({ run: report.run.id, since: base, error: err.message }, "cannot compare with the run the last delivery covered; comparing with the previous run");
    return report;
  }
}

export function deliverFiles(db: Db, config: Config, report: Report, opts: DeliverOptions): Delivery {
  const startedAt = new Date().toISOString();
  try {
    const paths = writeReportFiles(config.report, report);
    opts.log.info({ run: report.run.id, files: paths }, "report written");
    if (config.store.keepRuns > 0) {
      const oldest = oldestRunId(db);
      if (oldest !== null) {
        const removed = pruneReportFiles(config.report.dir, oldest);
        if (removed.length > 0) opts.log.info({ removed }, "reports of pruned runs removed");
      }
    }
    return record(db, outcome(report.run.id, "file", config.report.dir, startedAt, { sinceRun: report.previousRun?.id ?? null, detail: paths.map((p) => p.slice(config.report.dir.length + 1)).join(", ") }), opts);
  } catch (err) {
    opts.log.error({ run: report.run.id, dir: config.report.dir, error: (err as Error).message }, "report could not be written");
    return record(db, outcome(report.run.id, "file", config.report.dir, startedAt, { status: "failed", error: (err as Error).message }), opts);
  }
}

export async function deliverAlerts(db: Db, config: Config, report: Report, opts: DeliverOptions): Promise<Delivery[]> {
  const bySince = new Map<number | undefined, Report>();
  return Promise.all(
    config.alerts.map(async (alert) => {
      const startedAt = new Date().toISOString();
      // Each webhook picks up where its own last delivery left off: a failed post is re-sent with the next run's.
      const base = deliveryBase(db, "webhook", alert.name);
      let covered = bySince.get(base);
      try {
        if (!covered) bySince.set(base, (covered = reportSince(db, config, report, base, opts)));
      } catch (err) {
        // A report that cannot be built is this webhook's failed delivery, not the cycle's crash.
        opts.log.error({ run: report.run.id, alert: alert.name, error: (err as Error).message }, "alert could not be built");
        return record(db, outcome(report.run.id, "webhook", alert.name, startedAt, { status: "failed", attempts: 0, detail: "the report could not be built", error: (err as Error).message }), opts);
      }
      const findings = alertFindings(alert, covered);
      const sinceRun = covered.previousRun?.id ?? null;
      if (findings.length === 0) {
        return record(db, outcome(report.run.id, "webhook", alert.name, startedAt, { status: "skipped", attempts: 0, sinceRun, detail: "no new findings to alert" }), opts);
      }
      const detail = `${findings.length} finding(s): ${[...new Set(findings.map((f) => f.rule))].join(", ")}`;
      try {
        const sent = await postAlert(alert, alertBody(alert, covered, findings), opts);
        opts.log.info({ run: report.run.id, since: sinceRun, alert: alert.name, findings: findings.length, attempts: sent.attempts }, "alert sent");
        return record(db, outcome(report.run.id, "webhook", alert.name, startedAt, { attempts: sent.attempts, sinceRun, detail }), opts);
      } catch (err) {
        const attempts = err instanceof DeliveryError ? err.attempts : 0;
        opts.log.error({ run: report.run.id, alert: alert.name, attempts, error: (err as Error).message }, "alert failed");
        return record(db, outcome(report.run.id, "webhook", alert.name, startedAt, { status: "failed", attempts, sinceRun, detail, error: (err as Error).message }), opts);
      }
    }),
  );
}

export interface EmailRequest {
  /** The run to report; default the latest finished one (a failed collect is news too). */
  run?: number;
  /** The report already built for that run against the run before it, reused when the email covers the same span. */
  report?: Report;
  /** Send even when nothing changed (report --send). */
  force?: boolean;
}

/**
 * The email covers everything since the run its last delivery covered (when that run is still stored), so a day
 * the mail relay was down is in the next day's email instead of lost.
 */
export async function deliverEmail(db: Db, config: Config, req: EmailRequest, opts: DeliverOptions): Promise<Delivery> {
  const settings = config.email;
  if (!settings) throw new Error("no [email] section in the config");
  const startedAt = new Date().toISOString();
  const runId = req.run ?? listRuns(db, 100).find((r) => r.status !== "running")?.id;
  if (runId === undefined) {
    opts.log.info({}, "email not sent: no completed run yet");
    return outcome(0, "email", settings.to.join(", "), startedAt, { status: "skipped", attempts: 0, detail: "no completed run" });
  }
  const target = settings.to.join(", ");
  // Like every channel, the email starts where its own last delivery left off (a failed one is re-covered);
  // a forced send (report --send) sends the report as given.
  const from = req.force ? undefined : deliveryBase(db, "email", target);
  if (!req.force && settings.send === "changes" && from === runId) {
    return record(db, outcome(runId, "email", target, startedAt, { status: "skipped", attempts: 0, detail: "already sent for this run" }), opts);
  }
  // Building or rendering the report can fail on data no one foresaw; that is a failed email, not a failed run.
  const unbuilt = (err: unknown, sinceRun: number | null) => {
    opts.log.error({ run: runId, to: settings.to, error: (err as Error).message }, "email could not be built");
    return record(db, outcome(runId, "email", target, startedAt, { sinceRun, status: "failed", attempts: 0, detail: "the report could not be built", error: (err as Error).message }), opts);
  };
  let report: Report;
  try {
    const built = req.report ?? buildReport(db, config, { run: runId, type: config.report.type, history: config.report.history, top: config.report.top });
    report = reportSince(db, config, built, from, opts);
  } catch (err) {
    return unbuilt(err, from ?? null);
  }
  // A span other than the cycle's own report's: its files are written too, like every report sent.
  if (report.previousRun?.id !== req.report?.previousRun?.id) deliverFiles(db, config, report, opts);
  const base = { sinceRun: report.previousRun?.id ?? null };
  // Before the first email, everything is news.
  if (!req.force && settings.send === "changes" && from !== undefined && !somethingChanged(report)) {
    opts.log.info({ run: runId, since: base.sinceRun }, "email not sent: nothing changed");
    return record(db, outcome(runId, "email", target, startedAt, { ...base, status: "skipped", attempts: 0, detail: "nothing changed" }), opts);
  }
  let email: ComposedEmail;
  try {
    email = await composeEmail(settings, report, { signal: opts.signal });
  } catch (err) {
    return unbuilt(err, base.sinceRun);
  }
  // The attachments are temporary files: removed however the send ends (sent, refused after every retry, aborted).
  try {
    const sent = await sendEmail(settings, email, opts);
    opts.log.info({ run: runId, since: base.sinceRun, to: settings.to, attempts: sent.attempts, messageId: sent.messageId }, "email sent");
    return record(db, outcome(runId, "email", target, startedAt, { ...base, attempts: sent.attempts, detail: email.subject }), opts);
  } catch (err) {
    const attempts = err instanceof DeliveryError ? err.attempts : 0;
    opts.log.error({ run: runId, to: settings.to, attempts, error: (err as Error).message }, "email failed");
    return record(db, outcome(runId, "email", target, startedAt, { ...base, status: "failed", attempts, detail: emailSubject(settings, report), error: (err as Error).message }), opts);
  } finally {
    email.dispose();
  }
}

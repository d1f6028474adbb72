// `whohas status`: is the inventory fresh and did its reports get out? The last runs, each source's last
// outcome, recent deliveries and the schedule, with a list of problems (exit 1 when there are any), so the
// command doubles as a health check.
import { existsSync } from "node:fs";
import type { Config } from "../config/load.js";
import { shown } from "../safe-text.js";
import { LAST_CELL_MAX, table } from "../report/text.js";
import { openStore, type Db } from "../store/db.js";
import { feedStates, type FeedStateRow } from "../store/events.js";
import { listRuns, type RunRow } from "../store/reader.js";
import { latestScopeRuns } from "../store/source-health.js";
import { hasDeliveries, recentDeliveries, type Delivery } from "../store/deliveries.js";
import { nextRuns } from "./scheduler.js";

export interface SourceStatus {
  source: string;
  lastRun: number;
  /** "partial": every scope completed, some with quarantined records. */
  status: "ok" | "partial" | "failed" | "running";
  scopes: number;
  failedScopes: number;
  finishedAt: string | null;
  lastOkAt: string | null;
  principals: number;
  requests: number;
  quarantined: number;
  unresolved: number;
  error: string | null;
}

/**
 * What whohas can say about one audit-log feed. "not available": the provider does not offer it here (plan,
 * licence); "cannot assess": no poll of it has finished (one is running, or was interrupted); neither is
 * ever "no events".
 */
export type FeedHealth = "ok" | "not available" | "cannot assess" | "failing";

export interface FeedStatus {
  source: string;
  scope: string;
  feed: string;
  state: FeedHealth;
  reason: string | null;
  lastPollAt: string;
  lastOkAt: string | null;
  /** The window the stored events cover without a gap, or null when none is covered yet. */
  coveredFrom: string | null;
  coveredUntil: string | null;
}

export interface Status {
  schema: "whohas.status/v1";
  generatedAt: string;
  config: string;
  store: string;
  schedule: { collect: string; report: string | null; timezone: string | null; nextCollect: string | null; nextReport: string | null } | null;
  runs: RunRow[];
  sources: SourceStatus[];
  feeds: FeedStatus[];
  deliveries: Delivery[];
  problems: string[];
}

export interface StatusOptions {
  runs?: number;
  deliveries?: number;
  /** A problem when the last successful collect of any source is older than this. */
  maxAgeHours?: number;
  now?: Date;
}

export function buildStatus(config: Config, opts: StatusOptions = {}): Status {
  const now = opts.now ?? new Date();
  const schedule = config.schedule
    ? {
        collect: config.schedule.collect,
        report: config.schedule.report ?? null,
        timezone: config.schedule.timezone ?? null,
        nextCollect: nextRuns(config.schedule.collect, config.schedule.timezone, 1)[0]?.toISOString() ?? null,
        nextReport: config.schedule.report ? (nextRuns(config.schedule.report, config.schedule.timezone, 1)[0]?.toISOString() ?? null) : null,
      }
    : null;
  const status: Status = { schema: "whohas.status/v1", generatedAt: now.toISOString(), config: config.file, store: config.store.path, schedule, runs: [], sources: [], feeds: [], deliveries: [], problems: [] };
  if (!existsSync(config.store.path)) {
    status.problems.push(`no store yet at ${config.store.path}: nothing has been collected`);
    return status;
  }
  const db = openStore(config.store.path, { readonly: true });
  try {
    status.runs = listRuns(db, opts.runs ?? 5);
    status.sources = sourceStatuses(db);
    status.feeds = feedStates(db).map(feedStatus);
    status.deliveries = hasDeliveries(db) ? recentDeliveries(db, opts.deliveries ?? 10) : [];
  } finally {
    db.close();
  }
  status.problems = problems(status, config, now, opts.maxAgeHours);
  return status;
}

function sourceStatuses(db: Db): SourceStatus[] {
  const rows = latestScopeRuns(db);
  const out = new Map<string, SourceStatus>();
  for (const r of rows) {
    const s = out.get(r.source) ?? { source: r.source, lastRun: r.runId, status: "ok", scopes: 0, failedScopes: 0, finishedAt: null, lastOkAt: r.lastOkAt, principals: 0, requests: 0, quarantined: 0, unresolved: 0, error: null };
    s.scopes++;
    if (r.status === "failed") {
      s.failedScopes++;
      s.status = "failed";
      s.error ??= r.error;
    } else if (r.status === "running" && s.status !== "failed") s.status = "running";
    else if (r.status === "partial" && s.status === "ok") s.status = "partial";
    s.quarantined += r.quarantined;
    s.unresolved += r.unresolved;
    if (r.finishedAt && (!s.finishedAt || r.finishedAt > s.finishedAt)) s.finishedAt = r.finishedAt;
    s.principals += r.principals;
    s.requests += r.requests;
    out.set(r.source, s);
  }
  return [...out.values()];
}

const HEALTH = new Map<FeedStateRow["status"], FeedHealth>([
  ["ok", "ok"],
  ["unavailable", "not available"],
  ["failed", "failing"],
  ["polling", "cannot assess"],
]);

function feedStatus(f: FeedStateRow): FeedStatus {
  const state = HEALTH.get(f.status) ?? "cannot assess";
  const reason = f.status === "polling" ? `the poll started ${f.lastPollAt} has not finished (running now, or interrupted)` : f.reason;
  return { source: f.source, scope: f.scope, feed: f.feed, state, reason, lastPollAt: f.lastPollAt, lastOkAt: f.lastOkAt, coveredFrom: f.coveredFrom, coveredUntil: f.coveredUntil };
}

function problems(status: Status, config: Config, now: Date, maxAgeHours?: number): string[] {
  const out: string[] = [];
  const last = status.runs[0];
  if (!last) out.push("no run yet");
  else if (last.status === "failed" || last.status === "partial") out.push(`run ${last.id} ${last.status}${last.error ? `: ${last.error}` : ""}`);
  for (const s of status.sources) {
    if (s.status === "failed") out.push(`${s.source}: ${s.failedScopes} of ${s.scopes} scope(s) failed in run ${s.lastRun}${s.error ? `: ${s.error}` : ""}`);
    if (maxAgeHours !== undefined && config.sources.some((c) => c.id === s.source && c.enabled)) {
      const age = s.lastOkAt ? (now.getTime() - Date.parse(s.lastOkAt)) / 3_600_000 : Infinity;
      if (age > maxAgeHours) out.push(`${s.source}: last successful collect ${s.lastOkAt ? `${age.toFixed(1)} h ago` : "never"} (limit ${maxAgeHours} h)`);
    }
  }
  for (const f of status.feeds) {
    if (f.state === "failing") out.push(`event feed ${f.source}/${f.scope}/${f.feed} failing${f.lastOkAt ? ` (last ok ${f.lastOkAt})` : " (never ok)"}: ${f.reason ?? "unknown error"}`);
  }
  // The newest outcome per channel and target: a failure that a later attempt fixed is history, not a problem.
  const seen = new Set<string>();
  for (const d of status.deliveries) {
    const key = `${d.channel}\u0000${d.target}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (d.status === "failed") out.push(`${d.channel} ${d.target} failed for run ${d.runId}${d.attempts > 1 ? ` after ${d.attempts} attempts` : ""}: ${d.error ?? "unknown error"}`);
  }
  return out;
}

const ago = (iso: string | null, now: Date) => {
  if (!iso) return "never";
  const m = Math.round((now.getTime() - Date.parse(iso)) / 60_000);
  return m < 90 ? `${m} min ago` : m < 48 * 60 ? `${(m / 60).toFixed(1)} h ago` : `${(m / 1440).toFixed(1)} days ago`;
};

export function renderStatusText(s: Status): string {
  const now = new Date(s.generatedAt);
  const lines: string[] = [`config: ${shown(s.config)}`, `store:  ${shown(s.store)}`];
  if (s.schedule) {
    lines.push(`schedule: collect "${s.schedule.collect}" (next ${s.schedule.nextCollect ?? "never"})${s.schedule.report ? `, report "${s.schedule.report}" (next ${s.schedule.nextReport ?? "never"})` : ", report after each collect"}${s.schedule.timezone ? ` in ${s.schedule.timezone}` : ""}`);
  } else {
    lines.push("schedule: none ([schedule] is not configured; the daemon will not start)");
  }
  let out = lines.join("\n") + "\n";
  if (s.runs.length > 0) {
    out += "\nRuns\n" + table(["RUN", "STARTED", "FINISHED", "STATUS", "TRIGGER", "ERROR"], s.runs.map((r) => [String(r.id), r.startedAt, r.finishedAt ?? "-", r.status, r.trigger, r.error ?? ""]));
  }
  if (s.sources.length > 0) {
    out +=
      "\nSources\n" +
      table(
        ["SOURCE", "LAST RUN", "STATUS", "SCOPES", "PRINCIPALS", "REQUESTS", "LAST OK", "QUARANTINED", "UNRESOLVED", "ERROR"],
        s.sources.map((x) => [
          x.source,
          String(x.lastRun),
          x.status,
          x.failedScopes ? `${x.scopes - x.failedScopes}/${x.scopes}` : String(x.scopes),
          String(x.principals),
          String(x.requests),
          ago(x.lastOkAt, now),
          String(x.quarantined),
          String(x.unresolved),
          x.error ?? "",
        ]),
      );
  }
  if (s.feeds.length > 0) {
    out +=
      "\nEvent feeds\n" +
      table(
        ["SOURCE", "SCOPE", "FEED", "STATE", "LAST POLL", "COVERED FROM", "COVERED UNTIL", "REASON"],
        s.feeds.map((f) => [f.source, f.scope, f.feed, f.state, ago(f.lastPollAt, now), f.coveredFrom ?? "-", f.coveredUntil ?? "-", f.reason ?? ""]),
      );
  }
  if (s.deliveries.length > 0) {
    out +=
      "\nDeliveries\n" +
      table(
        ["RUN", "CHANNEL", "TARGET", "STATUS", "ATTEMPTS", "FINISHED", "DETAIL"],
        s.deliveries.map((d) => [String(d.runId), d.channel, d.target, d.status, String(d.attempts), d.finishedAt, d.error ?? d.detail ?? ""]),
      );
  }
  out += s.problems.length === 0 ? "\nhealthy\n" : `\nPROBLEMS\n${s.problems.map((p) => `  ${shown(p, LAST_CELL_MAX)}`).join("\n")}\n`;
  return out;
}

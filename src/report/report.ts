// The audit report: what changed, what is risky, coverage, policy in force, history, and the evidence
// digest of the run it came from. One model, rendered by each format's renderer.
import type { Config } from "../config/load.js";
import type { Policy } from "../config/schema.js";
import { diffRuns, type DiffResult } from "../diff/differ.js";
import type { Finding } from "../diff/evaluate.js";
import { storedEvaluation, storedFindingCount } from "../diff/stored.js";
import { SEVERITIES, type Severity } from "../vocabulary.js";
import type { Db } from "../store/db.js";
import { comparableRuns, getRun, HELD_AT_RUN, inventoryAt, scopeLabels, scopesAsOf, type PrincipalView, type RunRow } from "../store/reader.js";
import { rolesAt } from "../store/roles.js";
import { withScopeLabels, type LabelledRole } from "./roles.js";
import { scopeKey, scopeText } from "../query/principals.js";
import { toolVersion } from "../version.js";
import { diffCounts } from "./diff.js";
import { attributeDiff } from "../events/attribute.js";
import { feedStates, type FeedStateRow } from "../store/events.js";
import { remediationSection, type RemediationSection } from "./remediation.js";

export type ReportType = "changes" | "access-review";

export interface CoverageRow {
  source: string;
  sourceType: string;
  scope: string;
  /** The provider's name for the scope (AWS: "prod (222222222222)"), the latest the store has; null when the connector gives none. */
  label: string | null;
  /** Status in the report's run; "not collected" when the scope did not take part; "partial": records quarantined. */
  status: "ok" | "partial" | "failed" | "running" | "not collected";
  /** The run whose data the report shows for this scope (the last run it was ok in). */
  dataFromRun: number | null;
  /** When that run started: how fresh the scope's data is. */
  dataFromAt: string | null;
  error: string | null;
  requests: number | null;
  meta: Record<string, unknown> | null;
  /** Records of the scope that could not be mapped or stored in the report's run. */
  quarantined: number;
  /** Holders of grants or credentials that no listing of the scope returned. */
  unresolved: number;
}

export interface HistoryPoint {
  run: number;
  startedAt: string;
  accounts: number;
  admins: number;
  credentials: number;
  findings: number | null;
}

/** What an auditor needs to file the report as evidence: whose, made by what, from which settings, over which period. */
export interface EvidenceMeta {
  /** [report] organisation; null when the config names none. */
  organisation: string | null;
  toolVersion: string;
  /** sha256 of the config's settings (config/load configDigest): secrets are references there, never values. */
  configDigest: string;
  /** The period the review covers: from the compared run's start (null: the first run) to this run's. */
  periodFrom: string | null;
  periodTo: string;
}

export interface Report {
  schema: "whohas.report/v1";
  type: ReportType;
  generatedAt: string;
  evidence: EvidenceMeta;
  run: Pick<RunRow, "id" | "startedAt" | "status" | "digest">;
  previousRun: Pick<RunRow, "id" | "startedAt" | "status" | "digest"> | null;
  policy: Policy;
  coverage: CoverageRow[];
  counts: {
    findings: Record<Severity, number>;
    newFindings: number;
    suppressed: number;
    changes: ReturnType<typeof diffCounts> | null;
  };
  findings: Finding[];
  /** Accepted risks: findings a [[suppress]] entry hides until its date, with who accepted them when known. */
  suppressed: AcceptedRisk[];
  diff: DiffResult | null;
  history: HistoryPoint[];
  /** Audit-event feeds: health and the window each covers (empty when no source reads events). */
  feeds: Pick<FeedStateRow, "source" | "scope" | "feed" | "status" | "reason" | "coveredFrom" | "coveredUntil" | "lastPollAt">[];
  /** Access review only: every principal with roles, MFA, last activity and credentials. */
  inventory?: PrincipalView[];
  /** Access review only: every role, policy or group somebody holds, what it permits and who holds it (the role catalogue). */
  roles?: LabelledRole[];
  /** Remediation: pending notices, actions taken since the previous run (the review's period), failed actions. */
  remediation?: RemediationSection;
  /** Present when the report was narrowed (report --severity, --rule, ...): findings and counts are the filtered ones. */
  filter?: { severities?: Severity[]; rules?: string[]; sources?: string[]; scopes?: string[]; newOnly?: boolean; search?: string };
}

export interface AcceptedRisk {
  id: string;
  rule: string;
  severity: Severity;
  source: string;
  scope: string;
  subject: string;
  reason: string;
  until: string;
  addedBy: string | null;
}

export class ReportError extends Error {
  override name = "ReportError";
}

export interface ReportOptions {
  type?: ReportType;
  run?: number;
  /** Runs of history in the charts; 0 for none. */
  history?: number;
  /** Compare with this earlier run instead of the one just before (the daemon's email: since the last one sent). */
  since?: number;
}

const pickRun = (r: RunRow) => ({ id: r.id, startedAt: r.startedAt, status: r.status, digest: r.digest });

export function buildReport(db: Db, config: Config, opts: ReportOptions = {}): Report {
  const type = opts.type ?? "changes";
  const run = opts.run !== undefined ? getRun(db, opts.run) : comparableRuns(db, 1)[0];
  if (!run) throw new ReportError(opts.run !== undefined ? `run ${opts.run} does not exist (see "whohas runs")` : 'no completed run yet: run "whohas collect"');
  const previous = opts.since !== undefined ? sinceRun(db, opts.since, run.id) : (comparableRuns(db, 1000).find((r) => r.id < run.id) ?? null);
  const diff = previous ? attributeDiff(db, config, diffRuns(db, previous.id, run.id)) : null;
  const evaluation = storedEvaluation(db, config, run.id, diff ?? undefined);
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of evaluation.findings) bySeverity[f.severity]++;

  return {
    schema: "whohas.report/v1",
    type,
    generatedAt: new Date().toISOString(),
    evidence: {
      organisation: config.report.organisation,
      toolVersion: toolVersion(),
      configDigest: config.digest,
      periodFrom: previous?.startedAt ?? null,
      periodTo: run.startedAt,
    },
    run: pickRun(run),
    previousRun: previous ? pickRun(previous) : null,
    policy: config.policy,
    coverage: coverage(db, run.id),
    counts: {
      findings: bySeverity,
      newFindings: evaluation.findings.filter((f) => f.new).length,
      suppressed: evaluation.suppressed.length,
      changes: diff ? diffCounts(diff) : null,
    },
    findings: evaluation.findings,
    suppressed: evaluation.suppressed.map((s) => ({
      id: s.finding.id,
      rule: s.finding.rule,
      severity: s.finding.severity,
      source: s.finding.source,
      scope: s.finding.scope,
      subject: s.finding.subject,
      reason: s.reason,
      until: s.until,
      addedBy: s.addedBy ?? null,
    })),
    diff,
    history: history(db, config, run.id, opts.history ?? 8),
    feeds: feedStates(db).map((f) => ({ source: f.source, scope: f.scope, feed: f.feed, status: f.status, reason: f.reason, coveredFrom: f.coveredFrom, coveredUntil: f.coveredUntil, lastPollAt: f.lastPollAt })),
    ...(type === "access-review" ? { inventory: [...inventoryAt(db, run.id)], roles: withScopeLabels(rolesAt(db, run.id), scopeLabels(db, run.id)) } : {}),
    ...remediationOf(db, previous),
  };
}

function remediationOf(db: Db, previous: RunRow | null): { remediation?: RemediationSection } {
  const section = remediationSection(db, previous?.startedAt ?? null);
  return section ? { remediation: section } : {};
}

function sinceRun(db: Db, since: number, runId: number): RunRow {
  const run = getRun(db, since);
  if (!run || since >= runId) throw new ReportError(`run ${since} to compare with: expected an existing run before run ${runId}`);
  return run;
}

function coverage(db: Db, runId: number): CoverageRow[] {
  const labels = scopeLabels(db, runId);
  const startedAt = new Map<number, string | null>();
  const startOf = (id: number | null) => {
    if (id === null) return null;
    if (!startedAt.has(id)) startedAt.set(id, getRun(db, id)?.startedAt ?? null);
    return startedAt.get(id)!;
  };
  return scopesAsOf(db, runId).map((s) => ({
    source: s.source,
    sourceType: s.sourceType,
    scope: s.scope,
    label: labels.get(scopeKey(s)) ?? null,
    status: s.inRun?.status ?? "not collected",
    dataFromRun: s.okRun,
    dataFromAt: startOf(s.okRun),
    error: s.inRun?.error ?? null,
    requests: s.inRun?.requests ?? null,
    meta: s.inRun?.meta ?? null,
    quarantined: s.inRun?.quarantined ?? 0,
    unresolved: s.inRun?.unresolved ?? 0,
  }));
}

function history(db: Db, config: Config, runId: number, n: number): HistoryPoint[] {
  if (n <= 0) return [];
  const runs = comparableRuns(db, 10_000).filter((r) => r.id <= runId).slice(0, n).reverse();
  const at = HELD_AT_RUN;
  const accounts = db.prepare(`SELECT COUNT(*) FROM principals WHERE ${at} AND status = 'active'`).pluck();
  const admins = db
    .prepare(
      `SELECT COUNT(*) FROM principals p WHERE p.from_run <= @run AND (p.to_run IS NULL OR p.to_run > @run) AND p.status = 'active' AND (p.access_level = 'admin' OR EXISTS (
         SELECT 1 FROM grants g WHERE g.sid = p.sid AND g.id >= p.id || char(31) AND g.id < p.id || char(32) AND g.level = 'admin'
           AND g.from_run <= @run AND (g.to_run IS NULL OR g.to_run > @run)))`,
    )
    .pluck();
  const credentials = db.prepare(`SELECT COUNT(*) FROM credentials WHERE ${at} AND status = 'active'`).pluck();
  return runs.map((r) => ({
    run: r.id,
    startedAt: r.startedAt,
    accounts: accounts.get({ run: r.id }) as number,
    admins: admins.get({ run: r.id }) as number,
    credentials: credentials.get({ run: r.id }) as number,
    findings: r.id === runId ? null : storedFindingCount(db, config, r.id),
  }));
}

/** How the report names a scope to a person: its label with the id ("prod (222222222222)") where the store has one. */
export function scopeNamer(r: Pick<Report, "coverage">): (x: { source: string; scope: string }) => string {
  const names = new Map(r.coverage.map((c) => [scopeKey(c), scopeText(c)]));
  return (x) => names.get(scopeKey(x)) ?? x.scope;
}

/** Exit-code helper for --fail-on: is any open finding at or above `threshold`? */
export function hasFindingAtOrAbove(findings: Finding[], threshold: Severity): boolean {
  const limit = SEVERITIES.indexOf(threshold);
  return findings.some((f) => SEVERITIES.indexOf(f.severity) <= limit);
}

/** Headline for mail subjects and summaries: "2 new admins, 14 unused keys, 1 orphaned account". */
export function headline(report: Report): string {
  const count = (rule: string, onlyNew = false) => report.findings.filter((f) => f.rule === rule && (!onlyNew || f.new)).length;
  const parts: [number, string, string][] = [
    [count("orphaned-access"), "orphaned account", "orphaned accounts"],
    [count("new-admin", true), "new admin", "new admins"],
    [count("privilege-escalation", true), "escalation", "escalations"],
    [count("mfa-disabled", true) + count("admin-without-mfa"), "MFA problem", "MFA problems"],
    [count("unused-credential"), "unused credential", "unused credentials"],
    [count("dormant-account"), "dormant account", "dormant accounts"],
  ];
  const text = parts.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  return text.length > 0 ? text.join(", ") : "no findings";
}

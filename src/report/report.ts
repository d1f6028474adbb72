// The audit report: what changed, what is risky, coverage, policy in force, history, and the evidence
// digest of the run it came from. One model, rendered by each format's renderer.
import type { Config } from "../config/load.js";
import type { Policy } from "../config/schema.js";
import type { DiffResult } from "../diff/differ.js";
import { byReportOrder, suppressionOf, type Finding } from "../rules/evaluate.js";
import { findingMatches, type FindingFilter } from "./filter.js";
import { SEVERITIES, type Severity } from "../vocabulary.js";
import type { FeedStateRow, PrincipalView, RoleHolder, RunRow } from "../views.js";
import type { LabelledRoleSummary } from "./roles.js";
import { scopeKey, scopeText } from "../query/principals.js";
import type { diffCounts } from "./diff.js";
import type { RemediationSection } from "./remediation.js";

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
  /** The findings shown: every one, or with `top` at most that many of each rule, new ones first (see `tally`). */
  findings: Finding[];
  /** Per rule: open findings in all, new, and shown in `findings`. Not part of the JSON document. */
  tally: FindingTally;
  /**
   * Every open finding of the report (suppressions and the filter applied), in the report's order: a fresh
   * store cursor on each call, so JSON, CSV and companion files stream them. Call it while the store is open.
   */
  eachFinding: () => Iterable<Finding>;
  /** Every finding of the run, suppressed ones included and no filter: what suppression warnings match against. */
  everyFinding: () => Iterable<Finding>;
  /** Accepted risks: findings a [[suppress]] entry hides until its date, with who accepted them when known. */
  suppressed: AcceptedRisk[];
  diff: DiffResult | null;
  history: HistoryPoint[];
  /** Audit-event feeds: health and the window each covers (empty when no source reads events). */
  feeds: Pick<FeedStateRow, "source" | "scope" | "feed" | "status" | "reason" | "coveredFrom" | "coveredUntil" | "lastPollAt">[];
  /**
   * Access review only: every principal with roles, MFA, last activity and credentials (the filter applied),
   * a fresh store cursor on each call, so no format holds the inventory. Call it while the store is open.
   */
  eachPrincipal?: () => Iterable<PrincipalView>;
  /** Access review only: how many principals `eachPrincipal` yields (counted by the store, not by reading them). */
  inventoryCount?: number;
  /**
   * Access review only: every role, policy or group somebody holds, what it permits, how many hold it and the
   * first of them by name (the role catalogue); `eachRoleHolders` reads all of their holders.
   */
  roles?: LabelledRoleSummary[];
  /** Access review only: each of `roles` with every one of its holders, in name order, from the store when there are more than its first. */
  eachRoleHolders?: () => Iterable<[LabelledRoleSummary, Iterable<RoleHolder>]>;
  /** Remediation: pending notices, actions taken since the previous run (the review's period), failed actions. */
  remediation?: RemediationSection;
  /** Present when the report was narrowed (report --severity, --rule, ...): findings and counts are the filtered ones. */
  filter?: { severities?: Severity[]; rules?: string[]; sources?: string[]; scopes?: string[]; newOnly?: boolean; search?: string };
}

export interface RuleTally {
  rule: string;
  /** Open findings of the rule in the report (after the filter). */
  total: number;
  new: number;
  /** How many of them `findings` holds. */
  shown: number;
}

export interface FindingTally {
  /** Findings shown per rule; null: all of them. */
  top: number | null;
  /** In the report's order of rules (most severe first). */
  rules: RuleTally[];
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
  /** Findings kept in `findings` per rule (new ones first); undefined or null: every finding. The others stay countable and streamable. */
  top?: number | null;
  /** Narrow the report (report --severity, --rule, ...): findings, counts and the inventory's sources. */
  filter?: FindingFilter;
}

/** The finding fields of a report whose findings are all in memory (a report assembled by hand: tests, fixtures). */
export function findingsInMemory(findings: Finding[]): Pick<Report, "findings" | "tally" | "eachFinding" | "everyFinding"> {
  const rules = new Map<string, RuleTally>();
  for (const f of findings) {
    const t = rules.get(f.rule) ?? { rule: f.rule, total: 0, new: 0, shown: 0 };
    t.total++;
    t.shown++;
    if (f.new) t.new++;
    rules.set(f.rule, t);
  }
  return { findings, tally: { top: null, rules: [...rules.values()] }, eachFinding: () => findings, everyFinding: () => findings };
}

/** The inventory fields of a report whose principals are all in memory (a report assembled by hand: tests, fixtures). */
export function inventoryInMemory(principals: PrincipalView[]): Pick<Report, "eachPrincipal" | "inventoryCount"> {
  return { eachPrincipal: () => principals, inventoryCount: principals.length };
}

/** A finding of the report, or one a [[suppress]] entry hides (an accepted risk), in the report's order. */
type Judged = { finding: Finding; accepted?: undefined } | { finding: Finding; accepted: AcceptedRisk };

/** The run's findings with suppressions and the filter applied, read again on each call. */
function openFindings(each: () => Iterable<Finding>, config: Config, now: number, filter: FindingFilter | undefined): () => Generator<Judged> {
  return function* () {
    for (const f of each()) {
      const s = suppressionOf(config.suppress, f, now);
      if (s?.active) {
        // Accepted risks were not new or old: --new-only keeps none of them.
        if (!filter || (findingMatches({ ...filter, newOnly: false }, f) && !filter.newOnly)) {
          yield { finding: f, accepted: { id: f.id, rule: f.rule, severity: f.severity, source: f.source, scope: f.scope, subject: f.subject, reason: s.reason, until: s.until, addedBy: s.addedBy ?? null } };
        }
        continue;
      }
      const shown = s ? { ...f, suppressionExpired: { reason: s.reason, until: s.until } } : f;
      if (!filter || findingMatches(filter, shown)) yield { finding: shown };
    }
  };
}

function* onlyOpen(judged: Iterable<Judged>): Generator<Finding> {
  for (const j of judged) if (!j.accepted) yield j.finding;
}

/**
 * One read of the findings: counts per severity and rule, the accepted risks, and at most `top` findings
 * of each rule (new ones first, then in the report's order), so the report holds a bounded number of them
 * whatever the run's size. The counts are taken in this pass rather than by a GROUP BY over the stored set:
 * suppression globs and --search fold case as JavaScript does (Unicode), which SQLite's GLOB, LIKE and lower()
 * do not, and picking the top of each rule needs the pass anyway.
 */
function summarize(open: () => Iterable<Judged>, top: number | null) {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  let newFindings = 0;
  const suppressed: AcceptedRisk[] = [];
  const rules = new Map<string, { tally: RuleTally; fresh: Finding[]; known: Finding[] }>();
  const all: Finding[] = [];
  for (const j of open()) {
    if (j.accepted) {
      suppressed.push(j.accepted);
      continue;
    }
    const f = j.finding;
    bySeverity[f.severity]++;
    if (f.new) newFindings++;
    let r = rules.get(f.rule);
    if (!r) rules.set(f.rule, (r = { tally: { rule: f.rule, total: 0, new: 0, shown: 0 }, fresh: [], known: [] }));
    r.tally.total++;
    if (f.new) r.tally.new++;
    if (top === null) all.push(f);
    else if (f.new ? r.fresh.length < top : r.known.length < top) (f.new ? r.fresh : r.known).push(f);
  }
  let shown = all;
  if (top !== null) {
    shown = [];
    for (const r of rules.values()) shown.push(...r.fresh, ...r.known.slice(0, top - r.fresh.length));
    shown.sort(byReportOrder);
  }
  for (const f of shown) rules.get(f.rule)!.tally.shown++;
  return { bySeverity, newFindings, suppressed, shown, tally: { top, rules: [...rules.values()].map((r) => r.tally) } };
}

/**
 * The finding side of a report from a source of the run's findings (`each`: a fresh store cursor on each
 * call): counts, accepted risks and the findings shown, read once; `eachFinding` reads the open ones again.
 */
export function reportFindings(each: () => Iterable<Finding>, config: Config, now: number, filter: FindingFilter | undefined, top: number | null) {
  const open = openFindings(each, config, now, filter);
  return { ...summarize(open, top), eachFinding: () => onlyOpen(open()) };
}

/** How the report names a scope to a person: its label with the id ("prod (222222222222)") where the store has one. */
export function scopeNamer(r: Pick<Report, "coverage">): (x: { source: string; scope: string }) => string {
  const names = new Map(r.coverage.map((c) => [scopeKey(c), scopeText(c)]));
  return (x) => names.get(scopeKey(x)) ?? x.scope;
}

/**
 * Exit-code helper for --fail-on: is any open finding at or above `threshold`? `findings` come in the
 * report's order (most severe first), so the first one decides and a stored source is read no further.
 */
export function hasFindingAtOrAbove(findings: Iterable<Finding>, threshold: Severity): boolean {
  for (const f of findings) return SEVERITIES.indexOf(f.severity) <= SEVERITIES.indexOf(threshold);
  return false;
}

/** The open findings of a finding source (suppressions in force left out, no filter), streamed in its order. */
export function eachOpenFinding(each: () => Iterable<Finding>, config: Config, now: number): Iterable<Finding> {
  return onlyOpen(openFindings(each, config, now, undefined)());
}

/** The same for a report, from its counts: its `findings` may hold only the top of each rule. */
export function reportHasFindingAtOrAbove(report: Report, threshold: Severity): boolean {
  const limit = SEVERITIES.indexOf(threshold);
  return SEVERITIES.some((s, i) => i <= limit && report.counts.findings[s] > 0);
}

/** Open findings in all (the report's `findings` may hold only the top of each rule). */
export function findingTotal(report: Report): number {
  return SEVERITIES.reduce((n, s) => n + report.counts.findings[s], 0);
}

/** Headline for mail subjects and summaries: "2 new admins, 14 unused keys, 1 orphaned account". */
export function headline(report: Report): string {
  const tally = new Map(report.tally.rules.map((t) => [t.rule, t]));
  const count = (rule: string, onlyNew = false) => (onlyNew ? tally.get(rule)?.new : tally.get(rule)?.total) ?? 0;
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

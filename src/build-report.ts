// Building the audit report: the application step between the store and the renderers. It reads the run,
// its diff, its stored findings, coverage, history, feeds and remediation through the store's readers and
// hands src/report a Report, which the renderers write without touching the store.
import type { Config } from "./config/load.js";
import { diffRuns, type DiffResult } from "./diff/differ.js";
import { findingSet, storedFindingCount, storedFindingSource } from "./rules/stored.js";
import { attributeDiff } from "./events/attribute.js";
import { scopeKey } from "./query/principals.js";
import { diffCounts } from "./report/diff.js";
import { isEmptyFilter, recordedFilter, type FindingFilter } from "./report/filter.js";
import type { RemediationRow, RemediationSection } from "./report/remediation.js";
import { ReportError, reportFindings, type CoverageRow, type HistoryPoint, type Report, type ReportOptions } from "./report/report.js";
import { REVIEW_HOLDERS_MAX, withScopeLabels } from "./report/roles.js";
import { listActions, listPending, type ActionRecord } from "./store/actions.js";
import type { Db } from "./store/db.js";
import { feedStates } from "./store/events.js";
import { comparableRuns, getRun, inventoryAt, principalCountAt, scopeLabels, scopesAsOf } from "./store/reader.js";
import { heldCounts, remediationPlanned } from "./store/report-reads.js";
import { roleCatalogueAt } from "./store/roles.js";
import type { RunRow } from "./views.js";
import { toolVersion } from "./version.js";

const pickRun = (r: RunRow) => ({ id: r.id, startedAt: r.startedAt, status: r.status, digest: r.digest });

/** The run a report is of: `runId`, or the latest completed one. */
export function reportRun(db: Db, runId?: number): RunRow {
  const run = runId !== undefined ? getRun(db, runId) : comparableRuns(db, 1)[0];
  if (!run) throw new ReportError(runId !== undefined ? `run ${runId} does not exist (see "whohas runs")` : 'no completed run yet: run "whohas collect"');
  return run;
}

export function buildReport(db: Db, config: Config, opts: ReportOptions = {}): Report {
  const type = opts.type ?? "changes";
  const run = reportRun(db, opts.run);
  const { previous, diff } = reportBasis(db, config, run, opts.since);
  const filter = opts.filter && !isEmptyFilter(opts.filter) ? opts.filter : undefined;
  const source = storedFindingSource(db, config, run.id, diff ?? undefined);
  const summary = reportFindings(source.each, config, source.now, filter, opts.top ?? null);
  const inScope = (x: { source: string; scope: string }) => !filter || ((!filter.sources || filter.sources.includes(x.source)) && (!filter.scopes || filter.scopes.has(`${x.source}/${x.scope}`)));
  const review = type === "access-review";

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
      findings: summary.bySeverity,
      newFindings: summary.newFindings,
      suppressed: summary.suppressed.length,
      changes: diff ? diffCounts(diff) : null,
    },
    findings: summary.shown,
    tally: summary.tally,
    eachFinding: summary.eachFinding,
    everyFinding: source.each,
    suppressed: summary.suppressed,
    diff,
    history: history(db, config, run.id, opts.history ?? 8),
    feeds: feedStates(db).map((f) => ({ source: f.source, scope: f.scope, feed: f.feed, status: f.status, reason: f.reason, coveredFrom: f.coveredFrom, coveredUntil: f.coveredUntil, lastPollAt: f.lastPollAt })),
    ...(review
      ? {
          eachPrincipal: () => inventoryAt(db, run.id, { inScope }),
          inventoryCount: principalCountAt(db, run.id, inScope),
          ...roleCatalogue(db, run.id, filter),
        }
      : {}),
    ...remediationOf(db, previous),
    ...(filter ? { filter: recordedFilter(filter) } : {}),
  };
}

/** The access review's role catalogue: each role's first holders in the report, the rest read when the JSON writes them. */
function roleCatalogue(db: Db, runId: number, filter: FindingFilter | undefined): Pick<Report, "roles" | "eachRoleHolders"> {
  const catalogue = roleCatalogueAt(db, runId, { sources: filter?.sources, scopes: filter?.scopes }, REVIEW_HOLDERS_MAX);
  const roles = withScopeLabels(catalogue.roles, scopeLabels(db, runId));
  return { roles, eachRoleHolders: () => catalogue.eachRoleHolders(roles) };
}

/** What a report of `run` compares it with: run `since`, else the completed run before it; and the diff between them, attributed. */
function reportBasis(db: Db, config: Config, run: RunRow, since?: number): { previous: RunRow | null; diff: DiffResult | null } {
  const previous = since !== undefined ? sinceRun(db, since, run.id) : (comparableRuns(db, 1000).find((r) => r.id < run.id) ?? null);
  return { previous, diff: previous ? attributeDiff(db, config, diffRuns(db, previous.id, run.id)) : null };
}

/**
 * Evaluates run `runId`'s findings against the run before it and stores them, as its report would: what
 * `whohas collect` does after a run, so that a later report (and its history chart) reads stored findings
 * instead of evaluating every run it shows. Returns how many findings the run reports.
 */
export function storeRunFindings(db: Db, config: Config, runId: number): number {
  const run = reportRun(db, runId);
  const { diff } = reportBasis(db, config, run);
  return findingSet(db, config, run.id, diff ?? undefined).reported;
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
  const held = heldCounts(db);
  return runs.map((r) => ({
    run: r.id,
    startedAt: r.startedAt,
    ...held(r.id),
    findings: r.id === runId ? null : storedFindingCount(db, config, r.id),
  }));
}

function remediationRow(a: ActionRecord): RemediationRow {
  const subject = `${a.source}/${a.scope}/${a.principalName}${a.credentialName ? `/${a.credentialName}` : a.grantPrivilege ? `/${a.grantPrivilege}` : ""}`;
  return { id: a.id, planId: a.planId, type: a.type, status: a.status, subject, findingId: a.findingId, approver: a.status === "undone" ? a.undoneBy : a.approver, at: a.updatedAt, answer: a.answer };
}

/** Null when the store has no remediation at all (no entry ever planned). */
function remediationSection(db: Db, since: string | null): RemediationSection | null {
  if (!remediationPlanned(db)) return null;
  const filter = since ? { since } : {};
  return {
    since,
    pending: listPending(db, "pending").map((p) => ({ entry: p.entry, subject: p.subject, firstSeen: p.firstSeen, notifiedAt: p.notifiedAt, notifiedTo: p.notifiedTo })),
    taken: listActions(db, { ...filter, status: ["done", "applied", "undone"] }).map(remediationRow),
    failed: listActions(db, { ...filter, status: ["failed", "unknown"] }).map(remediationRow),
  };
}


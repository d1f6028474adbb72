// Findings from the store: a run's evaluation is written once, row by row while the rules stream over the
// run, and read back afterwards. "New since the last run" is a join with the previous run's stored state
// findings; history counts read stored sets; a run stored before findings were (or under another policy)
// is evaluated when first asked for and stored then.
import { createHash } from "node:crypto";
import type { Config } from "../config/load.js";
import type { Db } from "../store/db.js";
import { anyFindingSetOf, canStoreFindings, changeInputs, findingSetOf, FindingSetWriter, reportedFindings, stateFindingsOf, type FindingSet, type StoredFinding } from "../store/findings.js";
import { getRun } from "../store/reader.js";
import type { RuleId, Severity } from "../vocabulary.js";
import type { DiffResult } from "../diff/differ.js";
import { byReportOrder, evaluate, streamFindings, suppressionOf, type Finding } from "./evaluate.js";
import type { RunRow } from "../store/reader.js";
import { RULES } from "./rules.js";

/**
 * Bump when a rule's logic changes: stored findings judged by the old logic are then evaluated again.
 * (Policy, sources, identity settings and the catalogue are in the fingerprint already.)
 */
const RULES_REVISION = 1;

/** Fingerprint of everything the rules judge by except the run itself. Suppressions are not in it: they apply on reading. */
export function findingsPolicy(config: Config): string {
  const aliases = Object.entries(config.identity.aliases).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const sources = config.sources.map((s) => [s.id, s.policy, s.connector.identityProvider === true]);
  const basis = JSON.stringify({ revision: RULES_REVISION, policy: config.policy, sources, providers: config.identity.providers ?? null, aliases, rules: RULES });
  return createHash("sha256").update(basis).digest("hex").slice(0, 32);
}

/** Evaluates run `runId` (against `diff` when given) into a new stored set, row by row. */
function storeEvaluation(db: Db, config: Config, runId: number, diff: DiffResult | undefined, policy: string, inputs = ""): FindingSet {
  const writer = FindingSetWriter.begin(db, runId, diff ? diff.from.id : 0, policy, inputs);
  try {
    streamFindings(db, config, runId, diff, (f, presence) => writer.add(toStored(f), presence.inRun, presence.inState));
    return writer.finish();
  } catch (err) {
    writer.abort();
    throw err;
  }
}

function toStored(f: Finding): StoredFinding {
  return {
    id: f.id,
    rule: f.rule,
    severity: f.severity,
    source: f.source,
    scope: f.scope,
    subject: f.subject,
    principalId: f.principalId ?? null,
    credentialId: f.credentialId ?? null,
    detail: f.detail,
  };
}

/** Back to the evaluator's shape: the catalogue's title and controls are shared, never stored. */
export function fromStored(r: StoredFinding, isNew: boolean): Finding {
  const info = RULES[r.rule as RuleId];
  return {
    id: r.id,
    rule: r.rule as RuleId,
    severity: r.severity as Severity,
    title: info.title,
    source: r.source,
    scope: r.scope,
    subject: r.subject,
    ...(r.principalId !== null ? { principalId: r.principalId } : {}),
    ...(r.credentialId !== null ? { credentialId: r.credentialId } : {}),
    detail: r.detail,
    controls: info.controls as unknown as string[],
    new: isNew,
  };
}

/** The stored set of run `runId` against `diff` (its state alone without one), evaluated and stored when missing. */
export function findingSet(db: Db, config: Config, runId: number, diff?: DiffResult): FindingSet {
  const policy = findingsPolicy(config);
  const inputs = diff ? changeInputs(db) : "";
  return findingSetOf(db, runId, diff ? diff.from.id : 0, policy, inputs) ?? storeEvaluation(db, config, runId, diff, policy, inputs);
}

/** A stored set whose state findings are run `runId`'s: any basis will do; its state alone is evaluated when none is stored. */
export function stateFindingSet(db: Db, config: Config, runId: number): FindingSet {
  const policy = findingsPolicy(config);
  return anyFindingSetOf(db, runId, policy) ?? storeEvaluation(db, config, runId, undefined, policy);
}

/**
 * A run's findings (against `diff`) as a source that can be read more than once, each read one cursor in
 * the report's order, suppressions not yet applied: a report counts them in one read and writes them in
 * another, and never holds the run's findings. A store that cannot hold findings is evaluated in memory
 * (read-only stores of an older schema: small by nature).
 */
export interface FindingSource {
  run: RunRow;
  /** The run's start: the clock suppressions are judged by. */
  now: number;
  each(): Iterable<Finding>;
}

export function storedFindingSource(db: Db, config: Config, runId: number, diff?: DiffResult): FindingSource {
  const run = getRun(db, runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  const now = Date.parse(run.startedAt);
  if (!canStoreFindings(db)) {
    const e = evaluate(db, config, runId, diff);
    const all = [...e.findings.map(({ suppressionExpired: _, ...f }) => f), ...e.suppressed.map((s) => s.finding)].sort(byReportOrder);
    return { run, now, each: () => all };
  }
  const set = findingSet(db, config, runId, diff);
  const previous = diff ? stateFindingSet(db, config, diff.from.id) : null;
  return {
    run,
    now,
    *each() {
      for (const r of reportedFindings(db, set, previous, { order: "report" })) yield fromStored(r, r.isNew);
    },
  };
}

/** How many findings run `runId`'s state shows, suppressions in force at the run's time left out: the history charts' count. */
export function storedFindingCount(db: Db, config: Config, runId: number): number {
  if (!canStoreFindings(db)) return evaluate(db, config, runId, undefined, false).findings.length;
  const run = getRun(db, runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  const set = stateFindingSet(db, config, runId);
  const now = Date.parse(run.startedAt);
  const rules = [...new Set(config.suppress.map((s) => s.rule))];
  let hidden = 0;
  for (const f of stateFindingsOf(db, set, rules)) if (suppressionOf(config.suppress, f, now)?.active) hidden++;
  return set.state - hidden;
}

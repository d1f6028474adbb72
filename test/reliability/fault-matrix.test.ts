// Fault matrix: every fault of FAULTS injected into one scope of every connector at once, through the real
// collect engine and store. For each cell: the run ends, the affected scope recovers / fails naming source,
// scope and the provider's error / degrades to "unknown", the unaffected scopes are stored whole, and
// neither the faulted run nor the healed run after it shows a removed account. The matrix is printed.
//
// Retry timing: the aws-iam, github and scim definitions are created with the seams their own tests use
// (millisecond SDK backoff; rate-limit waits recorded instead of slept), so a persistent fault costs
// milliseconds, not the production minutes. Everything else is production code and configuration.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { awsIamConnector, createAwsIamConnector } from "../../connectors/aws-iam/index.js";
import { createGithubConnector, githubConnector } from "../../connectors/github/index.js";
import { createScimConnector, scimConnector } from "../../connectors/scim/index.js";
import { DEFAULT_RETRY_POLICY } from "../../src/http-policy.js";
import { diffRuns, type DiffResult } from "../../src/diff/differ.js";
import { openStore, type Db } from "../../src/store/db.js";
import { inventoryAt, quarantineOf, scopeRuns, type ScopeRunRow } from "../../src/store/reader.js";
import { fastTuning } from "../connectors/aws-iam/helpers.js";
import { TestClock } from "../connectors/github/setup.js";
import { AFFECTED_SOURCE, CONNECTORS, FAULTS, type Cell, type ConnectorName, type Gaps } from "./faults.js";
import { startLab, type Lab } from "./lab.js";
import { timedCollect } from "./run.js";

let lab: Lab;
const clock = new TestClock();
let lastClean = 0;
const matrix = new Map<string, Map<ConnectorName, string>>();
let faultsTried = 0;

beforeAll(async () => {
  vi.spyOn(awsIamConnector, "create").mockImplementation((id, opts) => createAwsIamConnector(id, opts, fastTuning()));
  vi.spyOn(githubConnector, "create").mockImplementation((id, opts) => createGithubConnector(id, opts, { sleep: clock.sleep, retryBaseMs: 5 }));
  // Backoff in milliseconds; Retry-After is still slept for real, so the matrix can measure the gap.
  vi.spyOn(scimConnector, "create").mockImplementation((id, opts) => createScimConnector(id, opts, { policy: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 5 } }));
  lab = await startLab();
  // The first run generates AWS credential reports; later runs reuse them. Compare against a steady state.
  await timedCollect(lab.config, lab.env);
  const base = await timedCollect(lab.config, lab.env);
  expect(base.result.scopes.filter((s) => s.status !== "ok")).toEqual([]);
  lastClean = base.result.runId;
}, 120_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await lab?.close();
  printMatrix();
});

function printMatrix(): void {
  if (matrix.size === 0) return;
  const titles = FAULTS.filter((f) => matrix.has(f.id));
  const lines = [`fault matrix (${faultsTried} connector × fault cells tried; connector × fault → outcome)`];
  for (const f of titles) {
    lines.push(`  ${f.title}`);
    for (const c of CONNECTORS) lines.push(`    ${c.padEnd(17)} ${matrix.get(f.id)!.get(c) ?? `n/a (${f.na[c]})`}`);
  }
  console.log(lines.join("\n"));
}

function scopeOf(rows: ScopeRunRow[], source: string, scope: string): ScopeRunRow | undefined {
  return rows.find((r) => r.source === source && r.scope === scope);
}

function idsAt(db: Db, run: number, source: string, scope: string): string[] {
  return [...inventoryAt(db, run, { source: [source] })].filter((p) => p.scope === scope).map((p) => p.id);
}

function changesIn(diff: DiffResult, source: string, scope: string): number {
  const here = (e: { source: string; scope: string }) => e.source === source && e.scope === scope;
  return (
    diff.principals.added.filter(here).length +
    diff.principals.removed.filter(here).length +
    diff.principals.changed.filter(here).length +
    diff.credentials.added.filter(here).length +
    diff.credentials.removed.filter(here).length +
    diff.grants.added.filter(here).length +
    diff.grants.removed.filter(here).length
  );
}

/** How the error names the scope, per connector. */
function scopeToken(lab: Lab, c: ConnectorName, source: string): string {
  const scope = lab.affected[source]!;
  switch (c) {
    case "aws-iam":
      return `account ${scope}`;
    case "entra-id":
      return `tenant ${lab.entraA.tenant.id}`;
    case "google-workspace":
      return `customer ${scope}`;
    case "github":
      return `org "${scope}"`;
    case "scim":
      return `SCIM service ${scope}`;
    case "file":
      return (lab.config.sources.find((s) => s.id === source)!.options as { path: string }).path;
  }
}

/** Checks one cell; returns the matrix text and the problems found (empty when the cell holds). */
function judge(c: ConnectorName, cell: Cell, ctx: { db: Db; faultedRun: number; faulted: ScopeRunRow[]; base: ScopeRunRow[]; diff: DiffResult; gaps: Gaps; scopeToken: string }): { text: string; problems: string[] } {
  const source = AFFECTED_SOURCE[c];
  const scope = lab.affected[source]!;
  const row = scopeOf(ctx.faulted, source, scope);
  const base = scopeOf(ctx.base, source, scope);
  const problems: string[] = [];
  if (!row || !base) return { text: "✗ scope missing", problems: [`${source}/${scope} not in the run`] };

  // Unaffected scopes of the same connector: collected and stored whole.
  for (const was of ctx.base.filter((r) => r.sourceType === c && !(r.source === source && r.scope === scope))) {
    const other = scopeOf(ctx.faulted, was.source, was.scope);
    if (!other) problems.push(`unaffected ${was.source}/${was.scope} was not collected`);
    else if (other.status !== "ok") problems.push(`unaffected ${other.source}/${other.scope} is ${other.status}: ${other.error}`);
    else if (other.principals !== was.principals) problems.push(`unaffected ${other.source}/${other.scope} stored ${other.principals} principals, ${was.principals} before`);
  }

  let text: string;
  const extra = row.requests - base.requests;
  if (cell.expect === "recovered") {
    text = `recovered (${extra >= 0 ? "+" : ""}${extra} requests`;
    if (row.status !== "ok") problems.push(`expected to recover, got ${row.status}: ${row.error}`);
    else {
      if (row.principals !== base.principals) problems.push(`stored ${row.principals} principals, ${base.principals} before`);
      const changed = changesIn(ctx.diff, source, scope);
      if (changed > 0) problems.push(`${changed} changes against the clean run`);
    }
    if (cell.retryAfterSeconds) {
      const waits = c === "github" ? clock.waits : ctx.gaps.nextAt.map((t, i) => t - ctx.gaps.throttledAt[i]!);
      const floor = cell.retryAfterSeconds * 1000 - 50;
      if (waits.length === 0) problems.push("no retry after a throttled request was seen");
      else if (Math.min(...waits) < floor) problems.push(`retried ${Math.min(...waits)} ms after a Retry-After of ${cell.retryAfterSeconds} s`);
      else text += `, waited ≥ ${cell.retryAfterSeconds} s each time (${waits.length}×)`;
    }
    text += ")";
  } else if (cell.expect === "failed") {
    const error = row.error ?? "";
    text = `failed: ${error.replace(/^.*?(?=(GET |iam:|users\.|roles\.|line |cannot |sts:|ExpiredToken|→))/, "").slice(0, 110)}`;
    if (row.status !== "failed") problems.push(`expected to fail, got ${row.status} with ${row.principals} principals`);
    if (!new RegExp(`\\bsource "?${source}"?\\b`).test(error)) problems.push(`error does not name source ${source}: ${error}`);
    if (!error.includes(ctx.scopeToken)) problems.push(`error does not name the scope (${ctx.scopeToken}): ${error}`);
    if (cell.error && !cell.error.test(error)) problems.push(`error lacks the provider's error ${cell.error}: ${error}`);
    // A failed scope keeps exactly its previous state.
    const before = idsAt(ctx.db, lastClean, source, scope).sort();
    const now = idsAt(ctx.db, ctx.faultedRun, source, scope).sort();
    if (JSON.stringify(before) !== JSON.stringify(now)) problems.push(`failed scope's state changed: ${before.length} → ${now.length} principals`);
  } else if (cell.expect === "quarantined") {
    const reasons = quarantineOf(ctx.db, ctx.faultedRun).filter((q) => q.source === source && q.scope === scope).map((q) => q.reason);
    const before = idsAt(ctx.db, lastClean, source, scope).length;
    const stored = idsAt(ctx.db, ctx.faultedRun, source, scope).length;
    text = `quarantined: ${reasons.join("; ").slice(0, 110)}; ${stored} of ${before} accounts still stored`;
    if (row.status !== "partial") problems.push(`expected a partial scope with the record quarantined, got ${row.status}: ${row.error}`);
    if (reasons.length === 0 || (cell.error && !reasons.some((r) => cell.error!.test(r)))) problems.push(`no quarantine reason matching ${cell.error}: ${reasons.join("; ")}`);
    if (stored < before) problems.push(`${before - stored} accounts lost around a quarantined record`);
  } else {
    const stored = [...inventoryAt(ctx.db, ctx.faultedRun, { source: [source] })].filter((p) => p.scope === scope);
    const what = row.status === "ok" ? cell.degraded!({ principals: stored, meta: row.meta }) : undefined;
    const before = idsAt(ctx.db, lastClean, source, scope).length;
    text = `degraded: ${what ?? "?"}; ${stored.length} of ${before} accounts still stored`;
    if (row.status !== "ok") problems.push(`expected a degraded but stored scope, got ${row.status}: ${row.error}`);
    else if (!what) problems.push("the stored scope does not show the refused field as unknown");
    if (stored.length !== before) problems.push(`${before - stored.length} accounts lost while a listing was refused`);
  }
  return { text: problems.length ? `✗ ${text} — ${problems.join("; ")}` : text, problems };
}

/** WHOHAS_FAULTS (comma-separated fault ids) picks a slice; `npm test` runs one, `npm run test:reliability` all. */
const ONLY = process.env.WHOHAS_FAULTS?.split(",").filter(Boolean);

describe("fault matrix: connector × fault", () => {
  for (const fault of FAULTS) {
    it.skipIf(ONLY !== undefined && !ONLY.includes(fault.id))(fault.title, async () => {
      const gaps = Object.fromEntries(CONNECTORS.map((c) => [c, { throttledAt: [], nextAt: [] } as Gaps])) as Record<ConnectorName, Gaps>;
      clock.waits.length = 0;
      const cells = CONNECTORS.filter((c) => fault.cells[c]).map((c) => [c, fault.cells[c]!] as const);
      for (const [c, cell] of cells) cell.inject(lab, gaps[c]);
      // After injection: a file cell may point its source at another path, which the error must then name.
      const tokens = Object.fromEntries(cells.map(([c]) => [c, scopeToken(lab, c, AFFECTED_SOURCE[c])]));
      const faulted = await timedCollect(lab.config, lab.env);

      for (const s of [lab.aws.sim, lab.entraA.sim.server, lab.entraB.sim.server, lab.googleA.sim, lab.googleB.sim, lab.github.sim, lab.scimA.sim, lab.scimB.sim]) s.clearFaults();
      for (const [, cell] of cells) cell.heal?.(lab);
      const healed = await timedCollect(lab.config, lab.env);

      const db = openStore(lab.config.store.path, { readonly: true });
      try {
        const faultedRun = faulted.result.runId;
        const base = scopeRuns(db, lastClean);
        const diffFaulted = diffRuns(db, lastClean, faultedRun);
        const row = new Map<ConnectorName, string>();
        const problems: string[] = [];
        for (const [c, cell] of cells) {
          faultsTried++;
          const judged = judge(c, cell, { db, faultedRun, faulted: faulted.result.scopes, base, diff: diffFaulted, gaps: gaps[c], scopeToken: tokens[c]! });
          row.set(c, judged.text);
          problems.push(...judged.problems.map((p) => `${c}: ${p}`));
        }
        matrix.set(fault.id, row);

        expect(faulted.hung, `the faulted run did not end within its deadline (${faulted.ms} ms)`).toBe(false);
        expect(problems).toEqual([]);
        // Zero removed accounts caused by the fault: not in the faulted run, not after healing.
        expect(diffFaulted.principals.removed.map((p) => `${p.source}/${p.scope}/${p.name}`)).toEqual([]);
        expect(healed.result.scopes.filter((s) => s.status !== "ok").map((s) => `${s.source}/${s.scope}: ${s.error}`)).toEqual([]);
        const diffHealed = diffRuns(db, lastClean, healed.result.runId);
        expect({
          principalsAdded: diffHealed.principals.added.length,
          principalsRemoved: diffHealed.principals.removed.map((p) => `${p.source}/${p.scope}/${p.name}`),
          principalsChanged: diffHealed.principals.changed.length,
          credentialsAdded: diffHealed.credentials.added.length,
          credentialsRemoved: diffHealed.credentials.removed.length,
          grantsAdded: diffHealed.grants.added.length,
          grantsRemoved: diffHealed.grants.removed.length,
        }).toEqual({ principalsAdded: 0, principalsRemoved: [], principalsChanged: 0, credentialsAdded: 0, credentialsRemoved: 0, grantsAdded: 0, grantsRemoved: 0 });
        lastClean = healed.result.runId;
      } finally {
        db.close();
      }
    }, 180_000);
  }
});

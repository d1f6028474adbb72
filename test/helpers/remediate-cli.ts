// Remediation through the built CLI (dist/src/cli.js, a child process) against a simulator served from the test
// process: the config a connector test gives (its [[sources]] entry with its own remediate block, [[remediate]]
// entries, policy), and the round trip every connector must pass — collect → plan → dry run → apply → apply
// again (idempotent) → collect (the change is in the store) → undo → collect (restored) → actions → verify — with
// the connector's own checks of its simulator's state at each step. One helper for every connector.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { ActionOutcome } from "../../src/remediate/apply.js";
import type { Plan } from "../../src/remediate/plan.js";
import { openStore, type Db } from "../../src/store/db.js";
import { inventoryAt, type PrincipalView } from "../../src/store/reader.js";
import { runCli, type ChildRun } from "../reliability/cli-process.js";

export interface RemediationCliOptions {
  /** The source's id in the config. */
  sourceId: string;
  /** The `[[sources]]` table and its `[sources.remediate]` block, as TOML (the id must be `sourceId`). */
  sourceToml: string;
  /** `[[remediate]]` entries, as TOML. */
  entriesToml: string;
  /** Written right after `[remediation] dir`: more keys of that table first, then any other tables (`[policy]`, …). */
  extraToml?: string;
  /** Environment the child needs for the secret references (env:NAME). */
  env: Record<string, string>;
}

/** An action as `whohas actions --format json` lists it. */
export interface ListedAction {
  id: string;
  planId: string;
  type: string;
  status: string;
  principalName: string;
  approver: string | null;
  undoneBy: string | null;
  undo: Record<string, unknown> | null;
  answer: string | null;
}

export interface RemediationCli {
  dir: string;
  configFile: string;
  env: Record<string, string>;
  /** The built CLI with `--config`; `killWhen` SIGKILLs it as soon as it returns true. */
  run(args: string[], killWhen?: () => boolean): Promise<ChildRun>;
  /** `whohas collect`; the new run's id. */
  collect(): Promise<number>;
  /** `whohas plan --format json`: the plan and its file. */
  plan(): Promise<{ file: string; plan: Plan }>;
  /** `whohas apply FILE --format json --approver alice`, plus `extra`; the outcomes (exit 0 expected unless `code` says). */
  apply(file: string, extra?: string[], code?: number): Promise<ActionOutcome[]>;
  /** `whohas undo REF --format json --approver bob`. */
  undo(ref: string, code?: number): Promise<ActionOutcome[]>;
  /** `whohas actions --format json`. */
  actions(): Promise<ListedAction[]>;
  /** The store's latest run, read directly. */
  principals(): PrincipalView[];
  db<T>(fn: (db: Db) => T): T;
  close(): void;
}

const json = <T>(r: ChildRun, what: string): T => {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`${what}: no JSON on stdout (exit ${r.code}): ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 2000)}`);
  }
};

/** `make` gets the private directory the store and plans live in (for files the source names, e.g. a CA). */
export function remediationCli(make: (dir: string) => RemediationCliOptions): RemediationCli {
  const dir = mkdtempSync(join(tmpdir(), "whohas-remediate-cli-"));
  const o = make(dir);
  const configFile = join(dir, "whohas.toml");
  writeFileSync(
    configFile,
    `[store]\npath = "${dir}/whohas.db"\n[remediation]\ndir = "${dir}/plans"\n${o.extraToml ?? ""}\n${o.sourceToml}\n\n${o.entriesToml}\n`,
    { mode: 0o600 },
  );
  const run = (args: string[], killWhen?: () => boolean) => runCli([...args, "--config", configFile], { env: o.env, ...(killWhen ? { killWhen } : {}), timeoutMs: 120_000 });
  const db = <T>(fn: (h: Db) => T): T => {
    const h = openStore(join(dir, "whohas.db"), { readonly: true });
    try {
      return fn(h);
    } finally {
      h.close();
    }
  };
  const ok = async (args: string[], code = 0) => {
    const r = await run(args);
    expect(r.code, `whohas ${args.join(" ")}: ${r.stderr}`).toBe(code);
    return r;
  };
  return {
    dir,
    configFile,
    env: o.env,
    run,
    async collect() {
      await ok(["collect"]);
      return db((h) => h.prepare("SELECT MAX(id) FROM runs").pluck().get() as number);
    },
    async plan() {
      return json<{ file: string; plan: Plan }>(await ok(["plan", "--format", "json"]), "plan");
    },
    async apply(file, extra = [], code = 0) {
      return json<{ actions: ActionOutcome[] }>(await ok(["apply", file, "--format", "json", "--approver", "alice", ...extra], code), "apply").actions;
    },
    async undo(ref, code = 0) {
      return json<{ actions: ActionOutcome[] }>(await ok(["undo", ref, "--format", "json", "--approver", "bob"], code), "undo").actions;
    },
    async actions() {
      return json<{ actions: ListedAction[] }>(await ok(["actions", "--format", "json"]), "actions").actions;
    },
    principals: () =>
      db((h) => {
        const run = h.prepare("SELECT MAX(id) FROM runs").pluck().get() as number;
        return [...inventoryAt(h, run, { source: [o.sourceId] })];
      }),
    db,
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RoundTripChecks {
  /** The plan's actions as "type principal-name[ grant]", sorted: exactly these are expected. */
  expected: string[];
  /** Write requests the simulator has answered so far (its own log). */
  writes(): number;
  /** The simulator's state after apply, and the store's after the next collect. */
  applied(stored: PrincipalView[]): void;
  /** Between apply and the collect after undo (GitHub: the re-invited member accepts). */
  afterUndo?(): void;
  /** The simulator's state after undo, and the store's after the next collect. */
  restored(stored: PrincipalView[]): void;
}

const described = (a: { type: string; target: { principal: { name: string }; grant?: { privilege: string } } }) => `${a.type} ${a.target.principal.name}${a.target.grant ? ` ${a.target.grant.privilege}` : ""}`;

/**
 * The whole round trip through the built CLI. Plan and dry run send no write; apply does each action once (done,
 * approver recorded); a second apply writes nothing; the next collect shows it; undo restores it; the collect
 * after shows that; `actions` lists every action undone with who approved and who undid; `verify` passes.
 */
export async function cliRoundTrip(cli: RemediationCli, c: RoundTripChecks): Promise<{ plan: Plan; writesApplied: number }> {
  await cli.collect();
  const writes0 = c.writes();
  const { file, plan } = await cli.plan();
  expect(plan.blocked).toEqual([]);
  expect(plan.actions.map(described).sort()).toEqual([...c.expected].sort());
  expect(plan.actions.every((a) => a.reversible)).toBe(true);

  const dry = await cli.apply(file, ["--dry-run"]);
  expect(dry.map((o) => o.detail.split(":")[0])).toEqual(plan.actions.map(() => "would apply"));
  expect(c.writes() - writes0, "writes by plan and dry run").toBe(0);

  const applied = await cli.apply(file);
  expect(applied.map((o) => o.status)).toEqual(plan.actions.map(() => "done"));
  expect(applied.every((o) => o.changed)).toBe(true);
  const writesApplied = c.writes() - writes0;
  expect(writesApplied).toBeGreaterThanOrEqual(plan.actions.length);
  // Idempotent: the same plan again (still fresh: no collect since) sends no write and changes no action.
  const again = await cli.apply(file);
  expect(again.every((o) => !o.changed && o.status === "done")).toBe(true);
  expect(c.writes() - writes0).toBe(writesApplied);
  await cli.collect();
  c.applied(cli.principals());

  const undone = await cli.undo(plan.id);
  expect(undone.map((o) => o.status)).toEqual(plan.actions.map(() => "undone"));
  c.afterUndo?.();
  await cli.collect();
  c.restored(cli.principals());

  const listed = (await cli.actions()).filter((a) => a.planId === plan.id);
  expect(listed.map((a) => ({ status: a.status, approver: a.approver, undoneBy: a.undoneBy }))).toEqual(plan.actions.map(() => ({ status: "undone", approver: "alice", undoneBy: "bob" })));
  expect(listed.every((a) => a.undo !== null)).toBe(true);
  const verify = await cli.run(["verify"]);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  expect(verify.stdout).toMatch(/^ok: \d+ run\(s\) verified/);
  expect(verify.stdout).toMatch(/ok: \d+ remediation log line\(s\) verified/);
  return { plan, writesApplied };
}

// Crash safety: `whohas collect` (the built CLI, a child process) is killed with SIGKILL at seeded random
// points of a run against a simulated Google Workspace customer of ~50k identities served from this
// process, with 2 % of the tenant changed before each killed run so that kills land among real writes. After
// every kill: `whohas runs` shows every earlier run unchanged, `whohas verify` passes, PRAGMA
// integrity_check is ok; then a new collect succeeds, marks the killed run failed, and its diff against
// the last good run shows exactly the tenant's changes (no account removed).
// WHOHAS_CRASH_KILLS / WHOHAS_CRASH_IDENTITIES / WHOHAS_CRASH_SEED size it (npm run soak raises them).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../src/store/sqlite.js";
import type { Db } from "../../src/store/db.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGoogleSimulator, type GoogleSimulator } from "../../connectors/google-workspace/simulator.js";
import { seededRandom } from "../../src/simulator/random.js";
import { whohas } from "../helpers/cli.js";
import { runCli } from "./cli-process.js";

const IDENTITIES = Number(process.env.WHOHAS_CRASH_IDENTITIES ?? 50_000);
const KILLS = Number(process.env.WHOHAS_CRASH_KILLS ?? 20);
const SEED = Number(process.env.WHOHAS_CRASH_SEED ?? 20261127);

interface RunJson {
  id: number;
  status: string;
  finishedAt: string | null;
  digest: string | null;
  error: string | null;
  scopes: { scope: string; status: string; principals: number; error: string | null }[];
}

let google: GoogleSimulator;
let dir: string;
let config: string;
let dbPath: string;

beforeAll(async () => {
  google = await startGoogleSimulator({ seed: 31, users: IDENTITIES, now: new Date("2026-06-01T00:00:00Z") });
  dir = mkdtempSync(join(tmpdir(), "whohas-crash-"));
  const key = join(dir, "key.json");
  writeFileSync(key, google.tenant.keyFile(), { mode: 0o600 });
  dbPath = join(dir, "whohas.db");
  config = join(dir, "whohas.toml");
  writeFileSync(
    config,
    `[store]\npath = ${JSON.stringify(dbPath)}\n\n[[sources]]\nid = "gws"\ntype = "google-workspace"\nsubject = "admin@${google.tenant.domain}"\n` +
      `credentials = ${JSON.stringify(`file:${key}`)}\nroot_url = ${JSON.stringify(google.rootUrl)}\ntoken_url = ${JSON.stringify(google.tokenUrl)}\nrequests_per_minute = 100000\n`,
    { mode: 0o600 },
  );
});

afterAll(async () => {
  await google?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runs(): Map<number, RunJson> {
  const r = whohas(["runs", "--config", config, "--format", "json", "--limit", "100000"]);
  expect(r.code, r.stderr).toBe(0);
  return new Map((JSON.parse(r.stdout) as { runs: RunJson[] }).runs.map((x) => [x.id, x]));
}

function verify(): void {
  const r = whohas(["verify", "--config", config]);
  expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
  expect(r.stdout).toMatch(/^ok: \d+ run\(s\) verified/);
}

function integrity(): { check: string; rowsOfRun: (run: number) => number } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const check = (db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");
    const counts = new Map<number, number>();
    for (const r of db.prepare("SELECT from_run AS run, COUNT(*) AS n FROM principals GROUP BY from_run").all() as { run: number; n: number }[]) counts.set(r.run, r.n);
    return { check, rowsOfRun: (run) => counts.get(run) ?? 0 };
  } finally {
    db.close();
  }
}

/** True once a run after `lastRun` has a scope committed ok (read through a read-only connection of its own). */
function scopeCommitted(lastRun: number): () => boolean {
  let db: Db | undefined;
  return () => {
    try {
      db ??= new Database(dbPath, { readonly: true, fileMustExist: true });
      const row = db.prepare("SELECT status FROM source_runs WHERE run_id > ? AND status = 'ok' LIMIT 1").get(lastRun);
      if (row) db.close();
      return row !== undefined;
    } catch {
      // the writer holds an exclusive moment (checkpoint): look again
      return false;
    }
  };
}

/**
 * The tenant changes before each killed run: 2 % of the accounts flip between active and suspended (so
 * every page of the run writes new versions and closes old ones) and two accounts are created.
 */
function mutate(rand: () => number): { added: number; changed: number } {
  const t = google.tenant;
  const flips = Math.ceil(IDENTITIES * 0.02);
  const slots = new Set<number>();
  // Not the admin whohas signs in as: suspending it would (rightly) refuse the next collect.
  const subject = t.slotOf(`admin@${t.domain}`);
  while (slots.size < flips) {
    const slot = Math.floor(rand() * t.slotCount);
    const rec = t.record(slot);
    if (rec && !rec.user.archived && slot !== subject) slots.add(slot);
  }
  for (const slot of slots) {
    const user = t.record(slot)!.user;
    if (user.suspended) t.updateUser(user.primaryEmail, { suspended: false, suspensionReason: undefined });
    else t.suspendUser(user.primaryEmail);
  }
  for (let i = 0; i < 2; i++) t.addUser({ givenName: "crash", familyName: `test${Math.floor(rand() * 1e9)}` });
  return { added: 2, changed: flips };
}

describe(`crash safety: SIGKILL at ${KILLS} seeded points of a ${IDENTITIES.toLocaleString("en")}-identity collect`, () => {
  it("leaves earlier runs intact, the store consistent and verifiable, and the next collect whole", async () => {
    const rand = seededRandom(SEED);
    const first = await runCli(["collect", "--config", config, "--format", "json"]);
    expect(first.code, first.stderr).toBe(0);
    const lock = `${dbPath}.lock`;
    // Timed with a changed tenant, like the runs that will be killed.
    mutate(rand);
    const steady = await runCli(["collect", "--config", config, "--format", "json"], { killFrom: lock });
    expect(steady.code, steady.stderr).toBe(0);
    // From taking the lock to exiting: the span kills are spread over (module loading is not the point).
    const body = steady.ms - (steady.markerAtMs ?? 0);
    let lastGood = (JSON.parse(steady.stdout) as { run: number }).run;
    expect(runs().get(lastGood)!.scopes[0]!.principals).toBe(IDENTITIES + 2);

    const phases = new Map<string, number>();
    const note = (phase: string) => phases.set(phase, (phases.get(phase) ?? 0) + 1);
    const delays: number[] = [];
    let before = runs();
    for (let i = 0; i < KILLS; i++) {
      const expected = mutate(rand);
      // Three kills in four anywhere from taking the lock to the end of a normal run; every fourth the moment
      // the scope's closing transaction is seen committed, among the run's seal, pruning and checkpoint.
      const atCommit = i % 4 === 3;
      const delay = Math.round(rand() * body * 0.95);
      if (!atCommit) delays.push(delay);
      const killed = await runCli(["collect", "--config", config, "--format", "json"], atCommit ? { killWhen: scopeCommitted(Math.max(...before.keys())) } : { killAfterMs: delay, killFrom: lock });

      // Every earlier run reads exactly as before; the store is consistent and its evidence chain holds.
      const after = runs();
      for (const [id, run] of before) expect(after.get(id), `run ${id} after kill ${i + 1}`).toEqual(run);
      const integ = integrity();
      expect(integ.check).toBe("ok");
      verify();
      const newRuns = [...after.keys()].filter((id) => !before.has(id));
      expect(newRuns.length).toBeLessThanOrEqual(1);
      const victim = newRuns[0] !== undefined ? after.get(newRuns[0])! : undefined;
      if (!killed.killed) note("finished before the kill");
      else if (!victim) note("before the run began");
      else if (victim.status !== "running") note("after the run was sealed");
      else if (victim.scopes.some((s) => s.status === "ok")) note("after the scope's commit, before the run's");
      else if (integ.rowsOfRun(victim.id) > 0) note("while writing batches");
      else note("while fetching, before the first write");

      // The next collect recovers: the killed run is failed, the new one whole, the diff exactly the changes.
      const next = await runCli(["collect", "--config", config, "--format", "json"]);
      expect(next.code, next.stderr).toBe(0);
      const nextRun = (JSON.parse(next.stdout) as { run: number; status: string }).run;
      const now = runs();
      if (victim && victim.status === "running") {
        expect(now.get(victim.id)).toMatchObject({ status: "failed", error: expect.stringMatching(/^interrupted/) });
      }
      expect(now.get(nextRun)).toMatchObject({ status: "ok" });
      const diffFile = join(dir, "diff.json");
      const diff = whohas(["diff", String(lastGood), String(nextRun), "--config", config, "--format", "json", "--out", diffFile]);
      expect(diff.code, diff.stderr).toBe(0);
      const counts = (JSON.parse(readFileSync(diffFile, "utf8")) as { counts: Record<string, number> }).counts;
      expect({ removed: counts.principalsRemoved, added: counts.principalsAdded, changed: counts.principalsChanged }, `diff ${lastGood} → ${nextRun} after kill ${i + 1} at ${delay} ms`).toEqual({
        removed: 0,
        added: expected.added,
        changed: expected.changed,
      });
      lastGood = nextRun;
      before = now;
    }
    expect(integrity().check).toBe("ok");
    verify();
    const landed = KILLS - (phases.get("finished before the kill") ?? 0);
    console.log(
      `crash safety: ${landed} of ${KILLS} SIGKILLs landed mid-run (${IDENTITIES.toLocaleString("en")} identities; a steady run took ${steady.ms} ms, ${body} ms of it holding the lock; the first ${first.ms} ms; timed kills ${Math.min(...delays)}–${Math.max(...delays)} ms after the lock was taken, every fourth at the scope's commit)\n` +
        [...phases].map(([p, n]) => `  ${p}: ${n}`).join("\n"),
    );
    // Most kills must land inside a run, or the test proves little.
    expect(landed).toBeGreaterThanOrEqual(Math.ceil(KILLS * 0.75));
  }, 900_000);
});

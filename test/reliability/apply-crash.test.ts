// Crash safety of remediation: `whohas apply PLAN` (the built CLI, a child process) deactivates many access keys
// at the AWS simulator (20 ms latency per request, served from this process) and is SIGKILLed once the simulator
// has seen k of its n UpdateAccessKey writes, at a few k between 1 and n-1 (by progress, never by time). After
// each kill: every action is done, unknown or still planned, and no planned one has a write at the provider; then
// `whohas apply --resume` reads the provider for the unknown ones and sends no second write for any key whose write
// had reached it, exactly one for every other, and leaves every key of the plan Inactive. The same kill lands in
// `whohas undo PLAN`; running it again restores every key (undo writes are idempotent at AWS: Status=Active).
// WHOHAS_APPLY_KILLS / WHOHAS_APPLY_KEYS size it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writePlanFile } from "../../src/remediate/plan-file.js";
import { actionsOfPlan, verifyActionLog, type ActionRecord } from "../../src/store/actions.js";
import { PROD, remediationFixture, unusedKey, type RemediationFixture } from "../remediate/aws-fixture.js";
import { runCli, type ChildRun } from "./cli-process.js";

const KILLS = Number(process.env.WHOHAS_APPLY_KILLS ?? 3);
const KEYS = Number(process.env.WHOHAS_APPLY_KEYS ?? 30);
const LATENCY_MS = 20;

let f: RemediationFixture;

beforeAll(async () => {
  // No write throttling: every write the simulator sees is one the remediator meant, so counts are exact.
  f = await remediationFixture({ sim: { latencyMs: LATENCY_MS, writesPerSecond: 100_000 } });
  for (let i = 0; i < KEYS; i++) unusedKey(f.org, PROD, `crash-ci-${String(i).padStart(3, "0")}`);
});

afterAll(async () => {
  await f?.close();
});

/** UpdateAccessKey writes CloudTrail recorded (the simulator records each one it carried out), per "account/user". */
function writesByUser(status: "Active" | "Inactive"): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of f.org.trail.events) {
    if (e.eventName !== "UpdateAccessKey") continue;
    const p = (JSON.parse(e.record) as { requestParameters: { userName: string; status: string } }).requestParameters;
    const key = `${e.accountId}/${p.userName}`;
    if (p.status === status) out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

/** Requests sent before the kill reach the simulator up to one latency later: wait until it has seen no new one for a while. */
async function quiescent(): Promise<void> {
  let seen = -1;
  while (seen !== f.sim.sim.requestCount) {
    seen = f.sim.sim.requestCount;
    await new Promise((r) => setTimeout(r, LATENCY_MS * 5));
  }
}

const cli = (args: string[], killWhen?: () => boolean): Promise<ChildRun> =>
  runCli([...args, "--config", f.configFile, "--approver", "crash-test"], { env: f.env as Record<string, string>, ...(killWhen ? { killWhen } : {}), timeoutMs: 120_000 });

const byUser = (actions: readonly ActionRecord[]) => {
  const m = new Map<string, number>();
  for (const a of actions) m.set(`${a.scope}/${a.principalName}`, (m.get(`${a.scope}/${a.principalName}`) ?? 0) + 1);
  return m;
};

/** The status of every key of these "account/user"s: each user of a plan has each of its keys in it. */
const keyStatuses = (users: Iterable<string>) =>
  [...users].flatMap((u) => {
    const [account, name] = u.split("/") as [string, string];
    return f.org.user(account, name).keys.map((k) => k.status);
  });

describe(`crash safety of apply: SIGKILL at ${KILLS} points of a ${KEYS}-key deactivation`, () => {
  it("leaves every action done, unknown or untouched; --resume finishes with one write per key; undo survives a kill too", async () => {
    const lines: string[] = [];
    for (let round = 0; round < KILLS; round++) {
      await f.collect();
      const plan = f.plan();
      const file = writePlanFile(f.config.remediation.dir, plan);
      const n = plan.actions.length;
      expect(n).toBeGreaterThanOrEqual(KEYS);
      const users = byUser(f.db((db) => actionsOfPlan(db, plan.id)));
      // Kill points spread over the run: after the first write, in the middle, and late (n-1 at most).
      const k = Math.min(n - 1, Math.max(1, Math.round(((round + 0.5) / KILLS) * n * 0.9)));

      const inactiveBefore = writesByUser("Inactive");
      const sentBefore = f.count("UpdateAccessKey");
      const killed = await cli(["apply", file, "--format", "json"], () => f.count("UpdateAccessKey") - sentBefore >= k);
      expect(killed.killed, `apply of ${n} actions killed after ${k} writes: ${killed.stderr}`).toBe(true);
      await quiescent();

      // No action is left planned with its write sent: planned ones have nothing at the provider.
      const afterKill = f.db((db) => actionsOfPlan(db, plan.id));
      const status = (s: string) => afterKill.filter((a) => a.status === s).length;
      expect(afterKill.every((a) => ["done", "unknown", "planned"].includes(a.status)), afterKill.map((a) => a.status).join(",")).toBe(true);
      const reached = new Map([...writesByUser("Inactive")].map(([u, c]) => [u, c - (inactiveBefore.get(u) ?? 0)]));
      const reachedTotal = [...reached.values()].reduce((a, b) => a + b, 0);
      const plannedPerUser = byUser(afterKill.filter((a) => a.status === "planned"));
      for (const [u, planned] of plannedPerUser) expect(planned + (reached.get(u) ?? 0), `user ${u}: planned actions and writes`).toBeLessThanOrEqual(users.get(u)!);
      // Every done action's write reached the provider.
      for (const [u, done] of byUser(afterKill.filter((a) => a.status === "done"))) expect(reached.get(u) ?? 0, `user ${u}`).toBeGreaterThanOrEqual(done);
      expect(reachedTotal).toBeGreaterThanOrEqual(k);
      expect(reachedTotal).toBeLessThan(n);

      const resumed = await cli(["apply", file, "--resume", "--format", "json"]);
      expect(resumed.code, resumed.stderr).toBe(0);
      const afterResume = writesByUser("Inactive");
      // Zero second writes for keys whose write had reached the provider, exactly one for every other.
      for (const [u, actions] of users) expect((afterResume.get(u) ?? 0) - (inactiveBefore.get(u) ?? 0), `writes for ${u}`).toBe(actions);
      const final = f.db((db) => actionsOfPlan(db, plan.id));
      expect(final.filter((a) => a.status !== "done")).toEqual([]);
      expect(new Set(keyStatuses(users.keys()))).toEqual(new Set(["Inactive"]));
      const reconciled = final.filter((a) => a.answer?.startsWith("reconciled after an interruption")).length;
      lines.push(
        `  kill ${round + 1}: after ${k} of ${n} writes seen; store at the kill: ${status("done")} done, ${status("unknown")} unknown, ${status("planned")} planned; ` +
          `writes that had reached AWS: ${reachedTotal}; --resume: ${reconciled} reconciled by reading, ${n - reachedTotal} written (one each)`,
      );

      // Undo, killed the same way, then run again: every key Active, every action undone.
      const activeBefore = writesByUser("Active");
      const undoSent = f.count("UpdateAccessKey");
      const u = Math.max(1, Math.floor(n / 2));
      const undoKilled = await cli(["undo", plan.id, "--format", "json"], () => f.count("UpdateAccessKey") - undoSent >= u);
      expect(undoKilled.killed, undoKilled.stderr).toBe(true);
      await quiescent();
      expect(f.db((db) => actionsOfPlan(db, plan.id)).every((a) => a.status === "done" || a.status === "undone")).toBe(true);
      const again = await cli(["undo", plan.id, "--format", "json"]);
      expect(again.code, again.stderr).toBe(0);
      expect(f.db((db) => actionsOfPlan(db, plan.id)).filter((a) => a.status !== "undone")).toEqual([]);
      expect(new Set(keyStatuses(users.keys()))).toEqual(new Set(["Active"]));
      const undoWrites = [...writesByUser("Active")].reduce((s, [user, c]) => s + c - (activeBefore.get(user) ?? 0), 0);
      lines.push(`    undo killed after ${u} writes; run again: ${undoWrites} Active writes for ${n} actions (a re-sent undo write is idempotent)`);
      expect(f.db((db) => verifyActionLog(db))).toMatchObject({ ok: true });
    }
    console.log(`apply crash safety (${KEYS} keys, ${LATENCY_MS} ms latency):\n${lines.join("\n")}`);
  }, 600_000);
});

// Crash safety of the removals whose undo data cannot be read back afterwards: Entra and Google "remove role
// assignment", GitHub "remove org member" (role and teams). `whohas apply PLAN` (the built CLI) removes from
// WHOHAS_REMOVALS dormant accounts, one at a time against a simulator answering after 20 ms, and is SIGKILLed once
// the simulator has seen half of the removal writes (by progress, never by time). Then `whohas apply --resume`
// reconciles what the kill left unknown by reading the provider: no removal is sent twice, every action ends
// done WITH its undo data (recorded before the write), and `whohas undo PLAN` puts every role / membership and
// team back. The action log verifies.
import { afterEach, describe, expect, it } from "vitest";
import { entraCase, githubCase, googleCase, type CaseOptions, type CliCase } from "../remediate/cli-cases.js";

const N = Number(process.env.WHOHAS_REMOVALS ?? 8);
const LATENCY_MS = 20;

let c: CliCase | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

/** Requests sent before the kill reach the simulator up to one latency later: wait until it sees no new one. */
async function quiescent(cc: CliCase): Promise<void> {
  let seen = -1;
  while (seen !== cc.requests()) {
    seen = cc.requests();
    await new Promise((r) => setTimeout(r, LATENCY_MS * 5));
  }
}

async function crashAndResume(make: (o: CaseOptions) => Promise<CliCase>): Promise<string> {
  c = await make({ targets: N, disable: false, latencyMs: LATENCY_MS, concurrency: 1 });
  const cc = c;
  await cc.cli.collect();
  const { file, plan } = await cc.cli.plan();
  expect(plan.actions).toHaveLength(N);
  const before = cc.removals();
  const k = Math.max(1, Math.floor(N / 2));
  const killed = await cc.cli.run(["apply", file, "--approver", "crash-test"], () => cc.removals() - before >= k);
  expect(killed.killed, `apply killed after ${k} removals: ${killed.stderr}`).toBe(true);
  await quiescent(cc);
  const reached = cc.removals() - before;
  expect(reached).toBeGreaterThanOrEqual(k);
  expect(reached).toBeLessThan(N);

  const atKill = (await cc.cli.actions()).filter((a) => a.planId === plan.id);
  const count = (s: string) => atKill.filter((a) => a.status === s).length;
  expect(atKill.every((a) => ["done", "unknown", "planned"].includes(a.status)), atKill.map((a) => a.status).join(",")).toBe(true);
  // Every removal that reached the provider is done or unknown in the store: none is left planned.
  expect(count("done") + count("unknown")).toBeGreaterThanOrEqual(reached);

  const resumed = await cc.cli.apply(file, ["--resume"]);
  expect(resumed.map((o) => o.status)).toEqual(plan.actions.map(() => "done"));
  // No removal sent twice: one write per action over the kill and the resume.
  expect(cc.removals() - before).toBe(N);
  const after = (await cc.cli.actions()).filter((a) => a.planId === plan.id);
  const reconciled = after.filter((a) => a.answer?.startsWith("reconciled after an interruption")).length;
  // The kill lands between a removal and its answer (20 ms latency, one at a time): that action is the case here.
  expect(reconciled).toBeGreaterThanOrEqual(1);
  // Every action can be undone, the reconciled ones included: their undo data was recorded before the write.
  expect(after.filter((a) => a.undo === null || Object.keys(a.undo).length === 0).map((a) => a.principalName)).toEqual([]);

  const undone = await cc.cli.undo(plan.id);
  expect(undone.map((o) => o.status)).toEqual(plan.actions.map(() => "undone"));
  cc.acceptInvitations();
  expect(cc.allRestored()).toBe(true);
  const verify = await cc.cli.run(["verify"]);
  expect(verify.code, verify.stdout).toBe(0);
  return `killed after ${k} of ${N} removals seen (${reached} reached); store at the kill: ${count("done")} done, ${count("unknown")} unknown, ${count("planned")} planned; --resume: ${reconciled} reconciled by reading (undo data kept), ${N - reached} written; undo restored all ${N}`;
}

describe(`crash safety of removals: SIGKILL in the middle of ${N} removals, then --resume and undo`, () => {
  const lines: string[] = [];
  it("Entra ID remove-role-assignment", async () => {
    lines.push(`  entra-id: ${await crashAndResume(entraCase)}`);
  }, 300_000);
  it("Google Workspace remove-role-assignment", async () => {
    lines.push(`  google-workspace: ${await crashAndResume(googleCase)}`);
  }, 300_000);
  it("GitHub remove-org-member (role and teams)", async () => {
    lines.push(`  github: ${await crashAndResume(githubCase)}`);
    console.log(`removal crash safety (${LATENCY_MS} ms latency, concurrency 1):\n${lines.join("\n")}`);
  }, 300_000);
});

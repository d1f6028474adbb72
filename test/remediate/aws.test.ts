// Remediation end to end against the AWS simulator through the real SDK: plan, dry run, apply, the next
// collect, undo; and the safety properties (zero writes before apply, stale plans, failed scopes, the cap,
// idempotence, one permission error, resume, secrets).
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { readPlanFile } from "../../src/remediate/plan-file.js";
import { writePlanFile } from "../../src/remediate/plan-file.js";
import { actionsOfPlan, listActions, updateAction, verifyActionLog } from "../../src/store/actions.js";
import { inventoryAt } from "../../src/store/reader.js";
import { PROD, remediationFixture, unusedKey, type RemediationFixture } from "./aws-fixture.js";

let f: RemediationFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const keyStatus = (fx: RemediationFixture, user: string, id: string) => fx.org.user(PROD, user).keys.find((k) => k.accessKeyId === id)?.status;

function storedKeyStatus(fx: RemediationFixture, user: string): string[] {
  return fx.db((db) => {
    const runs = db.prepare("SELECT MAX(id) FROM runs").pluck().get() as number;
    for (const p of inventoryAt(db, runs, { source: ["aws"] })) if (p.name === user) return p.credentials.filter((c) => c.kind === "access_key").map((c) => c.status);
    return [];
  });
}

describe("remediation against the AWS simulator", () => {
  it("plan and dry run send no write; apply deactivates; the next collect sees it; undo restores it", async () => {
    f = await remediationFixture();
    const key = unusedKey(f.org, PROD, "old-ci");
    await f.collect();
    const plan = f.plan();
    const mine = plan.actions.find((a) => a.target.principal.name === "old-ci");
    expect(mine).toMatchObject({ type: "deactivate-access-key", source: "aws", scope: PROD, finding: { rule: "unused-credential" }, reversible: true });
    expect(f.writes()).toBe(0);
    const file = writePlanFile(f.config.remediation.dir, plan);

    const dry = await f.apply(readPlanFile(file), { dryRun: true });
    expect(dry.outcomes.find((o) => o.id === mine!.id)!.detail).toMatch(/^would apply/);
    expect(f.writes()).toBe(0);
    expect(f.db((db) => actionsOfPlan(db, plan.id).every((a) => a.status === "planned"))).toBe(true);

    const listsBefore = f.count("ListAccessKeys");
    const applied = await f.apply(plan);
    expect(applied.outcomes.every((o) => o.status === "done")).toBe(true);
    // The provider minimum: one read (the re-check) and one write per key.
    expect(f.count("UpdateAccessKey")).toBe(plan.actions.length);
    expect(f.count("ListAccessKeys") - listsBefore).toBe(plan.actions.length);
    expect(keyStatus(f, "old-ci", key)).toBe("Inactive");
    const recorded = f.db((db) => actionsOfPlan(db, plan.id).find((a) => a.id === mine!.id)!);
    expect(recorded).toMatchObject({ status: "done", approver: "alice", rule: "unused-credential" });
    expect(recorded.answer).toMatch(/UpdateAccessKey …\w{4} Inactive \(HTTP 200, request /);

    // Idempotent: the same plan again changes nothing and asks nothing.
    const before = [...f.sim.actionCounts.values()].reduce((a, b) => a + b, 0);
    const again = await f.apply(plan);
    expect(again.outcomes.every((o) => !o.changed && o.requests === 0)).toBe(true);
    expect([...f.sim.actionCounts.values()].reduce((a, b) => a + b, 0)).toBe(before);

    await f.collect();
    expect(storedKeyStatus(f, "old-ci")).toEqual(["inactive"]);

    const undone = await f.undo(plan.id);
    expect(undone.filter((o) => o.status === "undone")).toHaveLength(plan.actions.length);
    expect(keyStatus(f, "old-ci", key)).toBe("Active");
    await f.collect();
    expect(storedKeyStatus(f, "old-ci")).toEqual(["active"]);
    const log = f.db((db) => listActions(db).find((a) => a.id === mine!.id)!);
    expect(log).toMatchObject({ status: "undone", undoneBy: "bob", approver: "alice" });
    expect(f.db((db) => verifyActionLog(db))).toMatchObject({ ok: true });

    // The remediate credentials' secret is nowhere: not in the store, the plan, or the logs.
    expect(readFileSync(f.config.store.path).includes(Buffer.from(f.remediateSecret))).toBe(false);
    expect(readFileSync(file, "utf8")).not.toContain(f.remediateSecret);
    expect(f.logged.join("\n")).not.toContain(f.remediateSecret);
  });

  it("refuses a plan computed from a run that is no longer the latest ok run of its scope, and an old one", async () => {
    f = await remediationFixture({ extraConfig: "plan_max_age_hours = 1" });
    unusedKey(f.org, PROD, "old-ci");
    await f.collect();
    const plan = f.plan();
    await f.collect();
    await expect(f.apply(plan)).rejects.toThrow(/is stale: computed from run 1 of aws\/\d+, whose latest ok collect is now run 2/);
    const fresh = f.plan();
    await expect(f.apply(fresh, { now: () => new Date(Date.now() + 2 * 3_600_000) })).rejects.toThrow(/is stale: made .*plan_max_age_hours = 1/);
    expect(f.writes()).toBe(0);
  });

  it("gives no action to a scope whose latest collect failed", async () => {
    // Only the prod account is acted on: the management account's next collect succeeds.
    f = await remediationFixture({ entries: `[[remediate]]\nrule = "unused-credential"\naction = "deactivate-access-key"\nexclude = ["aws/111111111111/*"]\n` });
    unusedKey(f.org, PROD, "old-ci");
    await f.collect();
    const plan = f.plan();
    expect(plan.actions.some((a) => a.scope === PROD)).toBe(true);
    f.org.denyAssumeRole.add(PROD);
    expect((await f.collect()).status).not.toBe("ok");
    const out = await f.apply(plan);
    for (const o of out.outcomes.filter((x) => x.scope === PROD)) expect(o).toMatchObject({ status: "skipped", detail: expect.stringMatching(/latest collect .* was failed: no action/) });
    expect(f.writes()).toBe(0);
    const next = f.plan();
    expect(next.actions.some((a) => a.scope === PROD)).toBe(false);
    expect(next.skippedScopes).toContainEqual(expect.objectContaining({ source: "aws", scope: PROD }));
  });

  it("a plan over max_actions_per_run applies nothing and says why", async () => {
    f = await remediationFixture({ entries: `[[remediate]]\nname = "keys"\nrule = "unused-credential"\naction = "deactivate-access-key"\nmax_actions_per_run = 1\n` });
    unusedKey(f.org, PROD, "old-ci");
    unusedKey(f.org, PROD, "older-ci");
    await f.collect();
    const plan = f.plan();
    expect(plan.actions.length).toBeGreaterThan(1);
    expect(plan.blocked[0]).toMatch(/keys: \d+ actions exceed max_actions_per_run = 1; nothing of this plan may be applied/);
    await expect(f.apply(plan)).rejects.toThrow(/is blocked, nothing of it is applied/);
    expect(f.writes()).toBe(0);
  });

  it("a permission error fails that action only", async () => {
    f = await remediationFixture();
    const a = unusedKey(f.org, PROD, "old-ci");
    const b = unusedKey(f.org, PROD, "protected-ci");
    f.org.deniedTargets.add(`${PROD}:UpdateAccessKey:protected-ci`);
    await f.collect();
    const plan = f.plan();
    const out = await f.apply(plan);
    const byUser = (u: string) => out.outcomes.find((o) => o.subject.includes(`/${u}/`))!;
    expect(byUser("protected-ci")).toMatchObject({ status: "failed", detail: expect.stringMatching(/AccessDenied: .*explicit deny/) });
    expect(byUser("old-ci").status).toBe("done");
    expect(out.outcomes.filter((o) => o.status === "done")).toHaveLength(plan.actions.length - 1);
    expect(keyStatus(f, "old-ci", a)).toBe("Inactive");
    expect(keyStatus(f, "protected-ci", b)).toBe("Active");
  });

  it("--resume reconciles actions an interruption left unknown by reading the provider", async () => {
    f = await remediationFixture();
    const sent = unusedKey(f.org, PROD, "old-ci");
    unusedKey(f.org, PROD, "older-ci");
    await f.collect();
    const plan = f.plan();
    const byUser = (u: string) => plan.actions.find((a) => a.target.principal.name === u)!;
    // As a kill leaves them: one write reached AWS before the process died, the other did not.
    f.org.setAccessKeyStatus(PROD, "old-ci", sent, "Inactive");
    f.db((db) => {
      for (const u of ["old-ci", "older-ci"]) updateAction(db, byUser(u).id, { status: "unknown", at: new Date().toISOString(), actor: "alice", answer: "write sent; no answer recorded yet" });
    });
    const plain = await f.apply(plan);
    expect(plain.outcomes.find((o) => o.id === byUser("old-ci").id)).toMatchObject({ status: "unknown", detail: expect.stringMatching(/--resume/) });
    const writesBefore = f.count("UpdateAccessKey");
    const resumed = await f.apply(plan, { resume: true });
    expect(resumed.outcomes.find((o) => o.id === byUser("old-ci").id)).toMatchObject({ status: "done", changed: false, detail: expect.stringMatching(/already so/) });
    expect(resumed.outcomes.find((o) => o.id === byUser("older-ci").id)).toMatchObject({ status: "done", changed: true });
    // Only the write that never happened is sent (the plain apply did the rest of the plan).
    expect(f.count("UpdateAccessKey") - writesBefore).toBe(1);
    expect(f.db((db) => actionsOfPlan(db, plan.id).filter((a) => a.status === "unknown"))).toHaveLength(0);
  });

  it("write throttling is respected: throttled writes are retried, every action ends done", async () => {
    f = await remediationFixture({ sim: { writesPerSecond: 3 }, backoffMs: 150 });
    for (let i = 0; i < 6; i++) unusedKey(f.org, PROD, `batch-${i}`);
    await f.collect();
    const plan = f.plan();
    const out = await f.apply(plan);
    expect(out.outcomes.filter((o) => o.status !== "done")).toEqual([]);
    expect(f.sim.writeThrottled()).toBeGreaterThan(0);
  });
});

// Remediation end to end against the AWS simulator through the real SDK: plan, dry run, apply, the next
// collect, undo; and the safety properties (zero writes before apply, stale plans, failed scopes, the cap,
// idempotence, one permission error, resume, secrets).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { collect } from "../../src/collect.js";
import { readPlanFile, savePlanFile, writePlanFile } from "../../src/remediate/plan-file.js";
import { remediationCycle } from "../../src/daemon/remediation.js";
import { actionsOfPlan, listActions, updateAction, verifyActionLog } from "../../src/store/actions.js";
import { verifyChain } from "../../src/store/integrity.js";
import { pruneRuns } from "../../src/store/prune.js";
import { inventoryAt } from "../../src/store/reader.js";
import type { SimOrganization } from "../../connectors/aws-iam/sim-tenant.js";
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

/** The principal as the latest run stored it. */
function storedPrincipal(fx: RemediationFixture, name: string) {
  return fx.db((db) => {
    const run = db.prepare("SELECT MAX(id) FROM runs").pluck().get() as number;
    for (const p of inventoryAt(db, run, { source: ["aws"] })) if (p.scope === PROD && p.name === name) return p;
    return undefined;
  });
}

/** Only accounts last used over ten years ago are dormant: the ones these tests make. */
const DORMANT_ONLY = "[policy]\ndormant_after_days = 3650\n";
const longAgo = () => new Date(Date.now() - 4000 * 86_400_000).toISOString();

function dormantUser(org: SimOrganization, name: string): void {
  org.createUser(PROD, name, { createDate: longAgo() });
  org.setPassword(PROD, name, longAgo());
}

describe("quarantine-principal and remove-group-member against the AWS simulator", () => {
  it("quarantine attaches AWSDenyAll to a dormant user and role (one read, one write each); collect sees it; undo detaches it", async () => {
    f = await remediationFixture({
      extraConfig: DORMANT_ONLY,
      entries: `[[remediate]]\nname = "quarantine"\nrule = "dormant-account"\naction = "quarantine-principal"\nsources = ["aws"]\nexclude = ["aws/111111111111/*"]\n`,
    });
    dormantUser(f.org, "dormant-user");
    f.org.createRole(PROD, "dormant-role", { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${PROD}:root` }, Action: "sts:AssumeRole" }] }, { createDate: longAgo() });
    f.org.role(PROD, "dormant-role").lastUsed = { date: longAgo(), region: "us-east-1" };
    await f.collect();
    const plan = f.plan();
    expect(plan.actions.map((a) => `${a.type} ${a.target.principal.name}`).sort()).toEqual(["quarantine-principal dormant-role", "quarantine-principal dormant-user"]);
    // AWSDenyAll grants nothing: the inventory shows it as an attribute of the principal.
    const denyAll = (name: string) => (storedPrincipal(f!, name)?.attributes?.deny_all_attached === true ? 1 : 0);
    expect(denyAll("dormant-user") + denyAll("dormant-role")).toBe(0);

    const reads = () => f!.count("ListAttachedUserPolicies") + f!.count("ListAttachedRolePolicies");
    const sts = () => (f!.sim.actionCounts.get("sts:GetCallerIdentity") ?? 0) + (f!.sim.actionCounts.get("sts:AssumeRole") ?? 0);
    const [readsBefore, writesBefore, stsBefore] = [reads(), f.writes(), sts()];
    const out = await f.apply(plan);
    expect(out.outcomes.map((o) => o.status)).toEqual(["done", "done"]);
    // One session for the apply (who am I, then the member role of the prod account), counted to the action
    // that opened it; each action itself sent its read and its write.
    expect(sts() - stsBefore).toBe(2);
    expect(out.outcomes.map((o) => o.requests).sort()).toEqual([2, 4]);
    // The provider minimum: the re-check read and one write per action.
    expect({ reads: reads() - readsBefore, writes: f.writes() - writesBefore }).toEqual({ reads: 2, writes: 2 });
    expect({ user: f.count("AttachUserPolicy"), role: f.count("AttachRolePolicy") }).toEqual({ user: 1, role: 1 });
    expect(f.org.user(PROD, "dormant-user").attached).toContain("arn:aws:iam::aws:policy/AWSDenyAll");
    expect(f.org.role(PROD, "dormant-role").attached).toContain("arn:aws:iam::aws:policy/AWSDenyAll");

    await f.collect();
    expect({ user: denyAll("dormant-user"), role: denyAll("dormant-role") }).toEqual({ user: 1, role: 1 });

    const undone = await f.undo(plan.id);
    expect(undone.map((o) => o.status)).toEqual(["undone", "undone"]);
    expect({ user: f.count("DetachUserPolicy"), role: f.count("DetachRolePolicy") }).toEqual({ user: 1, role: 1 });
    await f.collect();
    expect({ user: denyAll("dormant-user"), role: denyAll("dormant-role") }).toEqual({ user: 0, role: 0 });
    expect(f.db((db) => verifyActionLog(db))).toMatchObject({ ok: true });
  });

  it("remove-group-member takes a dormant user out of each of its groups (one read, one write each); collect sees it; undo adds it back", async () => {
    f = await remediationFixture({
      extraConfig: DORMANT_ONLY,
      entries: `[[remediate]]\nname = "ungroup"\nrule = "dormant-account"\naction = "remove-group-member"\nsources = ["aws"]\nexclude = ["aws/111111111111/*"]\n`,
    });
    const groups = [...f.org.account(PROD).groups.keys()].sort().slice(0, 2);
    expect(groups).toHaveLength(2);
    dormantUser(f.org, "dormant-member");
    for (const g of groups) f.org.addUserToGroup(PROD, "dormant-member", g);
    await f.collect();
    expect(storedPrincipal(f, "dormant-member")?.attributes?.groups).toEqual(groups);
    const plan = f.plan();
    expect(plan.actions.map((a) => `${a.target.principal.name} ${a.target.grant?.privilege}`)).toEqual(groups.map((g) => `dormant-member group:${g}`));

    const [readsBefore, writesBefore] = [f.count("ListGroupsForUser"), f.writes()];
    const out = await f.apply(plan);
    expect(out.outcomes.map((o) => o.status)).toEqual(["done", "done"]);
    expect({ reads: f.count("ListGroupsForUser") - readsBefore, writes: f.writes() - writesBefore, removes: f.count("RemoveUserFromGroup") }).toEqual({ reads: 2, writes: 2, removes: 2 });
    expect(f.org.user(PROD, "dormant-member").groups).toEqual([]);
    await f.collect();
    expect(storedPrincipal(f, "dormant-member")?.attributes?.groups ?? []).toEqual([]);

    const undone = await f.undo(plan.id);
    expect(undone.map((o) => o.status)).toEqual(["undone", "undone"]);
    expect(f.count("AddUserToGroup")).toBe(2);
    await f.collect();
    expect(storedPrincipal(f, "dormant-member")?.attributes?.groups).toEqual(groups);
  });
});

describe("prune and remediation evidence", () => {
  it("removes finished plans older than the oldest kept run, keeps unfinished ones and those of kept runs; verify still passes", async () => {
    f = await remediationFixture();
    unusedKey(f.org, PROD, "old-ci");
    await f.collect();
    const finished = f.plan();
    expect((await f.apply(finished)).outcomes.every((o) => o.status === "done")).toBe(true);
    // An older plan a crash left with an action unknown: not final, so it stays whatever its age.
    const interrupted = f.plan();
    const stuck = f.db((db) => actionsOfPlan(db, interrupted.id))[0]!;
    expect(stuck).toBeDefined();
    f.db((db) => updateAction(db, stuck.id, { status: "unknown", at: new Date().toISOString(), actor: "alice", answer: "write sent; no answer recorded yet" }));
    await f.collect();
    await f.collect();
    unusedKey(f.org, PROD, "newer-ci");
    await f.collect();
    const current = f.plan();
    expect(current.actions.length).toBeGreaterThan(0);

    const r = f.db((db) => pruneRuns(db, 1));
    expect(r).toMatchObject({ removedRuns: 3, removedPlans: 1 });
    const kept = f.db((db) => db.prepare("SELECT id FROM plans ORDER BY created_at").pluck().all() as string[]);
    expect(kept).toEqual([interrupted.id, current.id]);
    expect(f.db((db) => actionsOfPlan(db, finished.id))).toEqual([]);
    expect(f.db((db) => ({ actions: verifyActionLog(db), runs: verifyChain(db) }))).toMatchObject({ actions: { ok: true }, runs: { ok: true } });
    // The chain goes on from what is kept: a new state of a kept action, and verify again.
    expect((await f.apply(current)).outcomes.every((o) => o.status === "done")).toBe(true);
    expect(f.db((db) => verifyActionLog(db))).toMatchObject({ ok: true });
    // Everything final and old: all plans go, the log with them, and the chain starts afresh.
    await f.collect();
    // Stale now, so --resume only reconciles its unknown action by reading; the rest stays planned, never applied.
    expect((await f.apply(interrupted, { resume: true })).outcomes.map((o) => o.status)).toEqual(["done"]);
    await f.collect();
    const all = f.db((db) => pruneRuns(db, 1));
    expect(all.removedPlans).toBe(2);
    expect(f.db((db) => db.prepare("SELECT COUNT(*) FROM action_log").pluck().get())).toBe(0);
    expect(f.db((db) => verifyActionLog(db))).toEqual({ ok: true, checked: 0 });
  });

  it("[store] keep_runs (after every collect, the daemon's too) removes finished plans and their files, as whohas prune does", async () => {
    f = await remediationFixture();
    unusedKey(f.org, PROD, "old-ci");
    await f.collect();
    const finished = f.plan();
    const finishedFile = f.db((db) => savePlanFile(db, f!.config.remediation.dir, finished));
    expect((await f.apply(finished)).outcomes.every((o) => o.status === "done")).toBe(true);
    // The daemon's own plan (computed after each cycle, never applied here): its file is recorded too.
    const daemon = await remediationCycle(f.config, { log: f.log, env: f.env });
    expect(daemon.planId).not.toBeNull();
    // A plan a crash left with an action unknown stays, with its file.
    const interrupted = f.plan();
    const interruptedFile = f.db((db) => savePlanFile(db, f!.config.remediation.dir, interrupted));
    const stuck = f.db((db) => actionsOfPlan(db, interrupted.id))[0]!;
    f.db((db) => updateAction(db, stuck.id, { status: "unknown", at: new Date().toISOString(), actor: "alice", answer: "write sent; no answer recorded yet" }));
    expect(readdirSync(f.config.remediation.dir).sort()).toEqual([finished.id, daemon.planId!, interrupted.id].map((id) => `${id}.json`).sort());

    const keepOne = { ...f.config, store: { ...f.config.store, keepRuns: 1 } };
    f.org.ageCredentialReports(5 * 3_600_000);
    await collect(keepOne, { log: f.log, env: f.env });
    expect(f.db((db) => db.prepare("SELECT id FROM plans").pluck().all())).toEqual([interrupted.id]);
    expect(existsSync(finishedFile)).toBe(false);
    expect(readdirSync(f.config.remediation.dir)).toEqual([basename(interruptedFile)]);
    expect(f.db((db) => ({ actions: verifyActionLog(db), runs: verifyChain(db) }))).toMatchObject({ actions: { ok: true }, runs: { ok: true } });
  });
});

// The google-workspace remediator through the real @googleapis/admin + google-auth-library clients against the
// simulator: suspend and unsuspend, remove and re-assign an admin role, each seen by the next collect; inspect
// states; one read plus one write per action from the simulator's own log; refusals, throttling, hostile ids.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { googleWorkspaceConnector } from "../../../connectors/google-workspace/index.js";
import { googleWorkspaceOptions } from "../../../connectors/google-workspace/options.js";
import { SCOPES } from "../../../connectors/google-workspace/simulator.js";
import type { Attributes, Grant, Principal } from "../../../src/model.js";
import type { ActionRequest, Remediator } from "../../../src/remediate/contract.js";
import type { ScopeResult } from "../../helpers/collect.js";
import { remediationContext, type TestRemediationContext } from "../../helpers/remediate.js";
import { setup, type Setup } from "./setup.js";

const CUSTOMER = "my_customer";
let s: Setup;
let ctx: TestRemediationContext;
let remediateKey: string;
let baseline: ScopeResult;

/** The remediate block: the runner service account's own key, merged over the source's options. */
function remediator(extra: Record<string, unknown> = {}): Remediator {
  return googleWorkspaceConnector.remediator!("gws", googleWorkspaceOptions.parse({ ...s.options(), credentials: `file:${remediateKey}`, ...extra }));
}

async function collect(): Promise<ScopeResult> {
  const r = (await s.run()).scopes.get(CUSTOMER)!;
  expect(r.status).toBe("ok");
  return r;
}

const apiLog = () => s.google.sim.requestLog.filter((l) => l.includes(" /admin/directory/"));
const apiWrites = () => apiLog().filter((l) => !l.startsWith("GET "));

function suspendRequest(p: Pick<Principal, "id" | "name" | "kind">): ActionRequest {
  return { type: "disable-account", target: { scope: CUSTOMER, principal: { id: p.id, name: p.name, kind: p.kind, attributes: {} } } };
}

function removeRoleRequest(p: Principal, g: Grant): ActionRequest {
  return {
    type: "remove-role-assignment",
    target: { scope: CUSTOMER, principal: { id: p.id, name: p.name, kind: p.kind, attributes: {} }, grant: { privilege: g.privilege, scope: g.scope, attributes: g.attributes ?? {} } },
  };
}

beforeAll(async () => {
  s = await setup({ users: 60 });
  const t = s.google.tenant;
  t.setDelegatedScopes([SCOPES.user, SCOPES.role], t.runnerAccount.clientId);
  remediateKey = join(s.dir, "remediate.json");
  await writeFile(remediateKey, t.keyFile(t.runnerAccount), { mode: 0o600 });
  ctx = remediationContext("gws");
  baseline = await collect();
});
afterAll(async () => {
  await ctx?.release();
  await s?.close();
});

const activePlainUser = (r: ScopeResult, n = 0) => r.principals.filter((p) => p.status === "active" && p.accessLevel === "none")[n]!;

describe("disable-account", () => {
  it("suspends with one read and one write; the next collect sees it; undo unsuspends", async () => {
    const p = activePlainUser(baseline);
    const rem = remediator();
    const req = suspendRequest(p);
    s.google.sim.resetCounters();
    expect(await rem.inspect(ctx, req)).toEqual({ state: "ready", detail: "the user is active" });
    const applied = await rem.apply(ctx, req);
    expect(applied).toEqual({ status: "done", undo: { suspended: false }, answer: "users.update suspended=true: 200" });
    expect(apiLog()).toEqual([`GET /admin/directory/v1/users/${p.id}?fields=id%2CprimaryEmail%2Csuspended%2CisAdmin`, `PUT /admin/directory/v1/users/${p.id}?fields=id%2Csuspended`]);
    // The token was asked for the user scope only.
    expect(s.google.sim.requestLog.filter((l) => l.startsWith("POST /token"))).toHaveLength(1);
    expect((await collect()).principals.find((x) => x.id === p.id)?.status).toBe("suspended");

    s.google.sim.resetCounters();
    expect((await rem.apply(ctx, req)).status).toBe("already-done");
    expect(apiWrites()).toEqual([]);

    expect((await rem.undo(ctx, req, applied.undo)).status).toBe("done");
    expect((await collect()).principals.find((x) => x.id === p.id)?.status).toBe("active");
    expect((await rem.undo(ctx, req, applied.undo)).status).toBe("already-done");
  });

  it("inspect says gone for a deleted user and changed for a renamed one; apply writes nothing for either", async () => {
    const t = s.google.tenant;
    const gone = t.addUser({ givenName: "Gone", familyName: "Soon" });
    t.removeUser(gone.id);
    const renamed = t.addUser({ givenName: "Old", familyName: "Name" });
    t.updateUser(renamed.id, { primaryEmail: `someone.else@${t.domain}` });
    const rem = remediator();
    s.google.sim.resetCounters();
    expect(await rem.inspect(ctx, suspendRequest({ id: gone.id, name: gone.primaryEmail, kind: "human" }))).toMatchObject({ state: "gone" });
    expect(await rem.inspect(ctx, suspendRequest({ id: renamed.id, name: renamed.primaryEmail, kind: "human" }))).toMatchObject({ state: "changed" });
    await expect(rem.apply(ctx, suspendRequest({ id: renamed.id, name: renamed.primaryEmail, kind: "human" }))).rejects.toThrow(/not applied: the user is now/);
    expect(apiWrites()).toEqual([]);
  });

  it("refuses a super admin unless suspend_super_admins is set, and the subject itself always", async () => {
    const superAdmin = baseline.principals.find((p) => p.accessLevel === "admin" && p.name !== `admin@${s.google.tenant.domain}`)!;
    s.google.sim.resetCounters();
    await expect(remediator().apply(ctx, suspendRequest(superAdmin))).rejects.toThrow(/is a super admin; set suspend_super_admins = true/);
    const subject = baseline.principals.find((p) => p.name === `admin@${s.google.tenant.domain}`)!;
    await expect(remediator({ suspend_super_admins: true }).apply(ctx, suspendRequest(subject))).rejects.toThrow(/is the admin whohas signs in as/);
    expect(apiWrites()).toEqual([]);
  });

  it("a delegated admin subject gets Google's refusal on a super admin; the message names the fix and no key", async () => {
    const t = s.google.tenant;
    const manager = t.addUser({ givenName: "User", familyName: "Manager" });
    t.assignRole(manager.primaryEmail, "_USER_MANAGEMENT_ADMIN_ROLE");
    const superAdmin = baseline.principals.find((p) => p.accessLevel === "admin" && p.name !== `admin@${t.domain}`)!;
    const err = await remediator({ subject: manager.primaryEmail, suspend_super_admins: true })
      .apply(ctx, suspendRequest(superAdmin))
      .then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/^users\.update: HTTP 403 forbidden: Not Authorized to access this resource\/api/);
    expect(err?.message).not.toMatch(/PRIVATE KEY|ya29\./);
    expect(t.find(superAdmin.id)!.user.suspended).toBe(false);
  });

  it("waits out a 429 and sends the write again", async () => {
    const p = activePlainUser(baseline, 1);
    const rem = remediator();
    const req = suspendRequest(p);
    s.google.sim.resetCounters();
    s.google.injectGoogleError("rateLimitExceeded", { endpoint: "users.update", retryAfterSeconds: 0 });
    const local = remediationContext("gws");
    expect((await rem.apply(local, req)).status).toBe("done");
    expect(apiWrites()).toHaveLength(2);
    expect(local.logged.some((l) => (l.obj as { status?: number }).status === 429)).toBe(true);
    await rem.undo(local, req, { suspended: false });
    await local.release();
  });
});

describe("remove-role-assignment", () => {
  it("deletes the assignment the collect recorded; the next collect misses it; undo assigns the role again", async () => {
    const t = s.google.tenant;
    const member = activePlainUser(baseline, 2);
    t.assignRole(member.name, "_HELP_DESK_ADMIN_ROLE", "/Sales");
    const before = await collect();
    const grant = before.grants.find((g) => g.principalId === member.id)!;
    const p = before.principals.find((x) => x.id === member.id)!;
    const rem = remediator();
    const req = removeRoleRequest(p, grant);
    s.google.sim.resetCounters();
    expect(await rem.inspect(ctx, req)).toMatchObject({ state: "ready" });
    const recorded: Attributes[] = [];
    const applied = await rem.apply(ctx, req, (u) => recorded.push(u));
    expect(applied).toMatchObject({ status: "done", answer: "roleAssignments.delete: 204" });
    // Handed over before the delete: a crash after it keeps what undo needs.
    expect(recorded).toEqual([applied.undo]);
    const id = String(grant.attributes!.roleAssignmentId);
    expect(apiLog()).toEqual([`GET /admin/directory/v1/customer/${CUSTOMER}/roleassignments/${id}`, `DELETE /admin/directory/v1/customer/${CUSTOMER}/roleassignments/${id}`]);
    expect(applied.undo).toEqual({ roleId: grant.attributes!.roleId, assignedTo: member.id, scopeType: "ORG_UNIT", orgUnitId: t.orgUnitIds.get("/Sales") });
    expect((await collect()).grants.some((g) => g.principalId === member.id)).toBe(false);
    // Gone is the removal's end state, with undo data rebuilt from what whohas stored.
    expect(await rem.inspect(ctx, req)).toMatchObject({ state: "already-done", undo: { roleId: applied.undo.roleId, assignedTo: member.id } });
    expect((await rem.apply(ctx, req)).status).toBe("already-done");

    s.google.sim.resetCounters();
    expect((await rem.undo(ctx, req, applied.undo)).status).toBe("done");
    expect(apiLog()).toEqual([`POST /admin/directory/v1/customer/${CUSTOMER}/roleassignments`]);
    const restored = (await collect()).grants.find((g) => g.principalId === member.id)!;
    expect(restored).toMatchObject({ privilege: grant.privilege, scope: grant.scope });
    expect((await rem.undo(ctx, req, applied.undo)).status).toBe("already-done");
  });

  it("a service account not delegated the rolemanagement scope gets the token refusal and the scope to authorize", async () => {
    const t = s.google.tenant;
    t.setDelegatedScopes([SCOPES.user], t.runnerAccount.clientId);
    try {
      const grant = baseline.grants.find((g) => g.attributes?.assigneeType === "USER")!;
      const p = baseline.principals.find((x) => x.id === grant.principalId)!;
      const err = await remediator().apply(remediationContext("gws"), removeRoleRequest(p, grant)).then(() => undefined, (e: Error) => e);
      expect(err?.message).toMatch(/unauthorized_client.*authorize .* for exactly: https:\/\/www\.googleapis\.com\/auth\/admin\.directory\.rolemanagement$/);
      expect(err?.message).not.toMatch(/PRIVATE KEY/);
    } finally {
      t.setDelegatedScopes([SCOPES.user, SCOPES.role], t.runnerAccount.clientId);
    }
  });

  it("says changed when the id names another holder, and refuses ids that are not Google's before any request", async () => {
    const grant = baseline.grants.find((g) => g.attributes?.assigneeType === "USER")!;
    const p = baseline.principals.find((x) => x.id === grant.principalId)!;
    const rem = remediator();
    expect(await rem.inspect(ctx, removeRoleRequest({ ...p, id: "999" }, grant))).toMatchObject({ state: "changed" });
    s.google.sim.resetCounters();
    await expect(rem.apply(ctx, removeRoleRequest(p, { ...grant, attributes: { ...grant.attributes, roleAssignmentId: "1/../../users/x" } }))).rejects.toThrow(/carries no role assignment id/);
    await expect(rem.apply(ctx, suspendRequest({ id: "../users/admin@x", name: "x", kind: "human" }))).rejects.toThrow(/is not a Google user id/);
    await expect(rem.inspect(ctx, { ...suspendRequest(p), target: { ...suspendRequest(p).target, scope: "C0other" } })).rejects.toThrow(/is not this source's customer/);
    expect(s.google.sim.requestLog).toEqual([]);
  });
});

// The entra-id remediator through the real msal-node and Graph client against the simulator: each action applied,
// seen by the next collect, undone, seen restored; inspect states; idempotence and request counts from the
// simulator's own log; permission refusals, throttling and hostile names.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entraIdConnector } from "../../../connectors/entra-id/index.js";
import { GLOBAL_ADMINISTRATOR } from "../../../connectors/entra-id/roles.js";
import { graphThrottleFault } from "../../../connectors/entra-id/simulator.js";
import type { EntraOptions } from "../../../connectors/entra-id/options.js";
import type { ActionRequest, Remediator } from "../../../src/remediate/contract.js";
import type { Attributes, Grant, Principal } from "../../../src/model.js";
import { drain, testContext, type ScopeResult } from "../../helpers/collect.js";
import { remediationContext, type TestRemediationContext } from "../../helpers/remediate.js";
import { startFixture, type Fixture } from "./setup.js";

const REMEDIATE_SECRET_ENV = "WHOHAS_TEST_ENTRA_REMEDIATE_SECRET";
const WRITE_PERMISSIONS = ["User.Read.All", "User.EnableDisableAccount.All", "User.RevokeSessions.All", "RoleManagement.ReadWrite.Directory"];

let f: Fixture;
let env: NodeJS.ProcessEnv;
let remediateSecret: string;
let remediateClient: string;

/** The `remediate` block's own app registration, merged over the source's options as the engine does. */
function remediateOptions(clientId = remediateClient): EntraOptions {
  return f.options({ client_id: clientId, client_secret: `env:${REMEDIATE_SECRET_ENV}` });
}

function remediator(clientId = remediateClient): Remediator {
  return entraIdConnector.remediator!("aad", remediateOptions(clientId));
}

async function collect(): Promise<ScopeResult> {
  const { scopes } = await drain(entraIdConnector.create("aad", f.options()), testContext("aad", f.env));
  const s = [...scopes.values()][0]!;
  expect(s.status).toBe("ok");
  return s;
}

const principalIn = (s: ScopeResult, id: string): Principal | undefined => s.principals.find((p) => p.id === id);

function disableRequest(p: Principal): ActionRequest {
  return { type: "disable-account", target: { scope: f.tenant.id, principal: { id: p.id, name: p.name, kind: p.kind, attributes: p.attributes ?? {} } } };
}

function removeRoleRequest(p: Principal, g: Grant): ActionRequest {
  return {
    type: "remove-role-assignment",
    target: {
      scope: f.tenant.id,
      principal: { id: p.id, name: p.name, kind: p.kind, attributes: p.attributes ?? {} },
      grant: { privilege: g.privilege, scope: g.scope, attributes: g.attributes ?? {} },
    },
  };
}

/** Graph requests since the last reset (token and metadata requests left out: they are per session, not per action). */
const graphLog = () => f.sim.server.requestLog.filter((l) => / \/v1\.0\//.test(l));
const graphWrites = () => graphLog().filter((l) => !l.startsWith("GET "));

let ctx: TestRemediationContext;
let baseline: ScopeResult;

beforeAll(async () => {
  f = await startFixture({ seed: 5, users: 40, applications: 3 });
  remediateClient = f.tenant.newId();
  f.tenant.registerClient(remediateClient, WRITE_PERMISSIONS);
  remediateSecret = `rem~${randomBytes(18).toString("base64url")}`;
  f.tenant.addClientSecret(remediateClient, remediateSecret);
  env = { ...f.env, [REMEDIATE_SECRET_ENV]: remediateSecret };
  ctx = remediationContext("aad", env);
  baseline = await collect();
});
afterAll(async () => {
  await ctx?.release();
  await f?.close();
});

/** An enabled member without any role: disabling it needs no admin role on the app's side. */
function plainMember(s: ScopeResult, skip: ReadonlySet<string> = new Set()): Principal {
  const withRoles = new Set(s.grants.map((g) => g.principalId));
  const p = s.principals.find((x) => x.attributes?.objectType === "user" && x.kind === "human" && x.status === "active" && !withRoles.has(x.id) && !skip.has(x.id));
  expect(p).toBeDefined();
  return p!;
}

describe("disable-account", () => {
  it("disables and revokes sessions in one read and two writes; the next collect sees it; undo enables it again", async () => {
    const p = plainMember(baseline);
    const rem = remediator();
    const req = disableRequest(p);
    await rem.inspect(ctx, req); // warms the session (token) so the counts below are per action
    f.sim.server.resetCounters();

    expect(await rem.inspect(ctx, req)).toEqual({ state: "ready", detail: "accountEnabled is true" });
    const applied = await rem.apply(ctx, req);
    expect(applied.status).toBe("done");
    expect(applied.undo).toEqual({ accountEnabled: true, sessionsRevoked: true });
    expect(graphLog()).toEqual([
      `GET /v1.0/users/${p.id}?$select=id,accountEnabled,userPrincipalName`,
      `PATCH /v1.0/users/${p.id}`,
      `POST /v1.0/users/${p.id}/revokeSignInSessions`,
    ]);
    expect(f.tenant.users.get(p.id)!.accountEnabled).toBe(false);
    expect(f.sim.sessionsRevokedAt.has(p.id)).toBe(true);
    expect(principalIn(await collect(), p.id)?.status).toBe("disabled");

    f.sim.server.resetCounters();
    expect(await rem.undo(ctx, req, applied.undo)).toEqual({ status: "done", answer: expect.stringContaining("stay revoked") });
    expect(graphWrites()).toEqual([`PATCH /v1.0/users/${p.id}`]);
    expect(principalIn(await collect(), p.id)?.status).toBe("active");
    expect((await rem.undo(ctx, req, applied.undo)).status).toBe("already-done");
  });

  it("a second apply reads, finds it done and writes nothing", async () => {
    const p = plainMember(baseline, new Set([plainMember(baseline).id]));
    const rem = remediator();
    const req = disableRequest(p);
    expect((await rem.apply(ctx, req)).status).toBe("done");
    f.sim.server.resetCounters();
    const again = await rem.apply(ctx, req);
    expect(again.status).toBe("already-done");
    expect(graphLog()).toHaveLength(1);
    expect(graphWrites()).toEqual([]);
    expect(await rem.inspect(ctx, req)).toMatchObject({ state: "already-done" });
    await rem.undo(ctx, req, again.undo);
  });

  it("inspect says gone for a deleted user and changed for a renamed one, and apply refuses both without writing", async () => {
    const rem = remediator();
    const gone = f.tenant.addUser({ userPrincipalName: "leaver@example.com" });
    const goneReq = disableRequest({ id: gone.id, name: gone.userPrincipalName, kind: "human", status: "active", mfa: "unknown", attributes: { objectType: "user" } });
    f.tenant.removeUser(gone.id);
    const renamed = f.tenant.addUser({ userPrincipalName: "before@example.com" });
    const renamedReq = disableRequest({ id: renamed.id, name: "before@example.com", kind: "human", status: "active", mfa: "unknown", attributes: { objectType: "user" } });
    renamed.userPrincipalName = "someone.else@example.com";
    f.sim.server.resetCounters();
    expect(await rem.inspect(ctx, goneReq)).toMatchObject({ state: "gone" });
    expect(await rem.inspect(ctx, renamedReq)).toEqual({ state: "changed", detail: 'the account is now "someone.else@example.com", planned for "before@example.com"' });
    await expect(rem.apply(ctx, goneReq)).rejects.toThrow(/not applied: user .* no longer exists/);
    await expect(rem.apply(ctx, renamedReq)).rejects.toThrow(/not applied: the account is now/);
    expect(graphWrites()).toEqual([]);
    expect(renamed.accountEnabled).toBe(true);
  });

  it("an app without the write permission gets Graph's refusal, the permission to add, and no secret", async () => {
    const readOnly = f.tenant.newId();
    f.tenant.registerClient(readOnly, ["User.Read.All"]);
    f.tenant.addClientSecret(readOnly, remediateSecret);
    const p = plainMember(baseline);
    const err = await remediator(readOnly).apply(ctx, disableRequest(p)).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/^PATCH \/users\/[0-9a-f-]+: HTTP 403 Authorization_RequestDenied: Insufficient privileges to complete the operation\. \(request-id [0-9a-f-]+\) — the remediate app registration needs User\.EnableDisableAccount\.All/);
    expect(err?.message).not.toContain(remediateSecret);
    expect(f.tenant.users.get(p.id)!.accountEnabled).toBe(true);
  });

  it("an admin's account needs the Privileged Authentication Administrator role on the app", async () => {
    const admin = [...f.tenant.roleAssignments.values()].find((a) => a.roleDefinitionId === GLOBAL_ADMINISTRATOR && f.tenant.users.get(a.principalId))!;
    const u = f.tenant.users.get(admin.principalId)!;
    const p = principalIn(baseline, u.id)!;
    const rem = remediator();
    await expect(rem.apply(ctx, disableRequest(p))).rejects.toThrow(/403 Authorization_RequestDenied.*Privileged Authentication Administrator/);
    expect(u.accountEnabled).toBe(true);
    const sp = f.tenant.addServicePrincipal({ appId: remediateClient, displayName: "whohas remediate" });
    const held = f.tenant.assignRole(sp.id, "Privileged Authentication Administrator");
    try {
      const fresh = remediator(); // a new session: the token carries the app's object id
      const r = await fresh.apply(remediationContext("aad", env), disableRequest(p));
      expect(r.status).toBe("done");
      await fresh.undo(ctx, disableRequest(p), r.undo);
    } finally {
      f.tenant.roleAssignments.delete(held.id);
      f.tenant.servicePrincipals.delete(sp.id);
    }
  });

  it("waits out a 429 with Retry-After and sends the write again", async () => {
    const p = plainMember(baseline);
    const rem = remediator();
    const req = disableRequest(p);
    await rem.inspect(ctx, req);
    f.sim.server.resetCounters();
    f.sim.server.injectFault({ fault: graphThrottleFault(1), match: (r) => r.method === "PATCH", times: 1 });
    const local = remediationContext("aad", env);
    expect((await rem.apply(local, req)).status).toBe("done");
    expect(graphWrites().filter((l) => l.startsWith("PATCH"))).toHaveLength(2);
    expect(local.logged.some((l) => l.msg === "retrying request" && (l.obj as { reason?: string }).reason === "HTTP 429")).toBe(true);
    await rem.undo(ctx, req, { accountEnabled: true });
    await local.release();
  });
});

describe("remove-role-assignment", () => {
  it("deletes the assignment the collect recorded; the next collect misses it; undo re-creates it from the stored undo data", async () => {
    const grant = baseline.grants.find((g) => g.via === "direct" && g.attributes?.principalType === "user" && g.privilege !== "Global Administrator")!;
    expect(grant).toBeDefined();
    const p = principalIn(baseline, grant.principalId)!;
    const rem = remediator();
    const req = removeRoleRequest(p, grant);
    f.sim.server.resetCounters();
    expect(await rem.inspect(ctx, req)).toMatchObject({ state: "ready" });
    const recorded: Attributes[] = [];
    const applied = await rem.apply(ctx, req, (u) => recorded.push(u));
    expect(applied).toMatchObject({ status: "done", answer: "DELETE: 204" });
    // Handed over before the DELETE: a crash after it keeps what undo needs.
    expect(recorded).toEqual([applied.undo]);
    const id = String(grant.attributes!.assignmentId);
    expect(graphLog()).toEqual([`GET /v1.0/roleManagement/directory/roleAssignments/${id}`, `DELETE /v1.0/roleManagement/directory/roleAssignments/${id}`]);
    expect(applied.undo).toEqual({ principalId: p.id, roleDefinitionId: grant.attributes!.roleDefinitionId, directoryScopeId: "/" });
    const same = (g: Grant) => g.principalId === p.id && g.privilege === grant.privilege && g.via === "direct";
    expect((await collect()).grants.some(same)).toBe(false);

    // Gone is the removal's end state, with the undo data rebuilt from what whohas stored.
    expect(await rem.inspect(ctx, req)).toMatchObject({ state: "already-done", undo: applied.undo });
    expect((await rem.apply(ctx, req)).status).toBe("already-done");

    f.sim.server.resetCounters();
    expect((await rem.undo(ctx, req, applied.undo)).status).toBe("done");
    expect(graphLog()).toEqual(["POST /v1.0/roleManagement/directory/roleAssignments"]);
    expect((await collect()).grants.some(same)).toBe(true);
    // Undoing twice finds the same assignment in place (Graph's conflict answer), and changes nothing.
    expect((await rem.undo(ctx, req, applied.undo)).status).toBe("already-done");
  });

  it("says changed when the assignment id now names another holder, and refuses group-held and PIM-eligible grants without a request", async () => {
    const grant = baseline.grants.find((g) => g.via === "direct" && g.attributes?.principalType === "user")!;
    const p = principalIn(baseline, grant.principalId)!;
    const rem = remediator();
    const other = removeRoleRequest({ ...p, id: f.tenant.newId() }, grant);
    expect(await rem.inspect(ctx, other)).toMatchObject({ state: "changed" });
    f.sim.server.resetCounters();
    await expect(rem.apply(ctx, other)).rejects.toThrow(/not applied: role assignment .* now gives/);
    const viaGroup = baseline.grants.find((g) => g.via === "group");
    if (viaGroup) await expect(rem.apply(ctx, removeRoleRequest(principalIn(baseline, viaGroup.principalId)!, viaGroup))).rejects.toThrow(/through group/);
    const eligible = baseline.grants.find((g) => g.via === "eligible");
    if (eligible) await expect(rem.apply(ctx, removeRoleRequest(principalIn(baseline, eligible.principalId) ?? p, eligible))).rejects.toThrow(/PIM eligibility/);
    expect(graphWrites()).toEqual([]);
  });

  it("an app without RoleManagement.ReadWrite.Directory gets the refusal and the permission to add", async () => {
    const reader = f.tenant.newId();
    f.tenant.registerClient(reader, ["RoleManagement.Read.Directory"]);
    f.tenant.addClientSecret(reader, remediateSecret);
    const grant = baseline.grants.find((g) => g.via === "direct" && g.attributes?.principalType === "user")!;
    const p = principalIn(baseline, grant.principalId)!;
    await expect(remediator(reader).apply(ctx, removeRoleRequest(p, grant))).rejects.toThrow(
      /DELETE \/roleManagement\/directory\/roleAssignments\/.*403 Authorization_RequestDenied.*needs RoleManagement\.ReadWrite\.Directory/,
    );
    expect(f.tenant.roleAssignments.get(String(grant.attributes!.assignmentId))).toBeDefined();
  });
});

describe("hostile names and ids", () => {
  it("a hostile UPN is quoted in details; an id that is not a Graph id is refused before any request", async () => {
    const hostile = "evil\u001b[2J\r\n<img src=x>@example.com";
    const u = f.tenant.addUser({ userPrincipalName: hostile });
    const rem = remediator();
    const req = disableRequest({ id: u.id, name: hostile, kind: "human", status: "active", mfa: "unknown", attributes: { objectType: "user" } });
    expect((await rem.apply(ctx, req)).status).toBe("done");
    u.userPrincipalName = `${hostile}x`;
    const changed = await rem.inspect(ctx, req);
    expect(changed.state).toBe("changed");
    expect(changed.detail).not.toMatch(/[\u001b\r\n]/);

    f.sim.server.resetCounters();
    const traversal = disableRequest({ id: "../roleManagement/directory/roleAssignments", name: "x", kind: "human", status: "active", mfa: "unknown", attributes: { objectType: "user" } });
    await expect(rem.apply(ctx, traversal)).rejects.toThrow(/is not an Entra object id/);
    const grant = baseline.grants.find((g) => g.via === "direct")!;
    const p = principalIn(baseline, grant.principalId) ?? plainMember(baseline);
    const badId = removeRoleRequest(p, { ...grant, attributes: { ...grant.attributes, assignmentId: "a/../../users/x" } });
    await expect(rem.apply(ctx, badId)).rejects.toThrow(/carries no role assignment id/);
    const wrongScope: ActionRequest = { ...req, target: { ...req.target, scope: "another-tenant" } };
    await expect(rem.inspect(ctx, wrongScope)).rejects.toThrow(/is not this source's tenant/);
    expect(f.sim.server.requestLog).toEqual([]);
  });
});

// The Entra audit-log reader (feeds "directory" and "signin") driven through the contract with the real
// msal-node and Graph client against the simulator: events made by tenant mutations, paging, throttling,
// refusals, the unlicensed tenant, a foreign nextLink, hostile names, and resuming from the covered time.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mapDirectoryAudit, type GraphDirectoryAudit } from "../../../connectors/entra-id/audit-map.js";
import { entraIdConnector } from "../../../connectors/entra-id/index.js";
import { ADMIN_IP, ATTACKER_IP, REQUIRED_PERMISSIONS, type SimUser } from "../../../connectors/entra-id/simulator.js";
import type { FeedRequest } from "../../../src/events/contract.js";
import { drain, testContext } from "../../helpers/collect.js";
import { clockPastThisMillisecond, readFeeds } from "../../helpers/feed-reader.js";
import { startForeignOrigin, type ForeignOrigin } from "../../helpers/foreign-origin.js";
import { startFixture, type Fixture } from "./setup.js";

let f: Fixture;
let foreign: ForeignOrigin;
let scope: string;

beforeAll(async () => {
  f = await startFixture({ seed: 4242, users: 30, applications: 3 });
  foreign = await startForeignOrigin();
  scope = f.tenant.id;
});
afterAll(async () => {
  await f?.close();
  await foreign?.close();
});
beforeEach(() => {
  f.sim.server.clearFaults();
  f.sim.maxPageSize = undefined;
  f.tenant.licensed = true;
  f.tenant.setClientPermissions(f.clientId, REQUIRED_PERMISSIONS);
  foreign.received.length = 0;
});

const reader = () => entraIdConnector.events!("aad", f.options());
const request = (feed: string, since: string, cursor: string | null = null): FeedRequest => ({ scope, feed, since, cursor });
const read = async (requests: FeedRequest[]) => {
  const ctx = testContext("aad", f.env);
  const out = await readFeeds(reader(), ctx, requests);
  return { ...out, ctx };
};
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

function plainMember(): SimUser {
  const admins = new Set([...f.tenant.roleAssignments.values()].map((a) => a.principalId));
  const u = [...f.tenant.users.values()].find((x) => x.userType === "Member" && x.accountEnabled && !admins.has(x.id));
  if (!u) throw new Error("no plain member in the fixture");
  return u;
}

describe("Entra directory audit feed", () => {
  it("turns tenant mutations into events that name the actor, the target as collected, and the privilege", async () => {
    const since = new Date().toISOString();
    const ivy = plainMember();
    f.tenant.assignRole(ivy.id, "Global Administrator");
    const app = [...f.tenant.applications.values()][0]!;
    const secret = f.tenant.addApplicationSecret(app.id, "ci secret", new Date().toISOString(), ago(-86_400_000));
    f.tenant.setAccountEnabled(ivy.id, false);
    const hired = f.tenant.addUser({ userPrincipalName: "new.hire@example.com" });

    const { feeds } = await read([request("directory", since)]);
    const r = feeds.get(`${scope}/directory`)!;
    expect(r.status).toBe("ok");
    const admin = f.tenant.audit.actor;
    expect(admin.kind).toBe("user");
    const byAction = new Map(r.events.map((e) => [e.action, e]));
    expect([...byAction.keys()].sort()).toEqual(["account.create", "account.disable", "credential.create", "grant.add"]);
    expect(byAction.get("grant.add")).toMatchObject({
      providerAction: "Add member to role",
      outcome: "success",
      actor: { id: admin.kind === "user" ? admin.id : "", name: admin.kind === "user" ? admin.userPrincipalName : "", kind: "person" },
      target: { principalId: ivy.id, name: ivy.userPrincipalName, privilege: "Global Administrator" },
      ip: ADMIN_IP,
      userAgent: expect.stringContaining("Mozilla/5.0"),
    });
    expect(byAction.get("credential.create")).toMatchObject({ target: { principalId: app.id, credentialId: secret.keyId } });
    expect(byAction.get("account.disable")).toMatchObject({ target: { principalId: ivy.id }, details: { modifiedProperties: ["AccountEnabled=false"] } });
    expect(byAction.get("account.create")!.target?.principalId).toBe(hired.id);

    // The ids are the collector's: the new grant and the new secret are stored under exactly these.
    const { scopes } = await drain(entraIdConnector.create("aad", f.options()), testContext("aad", f.env));
    const collected = [...scopes.values()][0]!;
    expect(collected.grants.some((g) => g.principalId === ivy.id && g.privilege === "Global Administrator")).toBe(true);
    expect(collected.credentials.some((c) => c.id === secret.keyId)).toBe(true);
  });

  it("follows @odata.nextLink page by page, one cursor per page, no event twice", async () => {
    const since = new Date().toISOString();
    const users = Array.from({ length: 12 }, (_, i) => f.tenant.addUser({ userPrincipalName: `paged${i}@example.com` }));
    f.sim.maxPageSize = 5;
    f.sim.server.resetCounters();
    const { feeds } = await read([request("directory", since)]);
    const r = feeds.get(`${scope}/directory`)!;
    expect(r.status).toBe("ok");
    expect(r.events.map((e) => e.target?.principalId).sort()).toEqual(users.map((u) => u.id).sort());
    expect(new Set(r.events.map((e) => e.id)).size).toBe(12);
    expect(r.cursors).toHaveLength(3);
    const pages = f.sim.server.requestLog.filter((l) => l.startsWith("GET /v1.0/auditLogs/directoryAudits"));
    expect(pages).toHaveLength(3);
    // Every page carries the filter: the nextLink is Graph's, followed as given.
    expect(pages.every((l) => decodeURIComponent(l).includes(`activityDateTime ge ${since}`))).toBe(true);
  });

  it("waits out a 429 with Retry-After and carries on", async () => {
    const since = new Date().toISOString();
    f.tenant.addUser({ userPrincipalName: "after.throttle@example.com" });
    f.sim.throttle("/v1.0/auditLogs/directoryAudits", { times: 1, retryAfterSeconds: 1 });
    const { feeds, ctx } = await read([request("directory", since)]);
    expect(feeds.get(`${scope}/directory`)).toMatchObject({ status: "ok", events: [expect.objectContaining({ action: "account.create" })] });
    const retries = ctx.logged.filter((l) => l.msg === "retrying request");
    expect(retries).toHaveLength(1);
    expect(retries[0]!.obj).toMatchObject({ reason: "HTTP 429", delayMs: 1000 });
  });

  it("a missing permission fails both feeds with Graph's code; neither reads as empty", async () => {
    f.tenant.setClientPermissions(f.clientId, REQUIRED_PERMISSIONS.filter((p) => p !== "AuditLog.Read.All"));
    const { feeds } = await read([request("directory", ago(3_600_000)), request("signin", ago(3_600_000))]);
    for (const feed of ["directory", "signin"]) {
      const r = feeds.get(`${scope}/${feed}`)!;
      expect(r.status).toBe("failed");
      expect(r.error).toContain("HTTP 403 Authentication_MSGraphPermissionMissing");
      expect(r.events).toEqual([]);
    }
  });

  it("an error answer fails that feed, not the other one", async () => {
    f.sim.server.injectFault({
      match: (r) => r.url.pathname === "/v1.0/auditLogs/directoryAudits",
      fault: { kind: "status", status: 400, headers: { "content-type": "application/json" }, body: JSON.stringify({ error: { code: "Request_UnsupportedQuery", message: "Unsupported query." } }) },
    });
    const { feeds } = await read([request("directory", ago(3_600_000)), request("signin", ago(86_400_000))]);
    expect(feeds.get(`${scope}/directory`)).toMatchObject({ status: "failed", error: expect.stringContaining("HTTP 400 Request_UnsupportedQuery") });
    expect(feeds.get(`${scope}/signin`)!.status).toBe("ok");
  });

  it("refuses a foreign @odata.nextLink before anything is sent there", async () => {
    const since = new Date().toISOString();
    for (let i = 0; i < 4; i++) f.tenant.addUser({ userPrincipalName: `foreign${i}@example.com` });
    f.sim.maxPageSize = 2;
    f.sim.server.injectFault({
      match: (r) => r.url.pathname === "/v1.0/auditLogs/directoryAudits" && !r.url.searchParams.has("$skiptoken"),
      fault: { kind: "rewrite", rewrite: (a) => ({ ...a, body: Buffer.from(a.body.toString("utf8").split(f.sim.url).join(foreign.origin)) }) },
      times: 1,
    });
    const { feeds } = await read([request("directory", since), request("signin", ago(86_400_000))]);
    const r = feeds.get(`${scope}/directory`)!;
    expect(r.status).toBe("failed");
    expect(r.error).toContain(`ForeignOriginError: @odata.nextLink points to ${foreign.origin}`);
    expect(r.error).not.toContain(f.secret);
    expect(foreign.received).toEqual([]);
    // A page that points elsewhere is not trusted: none of it is handed over. The failure ends only this feed.
    expect(r.events).toEqual([]);
    expect(feeds.get(`${scope}/signin`)!.status).toBe("ok");
  });

  it("keeps hostile names exactly, and an activity named like an Object member is just 'other'", async () => {
    const since = new Date().toISOString();
    const evil = "__proto__\u001b[31m<script>alert(1)</script>@example.com";
    const u = f.tenant.addUser({ userPrincipalName: evil, displayName: "toString" });
    f.sim.server.injectFault({
      match: (r) => r.url.pathname === "/v1.0/auditLogs/directoryAudits",
      fault: {
        kind: "rewrite",
        rewrite: (a) => {
          const body = JSON.parse(a.body.toString("utf8")) as { value: { activityDisplayName: string }[] };
          body.value.push({ ...body.value[0]!, id: "Directory_hostile", activityDisplayName: "constructor" } as never);
          body.value.push({ ...body.value[0]!, id: "Directory_hostile2", activityDisplayName: "hasOwnProperty" } as never);
          return { ...a, body: Buffer.from(JSON.stringify(body)) };
        },
      },
      times: 1,
    });
    const { feeds } = await read([request("directory", since)]);
    const r = feeds.get(`${scope}/directory`)!;
    expect(r.status).toBe("ok");
    const created = r.events.find((e) => e.id !== "Directory_hostile" && e.id !== "Directory_hostile2")!;
    expect(created.target).toMatchObject({ principalId: u.id, name: evil });
    expect(r.events.filter((e) => e.id.startsWith("Directory_hostile")).map((e) => [e.providerAction, e.action])).toEqual([
      ["constructor", "other"],
      ["hasOwnProperty", "other"],
    ]);
  });

  it("resumes: a second read from the first one's coveredUntil yields only what happened since", async () => {
    const since = new Date().toISOString();
    f.tenant.addUser({ userPrincipalName: "first.batch@example.com" });
    const first = (await read([request("directory", since)])).feeds.get(`${scope}/directory`)!;
    expect(first.events.map((e) => e.target?.name)).toEqual(["first.batch@example.com"]);
    expect(first.coveredUntil).toBeDefined();

    const later = f.tenant.addUser({ userPrincipalName: "second.batch@example.com" });
    f.tenant.removeUser(later.id);
    await clockPastThisMillisecond();
    const second = (await read([request("directory", first.coveredUntil!, first.cursors.at(-1) ?? null)])).feeds.get(`${scope}/directory`)!;
    expect(second.status).toBe("ok");
    expect(second.events.map((e) => e.action).sort()).toEqual(["account.create", "account.delete"]);
    expect(second.events.every((e) => e.target?.principalId === later.id)).toBe(true);

    // An idle poll: one request, no events, the window still covered.
    f.sim.server.resetCounters();
    const idle = (await read([request("directory", second.coveredUntil!)])).feeds.get(`${scope}/directory`)!;
    expect(idle).toMatchObject({ status: "ok", events: [] });
    expect(f.sim.server.requestLog.filter((l) => l.includes("/auditLogs/"))).toHaveLength(1);
  });
});

describe("directory audit mapping", () => {
  const audit = (templateId: string, displayName: string | null): GraphDirectoryAudit => ({
    id: "Directory_x",
    activityDateTime: "2026-11-27T14:02:11.4831125Z",
    activityDisplayName: "Add member to role",
    result: "success",
    initiatedBy: { app: { appId: "a", displayName: "Automation", servicePrincipalId: "sp-1" } },
    targetResources: [
      {
        id: "u-1",
        type: "User",
        modifiedProperties: [
          { displayName: "Role.TemplateId", oldValue: null, newValue: JSON.stringify(templateId) },
          ...(displayName ? [{ displayName: "Role.DisplayName", oldValue: null, newValue: JSON.stringify(displayName) }] : []),
        ],
      },
      { id: "r-1", type: "Role", displayName: null },
    ],
  });

  it("names a built-in role from its template id, and a template id like an Object member names nothing", () => {
    expect(mapDirectoryAudit(audit("62E90394-69F5-4237-9190-012177145E10", null)).target).toEqual({ principalId: "u-1", privilege: "Global Administrator" });
    expect(mapDirectoryAudit(audit("constructor", null)).target).toEqual({ principalId: "u-1" });
    expect(mapDirectoryAudit(audit("constructor", "Custom Ops")).target?.privilege).toBe("Custom Ops");
    expect(mapDirectoryAudit(audit("x", null)).actor).toEqual({ id: "sp-1", name: "Automation", kind: "app" });
    expect(mapDirectoryAudit(audit("x", null)).at).toBe("2026-11-27T14:02:11.483Z");
  });
});

describe("Entra sign-in feed", () => {
  it("reports failures by error code and risk, from the address they came from", async () => {
    const { feeds } = await read([request("signin", ago(86_400_000))]);
    const r = feeds.get(`${scope}/signin`)!;
    expect(r.status).toBe("ok");
    const failures = r.events.filter((e) => e.action === "signin.failure");
    expect(failures).toHaveLength(6);
    expect(failures.every((e) => e.ip === ATTACKER_IP && e.outcome === "failure")).toBe(true);
    expect(failures.map((e) => e.details?.errorCode).sort()).toEqual([50053, 50126, 50126, 50126, 50126, 50126]);
    const target = failures[0]!.target!.principalId!;
    expect(f.tenant.users.get(target)).toBeDefined();
    expect([...f.tenant.roleAssignments.values()].some((a) => a.principalId === target)).toBe(true);
    expect(r.events.find((e) => e.details?.riskLevelDuringSignIn === "high")).toMatchObject({ action: "signin.success", details: { riskState: "atRisk", clientAppUsed: "Browser" } });
  });

  it("records a failed sign-in made after generation", async () => {
    const since = new Date().toISOString();
    const u = plainMember();
    f.tenant.recordFailedSignIn(u.id, new Date(), { errorCode: 50057, ipAddress: "192.0.2.66" });
    const r = (await read([request("signin", since)])).feeds.get(`${scope}/signin`)!;
    expect(r.events).toEqual([expect.objectContaining({ action: "signin.failure", ip: "192.0.2.66", actor: { id: u.id, name: u.userPrincipalName, kind: "person" } })]);
    expect(r.events[0]!.details).toMatchObject({ errorCode: 50057, failureReason: expect.stringContaining("disabled") });
  });

  it("without Entra ID P1 the sign-in feed is unavailable, never empty, and directory audits still read", async () => {
    f.tenant.licensed = false;
    const since = new Date().toISOString();
    f.tenant.addUser({ userPrincipalName: "free.tier@example.com" });
    const { feeds } = await read([request("signin", ago(86_400_000)), request("directory", since)]);
    const signin = feeds.get(`${scope}/signin`)!;
    expect(signin.status).toBe("unavailable");
    expect(signin.reason).toContain("Authentication_RequestFromNonPremiumTenantOrB2CTenant");
    expect(signin.reason).toContain("P1");
    expect(signin.events).toEqual([]);
    expect(feeds.get(`${scope}/directory`)).toMatchObject({ status: "ok", events: [expect.objectContaining({ action: "account.create" })] });
  });

  it("a request for another scope or an unknown feed fails on its own", async () => {
    const { feeds } = await read([request("signin", ago(3_600_000)), { scope: "other-tenant", feed: "directory", since: ago(1000), cursor: null }, request("nope", ago(1000))]);
    expect(feeds.get("other-tenant/directory")).toMatchObject({ status: "failed", error: expect.stringContaining("other-tenant") });
    expect(feeds.get(`${scope}/nope`)).toMatchObject({ status: "failed", error: expect.stringContaining("directory, signin") });
    expect(feeds.get(`${scope}/signin`)!.status).toBe("ok");
  });
});

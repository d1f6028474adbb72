// The real msal-node and Graph client against the simulator: paging, degradation, throttling,
// token refresh and failure reporting, checked against the simulated tenant's own data.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entraIdConnector } from "../../../connectors/entra-id/index.js";
import { GLOBAL_ADMINISTRATOR } from "../../../connectors/entra-id/roles.js";
import type { CollectEvent } from "../../../src/connector.js";
import { drain, testContext, type ScopeResult } from "../../helpers/collect.js";
import { minimumRequests } from "../../../connectors/entra-id/simulator.js";
import { SECRET_ENV, startFixture, type Fixture } from "./setup.js";

function only(scopes: Map<string, ScopeResult>): ScopeResult {
  expect(scopes.size).toBe(1);
  return [...scopes.values()][0]!;
}

async function collect(f: Fixture, extra: Record<string, unknown> = {}, env = f.env) {
  const ctx = testContext("aad", env);
  const result = await drain(entraIdConnector.create("aad", f.options(extra)), ctx);
  return { ctx, scope: only(result.scopes), events: result.events };
}

const usersOf = (s: ScopeResult) => s.principals.filter((p) => p.attributes?.objectType === "user");

describe("a licensed tenant of 1,234 users", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ seed: 42, users: 1234, applications: 30 });
  });
  afterAll(() => f.close());

  it("pages every list to the end with the largest page Graph allows, and counts every request", async () => {
    f.sim.server.resetCounters();
    const { scope, ctx } = await collect(f);
    expect(scope.status).toBe("ok");
    const users = usersOf(scope);
    expect(users).toHaveLength(f.tenant.users.size);
    expect(new Set(users.map((u) => u.id))).toEqual(new Set([...f.tenant.users.values()].map((u) => u.id)));
    const userRequests = f.sim.server.requestLog.filter((l) => l.startsWith("GET /v1.0/users"));
    expect(userRequests).toHaveLength(Math.ceil(1234 / 500));
    expect(userRequests[0]).toContain("$top=500");
    expect(userRequests[0]).toContain("signInActivity");
    expect(userRequests.slice(1).every((l) => l.includes("$skiptoken="))).toBe(true);
    expect(scope.requests).toBe(f.sim.server.requestCount);
    expect(scope.requests).toBe(minimumRequests(f.tenant));
    expect(ctx.logged.filter((l) => l.level === "warn")).toEqual([]);
    expect(scope.meta).toMatchObject({ signInActivity: "collected", mfaRegistration: "collected", eligibleRoles: "collected", users: 1234 });
    // A tenant configured by its GUID: the label does not repeat it (reports print "label (guid)").
    expect(f.options({}).tenant_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(scope.label).toBe("Entra ID tenant");
  });

  it("uses 999-user pages when sign-in activity is not wanted", async () => {
    f.sim.server.resetCounters();
    const { scope } = await collect(f, { sign_in_activity: false });
    expect(usersOf(scope)).toHaveLength(1234);
    expect(f.sim.server.requestLog.filter((l) => l.startsWith("GET /v1.0/users"))).toHaveLength(2);
    expect(scope.requests).toBe(minimumRequests(f.tenant, { signInActivity: false }));
    expect(usersOf(scope).every((u) => u.lastActive?.known === false)).toBe(true);
  });

  it("maps sign-in activity, MFA and status from what Graph returned", async () => {
    const { scope } = await collect(f);
    const byId = new Map(usersOf(scope).map((u) => [u.id, u]));
    let failedAttempts = 0;
    for (const u of f.tenant.users.values()) {
      const p = byId.get(u.id)!;
      expect(p.lastActive?.known).toBe(true);
      expect(p.lastActive?.at).toBe(u.signInActivity ? new Date(u.signInActivity.lastSuccessfulSignInDateTime!).toISOString() : null);
      if (u.signInActivity && u.signInActivity.lastSuccessfulSignInDateTime! < u.signInActivity.lastSignInDateTime!) failedAttempts++;
      // The registration report leaves disabled accounts out: their MFA is unknown, not "disabled".
      expect(p.mfa).toBe(!u.accountEnabled ? "unknown" : u.registration.isMfaRegistered ? "enabled" : "disabled");
      expect(p.status).toBe(!u.accountEnabled ? "disabled" : u.externalUserState === "PendingAcceptance" ? "invited" : "active");
      expect(p.kind).toBe(u.userType === "Guest" ? "guest" : "human");
    }
    expect(failedAttempts).toBeGreaterThan(0);
  });

  it("records directory roles with levels from the table, groups expanded to their members, and PIM eligibility", async () => {
    const { scope } = await collect(f);
    const grantsOf = (id: string) => scope.grants.filter((g) => g.principalId === id);
    const globalAdmins = [...f.tenant.roleAssignments.values()].filter((a) => a.roleDefinitionId === GLOBAL_ADMINISTRATOR);
    expect(globalAdmins.length).toBeGreaterThanOrEqual(2);
    for (const a of globalAdmins) {
      expect(grantsOf(a.principalId)).toContainEqual(
        expect.objectContaining({ privilege: "Global Administrator", level: "admin", scope: "tenant", via: "direct" }),
      );
    }
    const group = [...f.tenant.groups.values()][0]!;
    expect(grantsOf(group.id)).toContainEqual(expect.objectContaining({ privilege: "Privileged Authentication Administrator", level: "admin", via: "direct" }));
    for (const member of group.members) {
      expect(grantsOf(member)).toContainEqual(
        expect.objectContaining({ privilege: "Privileged Authentication Administrator", via: "group", attributes: expect.objectContaining({ groupId: group.id }) }),
      );
    }
    for (const e of f.tenant.roleEligibilities.values()) {
      expect(grantsOf(e.principalId)).toContainEqual(expect.objectContaining({ via: "eligible" }));
    }
    expect(scope.grants.find((g) => g.privilege === "App Credential Rotators")?.level).toBe("privileged");
    expect(scope.grants.find((g) => g.privilege === "Sign-in Log Readers")?.level).toBe("read");
    expect(scope.grants.find((g) => g.privilege === "Helpdesk Administrator")?.scope).toMatch(/^administrativeUnit:/);
    const appAdmin = scope.grants.find((g) => g.privilege === "Application Administrator")!;
    expect(f.tenant.servicePrincipals.get(appAdmin.principalId)).toBeDefined();
  });

  it("turns app and service principal credentials into metadata on the principal they authenticate as", async () => {
    const { scope } = await collect(f);
    const now = Date.now();
    for (const app of f.tenant.applications.values()) {
      const sp = f.tenant.servicePrincipalByAppId(app.appId);
      for (const pc of app.passwordCredentials) {
        const c = scope.credentials.find((x) => x.id === pc.keyId)!;
        expect(c).toMatchObject({ kind: "client_secret", principalId: sp ? sp.id : app.id, expiresAt: new Date(pc.endDateTime).toISOString() });
        expect(c.status).toBe(Date.parse(pc.endDateTime) <= now ? "expired" : "active");
      }
      if (!sp) expect(scope.principals.find((p) => p.id === app.id)?.attributes?.objectType).toBe("application");
    }
    expect(scope.credentials.some((c) => c.status === "expired")).toBe(true);
    const byName = (n: string) => scope.principals.find((p) => p.displayName === n)!;
    expect(byName("Microsoft Graph").attributes).toMatchObject({ ownership: "microsoft", third_party: false });
    const saas = scope.principals.filter((p) => p.attributes?.third_party === true);
    expect(saas.length).toBe(3);
    const mi = scope.principals.filter((p) => p.attributes?.servicePrincipalType === "ManagedIdentity");
    expect(mi.length).toBe(2);
    expect(scope.credentials.filter((c) => mi.some((m) => m.id === c.principalId))).toEqual([]);
    expect(JSON.stringify(scope)).not.toContain("Zq~");
  });

  it("yields one batch per Graph page of users", async () => {
    const ctx = testContext("aad", f.env);
    const batches: number[] = [];
    for await (const ev of entraIdConnector.create("aad", f.options()).collect(ctx)) {
      if (ev.type === "records" && ev.principals?.some((p) => p.attributes?.objectType === "user")) batches.push(ev.principals.length);
    }
    expect(batches).toEqual([500, 500, 234]);
  });
});

describe("degraded tenants", () => {
  it("collects an unlicensed tenant without sign-in activity, MFA or PIM, and says why", async () => {
    const f = await startFixture({ seed: 7, users: 120, licensed: false, pimLicensed: false });
    try {
      const { scope } = await collect(f);
      expect(scope.status).toBe("ok");
      const users = usersOf(scope);
      expect(users).toHaveLength(120);
      for (const u of users) {
        expect(u.lastActive).toEqual({ at: null, known: false, signal: expect.stringContaining("Authentication_RequestFromNonPremiumTenantOrB2CTenant") });
        expect(u.mfa).toBe("unknown");
      }
      expect(String(scope.meta?.signInActivity)).toMatch(/^unavailable: Authentication_RequestFromNonPremiumTenantOrB2CTenant/);
      expect(String(scope.meta?.mfaRegistration)).toMatch(/^unavailable: Authentication_RequestFromNonPremiumTenantOrB2CTenant/);
      expect(String(scope.meta?.eligibleRoles)).toMatch(/^unavailable: AadPremiumLicenseRequired/);
      expect(scope.grants.some((g) => g.via === "eligible")).toBe(false);
      const users999 = f.sim.server.requestLog.filter((l) => l.startsWith("GET /v1.0/users"));
      expect(users999[0]).toContain("signInActivity");
      expect(users999[1]).not.toContain("signInActivity");
      expect(users999[1]).toContain("$top=999");
    } finally {
      await f.close();
    }
  });

  it("degrades the same way when AuditLog.Read.All was not consented", async () => {
    const f = await startFixture({ seed: 8, users: 30 });
    try {
      f.tenant.setClientPermissions(f.clientId, ["User.Read.All", "Application.Read.All", "RoleManagement.Read.Directory", "GroupMember.Read.All"]);
      const { scope } = await collect(f);
      expect(scope.status).toBe("ok");
      expect(String(scope.meta?.signInActivity)).toContain("Authentication_MSGraphPermissionMissing");
      expect(String(scope.meta?.mfaRegistration)).toContain("Authorization_RequestDenied");
      expect(usersOf(scope).every((u) => u.lastActive?.known === false && u.mfa === "unknown")).toBe(true);
    } finally {
      await f.close();
    }
  });

  it("fails the scope, naming the endpoint and Graph's code, when a core list is refused", async () => {
    const f = await startFixture({ seed: 9, users: 30 });
    try {
      f.tenant.setClientPermissions(f.clientId, ["User.Read.All", "AuditLog.Read.All", "RoleManagement.Read.Directory"]);
      const { scope } = await collect(f);
      expect(scope.status).toBe("failed");
      expect(scope.error).toMatch(/^entra-id source "aad", tenant [0-9a-f-]+: GET \/servicePrincipals: HTTP 403 Authorization_RequestDenied: Insufficient privileges/);
    } finally {
      await f.close();
    }
  });

  it("leaves grants on the group when its members may not be read", async () => {
    const f = await startFixture({ seed: 10, users: 30 });
    try {
      f.tenant.setClientPermissions(f.clientId, ["User.Read.All", "AuditLog.Read.All", "Application.Read.All", "RoleManagement.Read.Directory"]);
      const { scope } = await collect(f);
      expect(scope.status).toBe("ok");
      expect(String(scope.meta?.roleGroups)).toContain("Authorization_RequestDenied");
      expect(scope.grants.some((g) => g.via === "group")).toBe(false);
      expect(scope.grants.some((g) => g.attributes?.principalType === "group")).toBe(true);
    } finally {
      await f.close();
    }
  });
});

describe("throttling and transient faults", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ seed: 11, users: 700 });
  });
  afterAll(() => f.close());

  it("honours Retry-After on 429 and 503 and counts every retry", async () => {
    f.sim.server.resetCounters();
    f.sim.throttle("/v1.0/users", { times: 1, retryAfterSeconds: 1 });
    f.sim.throttle("/v1.0/servicePrincipals", { times: 1, retryAfterSeconds: 1, status: 503 });
    const started = Date.now();
    const { scope, ctx } = await collect(f);
    expect(scope.status).toBe("ok");
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(usersOf(scope)).toHaveLength(700);
    expect(scope.requests).toBe(f.sim.server.requestCount);
    expect(scope.requests).toBe(minimumRequests(f.tenant) + 2);
    expect(ctx.logged.filter((l) => l.msg === "retrying request")).toHaveLength(2);
  });

  it("uses one retry mechanism: a permanent 429 is tried max_retries + 1 times, then fails the scope", async () => {
    f.sim.server.resetCounters();
    f.sim.throttle("/v1.0/applications", { times: 100, retryAfterSeconds: 0 });
    const { scope } = await collect(f, { max_retries: 2 });
    f.sim.server.clearFaults();
    expect(scope.status).toBe("failed");
    expect(scope.error).toContain("GET /applications: HTTP 429 TooManyRequests");
    expect(f.sim.server.requestLog.filter((l) => l.startsWith("GET /v1.0/applications"))).toHaveLength(3);
  });

  it("retries connection resets, cut-off bodies and requests that never answer", async () => {
    f.sim.server.resetCounters();
    const on = (p: string) => (r: { url: URL }) => r.url.pathname === p;
    f.sim.server.injectFault({ fault: { kind: "reset" }, match: on("/v1.0/roleManagement/directory/roleAssignments"), times: 1 });
    f.sim.server.injectFault({ fault: { kind: "truncate" }, match: on("/v1.0/servicePrincipals"), times: 1 });
    f.sim.server.injectFault({ fault: { kind: "hang" }, match: on("/v1.0/applications"), times: 1 });
    const { scope } = await collect(f, { request_timeout_ms: 1000 });
    expect(scope.status).toBe("ok");
    expect(scope.requests).toBe(minimumRequests(f.tenant) + 3);
    expect(scope.principals.filter((p) => p.attributes?.objectType === "servicePrincipal")).toHaveLength(f.tenant.servicePrincipals.size);
  });
});

describe("tokens", () => {
  it("renews the token during a long run (MSAL's own expiry) and after Graph rejects a revoked one", async () => {
    // expires_in 301: MSAL renews 300 s before expiry, counting whole seconds, so the token is due after two.
    const f = await startFixture({ seed: 12, users: 600 }, { tokenLifetimeSeconds: 301, maxPageSize: 100 });
    try {
      const ctx = testContext("aad", f.env);
      const events: CollectEvent[] = [];
      let userPages = 0;
      for await (const ev of entraIdConnector.create("aad", f.options()).collect(ctx)) {
        events.push(ev);
        if (ev.type === "records" && ev.principals?.some((p) => p.attributes?.objectType === "user")) {
          userPages++;
          // A slow consumer (a store writing a big batch) lets the first token age past MSAL's renewal point…
          if (userPages === 1) await new Promise((r) => setTimeout(r, 2100));
          // …and later Entra revokes the tokens out of band: Graph answers 401 until a fresh one is used.
          if (userPages === 3) f.sim.revokeTokens();
        }
      }
      expect(events.at(-1)?.type).toBe("scope-end");
      const tokenPosts = f.sim.server.requestLog.filter((l) => l.startsWith("POST ") && l.includes("/oauth2/v2.0/token"));
      expect(tokenPosts).toHaveLength(3);
      expect(f.sim.tokenRequests.every((t) => t.status === 200)).toBe(true);
      const users = events.flatMap((e) => (e.type === "records" ? (e.principals ?? []) : [])).filter((p) => p.attributes?.objectType === "user");
      expect(users).toHaveLength(600);
      expect((events.at(-1) as { meta?: Record<string, unknown> }).meta?.tokenAcquisitions).toBe(3);
    } finally {
      await f.close();
    }
  });

  it("fails the scope on a wrong client secret with the AADSTS error, never the secret, and yields no records", async () => {
    const f = await startFixture({ seed: 13, users: 10 });
    try {
      const wrong = "wrong-secret-value-123";
      const { scope, events, ctx } = await collect(f, {}, { [SECRET_ENV]: wrong });
      expect(scope.status).toBe("failed");
      expect(scope.error).toMatch(/^entra-id source "aad", tenant [0-9a-f-]+: token request to https:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+ failed: invalid_client: AADSTS7000215: Invalid client secret provided/);
      expect(events.map((e) => e.type)).toEqual(["scope-start", "scope-failed"]);
      const everything = JSON.stringify({ events, logged: ctx.logged });
      expect(everything).not.toContain(wrong);
      expect(everything).not.toContain(f.secret);
    } finally {
      await f.close();
    }
  });

  it("names an unknown tenant clearly", async () => {
    const f = await startFixture({ seed: 14, users: 5 });
    try {
      const { scope } = await collect(f, { tenant_id: "nosuchtenant.onmicrosoft.com" });
      expect(scope.status).toBe("failed");
      expect(scope.error).toContain("nosuchtenant.onmicrosoft.com");
      expect(scope.error).toMatch(/openid-configuration: HTTP 400 invalid_tenant: AADSTS90002: Tenant .nosuchtenant.onmicrosoft.com. not found\./);
    } finally {
      await f.close();
    }
  });

  it("refuses a server it cannot verify unless ca_file trusts it (TLS verification stays on)", async () => {
    const f = await startFixture({ seed: 15, users: 5 });
    try {
      const opts = f.options();
      delete (opts as { ca_file?: string }).ca_file;
      const ctx = testContext("aad", f.env);
      const { scopes } = await drain(entraIdConnector.create("aad", opts), ctx);
      const scope = only(scopes);
      expect(scope.status).toBe("failed");
      expect(scope.error).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE.*ca_file/);
      expect(f.sim.tokenRequests).toHaveLength(0);
    } finally {
      await f.close();
    }
  });

  it("stops when the run is aborted", async () => {
    const f = await startFixture({ seed: 16, users: 300 }, { maxPageSize: 20 });
    try {
      const ac = new AbortController();
      const ctx = testContext("aad", f.env, ac.signal);
      const run = (async () => {
        for await (const ev of entraIdConnector.create("aad", f.options()).collect(ctx)) {
          if (ev.type === "records") ac.abort(new Error("operator stop"));
        }
      })();
      await expect(run).rejects.toThrow("operator stop");
    } finally {
      await f.close();
    }
  });
});

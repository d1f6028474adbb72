// The real @googleapis/admin + google-auth-library clients against the simulator: what is collected and how.
import { writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { googleWorkspaceConnector } from "../../../connectors/google-workspace/index.js";
import { NEVER_LOGGED_IN } from "../../../connectors/google-workspace/simulator.js";
import { testContext } from "../../helpers/collect.js";
import { setup, type Setup } from "./setup.js";

let s: Setup | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const CUSTOMER = "my_customer";

/** Every live user of the simulated tenant, straight from its records. */
function tenantUsers(st: Setup) {
  const out = [];
  for (let slot = 0; slot < st.google.tenant.slotCount; slot++) {
    const rec = st.google.tenant.record(slot);
    if (rec) out.push(rec);
  }
  return out;
}

describe("users", () => {
  it("maps every user of the customer with provider ids, status, 2SV, admin level and last login", async () => {
    s = await setup({ users: 80 });
    const t = s.google.tenant;
    t.suspendUser(tenantUsers(s)[5]!.user.primaryEmail);
    t.archiveUser(tenantUsers(s)[6]!.user.primaryEmail);
    t.setLastLogin(tenantUsers(s)[7]!.user.primaryEmail, null);
    t.assignRole(tenantUsers(s)[8]!.user.primaryEmail, "_HELP_DESK_ADMIN_ROLE", "/Sales");

    const { scopes } = await s.run();
    const r = scopes.get(CUSTOMER)!;
    expect(r.status).toBe("ok");
    const expected = tenantUsers(s);
    expect(r.principals.map((p) => p.id).sort()).toEqual(expected.map((u) => u.user.id).sort());

    for (const rec of expected) {
      const u = rec.user;
      const p = r.principals.find((x) => x.id === u.id)!;
      const flags = t.adminFlags(u.id);
      expect(p.name).toBe(u.primaryEmail);
      expect(p.email).toBe(u.primaryEmail);
      expect(p.displayName).toBe(u.name.fullName);
      expect(p.status).toBe(u.archived ? "archived" : u.suspended ? "suspended" : "active");
      expect(p.mfa).toBe(u.isEnrolledIn2Sv ? "enabled" : "disabled");
      expect(p.accessLevel).toBe(flags.isAdmin ? "admin" : flags.isDelegatedAdmin ? "privileged" : "none");
      expect(p.createdAt).toBe(new Date(u.creationTime).toISOString());
      expect(p.attributes?.orgUnitPath).toBe(u.orgUnitPath);
      expect(p.attributes?.twoStepEnforced).toBe(u.isEnforcedIn2Sv);
      expect(p.attributes?.aliases).toEqual([...(u.aliases ?? [])].sort());
      if (u.lastLoginTime === NEVER_LOGGED_IN) expect(p.lastActive).toEqual({ at: null, known: true, signal: "lastLoginTime" });
      else expect(p.lastActive).toEqual({ at: new Date(u.lastLoginTime).toISOString(), known: true, signal: "lastLoginTime" });
    }
    expect(r.principals.some((p) => p.status === "suspended")).toBe(true);
    expect(r.principals.some((p) => p.status === "archived")).toBe(true);
    expect(r.principals.some((p) => p.accessLevel === "admin" && p.mfa === "enabled")).toBe(true);
    expect(r.meta).toMatchObject({ customerId: t.customerId, users: expected.length, oauthTokensCollected: false, appPasswordsCollected: false });
  });

  it("reports Google's 1970 value as never signed in, not as unknown and not as a date", async () => {
    s = await setup({ users: 10 });
    const grace = `grace.hopper@${s.google.tenant.domain}`;
    s.google.tenant.setLastLogin(grace, null);
    const { scopes } = await s.run();
    const p = scopes.get(CUSTOMER)!.principals.find((x) => x.email === grace)!;
    expect(p.lastActive).toEqual({ at: null, known: true, signal: "lastLoginTime" });
    expect(scopes.get(CUSTOMER)!.meta?.neverLoggedIn).toBeGreaterThanOrEqual(1);
  });

  it("a last-login flip to 1970 between runs arrives as the provider's 'never' with its signal, for the store to keep the newer date", async () => {
    s = await setup({ users: 10 });
    const grace = `grace.hopper@${s.google.tenant.domain}`;
    const first = (await s.run()).scopes.get(CUSTOMER)!.principals.find((x) => x.email === grace)!;
    expect(first.lastActive?.at).not.toBeNull();
    s.google.tenant.setLastLogin(grace, null); // Google's flip
    const second = (await s.run()).scopes.get(CUSTOMER)!.principals.find((x) => x.email === grace)!;
    // Same identity, nothing else changed: only the volatile activity value differs.
    expect(second.id).toBe(first.id);
    expect({ ...second, lastActive: undefined }).toEqual({ ...first, lastActive: undefined });
    expect(second.lastActive).toEqual({ at: null, known: true, signal: "lastLoginTime" });
  });

  it("pages with maxResults=500 and nextPageToken, one records batch per page", async () => {
    s = await setup({ users: 1234 });
    const { scopes, events } = await s.run();
    const r = scopes.get(CUSTOMER)!;
    expect(r.status).toBe("ok");
    expect(r.principals).toHaveLength(1234);
    expect(new Set(r.principals.map((p) => p.id)).size).toBe(1234);
    const userCalls = s.google.sim.requestLog.filter((l) => l.startsWith("GET /admin/directory/v1/users?"));
    expect(userCalls).toHaveLength(3);
    expect(userCalls.every((l) => l.includes("maxResults=500"))).toBe(true);
    expect(userCalls[0]).not.toContain("pageToken=");
    expect(userCalls[1]).toContain("pageToken=");
    expect(userCalls[2]).toContain("pageToken=");
    const batches = events.filter((e) => e.type === "records" && e.principals?.length).map((e) => (e.type === "records" ? e.principals!.length : 0));
    expect(batches).toEqual([500, 500, 234]);
  });

  it("follows pages of any size", async () => {
    s = await setup({ users: 60 });
    const { scopes } = await s.run({ page_size: 7 });
    expect(scopes.get(CUSTOMER)!.principals).toHaveLength(60);
    expect(s.google.stats.calls.get("users")).toBe(Math.ceil(60 / 7));
  });

  it("asks for a partial response of just the mapped fields", async () => {
    s = await setup({ users: 5 });
    await s.run();
    const call = s.google.sim.requestLog.find((l) => l.startsWith("GET /admin/directory/v1/users?"))!;
    const q = new URL(call.slice(4), "http://x").searchParams;
    expect(q.get("fields")).toBe(
      "nextPageToken,users(id,primaryEmail,name/fullName,isAdmin,isDelegatedAdmin,isEnrolledIn2Sv,isEnforcedIn2Sv,suspended,suspensionReason,archived,creationTime,lastLoginTime,orgUnitPath,aliases,isGuestUser,customerId)",
    );
    expect(q.get("projection")).toBe("basic");
    expect(q.get("customer")).toBe("my_customer");
  });

  it("reads configured custom schemas with projection=custom into attributes", async () => {
    s = await setup({ users: 5 });
    const { scopes } = await s.run({ custom_schemas: ["Employment"] });
    const call = s.google.sim.requestLog.find((l) => l.startsWith("GET /admin/directory/v1/users?"))!;
    const q = new URL(call.slice(4), "http://x").searchParams;
    expect(q.get("projection")).toBe("custom");
    expect(q.get("customFieldMask")).toBe("Employment");
    expect(q.get("fields")).toContain("customSchemas");
    const p = scopes.get(CUSTOMER)!.principals[2]!;
    expect(p.attributes?.["schema.Employment.costCenter"]).toMatch(/^CC-\d+$/);
  });
});

describe("admin roles", () => {
  it("turns role assignments into grants with levels and org-unit scope", async () => {
    s = await setup({ users: 40 });
    const t = s.google.tenant;
    const users = tenantUsers(s).filter((u) => !t.adminFlags(u.user.id).isAdmin && !t.adminFlags(u.user.id).isDelegatedAdmin && !u.user.suspended);
    t.assignRole(users[0]!.user.primaryEmail, "_HELP_DESK_ADMIN_ROLE", "/Sales");
    t.assignRole(users[1]!.user.primaryEmail, "Directory Auditor");
    t.assignRole(users[2]!.user.primaryEmail, "_SERVICES_ADMIN_ROLE");

    const { scopes } = await s.run();
    const r = scopes.get(CUSTOMER)!;
    expect(r.grants).toHaveLength(t.roleAssignments.length);
    const byUser = (id: string) => r.grants.filter((g) => g.principalId === id);

    const superGrant = byUser(tenantUsers(s)[0]!.user.id)[0]!;
    expect(superGrant).toMatchObject({ privilege: "_SEED_ADMIN_ROLE", level: "admin", scope: "customer", via: "direct" });

    const helpdesk = byUser(users[0]!.user.id)[0]!;
    expect(helpdesk).toMatchObject({ privilege: "_HELP_DESK_ADMIN_ROLE", level: "privileged", scope: `org_unit:${t.orgUnitIds.get("/Sales")}` });
    expect(helpdesk.attributes).toMatchObject({ scopeType: "ORG_UNIT", assigneeType: "USER", systemRole: true });
    expect(helpdesk.attributes?.privileges).toContain("USERS_RESET_PASSWORD");
    expect(byUser(users[1]!.user.id)[0]).toMatchObject({ privilege: "Directory Auditor", level: "read" });
    expect(byUser(users[2]!.user.id)[0]).toMatchObject({ privilege: "_SERVICES_ADMIN_ROLE", level: "write" });

    const groupGrants = r.grants.filter((g) => g.attributes?.assigneeType === "GROUP");
    expect(groupGrants.map((g) => g.principalId).sort()).toEqual(t.groups.map((g) => g.id).sort());
    expect(r.meta?.groupRoleAssignments).toBe(2);
    // The principal's own level agrees with the grants: isDelegatedAdmin → privileged.
    expect(r.principals.find((p) => p.id === users[0]!.user.id)?.accessLevel).toBe("privileged");
  });

  it("pages role assignments at 200 and roles at 100", async () => {
    s = await setup({ users: 6000 });
    const { scopes } = await s.run();
    const r = scopes.get(CUSTOMER)!;
    expect(r.grants).toHaveLength(s.google.tenant.roleAssignments.length);
    expect(s.google.tenant.roleAssignments.length).toBeGreaterThan(200);
    const calls = s.google.sim.requestLog.filter((l) => l.includes("/roleassignments?"));
    expect(calls).toHaveLength(Math.ceil(s.google.tenant.roleAssignments.length / 200));
    expect(calls.every((c) => c.includes("maxResults=200"))).toBe(true);
    expect(s.google.sim.requestLog.filter((l) => l.includes("/roles?")).every((c) => c.includes("maxResults=100"))).toBe(true);
  });
});

describe("OAuth grants and app passwords", () => {
  it("are off by default: no per-user requests and no scope beyond read-only", async () => {
    s = await setup({ users: 30 });
    s.google.tenant.setDelegatedScopes([
      "https://www.googleapis.com/auth/admin.directory.user.readonly",
      "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
    ]);
    const { scopes } = await s.run();
    const r = scopes.get(CUSTOMER)!;
    expect(r.status).toBe("ok");
    expect(r.credentials).toHaveLength(0);
    expect(s.google.sim.requestLog.some((l) => l.includes("/tokens") || l.includes("/asps"))).toBe(false);
    // token + one users page + roles + role assignments
    expect(r.requests).toBe(4);
  });

  it("collects tokens.list and asps.list per user as oauth_grant / app_password credentials", async () => {
    s = await setup({ users: 50 });
    const t = s.google.tenant;
    const grace = `grace.hopper@${t.domain}`;
    t.addAppPassword(grace, "Old Outlook", new Date("2025-05-01T00:00:00Z"));
    t.addAppPassword(grace, "Never used printer");
    const { scopes } = await s.run({ collect_oauth_tokens: true, collect_app_passwords: true });
    const r = scopes.get(CUSTOMER)!;
    expect(r.status).toBe("ok");
    const users = tenantUsers(s);
    const expectedTokens = users.flatMap((u) => u.tokens.map((tk) => `${u.user.id}/oauth/${tk.clientId}`)).sort();
    expect(r.credentials.filter((c) => c.kind === "oauth_grant").map((c) => c.id).sort()).toEqual(expectedTokens);
    const expectedAsps = users.flatMap((u) => u.asps.map((a) => `${u.user.id}/asp/${a.codeId}`)).sort();
    expect(r.credentials.filter((c) => c.kind === "app_password").map((c) => c.id).sort()).toEqual(expectedAsps);

    const graceId = t.find(grace)!.user.id;
    const graceToken = r.credentials.find((c) => c.principalId === graceId && c.kind === "oauth_grant")!;
    const simToken = t.find(grace)!.tokens[0]!;
    expect(graceToken).toMatchObject({
      name: simToken.displayText,
      status: "active",
      lastUsed: { at: null, known: false },
      attributes: { clientId: simToken.clientId, scopes: [...simToken.scopes].sort(), nativeApp: simToken.nativeApp },
    });
    const outlook = r.credentials.find((c) => c.principalId === graceId && c.name === "Old Outlook")!;
    expect(outlook.lastUsed).toEqual({ at: "2025-05-01T00:00:00.000Z", known: true, signal: "asps.lastTimeUsed" });
    const printer = r.credentials.find((c) => c.principalId === graceId && c.name === "Never used printer")!;
    expect(printer.lastUsed?.known).toBe(false);
    expect(r.meta).toMatchObject({ oauthTokensCollected: true, appPasswordsCollected: true, oauthGrants: expectedTokens.length });
    // one request per user per kind, plus token, users page, roles, role assignments
    expect(r.requests).toBe(4 + 2 * users.length);
  });

  it("refuses a tokens.list / asps.list answer about another user: quarantined with the reason, never on the asked user", async () => {
    let victim = "";
    let other = "";
    s = await setup({
      users: 20,
      override: (endpoint, url) => {
        if ((endpoint !== "tokens" && endpoint !== "asps") || !url.pathname.includes(`/users/${victim}/`)) return undefined;
        const rec = s!.google.tenant.find(other)!;
        const items = endpoint === "tokens" ? rec.tokens.map((t) => ({ ...t, userKey: rec.user.id })) : rec.asps.map((a) => ({ ...a, userKey: rec.user.id }));
        return { body: { kind: `admin#directory#${endpoint}`, items } };
      },
    });
    const users = tenantUsers(s);
    const holder = users.find((u) => u.tokens.length > 0 && u.asps.length > 0) ?? users.find((u) => u.tokens.length > 0)!;
    victim = users.find((u) => u !== holder)!.user.id;
    other = holder.user.id;
    const ctx = testContext("gws");
    const { scopes } = await s.run({ collect_oauth_tokens: true, collect_app_passwords: true }, ctx);
    const r = scopes.get(CUSTOMER)!;
    expect(r.status).toBe("ok");
    expect(r.credentials.filter((c) => c.principalId === victim)).toEqual([]);
    // The other user's own answer still puts their credentials on them, once.
    expect(r.credentials.filter((c) => c.principalId === other).length).toBe(holder.tokens.length + holder.asps.length);
    const notes = ctx.quarantined.get(CUSTOMER) ?? [];
    expect(notes.length).toBe(holder.tokens.length + holder.asps.length);
    expect(notes.every((n) => n.table === "credentials" && n.principalId === victim && n.reason.includes(`for user ${victim} answered about another user (${other})`))).toBe(true);
  });

  it("bounds per-user concurrency", async () => {
    s = await setup({ users: 40, latencyMs: 15 });
    const { scopes } = await s.run({ collect_oauth_tokens: true, concurrency: 3 });
    expect(scopes.get(CUSTOMER)!.status).toBe("ok");
    expect(s.google.stats.calls.get("tokens")).toBe(40);
    expect(s.google.stats.maxInFlight.get("tokens")).toBe(3);
  });

  it("paces requests under the per-user quota instead of tripping it", async () => {
    // 30 users × (tokens + asps) + 3 calls under a quota of 60 a second. 240/min bursts 12 and then sends 4
    // a second, so any second of the client's holds at most 16. The simulator shares the process, so a stall
    // of the event loop (a loaded machine) can hand it requests of several client seconds at once: it takes a
    // stall of over 11 s to squeeze 61 into one of its seconds, where 600/min (burst 30, 10/s) tripped it after
    // a 2 s stall under load. (Whether an unpaced run trips it depends on the machine's speed: not asserted.)
    s = await setup({ users: 30, rateLimit: { requests: 60, windowMs: 1000 } });
    const paced = await s.run({ collect_oauth_tokens: true, collect_app_passwords: true, requests_per_minute: 240, concurrency: 4 });
    expect(paced.scopes.get(CUSTOMER)!.status).toBe("ok");
    expect(s.google.stats.calls.get("tokens")).toBe(30);
    expect(s.google.stats.rateLimited).toBe(0);
  });

  it("skips a user deleted between users.list and tokens.list (404) without failing", async () => {
    s = await setup({ users: 20, latencyMs: 5 });
    const victim = tenantUsers(s)[15]!.user.primaryEmail;
    const ctx = testContext("gws");
    // Delete the user once its principal has been delivered, before its tokens are read.
    const it = googleWorkspaceConnector.create("gws", s.options({ collect_oauth_tokens: true, concurrency: 1 })).collect(ctx);
    const seen = [];
    for await (const ev of it) {
      seen.push(ev);
      if (ev.type === "records" && ev.principals?.length) s.google.tenant.removeUser(victim);
    }
    const end = seen.find((e) => e.type === "scope-end");
    expect(end).toBeDefined();
    expect(end!.type === "scope-end" && end!.meta?.usersGoneDuringCollect).toBe(1);
  });
});

describe("throttling and errors", () => {
  it("retries 403 userRateLimitExceeded / quotaExceeded, 429 with Retry-After and 503, counting every attempt", async () => {
    s = await setup({ users: 20 });
    const base = (await s.run({ collect_oauth_tokens: true })).scopes.get(CUSTOMER)!.requests;
    s.google.injectGoogleError("userRateLimitExceeded", { endpoint: "users", times: 2 });
    s.google.injectGoogleError("rateLimitExceeded", { endpoint: "roles", times: 1, retryAfterSeconds: 1 });
    s.google.injectGoogleError("backendError", { endpoint: "tokens", times: 1 });
    s.google.injectGoogleError("quotaExceeded", { endpoint: "roleassignments", times: 1 });
    const ctx = testContext("gws");
    const started = Date.now();
    const { scopes } = await s.run({ collect_oauth_tokens: true }, ctx);
    const r = scopes.get(CUSTOMER)!;
    expect(r.status).toBe("ok");
    expect(r.principals).toHaveLength(20);
    // Exactly one more request per injected error: gaxios retried, nothing stacked on top.
    expect(r.requests).toBe(base + 5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // Retry-After honoured
    const retries = ctx.logged.filter((l) => l.level === "warn");
    expect(retries.map((l) => (l.obj as { reason: string }).reason).sort()).toEqual(
      ["backendError", "quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded", "userRateLimitExceeded"].sort(),
    );
    expect(retries.find((l) => (l.obj as { reason: string }).reason === "rateLimitExceeded")?.obj).toMatchObject({ retryAfter: true, delayMs: 1000 });
  });

  it("gives up after the policy's attempts and fails the scope with Google's code and message", async () => {
    s = await setup({ users: 5 });
    s.google.injectGoogleError("backendError", { endpoint: "roles", times: 100 });
    const { scopes } = await s.run();
    const r = scopes.get(CUSTOMER)!;
    expect(r.status).toBe("failed");
    expect(r.error).toContain("roles.list: HTTP 503 backendError: The service is currently unavailable.");
    expect(r.error).toContain("source gws");
    // DEFAULT_RETRY_POLICY.maxAttempts
    expect(s.google.sim.requestLog.filter((l) => l.includes("/roles?"))).toHaveLength(6);
  }, 120_000);

  it("retries a reset connection and a truncated body", async () => {
    s = await setup({ users: 8 });
    s.google.sim.injectFault({ fault: { kind: "reset" }, match: (q) => q.url.pathname.endsWith("/users"), times: 1 });
    s.google.sim.injectFault({ fault: { kind: "truncate" }, match: (q) => q.url.pathname.endsWith("/roleassignments"), times: 1 });
    const { scopes } = await s.run();
    const r = scopes.get(CUSTOMER)!;
    expect(r.status).toBe("ok");
    expect(r.principals).toHaveLength(8);
    expect(r.grants.length).toBe(s.google.tenant.roleAssignments.length);
    expect(r.requests).toBe(4 + 2);
  });

  it("does not retry 403 Not Authorized and explains delegation and admin privileges", async () => {
    s = await setup({ users: 10 });
    const plain = tenantUsers(s).find((u) => !s!.google.tenant.adminFlags(u.user.id).isAdmin && !s!.google.tenant.adminFlags(u.user.id).isDelegatedAdmin && !u.user.suspended && !u.user.archived)!;
    const { scopes } = await s.run({ subject: plain.user.primaryEmail });
    const r = scopes.get(CUSTOMER)!;
    expect(r.status).toBe("failed");
    expect(r.error).toContain("users.list: HTTP 403 forbidden: Not Authorized to access this resource/api");
    expect(r.error).toContain(`subject ${plain.user.primaryEmail} lacks the admin privileges`);
    expect(r.requests).toBe(2); // token + one refused call, no retries
  });

  it("reports refused domain-wide delegation with the client ID and the exact scopes to authorize", async () => {
    s = await setup({ users: 10 });
    s.google.tenant.setDelegatedScopes(["https://www.googleapis.com/auth/admin.directory.user.readonly"]);
    const { scopes } = await s.run({ collect_oauth_tokens: true });
    const r = scopes.get(CUSTOMER)!;
    expect(r.status).toBe("failed");
    expect(r.error).toContain("access token for users.list (OAuth token endpoint): HTTP 401 unauthorized_client");
    expect(r.error).toContain(`client ID ${s.google.tenant.serviceAccount.clientId}`);
    expect(r.error).toContain(
      "https://www.googleapis.com/auth/admin.directory.user.readonly,https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly,https://www.googleapis.com/auth/admin.directory.user.security",
    );
    expect(r.requests).toBe(1);
    expect(r.principals).toHaveLength(0);
  });

  it("names an unknown subject and a revoked key", async () => {
    s = await setup({ users: 5 });
    const unknown = (await s.run({ subject: "nobody@example.com" })).scopes.get(CUSTOMER)!;
    expect(unknown.error).toContain("invalid_grant: Invalid email or User ID — the subject nobody@example.com is not an active user");

    // A key whose private half no longer matches what Google holds for the account.
    const other = await setup({ users: 2 });
    const forged = JSON.parse(other.google.tenant.keyFile());
    forged.client_email = s.google.tenant.serviceAccount.email;
    await writeFile(s.keyPath, JSON.stringify(forged), { mode: 0o600 });
    await other.close();
    const revoked = (await s.run()).scopes.get(CUSTOMER)!;
    expect(revoked.status).toBe("failed");
    expect(revoked.error).toContain("invalid_grant: Invalid JWT Signature.");
  });

  it("never puts key material or tokens into errors, events or logs", async () => {
    s = await setup({ users: 5 });
    s.google.injectGoogleError("backendError", { endpoint: "users", times: 2 });
    s.google.tenant.setDelegatedScopes([]);
    const ctx = testContext("gws");
    const { events } = await s.run({}, ctx);
    const text = JSON.stringify(events) + JSON.stringify(ctx.logged);
    const key = s.google.tenant.serviceAccount.privateKeyPem;
    expect(text).not.toContain(key.split("\n")[1]!);
    expect(text).not.toContain("ya29.");
    expect(text).not.toContain("assertion");
  });

  it("a bad secret reference fails the scope naming the key, not the value", async () => {
    s = await setup({ users: 2 });
    const { scopes } = await s.run({ credentials: "env:WHOHAS_GWS_MISSING_KEY" });
    expect(scopes.get(CUSTOMER)!.error).toContain("credentials: environment variable WHOHAS_GWS_MISSING_KEY");
  });

  it("stops on abort without further requests", async () => {
    s = await setup({ users: 30, latencyMs: 10 });
    const ac = new AbortController();
    const ctx = testContext("gws", process.env, ac.signal);
    const it = googleWorkspaceConnector.create("gws", s.options({ collect_oauth_tokens: true, concurrency: 2 })).collect(ctx);
    let caught: unknown;
    try {
      for await (const ev of it) if (ev.type === "records") ac.abort(new Error("operator abort"));
    } catch (err) {
      caught = err;
    }
    expect((caught as Error)?.message).toBe("operator abort");
    const sent = s.google.sim.requestCount;
    await new Promise((r) => setTimeout(r, 100));
    expect(s.google.sim.requestCount).toBe(sent);
    expect(sent).toBe(2); // the token and the first users page; no per-user call after the abort
  });

  it("counts exactly the requests the provider received", async () => {
    s = await setup({ users: 45 });
    s.google.injectGoogleError("userRateLimitExceeded", { endpoint: "asps", times: 3 });
    const { scopes } = await s.run({ collect_app_passwords: true, page_size: 10 });
    expect(scopes.get(CUSTOMER)!.requests).toBe(s.google.sim.requestCount);
  });
});

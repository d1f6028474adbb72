// Enterprise features: last activity from the org audit log (cursor pagination), and Enterprise
// Server's /api/v3 prefix with instance site admins and suspended users.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GithubSimulator } from "../../../connectors/github/simulator.js";
import { findOrg, mutations } from "../../../connectors/github/tenant.js";
import { drain, testContext } from "../../helpers/collect.js";
import { appConnector, appKeys, startSim, tokenConnector, type AppKeys } from "./setup.js";

describe("audit log → last activity", () => {
  let keys: AppKeys;
  let gh: GithubSimulator;
  beforeAll(async () => {
    keys = await appKeys();
    gh = await startSim({ seed: 3, orgs: [{ login: "acme", members: 120, owners: 3, repos: 4, teams: 1, auditEvents: 700 }, { login: "smallco", members: 10, repos: 1, plan: "team", saml: false }] }, keys);
  });
  afterAll(async () => {
    await gh?.close();
  });

  it("derives each member's last activity from the newest audit event they acted in, within the window", async () => {
    gh.sim.resetCounters();
    const now = new Date();
    const { scopes } = await drain(appConnector(gh, keys, undefined, { audit_log: true, audit_log_days: 30 }), testContext("gh"));
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("ok");
    const org = findOrg(gh.tenant, "acme");
    const since = Date.parse(new Date(now.getTime() - 30 * 86_400_000).toISOString().slice(0, 10));
    const newest = new Map<number, number>();
    for (const e of org.auditLog) if (e["@timestamp"] >= since && e["@timestamp"] > (newest.get(e.actorId) ?? 0)) newest.set(e.actorId, e["@timestamp"]);
    let known = 0;
    for (const [id] of org.members) {
      const u = gh.tenant.users.get(id)!;
      const p = acme.principals.find((x) => x.id === u.node_id)!;
      const at = newest.get(id);
      if (at !== undefined) {
        known++;
        expect(p.lastActive).toEqual({ at: new Date(at).toISOString(), known: true, signal: "org audit log (newest event as actor)" });
      } else {
        // Nothing in the window is not "never": the account may have acted before it.
        expect(p.lastActive?.known).toBe(false);
        expect(p.lastActive?.at).toBeNull();
        expect(p.lastActive?.signal).toMatch(/no events as actor since/);
      }
    }
    expect(known).toBeGreaterThan(20);
    expect(known).toBeLessThan(org.members.size);
    expect(acme.meta?.last_active).toBe("org audit log");
    // Several pages, followed through GitHub's after= cursor links.
    expect(Number(acme.meta?.audit_log_pages)).toBeGreaterThan(2);
    expect(gh.sim.requestLog.filter((l) => l.includes(`/organizations/${org.id}/audit-log?`) && l.includes("after=")).length).toBe(Number(acme.meta?.audit_log_pages) - 1);
  });

  it("bounds the pages read and narrows the stated window to what it read", async () => {
    const { scopes } = await drain(appConnector(gh, keys, undefined, { audit_log: true, audit_log_max_pages: 1 }), testContext("gh"));
    const acme = scopes.get("acme")!;
    expect(acme.meta).toMatchObject({ audit_log_truncated: true, audit_log_pages: 1 });
    const org = findOrg(gh.tenant, "acme");
    const since = Date.parse(new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10));
    const firstPage = org.auditLog.filter((e) => e["@timestamp"] >= since).slice(0, 100);
    expect(acme.meta?.audit_log_window_start).toBe(new Date(firstPage[firstPage.length - 1]!["@timestamp"]).toISOString());
  });

  it("an org without the audit log API (not Enterprise) keeps last activity unknown and says why", async () => {
    const { scopes } = await drain(appConnector(gh, keys, undefined, { orgs: ["smallco"], audit_log: true }), testContext("gh"));
    const s = scopes.get("smallco")!;
    expect(s.status).toBe("ok");
    expect(s.meta?.last_active).toMatch(/^unknown: audit log not available \(.*404: Not Found/);
    expect(s.meta?.credential_authorizations_status).toMatch(/404/);
    expect(s.principals.filter((p) => p.kind === "human").every((p) => p.lastActive?.known === false)).toBe(true);
  });
});

describe("GitHub Enterprise Server", () => {
  let gh: GithubSimulator;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    gh = await startSim({ seed: 4, orgs: [{ login: "acme", members: 60, owners: 2, repos: 3, teams: 1 }], extraUsers: 180, siteAdmins: 5 }, undefined, { ghes: { version: "3.14.2" } });
    const admin = [...gh.tenant.users.values()].find((u) => u.site_admin)!;
    const owner = [...findOrg(gh.tenant, "acme").members].find(([, r]) => r === "admin")![0];
    env = { GH_TOKEN: gh.issuePat(gh.tenant.users.get(owner)!.login, { scopes: ["read:org", "site_admin"] }) };
    mutations(gh.tenant).suspendUser([...gh.tenant.users.values()].filter((u) => u.site_admin)[1]!.login);
    expect(admin.site_admin).toBe(true);
  });
  afterAll(async () => {
    await gh?.close();
  });

  it("uses the /api/v3 base, notices the server version, and adds the instance's site admins as a scope", async () => {
    expect(gh.baseUrl).toMatch(/\/api\/v3$/);
    const ctx = testContext("gh", env);
    const { scopes } = await drain(tokenConnector(gh), ctx);
    expect(scopes.get("acme")!.status).toBe("ok");
    expect(scopes.get("acme")!.meta?.server).toBe("GitHub Enterprise Server 3.14.2");
    expect(gh.sim.requestLog.every((l) => l.split(" ")[1]!.startsWith("/api/v3/"))).toBe(true);

    const host = new URL(gh.url).host;
    const instance = scopes.get(`instance:${host}`)!;
    expect(instance.status).toBe("ok");
    const admins = [...gh.tenant.users.values()].filter((u) => u.site_admin);
    expect(instance.principals.map((p) => p.name).sort()).toEqual(admins.map((u) => u.login).sort());
    expect(instance.grants.every((g) => g.privilege === "site_admin" && g.level === "admin" && g.scope === `instance:${host}`)).toBe(true);
    const suspended = admins.find((u) => u.suspended_at)!;
    expect(instance.principals.find((p) => p.id === suspended.node_id)?.status).toBe("suspended");
    expect(instance.meta).toMatchObject({ instance_users: gh.tenant.users.size, site_admins: admins.length, suspended_users_seen: 1 });
    // /users pages (since= links) + one GET /users/{login} per site admin, counted on the instance scope.
    expect(instance.requests).toBe(Math.ceil(gh.tenant.users.size / 100) + admins.length);
  });

  it("a GET /users/{username} answer about someone else fails the instance scope (state kept), never mapped as the asked site admin", async () => {
    const admins = [...gh.tenant.users.values()].filter((u) => u.site_admin);
    const other = [...gh.tenant.users.values()].find((u) => !u.site_admin)!;
    const asked = admins[0]!;
    gh.sim.injectFault({
      times: 1,
      match: (r) => r.url.pathname.toLowerCase() === `/api/v3/users/${asked.login.toLowerCase()}`,
      fault: { kind: "status", status: 200, body: JSON.stringify({ login: other.login, id: other.id, node_id: other.node_id, type: "User", site_admin: true }) },
    });
    try {
      const { scopes } = await drain(tokenConnector(gh), testContext("gh", env));
      const instance = scopes.get(`instance:${new URL(gh.url).host}`)!;
      expect(instance.status).toBe("failed");
      expect(instance.error).toContain(`GET /users/${asked.login} answered about ${JSON.stringify(other.login)} (id ${other.id}), not user id ${asked.id}: refused`);
      expect(instance.principals.some((p) => p.id === other.node_id)).toBe(false);
      expect(scopes.get("acme")!.status).toBe("ok");
    } finally {
      gh.sim.clearFaults();
    }
  });

  it("ghes_users = off skips the instance scope", async () => {
    const { scopes } = await drain(tokenConnector(gh, undefined, { ghes_users: "off" }), testContext("gh", env));
    expect([...scopes.keys()]).toEqual(["acme"]);
  });
});

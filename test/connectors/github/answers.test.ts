// Answers are checked against what was asked, through the real @octokit/rest against the simulator:
// a membership answer about someone else, a login renamed during the run, collaborator listings with
// swapped ids, unstated roles or people no listing returned, and a full_name that disagrees with
// owner.login / name. Nothing is ever attached to the wrong person, and nothing silently.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GithubSimulator } from "../../../connectors/github/simulator.js";
import { findOrg, type SimUser } from "../../../connectors/github/tenant.js";
import type { SimRequest } from "../../../src/simulator/harness.js";
import { drain, testContext, type ScopeResult } from "../../helpers/collect.js";
import { appConnector, appKeys, startSim, type AppKeys } from "./setup.js";

let keys: AppKeys;
let gh: GithubSimulator;

beforeAll(async () => {
  keys = await appKeys();
  gh = await startSim({ seed: 23, orgs: [{ login: "acme", members: 60, owners: 2, outsideCollaborators: 5, repos: 6, teams: 3, teamSize: 8 }] }, keys);
});
afterAll(async () => {
  await gh?.close();
});
beforeEach(() => {
  gh.sim.clearFaults();
  gh.sim.resetCounters();
});

const org = () => findOrg(gh.tenant, "acme");
const user = (id: number) => gh.tenant.users.get(id)!;

/** A member with 2FA disabled and a SAML credential authorization of their own (made so when needed). */
function memberWithout2faAndSaml(exclude: number[] = []): SimUser {
  const o = org();
  const ids = [...o.members].filter(([id, role]) => role === "member" && !exclude.includes(id)).map(([id]) => id);
  const withSaml = ids.find((id) => o.credentialAuthorizations.some((c) => c.userId === id)) ?? ids[0]!;
  const u = user(withSaml);
  u.twoFactor = "off";
  if (!o.credentialAuthorizations.some((c) => c.userId === u.id)) o.credentialAuthorizations.push({ ...o.credentialAuthorizations[0]!, userId: u.id });
  gh.tenant.version++;
  return u;
}

describe("a per-entity answer must be about the entity asked for", () => {
  it("a membership answer naming another member is skipped: not re-emitted, their 2FA kept, nothing of the asked login attached", async () => {
    const o = org();
    const victim = memberWithout2faAndSaml();
    // Someone the SAML and team listings still show after they left the member list.
    const leaverCred = o.credentialAuthorizations.find((c) => c.userId !== victim.id)!;
    const leaver = user(leaverCred.userId);
    const leaverRole = o.members.get(leaver.id);
    o.members.delete(leaver.id);
    o.teams[0]!.members.set(leaver.id, "member");
    gh.tenant.version++;
    const answer = {
      state: "active",
      role: "member",
      organization: { login: "acme", id: o.id, node_id: o.node_id },
      user: { login: victim.login, id: victim.id, node_id: victim.node_id, type: "User", site_admin: false },
    };
    const held = (acme: ScopeResult) => [
      ...acme.grants.filter((g) => g.principalId === victim.node_id).map((g) => `${g.privilege} ${g.scope}`),
      ...acme.credentials.filter((c) => c.principalId === victim.node_id).map((c) => c.id),
    ].sort();
    try {
      // Without the hostile answer (GitHub says 404 for the leaver): what the victim really holds.
      const baseline = (await drain(appConnector(gh, keys), testContext("gh"))).scopes.get("acme")!;
      expect(baseline.status).toBe("ok");
      gh.sim.injectFault({
        match: (r: SimRequest) => r.url.pathname.toLowerCase() === `/orgs/acme/memberships/${leaver.login.toLowerCase()}`,
        fault: { kind: "status", status: 200, body: JSON.stringify(answer) },
      });
      const ctx = testContext("gh");
      const { scopes } = await drain(appConnector(gh, keys), ctx);
      const acme = scopes.get("acme")!;
      expect(acme.status).toBe("ok");
      const victims = acme.principals.filter((p) => p.id === victim.node_id);
      expect(victims).toHaveLength(1);
      expect(victims[0]!.mfa).toBe("disabled");
      // Nothing of the leaver's (team grant, SAML credential) moved onto the victim.
      expect(held(acme)).toEqual(held(baseline));
      expect(acme.credentials.filter((c) => c.principalId === victim.node_id)).toHaveLength(o.credentialAuthorizations.filter((c) => c.userId === victim.id).length);
      expect(acme.principals.some((p) => p.id === leaver.node_id)).toBe(false);
      expect(acme.meta?.membership_answers_about_another_user).toBe(1);
      expect(ctx.logged.filter((l) => l.msg === "GitHub: a membership answer names another user than the one asked about; skipped")).toHaveLength(1);
    } finally {
      o.members.set(leaver.id, leaverRole ?? "member");
      o.teams[0]!.members.delete(leaver.id);
      gh.tenant.version++;
    }
  });

  it("a login renamed during the run resolves to the principal already returned; its 2FA disabled is kept, its SAML credential stays on it", async () => {
    const o = org();
    const renamed = memberWithout2faAndSaml();
    const oldLogin = renamed.login;
    let done = false;
    // Renamed after the member listings, before the SAML listing (which names people by login only).
    gh.sim.injectFault({
      fault: { kind: "status", status: 500 },
      match: (r) => {
        if (!done && r.url.pathname === "/orgs/acme/credential-authorizations") {
          done = true;
          gh.tenant.usersByLogin.delete(oldLogin.toLowerCase());
          renamed.login = `${oldLogin}-renamed`;
          gh.tenant.usersByLogin.set(renamed.login.toLowerCase(), renamed);
          gh.tenant.version++;
        }
        return false;
      },
    });
    try {
      const { scopes } = await drain(appConnector(gh, keys), testContext("gh"));
      const acme = scopes.get("acme")!;
      expect(acme.status).toBe("ok");
      const mine = acme.principals.filter((p) => p.id === renamed.node_id);
      expect(mine).toHaveLength(1);
      expect(mine[0]!.mfa).toBe("disabled");
      expect(acme.credentials.filter((c) => c.principalId === renamed.node_id)).toHaveLength(o.credentialAuthorizations.filter((c) => c.userId === renamed.id).length);
      expect(acme.meta?.members_joined_during_collection).toBeUndefined();
      expect(gh.sim.requestLog.filter((l) => l.startsWith("GET /orgs/acme/memberships/"))).toEqual([`GET /orgs/acme/memberships/${renamed.login}`]);
    } finally {
      gh.tenant.usersByLogin.delete(renamed.login.toLowerCase());
      renamed.login = oldLogin;
      gh.tenant.usersByLogin.set(oldLogin.toLowerCase(), renamed);
      gh.tenant.version++;
    }
  });
});

describe("2FA established by the 2FA listing", () => {
  it("is kept for someone the member listings missed (a role change between them) and a later listing shows", async () => {
    const o = org();
    const x = memberWithout2faAndSaml();
    o.teams[0]!.members.set(x.id, "member");
    const role = o.members.get(x.id)!;
    let phase = 0;
    // Gone while the owner and member listings run (after the 2FA listing), back before the teams.
    gh.sim.injectFault({
      fault: { kind: "status", status: 500 },
      match: (r) => {
        if (phase === 0 && r.url.pathname === "/orgs/acme/members" && r.url.searchParams.get("role") === "admin") {
          phase = 1;
          o.members.delete(x.id);
          gh.tenant.version++;
        } else if (phase === 1 && r.url.pathname === "/orgs/acme/teams") {
          phase = 2;
          o.members.set(x.id, role);
          gh.tenant.version++;
        }
        return false;
      },
    });
    const { scopes } = await drain(appConnector(gh, keys), testContext("gh"));
    const acme = scopes.get("acme")!;
    expect(phase).toBe(2);
    expect(acme.status).toBe("ok");
    expect(acme.meta?.members_joined_during_collection).toBe(1);
    const mine = acme.principals.filter((p) => p.id === x.node_id);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.mfa).toBe("disabled");
  });
});

describe("repository answers", () => {
  const collaboratorsOf = (r: SimRequest) => /^\/(repos\/acme\/[^/]+|repositories\/\d+)\/collaborators$/.test(r.url.pathname);

  it("collaborator grants go on the principal the scope returned for that id, unstated roles are unknown, strangers keep their own id", async () => {
    const o = org();
    const outsider = user([...o.outside][0]!);
    const stranger = { login: "stranger", id: 990_001, node_id: "U_stranger", type: "User", site_admin: false };
    gh.sim.injectFault({
      match: collaboratorsOf,
      fault: {
        kind: "rewrite",
        rewrite: (a) => {
          const list = JSON.parse(a.body.toString("utf8")) as Record<string, unknown>[];
          for (const c of list) {
            // Same person (numeric id), a different node id spelled by this listing; no role stated.
            if (c.id === outsider.id) c.node_id = "U_spoofed";
            delete c.role_name;
            delete c.permissions;
          }
          list.push({ ...stranger, role_name: "admin" });
          return { ...a, body: Buffer.from(JSON.stringify(list)) };
        },
      },
    });
    const ctx = testContext("gh");
    const { scopes } = await drain(appConnector(gh, keys, undefined, { collaborator_repos: true }), ctx);
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("ok");
    const collab = acme.grants.filter((g) => g.privilege.startsWith("collaborator:"));
    expect(collab.some((g) => g.principalId === "U_spoofed")).toBe(false);
    const outsiderGrants = collab.filter((g) => g.principalId === outsider.node_id);
    expect(outsiderGrants.length).toBeGreaterThan(0);
    expect(outsiderGrants.every((g) => g.privilege === "collaborator:unknown" && g.attributes?.role_unknown === true && g.attributes?.role_name === null)).toBe(true);
    const strangerGrants = collab.filter((g) => g.principalId === stranger.node_id);
    expect(strangerGrants.map((g) => g.privilege)).toEqual(strangerGrants.map(() => "collaborator:admin"));
    expect(acme.meta?.collaborator_grants_on_unlisted_principals).toBe(strangerGrants.length);
    expect(acme.meta?.collaborator_grants_role_unknown).toBe(collab.length - strangerGrants.length);
    expect(ctx.logged.some((l) => l.msg?.startsWith("GitHub: collaborator roles GitHub did not state"))).toBe(true);
  });

  it("owner/repo come from owner.login and name, never from full_name", async () => {
    gh.sim.injectFault({
      match: (r) => r.url.pathname === "/orgs/acme/repos" || /^\/organizations\/\d+\/repos$/.test(r.url.pathname),
      fault: {
        kind: "rewrite",
        rewrite: (a) => {
          const list = JSON.parse(a.body.toString("utf8")) as { full_name: string }[];
          for (const r of list) r.full_name = "evil/elsewhere";
          return { ...a, body: Buffer.from(JSON.stringify(list)) };
        },
      },
    });
    const { scopes } = await drain(appConnector(gh, keys, undefined, { collaborator_repos: true, collect_deploy_keys: true }), testContext("gh"));
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("ok");
    expect(gh.sim.requestLog.some((l) => l.includes("evil"))).toBe(false);
    expect(gh.sim.requestLog.filter((l) => /^GET \/repos\/acme\/[^/]+\/collaborators/.test(l))).toHaveLength(org().repos.length);
    const scopesSeen = new Set(acme.grants.filter((g) => g.scope.startsWith("repo:")).map((g) => g.scope));
    expect(scopesSeen.size).toBeGreaterThan(0);
    expect([...scopesSeen].every((s) => org().repos.some((r) => s === `repo:acme/${r.name}`))).toBe(true);
    expect(acme.principals.filter((p) => p.kind === "service" && p.name.includes("/")).every((p) => p.name.startsWith("acme/"))).toBe(true);
  });
});

describe("answers that identify the scope", () => {
  it("GET /orgs/{org} answering about another org fails the scope with a named reason", async () => {
    gh.sim.injectFault({
      match: (r) => r.url.pathname === "/orgs/acme",
      fault: { kind: "rewrite", rewrite: (a) => ({ ...a, body: Buffer.from(JSON.stringify({ ...JSON.parse(a.body.toString("utf8")), login: "other-org" })) }) },
    });
    const { scopes } = await drain(appConnector(gh, keys), testContext("gh"));
    expect(scopes.get("acme")).toMatchObject({ status: "failed", principals: [] });
    expect(scopes.get("acme")!.error).toContain('GET /orgs/acme answered about "other-org", not acme: refused');
  });

  it("an App installation lookup answering with another account's installation is refused before any token is minted", async () => {
    gh.sim.injectFault({
      match: (r) => r.url.pathname === "/orgs/acme/installation",
      fault: {
        kind: "rewrite",
        rewrite: (a) => {
          const inst = JSON.parse(a.body.toString("utf8")) as { account: { login: string } };
          inst.account = { ...inst.account, login: "someone-else" };
          return { ...a, body: Buffer.from(JSON.stringify(inst)) };
        },
      },
    });
    const { scopes } = await drain(appConnector(gh, keys), testContext("gh"));
    expect(scopes.get("acme")!.status).toBe("failed");
    expect(scopes.get("acme")!.error).toContain('installation on "someone-else", not on acme: refused');
    expect(gh.sim.requestLog.some((l) => l.includes("/access_tokens"))).toBe(false);
  });
});

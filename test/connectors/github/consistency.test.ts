// The org changes while it is being read, and orgs the App cannot reach: records stay consistent
// (no grant or credential points at a principal the scope did not return) and errors say what happened.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GithubSimulator } from "../../../connectors/github/simulator.js";
import { findOrg, mutations } from "../../../connectors/github/tenant.js";
import type { SimRequest } from "../../../src/simulator/harness.js";
import { drain, testContext, type ScopeResult } from "../../helpers/collect.js";
import { appConnector, appKeys, startSim, type AppKeys } from "./setup.js";

let keys: AppKeys;
let gh: GithubSimulator;

beforeAll(async () => {
  keys = await appKeys();
  gh = await startSim({ seed: 17, orgs: [{ login: "acme", members: 80, owners: 2, repos: 4, teams: 3, teamSize: 10 }, { login: "other", members: 5, repos: 1 }] }, keys);
  const other = findOrg(gh.tenant, "other");
  other.installations = other.installations.filter((i) => i.app_id !== 29110);
});
afterAll(async () => {
  await gh?.close();
});
beforeEach(() => gh.sim.clearFaults());

/** Runs `change` once, just before the first request that matches — a change made while the run is under way. */
function during(match: (r: SimRequest) => boolean, change: () => void) {
  let done = false;
  gh.sim.injectFault({
    fault: { kind: "status", status: 500 },
    match: (r) => {
      if (!done && match(r)) {
        done = true;
        change();
      }
      return false; // never actually fault: the matcher is only a hook
    },
  });
}

function expectClosedReferences(s: ScopeResult) {
  const ids = new Set(s.principals.map((p) => p.id));
  for (const g of s.grants) expect(ids.has(g.principalId), `${g.privilege} → ${g.principalId}`).toBe(true);
  for (const c of s.credentials) expect(ids.has(c.principalId), `${c.id} → ${c.principalId}`).toBe(true);
}

describe("changes during a run", () => {
  it("someone who joins (and is added to a team) after the member listing is looked up once and returned", async () => {
    const change = mutations(gh.tenant);
    const org = findOrg(gh.tenant, "acme");
    during(
      (r) => r.url.pathname === "/orgs/acme/teams",
      () => {
        const u = change.addOwner("acme", { login: "late.joiner", name: "Late Joiner" });
        org.members.set(u.id, "member");
        org.teams[0]!.members.set(u.id, "member");
        change.touch();
      },
    );
    gh.sim.resetCounters();
    const { scopes } = await drain(appConnector(gh, keys), testContext("gh"));
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("ok");
    const late = acme.principals.find((p) => p.name === "late.joiner")!;
    expect(late).toMatchObject({ status: "active", mfa: "unknown" });
    expect(acme.grants.find((g) => g.principalId === late.id && g.privilege === "org:member")).toBeDefined();
    expect(acme.grants.find((g) => g.principalId === late.id && g.privilege === `team:${org.teams[0]!.slug}`)).toBeDefined();
    expect(acme.meta?.members_joined_during_collection).toBe(1);
    expect(gh.sim.requestLog.filter((l) => l.startsWith("GET /orgs/acme/memberships/"))).toEqual(["GET /orgs/acme/memberships/late.joiner"]);
    expectClosedReferences(acme);
  });

  it("someone a team or SAML listing still shows after they left is dropped, not left dangling", async () => {
    const change = mutations(gh.tenant);
    const org = findOrg(gh.tenant, "acme");
    const leaver = gh.tenant.users.get(org.credentialAuthorizations[0]!.userId)!;
    const team = org.teams[1]!;
    team.members.set(leaver.id, "member");
    // Gone from the member list, while the team and SAML listings still show them (GitHub's listings
    // are not one transaction).
    org.members.delete(leaver.id);
    change.touch();
    try {
      gh.sim.resetCounters();
      const { scopes } = await drain(appConnector(gh, keys), testContext("gh"));
      const acme = scopes.get("acme")!;
      expect(acme.status).toBe("ok");
      expect(acme.principals.some((p) => p.id === leaver.node_id)).toBe(false);
      expect(acme.meta?.team_members_not_in_org).toBeGreaterThanOrEqual(1);
      expect(acme.meta?.credential_authorizations_of_non_members).toBe(org.credentialAuthorizations.filter((c) => c.userId === leaver.id).length);
      // One membership lookup, shared by every listing that showed the login.
      expect(gh.sim.requestLog.filter((l) => l.startsWith("GET /orgs/acme/memberships/"))).toEqual([`GET /orgs/acme/memberships/${leaver.login}`]);
      expectClosedReferences(acme);
    } finally {
      org.members.set(leaver.id, "member");
      change.touch();
    }
  });
});

describe("an org the App is not installed on", () => {
  it("fails that scope with a message saying so; the other org is collected", async () => {
    const { scopes } = await drain(appConnector(gh, keys, undefined, { orgs: ["other", "acme"] }), testContext("gh"));
    expect(scopes.get("other")!.status).toBe("failed");
    expect(scopes.get("other")!.error).toMatch(/github org "other": the GitHub App 29110 is not installed on this org \(GET \S+\/orgs\/other\/installation → 404: Not Found/);
    expect(scopes.get("acme")!.status).toBe("ok");
  });
});

describe("network failures", () => {
  it("a connection that keeps failing is reported as a network error, not as an HTTP status", async () => {
    gh.sim.injectFault({ fault: { kind: "reset" }, match: (r) => r.url.pathname === "/orgs/acme/outside_collaborators" });
    const { scopes } = await drain(appConnector(gh, keys), testContext("gh"));
    expect(scopes.get("acme")!.status).toBe("failed");
    expect(scopes.get("acme")!.error).toMatch(/GET \S+\/orgs\/acme\/outside_collaborators\?filter=2fa_disabled&per_page=100 → network error: /);
  });
});

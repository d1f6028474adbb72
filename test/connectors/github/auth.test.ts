// Authentication paths and permission-limited callers, against the simulator's JWT check and
// GitHub's owner-only / App-only rules.
import { generateKeyPairSync } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GithubSimulator } from "../../../connectors/github/simulator.js";
import { costSettings, findOrg, minimumRequests } from "../../../connectors/github/tenant.js";
import { drain, testContext } from "../../helpers/collect.js";
import { appConnector, appKeys, startSim, tokenConnector, type AppKeys } from "./setup.js";

const SPEC = {
  seed: 5,
  orgs: [{ login: "acme", members: 140, owners: 3, outsideCollaborators: 6, repos: 8, teams: 3, invitations: 2, patGrants: 4 }],
};

let keys: AppKeys;
let gh: GithubSimulator;

beforeAll(async () => {
  keys = await appKeys();
  gh = await startSim(SPEC, keys);
});
afterAll(async () => {
  await gh?.close();
});

const ownerLogin = () => {
  const org = findOrg(gh.tenant, "acme");
  return gh.tenant.users.get([...org.members].find(([, r]) => r === "admin")![0])!.login;
};
const memberLogin = () => {
  const org = findOrg(gh.tenant, "acme");
  return gh.tenant.users.get([...org.members].find(([, r]) => r === "member")![0])!.login;
};

describe("token auth", () => {
  it("an owner's classic PAT reads everything except fine-grained PATs (GitHub Apps only)", async () => {
    const token = gh.issuePat(ownerLogin(), { scopes: ["read:org", "repo"] });
    const ctx = testContext("gh", { GH_TOKEN: token });
    gh.sim.resetCounters();
    const { scopes, events } = await drain(tokenConnector(gh), ctx);
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("ok");
    expect(acme.meta?.auth).toBe("token");
    expect(acme.meta?.mfa).toBe("filter");
    expect(acme.meta?.pats_status).toMatch(/only a GitHub App/);
    expect(acme.credentials.some((c) => c.id.startsWith("pat-grant:"))).toBe(false);
    expect(acme.credentials.some((c) => c.id.startsWith("sso-authorization:"))).toBe(true);
    const min = minimumRequests(gh.tenant, "acme", costSettings("token"));
    expect(acme.requests).toBe(min);
    expect(gh.sim.requestCount).toBe(min);
    expect(JSON.stringify([events, ctx.logged])).not.toContain(token);
  });

  it("a non-owner's token: the 2FA filter is refused, so MFA is unknown (never disabled) and owner-only lists are marked unavailable", async () => {
    const token = gh.issuePat(memberLogin(), { fineGrained: true });
    const { scopes } = await drain(tokenConnector(gh), testContext("gh", { GH_TOKEN: token }));
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("ok");
    const people = acme.principals.filter((p) => p.kind === "human" || p.kind === "external");
    expect(people.length).toBe(140 + 6);
    expect(people.every((p) => p.mfa === "unknown")).toBe(true);
    expect(people[0]!.attributes?.mfa_source).toMatch(/filter=2fa_disabled refused .*422: Only owners can use this filter/);
    expect(acme.meta?.mfa).toMatch(/^unknown: /);
    expect(acme.meta?.invitations_status).toMatch(/^unavailable: .*403/);
    expect(acme.meta?.installations_status).toMatch(/^unavailable: .*403/);
    expect(acme.meta?.credential_authorizations_status).toMatch(/^unavailable: /);
    expect(acme.principals.some((p) => p.status === "invited")).toBe(false);
    // Members and teams are still visible to a member.
    expect(acme.grants.some((g) => g.privilege === "org:owner")).toBe(true);
    expect(acme.grants.some((g) => g.privilege.startsWith("team:"))).toBe(true);
  });

  it("a bad token fails the scope with GitHub's 401 message", async () => {
    const { scopes } = await drain(tokenConnector(gh), testContext("gh", { GH_TOKEN: "ghp_not_a_real_token" }));
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("failed");
    expect(acme.error).toMatch(/github org "acme": GET http:\/\/127\.0\.0\.1:\d+\/orgs\/acme → 401: Bad credentials \(x-github-request-id \w+\)/);
    expect(acme.error).not.toContain("ghp_not_a_real_token");
  });

  it("an unset secret fails every scope without sending a request", async () => {
    gh.sim.resetCounters();
    const { scopes } = await drain(tokenConnector(gh, undefined, { orgs: ["acme", "beta"] }), testContext("gh", {}));
    expect([...scopes.values()].map((s) => s.status)).toEqual(["failed", "failed"]);
    expect(scopes.get("beta")!.error).toMatch(/token: environment variable GH_TOKEN/);
    expect(gh.sim.requestCount).toBe(0);
  });
});

describe("GitHub App auth", () => {
  it("a JWT signed with the wrong key is refused at the installation lookup", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const wrong = { ...keys, keyFile: `${keys.keyFile}.wrong` };
    await writeFile(wrong.keyFile, other, { mode: 0o600 });
    const issued = gh.tokensIssued;
    const { scopes } = await drain(appConnector(gh, wrong), testContext("gh"));
    expect(scopes.get("acme")!.status).toBe("failed");
    expect(scopes.get("acme")!.error).toMatch(/GET \S+\/orgs\/acme\/installation → 401: A JSON web token could not be decoded/);
    expect(gh.tokensIssued).toBe(issued);
  });

  it("with installation_ids the lookup is skipped: the first request is the RS256-signed token exchange", async () => {
    const inst = findOrg(gh.tenant, "acme").installations.find((i) => i.app_id === 29110)!;
    gh.sim.resetCounters();
    const { scopes } = await drain(appConnector(gh, keys, undefined, { installation_ids: { acme: inst.id }, collect_teams: false }), testContext("gh"));
    expect(scopes.get("acme")!.status).toBe("ok");
    expect(gh.sim.requestLog[0]).toBe(`POST /app/installations/${inst.id}/access_tokens`);
    expect(gh.sim.requestLog.some((l) => l.includes("/installation?") || l.endsWith("/installation"))).toBe(false);
    expect(scopes.get("acme")!.credentials.filter((c) => c.id.startsWith("pat-grant:"))).toHaveLength(4);
  });

  it("an installation without the Personal access tokens permission gets the rest, and says why PATs are missing", async () => {
    const inst = findOrg(gh.tenant, "acme").installations.find((i) => i.app_id === 29110)!;
    const saved = { ...inst.permissions };
    delete inst.permissions.organization_personal_access_tokens;
    try {
      const { scopes } = await drain(appConnector(gh, keys), testContext("gh"));
      const acme = scopes.get("acme")!;
      expect(acme.status).toBe("ok");
      expect(acme.meta?.pats_status).toMatch(/403: Resource not accessible by integration/);
      expect(acme.credentials.some((c) => c.id.startsWith("pat-grant:"))).toBe(false);
      expect(acme.credentials.some((c) => c.id.startsWith("pat-request:"))).toBe(true);
      expect(acme.principals.filter((p) => p.kind === "human").length).toBeGreaterThanOrEqual(140);
    } finally {
      inst.permissions = saved;
    }
  });
});

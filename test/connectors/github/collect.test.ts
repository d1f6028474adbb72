// The real @octokit/rest + @octokit/auth-app against the simulator: what one org collection yields,
// checked against the simulated tenant, and what it costs in requests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GithubSimulator } from "../../../connectors/github/simulator.js";
import { effectiveTeamMembers, findOrg, minimumRequests, type SimOrg, type SimTenant } from "../../../connectors/github/tenant.js";
import { drain, testContext, type ScopeResult } from "../../helpers/collect.js";
import { appConnector, appKeys, SMALL, startSim, type AppKeys } from "./setup.js";

let keys: AppKeys;
let gh: GithubSimulator;
let result: ScopeResult;
let requestsCounted: number;
let org: SimOrg;
let tenant: SimTenant;
let events: unknown[];

const FULL = { collect_deploy_keys: true, collaborator_repos: true, collect_repo_grants: true };

beforeAll(async () => {
  keys = await appKeys();
  gh = await startSim(SMALL, keys);
  tenant = gh.tenant;
  org = findOrg(tenant, "acme");
  const ctx = testContext("gh-test");
  const out = await drain(appConnector(gh, keys, undefined, FULL), ctx);
  events = out.events;
  result = out.scopes.get("acme")!;
  requestsCounted = ctx.requests.get("acme") ?? 0;
});

afterAll(async () => {
  await gh?.close();
});

const user = (id: number) => tenant.users.get(id)!;

describe("github connector, GitHub App auth, one org", () => {
  it("ends the org scope ok with its meta", () => {
    expect(result.status).toBe("ok");
    expect(result.meta).toMatchObject({
      auth: "app",
      org_id: org.id,
      org_node_id: org.node_id,
      owners: [...org.members.values()].filter((r) => r === "admin").length,
      members: [...org.members.values()].filter((r) => r === "member").length,
      outside_collaborators: org.outside.size,
      pending_invitations: org.invitations.length,
      failed_invitations: org.failedInvitations.length,
      teams: org.teams.length,
      installations: org.installations.length,
      pats: org.patGrants.length,
      pat_requests_pending: org.patRequests.length,
      credential_authorizations: org.credentialAuthorizations.length,
      repositories: org.repos.length,
      server: "GitHub.com",
      mfa: "filter",
    });
    expect(result.meta!.failed_invitation_list).toHaveLength(org.failedInvitations.length);
    expect(String((result.meta!.failed_invitation_list as string[])[0])).toMatch(/Invitation expired/);
  });

  it("returns every member (Link pagination to the last page) with the provider-stable node id, role and 2FA", () => {
    const members = result.principals.filter((p) => p.attributes?.org_relation === "owner" || p.attributes?.org_relation === "member");
    expect(members).toHaveLength(org.members.size);
    for (const [id, role] of org.members) {
      const u = user(id);
      const p = members.find((x) => x.id === u.node_id);
      expect(p, u.login).toBeDefined();
      expect(p!.name).toBe(u.login);
      expect(p!.kind).toBe("human");
      expect(p!.status).toBe("active");
      expect(p!.mfa).toBe(u.twoFactor === "off" ? "disabled" : "enabled");
      expect(p!.email ?? null).toBe(u.email);
      expect(p!.attributes?.org_relation).toBe(role === "admin" ? "owner" : "member");
      // No last-login field on GitHub and audit_log is off: unknown, never "never".
      expect(p!.lastActive).toMatchObject({ at: null, known: false });
    }
    // 250 members at per_page=100: the connector followed GitHub's /organizations/{id}/ next links.
    expect(gh.sim.requestLog).toContain(`GET /organizations/${org.id}/members?role=member&per_page=100&page=3`);
    expect(gh.sim.requestLog.some((l) => l.includes("per_page=30"))).toBe(false);
  });

  it("grants owners admin on the org and members the base repository permission", () => {
    for (const [id, role] of org.members) {
      const g = result.grants.filter((x) => x.principalId === user(id).node_id && x.scope === "org:acme" && x.privilege.startsWith("org:"));
      expect(g).toHaveLength(1);
      expect(g[0]).toMatchObject(role === "admin" ? { privilege: "org:owner", level: "admin" } : { privilege: "org:member", level: "read" });
    }
    const ownersWithout2fa = result.principals.filter((p) => p.attributes?.org_relation === "owner" && p.mfa === "disabled");
    expect(ownersWithout2fa.length).toBeGreaterThan(0);
  });

  it("returns outside collaborators as external principals with their repository permissions", () => {
    const outside = result.principals.filter((p) => p.kind === "external");
    expect(outside.map((p) => p.id).sort()).toEqual([...org.outside].map((id) => user(id).node_id).sort());
    for (const repo of org.repos) {
      for (const [uid, role] of repo.collaborators) {
        const g = result.grants.find((x) => x.principalId === user(uid).node_id && x.scope === `repo:acme/${repo.name}`);
        expect(g, `${user(uid).login} on ${repo.name}`).toMatchObject({ privilege: `collaborator:${role}`, via: "direct" });
      }
    }
    expect(result.grants.some((g) => g.privilege === "collaborator:admin" && g.level === "admin")).toBe(true);
  });

  it("returns pending invitations as invited principals", () => {
    const invited = result.principals.filter((p) => p.status === "invited");
    expect(invited).toHaveLength(org.invitations.length);
    const admin = org.invitations.find((i) => i.role === "admin")!;
    expect(invited.find((p) => p.id === admin.node_id)).toMatchObject({ attributes: { invited_role: "admin", inviter: user(admin.inviterId).login } });
    const byEmail = org.invitations.find((i) => i.login === null)!;
    expect(invited.find((p) => p.id === byEmail.node_id)?.name).toBe(byEmail.email);
  });

  it("returns team memberships (child-team members included) and, with collect_repo_grants, team repository grants", () => {
    for (const t of org.teams) {
      const members = effectiveTeamMembers(org, t);
      const grants = result.grants.filter((g) => g.attributes?.team_id === t.id && g.scope === "org:acme");
      expect(grants, t.slug).toHaveLength(members.size);
      for (const [uid, role] of members) {
        const g = grants.find((x) => x.principalId === user(uid).node_id)!;
        expect(g.privilege).toBe(role === "maintainer" ? `team:${t.slug}:maintainer` : `team:${t.slug}`);
      }
      for (const [rid, role] of t.repos) {
        const repo = org.repos.find((r) => r.id === rid)!;
        const derived = result.grants.filter((g) => g.scope === `repo:acme/${repo.name}` && g.privilege === `team:${t.slug}:${role}`);
        expect(derived).toHaveLength(members.size);
        expect(derived.every((g) => g.via === "group")).toBe(true);
      }
    }
  });

  it("returns app installations as service principals with a grant per permission", () => {
    const apps = result.principals.filter((p) => p.id.startsWith("app-installation:"));
    expect(apps.map((p) => p.name).sort()).toEqual(org.installations.map((i) => i.app_slug).sort());
    const ci = org.installations.find((i) => i.app_slug === "ci-deployer")!;
    const ciGrants = result.grants.filter((g) => g.principalId === `app-installation:${ci.id}`);
    expect(ciGrants).toHaveLength(Object.keys(ci.permissions).length);
    expect(ciGrants.find((g) => g.privilege === "app:administration:write")).toMatchObject({ level: "privileged", scope: "org:acme/repositories:all" });
    expect(ciGrants.find((g) => g.privilege === "app:contents:write")?.level).toBe("write");
    const triage = org.installations.find((i) => i.app_slug === "issue-triage")!;
    expect(result.grants.find((g) => g.principalId === `app-installation:${triage.id}`)?.scope).toBe("org:acme/repositories:selected");
  });

  it("returns fine-grained PAT grants and pending requests as pat credentials with last use", () => {
    const grants = result.credentials.filter((c) => c.id.startsWith("pat-grant:"));
    expect(grants).toHaveLength(org.patGrants.length);
    for (const g of org.patGrants) {
      const c = grants.find((x) => x.id === `pat-grant:${g.id}`)!;
      expect(c.principalId).toBe(user(g.ownerId).node_id);
      expect(c.kind).toBe("pat");
      expect(c.expiresAt).toBe(g.token_expires_at);
      expect(c.status).toBe(g.token_expires_at && Date.parse(g.token_expires_at) <= Date.now() ? "expired" : "active");
      expect(c.lastUsed).toEqual({ at: g.token_last_used_at, known: true, signal: "token_last_used_at" });
    }
    expect(grants.some((c) => c.lastUsed?.at === null)).toBe(true); // a never-used token
    const pending = result.credentials.filter((c) => c.id.startsWith("pat-request:"));
    expect(pending).toHaveLength(org.patRequests.length);
    for (const r of org.patRequests) {
      const expired = r.token_expires_at !== null && Date.parse(r.token_expires_at) <= Date.now();
      expect(pending.find((c) => c.id === `pat-request:${r.id}`)?.status).toBe(expired ? "expired" : "pending");
    }
    expect(pending.some((c) => c.status === "pending")).toBe(true);
  });

  it("returns SAML credential authorizations with last access, never the token's last eight", () => {
    const sso = result.credentials.filter((c) => c.id.startsWith("sso-authorization:"));
    expect(sso).toHaveLength(org.credentialAuthorizations.length);
    for (const a of org.credentialAuthorizations) {
      const c = sso.find((x) => x.id === `sso-authorization:${a.credential_id}`)!;
      expect(c.principalId).toBe(user(a.userId).node_id);
      expect(c.kind).toBe(a.credential_type === "SSH key" ? "ssh_key" : "pat");
      expect(c.lastUsed).toEqual({ at: a.credential_accessed_at, known: true, signal: "credential_accessed_at" });
      expect(c.expiresAt).toBe(a.authorized_credential_expires_at ?? null);
    }
    const json = JSON.stringify(events);
    for (const a of org.credentialAuthorizations) if (a.token_last_eight) expect(json).not.toContain(a.token_last_eight);
  });

  it("returns deploy keys as credentials of repository principals, with read-only vs write and last use", () => {
    const keysExpected = org.repos.flatMap((r) => r.keys.map((k) => ({ r, k })));
    const creds = result.credentials.filter((c) => c.kind === "deploy_key");
    expect(creds).toHaveLength(keysExpected.length);
    for (const { r, k } of keysExpected) {
      const c = creds.find((x) => x.id === `deploy-key:${k.id}`)!;
      expect(c.principalId).toBe(r.node_id);
      expect(c.attributes?.read_only).toBe(k.read_only);
      expect(c.attributes?.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(c.lastUsed).toEqual({ at: k.last_used, known: true, signal: "last_used" });
      const repoPrincipal = result.principals.find((p) => p.id === r.node_id)!;
      expect(repoPrincipal).toMatchObject({ kind: "service", name: `acme/${r.name}`, status: r.archived ? "archived" : "active" });
      expect(result.grants.some((g) => g.principalId === r.node_id && g.privilege === (k.read_only ? "deploy_key:read" : "deploy_key:write"))).toBe(true);
    }
  });

  it("refers only to principals it returned, and uses ISO-8601 UTC timestamps", () => {
    const ids = new Set(result.principals.map((p) => p.id));
    for (const c of result.credentials) expect(ids.has(c.principalId), c.id).toBe(true);
    for (const g of result.grants) expect(ids.has(g.principalId), g.privilege).toBe(true);
    const stamps = [
      ...result.principals.flatMap((p) => [p.createdAt, p.lastActive?.at]),
      ...result.credentials.flatMap((c) => [c.createdAt, c.expiresAt, c.lastUsed?.at]),
    ].filter((v): v is string => typeof v === "string");
    expect(stamps.length).toBeGreaterThan(100);
    for (const s of stamps) expect(s).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(new Set(result.principals.map((p) => p.id)).size).toBe(result.principals.length);
  });

  it("counts every HTTP request it sent, and sends no more than the API's minimum for these settings", () => {
    expect(requestsCounted).toBe(gh.sim.requestCount);
    const min = minimumRequests(tenant, "acme", {
      auth: "app",
      installationLookup: true,
      mfaInsecure: false,
      collectInvitations: true,
      collectTeams: true,
      collectRepoGrants: true,
      collectInstallations: true,
      collectPats: true,
      collectCredentialAuthorizations: true,
      collectDeployKeys: true,
      collaboratorRepos: true,
    });
    expect(requestsCounted).toBe(min);
    // One App JWT exchange for the installation token, after the installation lookup.
    expect(gh.sim.requestLog.slice(0, 2)).toEqual(["GET /orgs/acme/installation", expect.stringMatching(/^POST \/app\/installations\/\d+\/access_tokens$/)]);
    expect(gh.tokensIssued).toBe(1);
  });

  it("yields records in page-sized batches, not the whole org at once", () => {
    const sizes = events.flatMap((e) => {
      const ev = e as { type: string; principals?: unknown[]; grants?: unknown[]; credentials?: unknown[] };
      return ev.type === "records" ? [(ev.principals?.length ?? 0) + (ev.credentials?.length ?? 0)] : [];
    });
    expect(sizes.length).toBeGreaterThan(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(200);
  });
});

// The github remediator through @octokit/rest (throttling, App auth) against the simulator: remove a member and
// re-invite them with the same role and teams, revoke a PAT grant (opt-in only), each seen by the next collect;
// inspect states; requests from the simulator's own log; refusals, secondary limits, hostile logins.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { githubConnector } from "../../../connectors/github/index.js";
import { createGithubEventReader } from "../../../connectors/github/events.js";
import { createGithubRemediator } from "../../../connectors/github/remediate.js";
import { findOrg, mutations } from "../../../connectors/github/tenant.js";
import type { GithubSimulator } from "../../../connectors/github/simulator.js";
import type { AuditEvent } from "../../../src/events/contract.js";
import type { Attributes, Credential, Principal } from "../../../src/model.js";
import type { ActionRequest, Remediator } from "../../../src/remediate/contract.js";
import { drain, testContext, type ScopeResult } from "../../helpers/collect.js";
import { remediationContext, type TestRemediationContext } from "../../helpers/remediate.js";
import { APP_ID, appConnector, appKeys, parseOptions, TestClock, type AppKeys } from "./setup.js";
import { startSim } from "./setup.js";

const SPEC = { seed: 3, orgs: [{ login: "acme", members: 40, owners: 3, outsideCollaborators: 3, repos: 6, teams: 4, teamSize: 8, invitations: 1, patGrants: 4, patRequests: 0 }] };

let keys: AppKeys;
let gh: GithubSimulator;
let ctx: TestRemediationContext;
let baseline: ScopeResult;

const installation = () => findOrg(gh.tenant, "acme").installations.find((i) => i.app_id === APP_ID)!;

function remediator(extra: Record<string, unknown> = {}, clock = new TestClock()): Remediator {
  const opts = parseOptions({ orgs: ["acme"], base_url: gh.baseUrl, app_id: APP_ID, private_key: `file:${keys.keyFile}`, ...extra });
  return createGithubRemediator("gh", opts, { sleep: clock.sleep, retryBaseMs: 5 });
}

async function collect(): Promise<ScopeResult> {
  const r = (await drain(appConnector(gh, keys), testContext("gh"))).scopes.get("acme")!;
  expect(r.status).toBe("ok");
  return r;
}

const apiLog = () => gh.sim.requestLog.filter((l) => !l.includes("/access_tokens") && !l.endsWith("/installation"));
const writes = () => apiLog().filter((l) => !l.startsWith("GET "));

function removeRequest(p: Principal): ActionRequest {
  return { type: "remove-org-member", target: { scope: "acme", principal: { id: p.id, name: p.name, kind: p.kind, attributes: p.attributes ?? {} } } };
}

function revokeRequest(p: Principal, c: Credential): ActionRequest {
  return {
    type: "revoke-token",
    target: { scope: "acme", principal: { id: p.id, name: p.name, kind: p.kind, attributes: p.attributes ?? {} }, credential: { id: c.id, kind: c.kind, name: c.name, attributes: c.attributes ?? {} } },
  };
}

beforeAll(async () => {
  keys = await appKeys();
  gh = await startSim(SPEC, keys);
  ctx = remediationContext("gh");
  baseline = await collect();
  // The remediation App's installation may write members and PAT grants.
  Object.assign(installation().permissions, { members: "write", organization_personal_access_tokens: "write" });
});
afterAll(async () => {
  await ctx?.release();
  await gh?.close();
});

const teamsOf = (r: ScopeResult, id: string) => r.grants.filter((g) => g.principalId === id && g.privilege.startsWith("team:")).map((g) => g.privilege).sort();

describe("remove-org-member", () => {
  it("reads role and teams, removes with one write; the next collect misses them; undo re-invites with role and teams", async () => {
    const member = baseline.principals.find((p) => p.attributes?.org_relation === "member" && teamsOf(baseline, p.id).length > 0)!;
    const teams = teamsOf(baseline, member.id);
    const rem = remediator();
    const req = removeRequest(member);
    await rem.inspect(ctx, req); // warms the installation token
    gh.sim.resetCounters();
    expect(await rem.inspect(ctx, req)).toEqual({ state: "ready", detail: `"${member.name}" is an active member` });
    const recorded: Attributes[] = [];
    const applied = await rem.apply(ctx, req, (u) => recorded.push(u));
    expect(applied.status).toBe("done");
    // Handed over before the DELETE: GitHub forgets role and teams with it, a crash after it keeps them.
    expect(recorded).toEqual([applied.undo]);
    const org = findOrg(gh.tenant, "acme");
    expect(writes()).toEqual([`DELETE /orgs/acme/members/${member.name}`]);
    // One membership read, one page of teams, one membership read per team.
    expect(apiLog().filter((l) => l.startsWith("GET "))).toHaveLength(2 + org.teams.length);
    expect(applied.undo).toMatchObject({ role: "member" });
    expect([...(applied.undo.teams as string[]), ...(applied.undo.maintainer_teams as string[]).map((s) => `${s}:maintainer`)].map((s) => `team:${s}`).sort()).toEqual(teams);
    const after = await collect();
    expect(after.principals.some((p) => p.id === member.id)).toBe(false);
    expect(await rem.inspect(ctx, req)).toMatchObject({ state: "already-done" });

    gh.sim.resetCounters();
    expect((await rem.apply(ctx, req)).status).toBe("already-done");
    expect(writes()).toEqual([]);

    const undone = await rem.undo(ctx, req, applied.undo);
    expect(undone.answer).toMatch(/^membership member: pending \(re-invited/);
    expect((await collect()).principals.find((p) => p.name === member.name)?.status).toBe("invited");
    mutations(gh.tenant).acceptInvitation("acme", member.name);
    const back = await collect();
    expect(back.principals.find((p) => p.id === member.id)?.status).toBe("active");
    expect(teamsOf(back, member.id)).toEqual(teams);
  });

  it("an owner comes back as an owner", async () => {
    const owner = baseline.principals.find((p) => p.attributes?.org_relation === "owner")!;
    const rem = remediator();
    const applied = await rem.apply(ctx, removeRequest(owner));
    expect(applied.undo).toMatchObject({ role: "admin" });
    await rem.undo(ctx, removeRequest(owner), applied.undo);
    mutations(gh.tenant).acceptInvitation("acme", owner.name);
    expect(findOrg(gh.tenant, "acme").members.get(gh.tenant.usersByLogin.get(owner.name.toLowerCase())!.id)).toBe("admin");
  });

  it("says changed when the login now belongs to another account, and refuses outside collaborators and hostile logins without a request", async () => {
    const member = baseline.principals.find((p) => p.attributes?.org_relation === "member")!;
    const rem = remediator();
    expect(await rem.inspect(ctx, removeRequest({ ...member, id: "U_someoneElse" }))).toMatchObject({ state: "changed" });
    gh.sim.resetCounters();
    await expect(rem.apply(ctx, removeRequest({ ...member, id: "U_someoneElse" }))).rejects.toThrow(/not applied: .* is now another account/);
    const outside = baseline.principals.find((p) => p.attributes?.org_relation === "outside_collaborator")!;
    await expect(rem.apply(ctx, removeRequest(outside))).rejects.toThrow(/is an outside collaborator/);
    await expect(rem.apply(ctx, removeRequest({ ...member, name: "../../orgs/acme" }))).rejects.toThrow(/is not a GitHub login/);
    await expect(rem.apply(ctx, { ...removeRequest(member), target: { ...removeRequest(member).target, scope: "evil-org" } })).rejects.toThrow(/not one of this source's orgs/);
    expect(writes()).toEqual([]);
  });

  it("an installation with Members: read gets GitHub's 403 with the permission to add", async () => {
    const member = baseline.principals.filter((p) => p.attributes?.org_relation === "member").at(-1)!;
    installation().permissions.members = "read";
    try {
      await expect(remediator().apply(remediationContext("gh"), removeRequest(member))).rejects.toThrow(
        /DELETE .*\/orgs\/acme\/members\/.* → 403: Resource not accessible by integration .*— the remediate GitHub App needs the organization permission Members: read and write/,
      );
    } finally {
      installation().permissions.members = "write";
    }
    expect(findOrg(gh.tenant, "acme").members.has(gh.tenant.usersByLogin.get(member.name.toLowerCase())!.id)).toBe(true);
  });

  it("waits out a secondary rate limit on the write as GitHub asks, then sends it once more", async () => {
    const member = baseline.principals.filter((p) => p.attributes?.org_relation === "member").at(-2)!;
    const clock = new TestClock();
    const rem = remediator({}, clock);
    gh.sim.resetCounters();
    gh.secondaryLimit({ times: 1, status: 403, retryAfter: 7, match: (method) => method === "DELETE" });
    const applied = await rem.apply(remediationContext("gh"), removeRequest(member));
    expect(applied.status).toBe("done");
    expect(clock.waits).toEqual([7000]);
    expect(writes()).toEqual([`DELETE /orgs/acme/members/${member.name}`, `DELETE /orgs/acme/members/${member.name}`]);
    await rem.undo(ctx, removeRequest(member), applied.undo);
  });
});

describe("revoke-token", () => {
  it("is refused without the remediate block's opt-in, then revokes with one read and one write, and cannot be undone", async () => {
    const live = new Set(findOrg(gh.tenant, "acme").patGrants.map((g) => `pat-grant:${g.id}`));
    const pat = baseline.credentials.find((c) => live.has(c.id))!;
    const owner = baseline.principals.find((p) => p.id === pat.principalId)!;
    const req = revokeRequest(owner, pat);
    gh.sim.resetCounters();
    await expect(remediator().inspect(ctx, req)).rejects.toThrow(/revoke-token is irreversible: add allow_irreversible = \["revoke-token"\]/);
    expect(gh.sim.requestLog).toEqual([]);

    const rem = remediator({ allow_irreversible: ["revoke-token"] });
    expect(await rem.inspect(ctx, req)).toMatchObject({ state: "ready" });
    const applied = await rem.apply(ctx, req);
    expect(applied.status).toBe("done");
    const grantId = String(pat.attributes!.grant_id);
    expect(writes()).toEqual([`POST /orgs/acme/personal-access-tokens/${grantId}`]);
    expect((await collect()).credentials.some((c) => c.id === pat.id)).toBe(false);
    expect(await rem.inspect(ctx, req)).toMatchObject({ state: "already-done" });
    gh.sim.resetCounters();
    expect((await rem.apply(ctx, req)).status).toBe("already-done");
    expect(writes()).toEqual([]);
    await expect(rem.undo(ctx, req, applied.undo)).rejects.toThrow(/cannot be undone/);
    expect(githubConnector.remediator).toBeDefined();
  });
});

describe("the org audit log", () => {
  /** Everything the audit log recorded since `since`, through the real event reader (Octokit, `after` cursors). */
  async function auditSince(since: string): Promise<AuditEvent[]> {
    const opts = parseOptions({ orgs: ["acme"], base_url: gh.baseUrl, app_id: APP_ID, private_key: `file:${keys.keyFile}` });
    const rctx = testContext("gh");
    const out: AuditEvent[] = [];
    try {
      for await (const ev of createGithubEventReader("gh", opts).read(rctx, [{ scope: "acme", feed: "audit-log", cursor: null, since }])) {
        if (ev.type === "events") out.push(...ev.events);
        if (ev.type === "feed-failed" || ev.type === "feed-unavailable") throw new Error(JSON.stringify(ev));
      }
    } finally {
      await rctx.release();
    }
    return out;
  }

  it("records each remediation write as GitHub does, with the App's bot as the actor, so the next diff can say who", async () => {
    const now = await collect();
    const org = findOrg(gh.tenant, "acme");
    const live = new Set(org.patGrants.map((g) => `pat-grant:${g.id}`));
    const pat = now.credentials.find((c) => live.has(c.id))!;
    const patOwner = now.principals.find((p) => p.id === pat.principalId)!;
    const member = now.principals.find((p) => p.attributes?.org_relation === "member" && p.id !== patOwner.id && teamsOf(now, p.id).length > 0)!;
    const teams = teamsOf(now, member.id);
    const since = new Date(Date.now() - 1000).toISOString();
    // The earlier tests wrote to the same org moments ago (a revoked PAT of the same owner among them): only what this test writes counts.
    const earlier = new Set((await auditSince(since)).map((e) => e.id));
    const rem = remediator({ allow_irreversible: ["revoke-token"] });
    const removed = await rem.apply(ctx, removeRequest(member));
    expect((await rem.apply(ctx, revokeRequest(patOwner, pat))).status).toBe("done");
    await rem.undo(ctx, removeRequest(member), removed.undo);
    mutations(gh.tenant).acceptInvitation("acme", member.name);

    const mine = (await auditSince(since)).filter((e) => !earlier.has(e.id) && (e.target?.name === member.name || e.target?.name === patOwner.name));
    const bot = { name: "whohas-inventory[bot]", kind: "app" };
    const removal = mine.find((e) => e.providerAction === "org.remove_member")!;
    expect(removal).toMatchObject({ action: "account.delete", actor: bot, target: { principalId: member.id, name: member.name }, details: { programmatic_access_type: "GitHub App server-to-server token" } });
    expect(removal.userAgent).toMatch(/whohas-github-remediator/);
    expect(removal.ip).toMatch(/^(127\.0\.0\.1|::1)$/);
    expect(mine.find((e) => e.providerAction === "org.invite_member")).toMatchObject({ actor: bot, target: { principalId: member.id } });
    expect(mine.find((e) => e.providerAction === "personal_access_token.access_revoked")).toMatchObject({
      action: "credential.delete",
      actor: bot,
      target: { principalId: patOwner.id, name: patOwner.name },
      details: { programmatic_access_type: "Fine-grained personal access token" },
    });
    // The invitee's acceptance brings the membership and the teams back; each is recorded with the invitee as the actor.
    expect(mine.find((e) => e.providerAction === "org.add_member")).toMatchObject({ action: "account.create", actor: { name: member.name, kind: "person" }, target: { principalId: member.id } });
    const teamEvents = mine.filter((e) => e.providerAction === "team.add_member" || e.providerAction === "team.promote_maintainer");
    expect(teamEvents.map((e) => e.target?.privilege).sort()).toEqual(teams);
    // No write went unrecorded: one entry per write, and nothing attributed to an org owner who did not act.
    expect(mine.filter((e) => e.actor.kind === "app").map((e) => e.providerAction).sort()).toEqual(["org.invite_member", "org.remove_member", "personal_access_token.access_revoked"]);
  });
});

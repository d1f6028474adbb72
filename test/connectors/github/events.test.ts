// The github "audit-log" event feed through the real Octokit client against the simulator's org audit log
// (newest first, 100 a page, Link rel="next" with `after` cursors, secondary rate limits): paging, the
// not-Enterprise case, errors, hostile names, the demo's changes, a second read from the first one's end,
// and one reader shared with last activity.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORG, startGithubDemo } from "../../../connectors/github/demo.js";
import { createGithubEventReader } from "../../../connectors/github/events.js";
import { githubOptions } from "../../../connectors/github/options.js";
import type { GithubSimulator } from "../../../connectors/github/simulator.js";
import { findOrg, mutations } from "../../../connectors/github/tenant.js";
import type { AuditEvent, FeedEvent, FeedRequest } from "../../../src/events/contract.js";
import { testContext } from "../../helpers/collect.js";
import { appKeys, APP_ID, parseOptions, startSim, TestClock, type AppKeys } from "./setup.js";

let gh: GithubSimulator;
let keys: AppKeys;
const clock = new TestClock();

beforeAll(async () => {
  keys = await appKeys();
  gh = await startSim(
    {
      seed: 5,
      orgs: [
        { login: "acme", members: 60, owners: 3, repos: 6, teams: 2, auditEvents: 250 },
        { login: "smallco", members: 8, repos: 1, plan: "team", saml: false },
      ],
    },
    keys,
  );
});
afterAll(async () => gh?.close());

function reader(raw: Record<string, unknown> = {}, now?: () => Date) {
  const opts = parseOptions({ orgs: ["acme", "smallco"], base_url: gh.baseUrl, app_id: APP_ID, private_key: `file:${keys.keyFile}`, ...raw });
  return createGithubEventReader("gh-test", opts, { sleep: clock.sleep, retryBaseMs: 5, ...(now ? { now } : {}) });
}

async function read(r: ReturnType<typeof createGithubEventReader>, requests: FeedRequest[], ctx = testContext("gh")): Promise<FeedEvent[]> {
  const out: FeedEvent[] = [];
  try {
    for await (const ev of r.read(ctx, requests)) out.push(ev);
  } finally {
    await ctx.release();
  }
  return out;
}

const eventsOf = (evs: FeedEvent[]): AuditEvent[] => evs.flatMap((e) => (e.type === "events" ? e.events : []));
const endOf = (evs: FeedEvent[], scope: string) => evs.find((e) => (e.type === "feed-end" || e.type === "feed-failed" || e.type === "feed-unavailable") && e.scope === scope);
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
const auditRequests = () => gh.sim.requestLog.filter((l) => l.includes("/audit-log"));

describe("the audit-log feed", () => {
  it("pages through every entry since `since`, 100 a page, following the `after` cursors", async () => {
    const org = findOrg(gh.tenant, "acme");
    const since = daysAgo(45);
    const expected = org.auditLog.filter((e) => e["@timestamp"] >= Date.parse(since));
    const before = auditRequests().length;
    const evs = await read(reader(), [{ scope: "acme", feed: "audit-log", cursor: null, since }]);
    const events = eventsOf(evs);
    expect(events.map((e) => e.id).sort()).toEqual(expected.map((e) => e._document_id).sort());
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const requests = auditRequests().slice(before);
    expect(requests).toHaveLength(Math.ceil(expected.length / 100));
    expect(requests.slice(1).every((l) => l.includes("after="))).toBe(true);
    expect(requests[0]).toContain("per_page=100");
    expect(requests[0]).toContain("include=all");
    // Pages carry the `after` cursor of the page that follows; the last one the read's end.
    const cursors = evs.filter((e) => e.type === "events").map((e) => (e.type === "events" ? e.cursor : ""));
    expect(cursors.slice(0, -1).every((c) => Number.isNaN(Date.parse(c)))).toBe(true);
    expect(endOf(evs, "acme")).toMatchObject({ type: "feed-end", coveredUntil: cursors[cursors.length - 1] });
    // Actors are resolved to the node ids members are stored under.
    const someone = events.find((e) => e.actor.name)!;
    expect(someone.actor).toEqual({ id: gh.tenant.usersByLogin.get(someone.actor.name!.toLowerCase())!.node_id, name: someone.actor.name, kind: "person" });
  });

  it("is unavailable (not empty) where the org has no audit log", async () => {
    const evs = await read(reader(), [{ scope: "smallco", feed: "audit-log", cursor: null, since: daysAgo(1) }]);
    expect(endOf(evs, "smallco")).toMatchObject({ type: "feed-unavailable", reason: expect.stringMatching(/Enterprise Cloud and Enterprise Server only.*404/) });
    expect(evs.some((e) => e.type === "feed-end")).toBe(false);
  });

  it("fails, naming the refusal, when the caller may not read it; other orgs go on", async () => {
    const token = gh.issuePat(gh.tenant.users.get([...findOrg(gh.tenant, "acme").members].find(([, r]) => r === "member")![0])!.login);
    process.env.GH_EVENTS_TOKEN = token;
    const evs = await read(reader({ app_id: undefined, private_key: undefined, token: "env:GH_EVENTS_TOKEN" }), [
      { scope: "acme", feed: "audit-log", cursor: null, since: daysAgo(1) },
      { scope: "smallco", feed: "audit-log", cursor: null, since: daysAgo(1) },
      { scope: "elsewhere", feed: "audit-log", cursor: null, since: daysAgo(1) },
    ]);
    expect(endOf(evs, "acme")).toMatchObject({ type: "feed-failed", error: expect.stringMatching(/403/) });
    expect(endOf(evs, "smallco")).toBeDefined();
    expect(endOf(evs, "elsewhere")).toMatchObject({ type: "feed-failed", error: expect.stringMatching(/not one of this source's orgs/) });
  });

  it("waits out a secondary rate limit and reads on", async () => {
    const waits = clock.waits.length;
    gh.secondaryLimit({ times: 1, retryAfter: 7, match: (_m, path) => path.endsWith("/audit-log") });
    const evs = await read(reader(), [{ scope: "acme", feed: "audit-log", cursor: null, since: daysAgo(3) }]);
    expect(endOf(evs, "acme")?.type).toBe("feed-end");
    expect(clock.waits.slice(waits)).toEqual([7000]);
  });

  it("maps the changes the simulator records, keeping hostile names exactly", async () => {
    const change = mutations(gh.tenant, 11);
    const org = findOrg(gh.tenant, "acme");
    const owner = gh.tenant.users.get([...org.members].find(([, r]) => r === "admin")![0])!.login;
    const member = gh.tenant.users.get([...org.members].filter(([, r]) => r === "member")[3]![0])!.login;
    const start = new Date(Date.now() - 1000).toISOString();
    const hostile = change.addOwner("acme", { login: "toString" }, { login: owner, ip: "192.0.2.146", userAgent: "\u001b]0;pwned\u0007" });
    change.setRole("acme", "toString", "member", { login: owner });
    change.addOutsideCollaborator("acme", "<img src=x onerror=alert(1)>", org.repos[0]!.name, "admin", { login: owner });
    change.addPatGrant("acme", member, {}, { login: owner });
    change.suspendInstallation("acme", "ci-deployer", owner);
    change.removeMember("acme", member, { login: owner });
    const evs = await read(reader(), [{ scope: "acme", feed: "audit-log", cursor: null, since: start }]);
    const by = (action: string) => eventsOf(evs).find((e) => e.providerAction === action)!;
    expect(by("org.add_member")).toMatchObject({ action: "account.create", target: { name: "toString", principalId: hostile.node_id }, ip: "192.0.2.146", userAgent: "\u001b]0;pwned\u0007", details: { permission: "admin" } });
    expect(by("org.update_member")).toMatchObject({ action: "grant.remove", target: { name: "toString", privilege: "org:owner" } });
    expect(by("repo.add_member")).toMatchObject({ action: "grant.add", target: { name: "<img src=x onerror=alert(1)>", privilege: "collaborator:admin" } });
    expect(by("personal_access_token.access_granted")).toMatchObject({ action: "credential.create", target: { name: member } });
    expect(by("integration_installation.suspend")).toMatchObject({ action: "account.disable", target: { principalId: `app-installation:${org.installations.find((i) => i.app_slug === "ci-deployer")!.id}` } });
    expect(by("org.remove_member")).toMatchObject({ action: "account.delete", actor: { name: owner, kind: "person" }, target: { name: member, principalId: gh.tenant.usersByLogin.get(member)!.node_id } });
  });
});

describe("incremental reads", () => {
  it("a second read from the first one's coverage yields only the new entries; an idle one costs one request", async () => {
    // Ahead of the entries earlier tests wrote at the real time, which a whole-second coverage would include.
    let now = Date.now() + 3_000;
    gh.tenant.clock = () => now;
    try {
      const r = reader({}, () => new Date(now));
      const first = await read(r, [{ scope: "acme", feed: "audit-log", cursor: null, since: daysAgo(2) }]);
      const end = endOf(first, "acme");
      expect(end?.type).toBe("feed-end");
      const coveredUntil = end?.type === "feed-end" ? end.coveredUntil : "";
      now += 5_000;
      const change = mutations(gh.tenant, 12);
      change.addDeployKey("acme", findOrg(gh.tenant, "acme").repos[1]!.name, "write");
      change.addDeployKey("acme", findOrg(gh.tenant, "acme").repos[2]!.name, "read");
      now += 5_000;
      const second = await read(r, [{ scope: "acme", feed: "audit-log", cursor: null, since: coveredUntil }]);
      expect(eventsOf(second).map((e) => `${e.action} ${e.providerAction}`)).toEqual(["credential.create deploy_key.create", "credential.create deploy_key.create"]);
      expect(eventsOf(second).every((e) => e.target?.credentialId?.startsWith("deploy-key:"))).toBe(true);
      const before = auditRequests().length;
      const idle = await read(r, [{ scope: "acme", feed: "audit-log", cursor: null, since: (endOf(second, "acme") as { coveredUntil: string }).coveredUntil }]);
      expect(eventsOf(idle)).toEqual([]);
      expect(endOf(idle, "acme")?.type).toBe("feed-end");
      // One audit-log request (besides the App's installation lookup and token, once per read).
      expect(auditRequests().length - before).toBe(1);
    } finally {
      delete gh.tenant.clock;
    }
  });
});

describe("the demo", () => {
  it("records who made each change between its two collects", async () => {
    const dir = await mkdtemp(join(tmpdir(), "whohas-gh-events-"));
    const demo = await startGithubDemo(dir);
    try {
      const start = new Date(Date.now() - 1000).toISOString();
      await demo.mutate();
      const r = createGithubEventReader("gh-demo", githubOptions.parse(demo.options));
      const evs = await read(r, [{ scope: DEMO_ORG, feed: "audit-log", cursor: null, since: start }], testContext("gh-demo"));
      const actions = eventsOf(evs).map((e) => e.providerAction).sort();
      expect(actions).toEqual(["deploy_key.create", "deploy_key.delete", "integration_installation.suspend", "org.add_member", "org.remove_member", "personal_access_token.access_granted"]);
      expect(eventsOf(evs).find((e) => e.providerAction === "org.add_member")).toMatchObject({ target: { name: "mallory.ops" }, ip: "192.0.2.146", actor: { kind: "person" } });
    } finally {
      await demo.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// Network and server faults: retried (5xx and below HTTP) where that helps, isolated to their
// org where it does not, and never turned into a silently short list.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GithubSimulator } from "../../../connectors/github/simulator.js";
import { costSettings, findOrg, minimumRequests, type CostSettings } from "../../../connectors/github/tenant.js";
import type { SimRequest } from "../../../src/simulator/harness.js";
import { drain, testContext } from "../../helpers/collect.js";
import { startSim, tokenConnector, TestClock } from "./setup.js";

const SPEC = {
  seed: 21,
  orgs: [
    { login: "acme", members: 230, owners: 3, outsideCollaborators: 4, repos: 5, teams: 2, patGrants: 4 },
    { login: "beta", members: 40, owners: 2, outsideCollaborators: 2, repos: 3, teams: 1, patGrants: 4 },
  ],
};
const COST: CostSettings = costSettings("token");

let gh: GithubSimulator;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  gh = await startSim(SPEC, undefined);
  // A user who owns both orgs.
  const acme = findOrg(gh.tenant, "acme");
  const owner = [...acme.members].find(([, r]) => r === "admin")![0];
  findOrg(gh.tenant, "beta").members.set(owner, "admin");
  gh.tenant.version++;
  env = { GH_TOKEN: gh.issuePat(gh.tenant.users.get(owner)!.login) };
});
afterAll(async () => {
  await gh?.close();
});
beforeEach(() => {
  gh.sim.clearFaults();
  gh.sim.resetCounters();
});

/** Page N of the plain member listing, which the client reaches through GitHub's /organizations/{id} next link. */
const membersPage = (org: string, page: number) => (r: SimRequest) =>
  r.url.pathname === `/organizations/${findOrg(gh.tenant, org).id}/members` &&
  r.url.searchParams.get("role") === "member" &&
  r.url.searchParams.get("page") === String(page);
const activeHumans = (s: { principals: { kind: string; status: string }[] }) => s.principals.filter((p) => p.kind === "human" && p.status === "active").length;

describe("one org failing does not stop the others", () => {
  it("an org that does not exist fails with GitHub's 404; the next org is collected", async () => {
    const { scopes } = await drain(tokenConnector(gh, new TestClock(), { orgs: ["ghost", "acme"] }), testContext("gh", env));
    expect(scopes.get("ghost")).toMatchObject({ status: "failed" });
    expect(scopes.get("ghost")!.error).toMatch(/github org "ghost": GET \S+\/orgs\/ghost → 404: Not Found/);
    expect(scopes.get("acme")!.status).toBe("ok");
    expect(activeHumans(scopes.get("acme")!)).toBe(findOrg(gh.tenant, "acme").members.size);
  });

  it("an org whose member listing keeps answering 500 fails after the SDK's retries; the other org is ok", async () => {
    gh.sim.injectFault({ fault: { kind: "status", status: 500, body: JSON.stringify({ message: "Server Error" }) }, match: (r) => r.url.pathname === "/orgs/beta/members" });
    const ctx = testContext("gh", env);
    const { scopes, events } = await drain(tokenConnector(gh, new TestClock(), { orgs: ["beta", "acme"] }), ctx);
    expect(scopes.get("beta")!.status).toBe("failed");
    expect(scopes.get("beta")!.error).toMatch(/GET \S+\/orgs\/beta\/members\?filter=2fa_disabled&role=all&per_page=100 → 500: Server Error/);
    // 1 attempt + 5 retries of the failing request, plus GET /orgs/beta before it.
    expect(ctx.requests.get("beta")).toBe(1 + 6);
    expect(scopes.get("acme")!.status).toBe("ok");
    expect(events.filter((e) => e.type === "scope-start").map((e) => e.scope)).toEqual(["beta", "acme"]);
  });
});

describe("transient faults are retried and counted", () => {
  it("502s on a page are retried", async () => {
    gh.sim.injectFault({ fault: { kind: "status", status: 502, body: "" }, match: membersPage("acme", 2), times: 2 });
    const ctx = testContext("gh", env);
    const { scopes } = await drain(tokenConnector(gh, new TestClock()), ctx);
    expect(scopes.get("acme")!.status).toBe("ok");
    expect(activeHumans(scopes.get("acme")!)).toBe(findOrg(gh.tenant, "acme").members.size);
    expect(ctx.requests.get("acme")).toBe(minimumRequests(gh.tenant, "acme", COST) + 2);
    expect(gh.sim.requestCount).toBe(ctx.requests.get("acme"));
  });

  it("a reset connection is retried", async () => {
    gh.sim.injectFault({ fault: { kind: "reset" }, match: membersPage("acme", 2), times: 1 });
    const { scopes } = await drain(tokenConnector(gh, new TestClock()), testContext("gh", env));
    expect(scopes.get("acme")!.status).toBe("ok");
    expect(activeHumans(scopes.get("acme")!)).toBe(findOrg(gh.tenant, "acme").members.size);
  });

  it("a body cut off mid-page is retried, not read as an empty page", async () => {
    gh.sim.injectFault({ fault: { kind: "truncate" }, match: membersPage("acme", 2), times: 1 });
    const ctx = testContext("gh", env);
    const { scopes } = await drain(tokenConnector(gh, new TestClock()), ctx);
    expect(scopes.get("acme")!.status).toBe("ok");
    expect(activeHumans(scopes.get("acme")!)).toBe(findOrg(gh.tenant, "acme").members.size);
    expect(ctx.requests.get("acme")).toBe(minimumRequests(gh.tenant, "acme", COST) + 1);
  });

  it("a request that hangs times out (request_timeout_seconds) and is retried", async () => {
    gh.sim.injectFault({ fault: { kind: "hang" }, match: membersPage("acme", 2), times: 1 });
    const started = Date.now();
    const { scopes } = await drain(tokenConnector(gh, new TestClock(), { request_timeout_seconds: 1 }), testContext("gh", env));
    expect(scopes.get("acme")!.status).toBe("ok");
    expect(activeHumans(scopes.get("acme")!)).toBe(findOrg(gh.tenant, "acme").members.size);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});

describe("abort", () => {
  it("stops promptly: the running org fails as aborted, later orgs are not collected", async () => {
    const controller = new AbortController();
    gh.sim.latencyMs = 30;
    try {
      const ctx = testContext("gh", env, controller.signal);
      setTimeout(() => controller.abort(), 150);
      const { scopes } = await drain(tokenConnector(gh, new TestClock(), { orgs: ["acme", "beta"] }), ctx);
      expect(scopes.get("acme")).toMatchObject({ status: "failed", error: 'source gh-test, github org "acme": aborted' });
      expect(scopes.get("beta")).toMatchObject({ status: "failed", error: 'source gh-test, github org "beta": aborted before collection' });
    } finally {
      gh.sim.latencyMs = 0;
    }
  });
});

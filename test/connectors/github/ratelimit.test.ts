// GitHub's primary (x-ratelimit-remaining: 0 until x-ratelimit-reset) and secondary (403/429 with
// retry-after) limits, waited out by @octokit/plugin-throttling on a test clock instead of real minutes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GithubSimulator } from "../../../connectors/github/simulator.js";
import { costSettings, findOrg, minimumRequests, type CostSettings } from "../../../connectors/github/tenant.js";
import { drain, testContext } from "../../helpers/collect.js";
import { appConnector, appKeys, startSim, TestClock, type AppKeys } from "./setup.js";

const SPEC = { seed: 9, orgs: [{ login: "acme", members: 420, owners: 4, outsideCollaborators: 5, repos: 6, teams: 2, patGrants: 4 }] };
const COST: CostSettings = costSettings("app");

let keys: AppKeys;
let gh: GithubSimulator;
let minimum: number;

beforeAll(async () => {
  keys = await appKeys();
  gh = await startSim(SPEC, keys);
  minimum = minimumRequests(gh.tenant, "acme", COST);
});
afterAll(async () => {
  await gh?.close();
});
beforeEach(() => {
  gh.resetRateLimits();
  gh.sim.resetCounters();
});

const members = () => findOrg(gh.tenant, "acme").members.size;

describe("primary rate limit", () => {
  it("waits until x-ratelimit-reset (an hour away, on the test clock), then finishes the org", async () => {
    // Every quota has 3 requests left; the reset is GitHub's usual hour away.
    gh.setRateLimit({ remaining: 3, resetInSeconds: 3600 });
    const clock = new TestClock();
    clock.onSleep = () => gh.resetRateLimits(); // the hour passes
    const ctx = testContext("gh");
    const { scopes } = await drain(appConnector(gh, keys, clock), ctx);
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("ok");
    expect(acme.principals.filter((p) => p.kind === "human" && p.status === "active")).toHaveLength(members());
    expect(clock.waits).toHaveLength(1);
    // plugin-throttling: reset - now + 1 s, in whole seconds.
    expect(clock.waits[0]!).toBeGreaterThanOrEqual(3599_000);
    expect(clock.waits[0]!).toBeLessThanOrEqual(3602_000);
    // The refused request counts too.
    expect(acme.requests).toBe(gh.sim.requestCount);
    expect(acme.requests).toBe(minimum + 1);
    expect(ctx.logged.some((l) => l.msg === "GitHub rate limit: waiting" && (l.obj as { kind?: string }).kind === "primary")).toBe(true);
  });

  it("fails the org, naming the limit, when the reset is further away than rate_limit_max_wait_seconds", async () => {
    gh.setRateLimit({ remaining: 3, resetInSeconds: 3600 });
    const clock = new TestClock();
    const { scopes } = await drain(appConnector(gh, keys, clock, { rate_limit_max_wait_seconds: 600 }), testContext("gh"));
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("failed");
    expect(acme.error).toMatch(/403: API rate limit exceeded for installation ID \d+/);
    expect(clock.waits).toEqual([]);
  });

  it("fails the org at once, saying why, when the reset lies beyond the collect's deadline (no sleep into the timeout)", async () => {
    gh.setRateLimit({ remaining: 3, resetInSeconds: 3600 });
    const clock = new TestClock();
    // Within rate_limit_max_wait_seconds (the default accepts an hour), but the collect must end in 10 minutes.
    const ctx = { ...testContext("gh"), deadlineAt: Date.now() + 600_000 };
    const { scopes } = await drain(appConnector(gh, keys, clock), ctx);
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("failed");
    expect(acme.error).toMatch(/rate limit exceeded/i);
    expect(clock.waits).toEqual([]);
    expect(ctx.logged.some((l) => l.msg === "GitHub rate limit: giving up" && /deadline/.test(String((l.obj as { why?: string }).why)))).toBe(true);
  });
});

describe("secondary rate limit", () => {
  it("honours retry-after on 403 and backs off while it persists", async () => {
    gh.secondaryLimit({ times: 2, status: 403, retryAfter: 7, match: (_m, p) => p.endsWith("/members") });
    const clock = new TestClock();
    const ctx = testContext("gh");
    const { scopes } = await drain(appConnector(gh, keys, clock), ctx);
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("ok");
    expect(clock.waits).toEqual([7_000, 14_000]);
    expect(acme.principals.filter((p) => p.kind === "human" && p.status === "active")).toHaveLength(members());
    expect(acme.requests).toBe(minimum + 2);
  });

  it("waits a minute on a 429 without retry-after, and retries once: no second retry loop stacked on top", async () => {
    gh.secondaryLimit({ times: 1, status: 429, retryAfter: null, match: (_m, p) => p.endsWith("/teams") });
    const clock = new TestClock();
    const { scopes } = await drain(appConnector(gh, keys, clock), testContext("gh"));
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("ok");
    expect(clock.waits).toEqual([60_000]);
    expect(acme.requests).toBe(minimum + 1);
  });

  it("gives up after repeated secondary limits and fails the org with GitHub's message", async () => {
    gh.secondaryLimit({ times: 50, status: 403, retryAfter: 1, match: (_m, p) => p.endsWith("/installations") });
    const clock = new TestClock();
    const { scopes } = await drain(appConnector(gh, keys, clock), testContext("gh"));
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("failed");
    expect(acme.error).toMatch(/403: You have exceeded a secondary rate limit/);
    expect(clock.waits).toEqual([1_000, 2_000, 4_000, 8_000]);
    gh.sim.resetCounters();
  });
});

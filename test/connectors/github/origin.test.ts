// A hostile or compromised GitHub (Enterprise Server, a proxy on the API path) that points the client
// elsewhere: a Link rel="next" or an HTTP redirect to another origin. Nothing — least of all the token —
// reaches the other origin, the org fails with a named error, and the token is in no message.
// Also: which failures are retried (5xx only) and that an aborted request is never retried.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GithubSimulator } from "../../../connectors/github/simulator.js";
import { costSettings, findOrg, minimumRequests } from "../../../connectors/github/tenant.js";
import type { SimRequest } from "../../../src/simulator/harness.js";
import { drain, testContext } from "../../helpers/collect.js";
import { startForeignOrigin, type ForeignOrigin } from "../../helpers/foreign-origin.js";
import { appConnector, appKeys, startSim, tokenConnector, TestClock, type AppKeys } from "./setup.js";

let gh: GithubSimulator;
let keys: AppKeys;
let foreign: ForeignOrigin;
let token: string;
let env: NodeJS.ProcessEnv;

const SPEC = { seed: 31, orgs: [{ login: "acme", members: 150, owners: 2, outsideCollaborators: 3, repos: 3, teams: 1 }] };

beforeAll(async () => {
  keys = await appKeys();
  gh = await startSim(SPEC, keys);
  foreign = await startForeignOrigin();
  const owner = [...findOrg(gh.tenant, "acme").members].find(([, r]) => r === "admin")![0];
  token = gh.issuePat(gh.tenant.users.get(owner)!.login);
  env = { GH_TOKEN: token };
});
afterAll(async () => {
  await gh?.close();
  await foreign?.close();
});
beforeEach(() => {
  gh.sim.clearFaults();
  gh.sim.resetCounters();
  foreign.received.length = 0;
});

/** The first page of the org's member listing (later pages go through /organizations/{id}/members). */
const firstMembersPage = (r: SimRequest) => r.url.pathname === "/orgs/acme/members" && r.url.searchParams.get("role") === "all";
const hits = (match: (r: SimRequest) => boolean) => gh.sim.requestLog.filter((line) => match({ method: "GET", url: new URL(line.split(" ")[1]!, "http://s"), headers: {}, body: Buffer.alloc(0) })).length;

function expectNothingLeaked(error: string | undefined) {
  expect(foreign.received).toEqual([]);
  expect(error ?? "").not.toContain(token);
}

describe("follow-up requests stay on the configured origin", () => {
  it('a Link rel="next" to another origin fails the org with ForeignOriginError; the other origin receives nothing', async () => {
    gh.sim.injectFault({
      match: firstMembersPage,
      fault: { kind: "rewrite", rewrite: (a) => ({ ...a, headers: { ...a.headers, link: `<${foreign.origin}/organizations/1/members?page=2>; rel="next"` } }) },
    });
    const { scopes } = await drain(tokenConnector(gh), testContext("gh", env));
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("failed");
    expect(acme.error).toContain(`ForeignOriginError`);
    expect(acme.error).toContain(`Link rel="next" points to ${foreign.origin}, outside ${new URL(gh.baseUrl).origin}`);
    expectNothingLeaked(acme.error);
  });

  it.each([301, 302, 303, 307, 308])("an HTTP %i redirect to another origin is not followed, not retried, and fails the org", async (status) => {
    gh.sim.injectFault({ match: firstMembersPage, fault: { kind: "status", status, headers: { location: `${foreign.origin}/orgs/acme/members?role=all` }, body: "[]" } });
    const { scopes } = await drain(tokenConnector(gh), testContext("gh", env));
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("failed");
    expect(acme.error).toContain(`ForeignOriginError: HTTP ${status} redirect points to ${foreign.origin}`);
    expect(hits(firstMembersPage)).toBe(1);
    expectNothingLeaked(acme.error);
  });

  it("the App's installation-token exchange (a POST signed with the App key) is not redirected either", async () => {
    gh.sim.injectFault({
      match: (r) => r.method === "POST" && /^\/app\/installations\/\d+\/access_tokens$/.test(r.url.pathname),
      fault: { kind: "status", status: 307, headers: { location: `${foreign.origin}/app/installations/1/access_tokens` } },
    });
    const { scopes } = await drain(appConnector(gh, keys), testContext("gh"));
    const acme = scopes.get("acme")!;
    expect(acme.status).toBe("failed");
    expect(acme.error).toContain(`HTTP 307 redirect points to ${foreign.origin}`);
    expect(foreign.received).toEqual([]);
  });

  it("a redirect on the same origin is followed (a renamed path), counted, and the org is complete", async () => {
    gh.sim.injectFault({ match: firstMembersPage, times: 1, fault: { kind: "status", status: 301, headers: { location: "/orgs/acme/members?filter=2fa_disabled&role=all&per_page=100" } } });
    const ctx = testContext("gh", env);
    const { scopes } = await drain(tokenConnector(gh), ctx);
    expect(scopes.get("acme")!.status).toBe("ok");
    expect(ctx.requests.get("acme")).toBe(gh.sim.requestCount);
    expect(ctx.requests.get("acme")).toBe(minimumRequests(gh.tenant, "acme", costSettings("token")) + 1);
    expect(foreign.received).toEqual([]);
  });
});

describe("retries", () => {
  // 409 also checks that a conflict is not read as an empty list (the paginate plugin's default).
  it.each([405, 406, 409, 415])("HTTP %i is not retried, and fails the org", async (status) => {
    gh.sim.injectFault({ match: firstMembersPage, fault: { kind: "status", status, body: JSON.stringify({ message: `refused with ${status}` }) } });
    const { scopes } = await drain(tokenConnector(gh), testContext("gh", env));
    expect(scopes.get("acme")!.status).toBe("failed");
    expect(scopes.get("acme")!.error).toContain(status === 409 ? "HTTP 409 Conflict on page 1" : `${status}: refused with ${status}`);
    expect(hits(firstMembersPage)).toBe(1);
  });

  it("a 503 is retried, and the org completes", async () => {
    gh.sim.injectFault({ match: firstMembersPage, times: 2, fault: { kind: "status", status: 503, body: "{}" } });
    const { scopes } = await drain(tokenConnector(gh), testContext("gh", env));
    expect(scopes.get("acme")!.status).toBe("ok");
    expect(hits(firstMembersPage)).toBe(3);
  });

  it("a request cut short by the collect's abort (SIGTERM) is never retried", async () => {
    const controller = new AbortController();
    gh.sim.injectFault({
      match: (r) => {
        if (!firstMembersPage(r)) return false;
        setImmediate(() => controller.abort(new Error("stopped by SIGTERM")));
        return true;
      },
      fault: { kind: "hang" },
    });
    const { scopes } = await drain(tokenConnector(gh, new TestClock()), testContext("gh", env, controller.signal));
    expect(scopes.get("acme")!.status).toBe("failed");
    expect(hits(firstMembersPage)).toBe(1);
    expect(gh.sim.requestLog.at(-1)).toMatch(/^GET \/orgs\/acme\/members\?/);
  });
});

// A hostile or compromised endpoint (a private root_url / token_url, a proxy on the path) that redirects
// the client to another origin — here the same host on another port, which node-fetch under gaxios
// treats as "the same domain" and so would send the bearer token to. The real @googleapis/admin and
// google-auth-library send nothing there: the API call or token exchange fails with a named error,
// is not retried, and no token or key material appears in the error.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SimRequest } from "../../../src/simulator/harness.js";
import { startForeignOrigin, type ForeignOrigin } from "../../helpers/foreign-origin.js";
import { setup, type Setup } from "./setup.js";

let s: Setup;
let foreign: ForeignOrigin;

beforeAll(async () => {
  s = await setup();
  foreign = await startForeignOrigin();
});
afterAll(async () => {
  await s?.close();
  await foreign?.close();
});
beforeEach(() => {
  s.google.sim.clearFaults();
  s.google.sim.resetCounters();
  foreign.received.length = 0;
});

const usersList = (r: SimRequest) => r.method === "GET" && r.url.pathname === "/admin/directory/v1/users";
const tokenPost = (r: SimRequest) => r.method === "POST" && r.url.pathname === new URL(s.google.tokenUrl).pathname;
const hits = (prefix: string) => s.google.sim.requestLog.filter((l) => l.startsWith(prefix)).length;

async function onlyScope() {
  const { scopes } = await s.run();
  expect(scopes.size).toBe(1);
  return [...scopes.values()][0]!;
}

function expectNothingLeaked(error: string | undefined) {
  expect(foreign.received).toEqual([]);
  expect(error ?? "").not.toMatch(/PRIVATE KEY|ya29\.|eyJ[A-Za-z0-9_-]{10,}/);
}

describe("Google follow-up requests stay on the request's origin", () => {
  it.each([301, 302, 303, 307, 308])("an HTTP %i redirect of users.list to another port is not followed, nor retried", async (status) => {
    s.google.sim.injectFault({ match: usersList, fault: { kind: "status", status, headers: { location: `${foreign.origin}/admin/directory/v1/users` } } });
    const scope = await onlyScope();
    expect(scope.status).toBe("failed");
    expect(scope.error).toContain(`ForeignOriginError: HTTP ${status} redirect points to ${foreign.origin}`);
    expect(hits("GET /admin/directory/v1/users?")).toBe(1);
    expectNothingLeaked(scope.error);
  });

  it.each([307, 308])("an HTTP %i redirect of the token exchange (the signed assertion in its body) is not followed", async (status) => {
    s.google.sim.injectFault({ match: tokenPost, fault: { kind: "status", status, headers: { location: `${foreign.origin}/token` } } });
    const scope = await onlyScope();
    expect(scope.status).toBe("failed");
    expect(scope.error).toContain(`HTTP ${status} redirect points to ${foreign.origin}`);
    expectNothingLeaked(scope.error);
  });

  it("a redirect on the same origin is followed, counted, and the domain is complete", async () => {
    let location = "";
    s.google.sim.injectFault({
      times: 1,
      match: (r) => usersList(r) && ((location = `${r.url.pathname}${r.url.search}`), true),
      fault: { kind: "rewrite", rewrite: () => ({ status: 302, headers: { location }, body: Buffer.alloc(0) }) },
    });
    const { scopes } = await s.run();
    const scope = [...scopes.values()][0]!;
    expect(scope.status).toBe("ok");
    expect(scope.principals).toHaveLength(60);
    expect(scope.requests).toBe(s.google.sim.requestCount);
    expect(foreign.received).toEqual([]);
  });
});

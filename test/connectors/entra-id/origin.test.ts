// A hostile or compromised authority / Graph endpoint (or anything on the path) that points the client
// at another origin: a foreign @odata.nextLink, an HTTP redirect of a Graph call or of the token POST
// (which carries the client secret), a token_endpoint elsewhere in the authority's metadata. The real
// msal-node and Graph client send nothing there; the tenant fails with a named error; no secret in it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { entraIdConnector } from "../../../connectors/entra-id/index.js";
import type { SimRequest } from "../../../src/simulator/harness.js";
import { drain, testContext } from "../../helpers/collect.js";
import { startForeignOrigin, type ForeignOrigin } from "../../helpers/foreign-origin.js";
import { startFixture, type Fixture } from "./setup.js";

let f: Fixture;
let foreign: ForeignOrigin;

beforeAll(async () => {
  f = await startFixture({ seed: 7, users: 60, applications: 3 }, { maxPageSize: 20 });
  foreign = await startForeignOrigin();
});
afterAll(async () => {
  await f?.close();
  await foreign?.close();
});
beforeEach(() => {
  f.sim.server.clearFaults();
  foreign.received.length = 0;
});

async function collect() {
  const { scopes } = await drain(entraIdConnector.create("aad", f.options()), testContext("aad", f.env));
  expect(scopes.size).toBe(1);
  return [...scopes.values()][0]!;
}

function expectFailedWithoutLeak(scope: { status: string; error?: string }, expected: string) {
  expect(scope.status).toBe("failed");
  expect(scope.error).toContain(expected);
  expect(scope.error).not.toContain(f.secret);
  expect(foreign.received).toEqual([]);
}

const usersFirstPage = (r: SimRequest) => r.url.pathname === "/v1.0/users" && !r.url.searchParams.has("$skiptoken");
const tokenPost = (r: SimRequest) => r.method === "POST" && r.url.pathname.endsWith("/oauth2/v2.0/token");

describe("Entra follow-up requests stay on the authority's and Graph's origins", () => {
  it("a foreign @odata.nextLink is refused (ForeignOriginError) before anything is sent", async () => {
    f.sim.server.injectFault({
      match: usersFirstPage,
      fault: {
        kind: "rewrite",
        rewrite: (a) => ({ ...a, body: Buffer.from(a.body.toString("utf8").split(f.sim.url).join(foreign.origin)) }),
      },
    });
    const scope = await collect();
    expectFailedWithoutLeak(scope, `ForeignOriginError: @odata.nextLink points to ${foreign.origin}`);
  });

  it.each([302, 307, 308])("an HTTP %i redirect of a Graph call to another origin is not followed", async (status) => {
    f.sim.server.injectFault({ match: usersFirstPage, fault: { kind: "status", status, headers: { location: `${foreign.origin}/v1.0/users` } } });
    const scope = await collect();
    expectFailedWithoutLeak(scope, `HTTP ${status} redirect points to ${foreign.origin}`);
  });

  it.each([307, 308])("an HTTP %i redirect of the token POST (client secret in its body) is not followed", async (status) => {
    f.sim.server.injectFault({ match: tokenPost, fault: { kind: "status", status, headers: { location: `${foreign.origin}/token` } } });
    const scope = await collect();
    expectFailedWithoutLeak(scope, `HTTP ${status} redirect points to ${foreign.origin}`);
  });

  it("a token_endpoint on another origin in the authority's metadata gets no token request", async () => {
    f.sim.server.injectFault({
      match: (r) => r.url.pathname.endsWith("/.well-known/openid-configuration"),
      fault: {
        kind: "rewrite",
        rewrite: (a) => {
          const doc = JSON.parse(a.body.toString("utf8")) as { token_endpoint: string };
          doc.token_endpoint = doc.token_endpoint.replace(f.sim.url, foreign.origin);
          return { ...a, body: Buffer.from(JSON.stringify(doc)) };
        },
      },
    });
    const scope = await collect();
    expectFailedWithoutLeak(scope, `ForeignOriginError: a request URL points to ${foreign.origin}`);
  });

  it("a redirect on the same origin is followed and the tenant is complete", async () => {
    let location = "";
    f.sim.server.injectFault({
      times: 1,
      // The redirect points at the request's own URL, so the second hop gets the real page.
      match: (r) => usersFirstPage(r) && ((location = `${r.url.pathname}${r.url.search}`), true),
      fault: { kind: "rewrite", rewrite: () => ({ status: 307, headers: { location }, body: Buffer.alloc(0) }) },
    });
    const scope = await collect();
    expect(scope.status).toBe("ok");
    expect(scope.principals.filter((p) => p.attributes?.objectType === "user")).toHaveLength(f.tenant.users.size);
    expect(foreign.received).toEqual([]);
  });
});

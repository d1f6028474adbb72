// A hostile or compromised endpoint (a VPC endpoint, a proxy on the path) that redirects IAM, STS or
// Organizations calls to another origin. The SDK's node-http-handler never follows a redirect (checked
// here, with the real clients): nothing reaches the other origin, no SigV4 header or session token with
// it, and the account fails with a named error that carries no credential.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SimRequest } from "../../../src/simulator/harness.js";
import { drain } from "../../helpers/collect.js";
import { startForeignOrigin, type ForeignOrigin } from "../../helpers/foreign-origin.js";
import { fixture, type Fixture } from "./helpers.js";

let f: Fixture;
let foreign: ForeignOrigin;

beforeAll(async () => {
  f = await fixture();
  foreign = await startForeignOrigin();
});
afterAll(async () => {
  await f?.close();
  await foreign?.close();
});
beforeEach(() => {
  f.sim.sim.clearFaults();
  f.sim.sim.resetCounters();
  foreign.received.length = 0;
});

const action = (name: string) => (r: SimRequest) => r.body.toString("utf8").includes(`Action=${name}`) || r.headers["x-amz-target"] === `AWSOrganizationsV20161128.${name}`;

let faultHits = 0;

async function run(match: (r: SimRequest) => boolean, status: number, options: Record<string, unknown> = {}) {
  faultHits = 0;
  f.sim.sim.injectFault({ match: (r) => match(r) && ++faultHits > 0, fault: { kind: "status", status, headers: { location: `${foreign.origin}/` }, body: "" } });
  const { scopes } = await drain(f.connector(options), f.ctx());
  return scopes;
}

function expectNoLeak(error: string | undefined) {
  expect(foreign.received).toEqual([]);
  expect(error ?? "").not.toContain(f.caller.secretAccessKey);
  expect(error ?? "").not.toMatch(/Signature=|X-Amz-Security-Token|AWS4-HMAC-SHA256 Credential/i);
}

describe("AWS redirects are never followed", () => {
  it.each([301, 302, 307, 308])("an HTTP %i from IAM fails the account with RedirectRefusedError, not retried", async (status) => {
    const scopes = await run(action("GetAccountAuthorizationDetails"), status);
    const failed = [...scopes.values()].filter((s) => s.status === "failed");
    expect(failed.length).toBeGreaterThan(0);
    for (const s of failed) {
      expect(s.error).toContain(`RedirectRefusedError: HTTP ${status} redirect not followed: AWS APIs do not redirect; this one pointed to ${foreign.origin}`);
      expectNoLeak(s.error);
    }
    // Refused, not retried: one attempt per failed account, none answered by IAM itself.
    expect(faultHits).toBe(failed.length);
    expect(f.sim.actionCounts.get("iam:GetAccountAuthorizationDetails") ?? 0).toBe(0);
  });

  it("an HTTP 307 from STS (AssumeRole into the member accounts) fails those accounts; nothing reaches the other origin", async () => {
    const scopes = await run(action("AssumeRole"), 307, { organization: true });
    const failed = [...scopes.values()].filter((s) => s.status === "failed");
    expect(failed.map((s) => s.error)).toEqual(failed.map(() => expect.stringContaining("RedirectRefusedError: HTTP 307 redirect not followed")));
    expect(failed.length).toBe(2);
    for (const s of failed) expectNoLeak(s.error);
  });

  it("an HTTP 307 from Organizations (ListAccounts) fails the collect with the named error; nothing reaches the other origin", async () => {
    const err = await run(action("ListAccounts"), 307, { organization: true }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain("organizations:ListAccounts failed: RedirectRefusedError: HTTP 307 redirect not followed");
    expectNoLeak(err?.message);
  });
});

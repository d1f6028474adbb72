// What the operator reads: a connection reset is not a credentials problem, and a listing the plan does not
// have (GitHub's 404 for failed_invitations) is coverage, logged once at info, never an error every cycle.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GithubSimulator } from "../../connectors/github/simulator.js";
import { findOrg } from "../../connectors/github/tenant.js";
import { drain, testContext } from "../helpers/collect.js";
import { fixture, type Fixture } from "./aws-iam/helpers.js";
import { startSim, tokenConnector } from "./github/setup.js";

describe("AWS transport errors", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  it("a connection reset on the first call says the endpoint was not reached, not that credentials are missing", async () => {
    f.sim.sim.injectFault({ fault: { kind: "reset" }, match: (r) => r.body.toString().includes("Action=GetCallerIdentity") });
    const err = await drain(f.connector({ max_attempts: 1 }), f.ctx()).then(
      () => undefined,
      (e: Error) => e,
    );
    f.sim.sim.clearFaults();
    expect(err?.message).toMatch(/^sts:GetCallerIdentity failed \(STS not reached\): network error \(ECONNRESET\): /);
    expect(err?.message).not.toMatch(/credentials/);
  });

  it("a refused signature still asks about the credentials", async () => {
    const err = await drain(f.connector({ secret_access_key: "env:WRONG" }), testContext("aws-test", { ...f.env, WRONG: "y".repeat(40) })).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^sts:GetCallerIdentity failed \(are AWS credentials configured\?\): SignatureDoesNotMatch/);
  });
});

describe("a listing the plan does not have", () => {
  let gh: GithubSimulator;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    gh = await startSim({ seed: 4, orgs: [{ login: "acme", members: 10, owners: 2, repos: 1, teams: 1, invitations: 1 }] }, undefined);
    const owner = [...findOrg(gh.tenant, "acme").members].find(([, r]) => r === "admin")![0];
    env = { GH_TOKEN: gh.issuePat(gh.tenant.users.get(owner)!.login) };
    gh.sim.injectFault({ fault: { kind: "status", status: 404, body: JSON.stringify({ message: "Not Found" }) }, match: (r) => r.url.pathname.endsWith("/failed_invitations") });
  });
  afterAll(async () => {
    await gh?.close();
  });

  it("is recorded in the scope's coverage each run and logged once, at info", async () => {
    const logged: { level: string; msg?: string; obj: object }[] = [];
    for (let i = 0; i < 2; i++) {
      const ctx = testContext("gh-once", env);
      const { scopes } = await drain(tokenConnector(gh, undefined, { orgs: ["acme"] }), ctx);
      const acme = scopes.get("acme")!;
      expect(acme.status).toBe("ok");
      expect(String(acme.meta?.failed_invitations_status)).toMatch(/^unavailable: .*404/);
      logged.push(...ctx.logged);
    }
    const about = logged.filter((l) => l.level !== "debug" && JSON.stringify(l).includes("failed_invitations"));
    expect(about.map((l) => l.level)).toEqual(["info"]);
    expect(logged.filter((l) => l.level === "error" || l.level === "warn")).toEqual([]);
  });
});

// Remediation end to end through the built CLI for Entra ID, Google Workspace and GitHub (AWS: aws.test.ts and
// test/reliability/apply-crash.test.ts), through the real SDKs against each simulator: collect → plan → dry run
// → apply → collect → apply again → undo → collect → actions → verify (test/helpers/remediate-cli.ts), with each
// simulator's state checked after apply and after undo. One case per connector (cli-cases.ts).
import { afterEach, describe, expect, it } from "vitest";
import { cliRoundTrip } from "../helpers/remediate-cli.js";
import { entraCase, githubCase, googleCase, type CliCase } from "./cli-cases.js";

let c: CliCase | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

describe("remediation through the built CLI", () => {
  it("Entra ID: a dormant account disabled (sessions revoked), a dormant admin's role assignment removed; both undone", async () => {
    c = await entraCase({ targets: 1, disable: true });
    const { writesApplied } = await cliRoundTrip(c.cli, c.checks);
    // The provider minimum: PATCH + revokeSignInSessions for the account, one DELETE for the assignment.
    expect(writesApplied).toBe(3);
  }, 120_000);

  it("Google Workspace: a dormant user suspended, a dormant admin's role assignment removed; both undone", async () => {
    c = await googleCase({ targets: 1, disable: true });
    const { writesApplied } = await cliRoundTrip(c.cli, c.checks);
    expect(writesApplied).toBe(2);
  }, 120_000);

  it("GitHub: a dormant member removed; undo re-invites with the same role and team roles", async () => {
    c = await githubCase({ targets: 1, disable: false });
    const { writesApplied } = await cliRoundTrip(c.cli, c.checks);
    expect(writesApplied).toBe(1);
  }, 120_000);
});

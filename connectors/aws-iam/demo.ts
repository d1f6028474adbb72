// `whohas demo` for aws-iam: a three-account organization on loopback, and the day-two changes
// the diff should show (an escalation, a removed user, a rotated key, a leaver, a fresh report), each
// recorded in the simulated CloudTrail with who made it — but one, made out of band — plus a burst of
// failed console sign-ins.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DemoSetup } from "../../src/connector.js";
import { AWS_IAM_ACTIONS } from "./actions.js";
import { addRemediationIdentity, generateOrganization } from "./sim-tenant.js";
import { startAwsSimulator } from "./simulator.js";
import { CLI_USER_AGENT, CONSOLE_USER_AGENT, TERRAFORM_USER_AGENT, type SimActor } from "./sim-trail.js";

export const DEMO_ACCOUNTS = { management: "111111111111", prod: "222222222222", sandbox: "333333333333" } as const;
const ACCESS_KEY_ENV = "WHOHAS_DEMO_AWS_ACCESS_KEY_ID";
const FIX_KEY_ENV = "WHOHAS_DEMO_AWS_REMEDIATE_KEY_ID";
const PIPELINE: SimActor = { type: "AssumedRole", name: "github-actions-deploy", session: "GitHubActions", ip: "140.82.115.4", userAgent: TERRAFORM_USER_AGENT };
const SECOPS: SimActor = { type: "AssumedRole", name: "AWSReservedSSO_AdministratorAccess", session: "bob.secops@example.com", ip: "203.0.113.40", userAgent: CONSOLE_USER_AGENT, mfa: true };

export async function startDemo(dir: string): Promise<DemoSetup> {
  const { org, caller } = generateOrganization({
    seed: 20240601,
    managementAccountId: DEMO_ACCOUNTS.management,
    memberRoleName: "WhohasAudit",
    memberExternalId: "whohas-demo",
    accounts: [
      { id: DEMO_ACCOUNTS.management, name: "management", users: 6, roles: 7 },
      { id: DEMO_ACCOUNTS.prod, name: "prod", users: 14, roles: 10, people: ["grace.hopper"], vendorTrust: true, rootKeys: true },
      { id: DEMO_ACCOUNTS.sandbox, name: "sandbox", users: 8, roles: 7, rootMfa: false },
    ],
  });
  // Remediation's own identity (its keys are not the collector's) and a build bot's key unused for 150 days.
  const fixer = addRemediationIdentity(org, DEMO_ACCOUNTS.management, "WhohasRemediate", [...new Set(AWS_IAM_ACTIONS.flatMap((a) => a.permissions))]);
  const longAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
  org.createUser(DEMO_ACCOUNTS.prod, "old-build-bot", { createDate: longAgo(400) });
  const botKey = org.createAccessKey(DEMO_ACCOUNTS.prod, "old-build-bot", longAgo(300));
  org.useAccessKey(DEMO_ACCOUNTS.prod, "old-build-bot", botKey.accessKeyId, "codebuild", "us-east-1", longAgo(150));
  const sim = await startAwsSimulator({ org });
  const secretPath = join(dir, "aws-secret-access-key");
  await writeFile(secretPath, caller.secretAccessKey + "\n", { mode: 0o600 });
  const fixSecretPath = join(dir, "aws-remediate-secret-access-key");
  await writeFile(fixSecretPath, fixer.secretAccessKey + "\n", { mode: 0o600 });

  return {
    options: {
      organization: true,
      member_role_name: "WhohasAudit",
      member_external_id: "whohas-demo",
      access_key_id: `env:${ACCESS_KEY_ENV}`,
      secret_access_key: `file:${secretPath}`,
      region: "us-east-1",
      // Key ids (one ListAccessKeys per user with keys): CloudTrail names keys by id, so a new or deleted key is
      // joined to the event that made it; without them the credential report's creation time is all there is.
      access_key_ids: true,
      endpoints: { iam: sim.url, sts: sim.url, organizations: sim.url, cloudtrail: sim.url },
    },
    env: { [ACCESS_KEY_ENV]: caller.accessKeyId, [FIX_KEY_ENV]: fixer.accessKeyId },
    remediate: {
      block: { access_key_id: `env:${FIX_KEY_ENV}`, secret_access_key: `file:${fixSecretPath}`, member_role_name: "WhohasRemediate" },
      entries: [{ name: "aws-unused-keys", rule: "unused-credential", action: "deactivate-access-key", max_actions_per_run: 50 }],
      refresh: () => org.ageCredentialReports(5 * 3_600_000),
    },
    mutate() {
      const prod = org.account(DEMO_ACCOUNTS.prod);
      const users = [...prod.users.values()];
      // Privilege escalation: a developer joins Admins.
      const developer = users.find((u) => u.userName !== "grace.hopper" && u.password && u.groups.includes("Developers") && !u.groups.includes("Admins"));
      // Made by an administrator signed in through Identity Center (the trail's default actor) …
      if (developer) org.addUserToGroup(prod.id, developer.userName, "Admins");
      // A removed account: a CI user is deleted by the deployment pipeline.
      const ci = users.filter((u) => u.userName.startsWith("ci-"));
      if (ci[0]) org.trail.as(prod.id, PIPELINE, () => org.deleteUser(prod.id, ci[0]!.userName));
      // A rotated credential: another CI user rotates its own key from the command line.
      const rotating = ci[1];
      if (rotating) {
        org.trail.as(prod.id, { type: "IAMUser", name: rotating.userName, ip: "198.51.100.23", userAgent: CLI_USER_AGENT }, () => {
          const old = rotating.keys[0];
          if (rotating.keys.length >= 2 && rotating.keys[1]) org.deleteAccessKey(prod.id, rotating.userName, rotating.keys[1].accessKeyId);
          org.createAccessKey(prod.id, rotating.userName);
          if (old) org.deleteAccessKey(prod.id, rotating.userName, old.accessKeyId);
        });
      }
      // Someone tries grace.hopper's console password from an unfamiliar address, five times.
      if (prod.users.has("grace.hopper")) {
        for (let i = 0; i < 5; i++) org.trail.consoleLogin(prod.id, { userName: "grace.hopper" }, { success: false, mfaUsed: false, ip: "192.0.2.146" });
      }
      if (developer) org.trail.consoleLogin(prod.id, { userName: developer.userName }, { success: true, mfaUsed: developer.mfa.length > 0, ip: "203.0.113.7" });
      // A leaver in the sandbox: keys deactivated by security operations — and the console password removed
      // out of band, with no CloudTrail record: the one change the demo cannot attribute.
      const sandbox = org.account(DEMO_ACCOUNTS.sandbox);
      const leaver = [...sandbox.users.values()].find((u) => u.password && u.userName.includes("."));
      if (leaver) {
        org.trail.as(sandbox.id, SECOPS, () => {
          for (const k of leaver.keys) org.setAccessKeyStatus(sandbox.id, leaver.userName, k.accessKeyId, "Inactive");
        });
        org.trail.recording = false;
        try {
          org.deletePassword(sandbox.id, leaver.userName);
        } finally {
          org.trail.recording = true;
        }
      }
      // A day passes: the next collect finds reports older than four hours and has them rebuilt.
      org.ageCredentialReports(24 * 3_600_000);
    },
    close: () => sim.close(),
  };
}

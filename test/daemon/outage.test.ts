// A change made at a provider while whohas cannot reach it is reported once, in the first report, email and
// webhook alert after the provider is back, labelled with the window it happened in; the cycle after that
// reports nothing again. GitHub and AWS behind their simulators, a file source that stays up throughout.
import { generateKeyPairSync } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsManagedArn, generateOrganization } from "../../connectors/aws-iam/sim-tenant.js";
import { startAwsSimulator, type AwsSimulator } from "../../connectors/aws-iam/simulator.js";
import { startGithubSimulator, type GithubSimulator } from "../../connectors/github/simulator.js";
import { findOrg, generateTenant, mutations } from "../../connectors/github/tenant.js";
import { CONNECTORS } from "../../connectors/index.js";
import { collect } from "../../src/collect.js";
import { loadConfig } from "../../src/config/load.js";
import { runCycle, type CycleResult } from "../../src/daemon/cycle.js";
import { diffRuns } from "../../src/diff/differ.js";
import { openStore } from "../../src/store/db.js";
import { Fixture, recordingLog, SMTP_PASSWORD, SMTP_USER, startSmtp, startWebhookReceiver, type SmtpServer, type WebhookReceiver } from "./helpers.js";

const ACCOUNT = "444444444444";

describe("a change made during a provider's outage", () => {
  let fx: Fixture;
  let smtp: SmtpServer;
  let hook: WebhookReceiver;
  let gh: GithubSimulator;
  let aws: AwsSimulator;
  let escalated = "";
  let leaving = "";
  const env: NodeJS.ProcessEnv = { WHOHAS_TEST_SMTP_PASSWORD: SMTP_PASSWORD };
  const log = recordingLog();
  const results: CycleResult[] = [];
  const cycle = async () => {
    const r = await runCycle(loadConfig(fx.config, CONNECTORS), { log, env, signal: new AbortController().signal, email: true, sleep: async () => {} });
    results.push(r);
    return r;
  };
  const cut = (on: boolean) => {
    gh.sim.clearFaults();
    aws.sim.clearFaults();
    if (!on) return;
    // Refusals that are not retried: the scopes fail at once, as during an outage of the provider's API.
    gh.sim.injectFault({ fault: { kind: "status", status: 401, body: JSON.stringify({ message: "Bad credentials" }) } });
    aws.sim.injectFault({ fault: { kind: "status", status: 403, headers: { "content-type": "text/xml" }, body: `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>outage</Message></Error><RequestId>1</RequestId></ErrorResponse>` } });
  };

  beforeAll(async () => {
    const tenant = generateTenant({ seed: 77, orgs: [{ login: "acme", members: 12, owners: 2, outsideCollaborators: 1, repos: 2, teams: 1, patGrants: 1 }] });
    gh = await startGithubSimulator({ tenant, app: { id: 1, publicKey: generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString() } });
    const owner = [...findOrg(tenant, "acme").members].find(([, role]) => role === "admin")!;
    const pat = gh.issuePat(tenant.users.get(owner[0])!.login);
    const { org, caller } = generateOrganization({ seed: 5, managementAccountId: ACCOUNT, accounts: [{ id: ACCOUNT, name: "prod", users: 6, roles: 3 }] });
    aws = await startAwsSimulator({ org });
    smtp = await startSmtp(new Fixture().dir);
    hook = await startWebhookReceiver();
    fx = new Fixture();
    writeFileSync(join(fx.dir, "gh-token"), pat, { mode: 0o600 });
    writeFileSync(join(fx.dir, "aws-secret"), caller.secretAccessKey, { mode: 0o600 });
    Object.assign(env, { WHOHAS_TEST_AWS_KEY: caller.accessKeyId });
    fx.writeConfig(`
[[sources]]
id = "gh"
type = "github"
orgs = ["acme"]
base_url = "${gh.baseUrl}"
token = "file:${join(fx.dir, "gh-token")}"

[[sources]]
id = "aws"
type = "aws-iam"
access_key_id = "env:WHOHAS_TEST_AWS_KEY"
secret_access_key = "file:${join(fx.dir, "aws-secret")}"
region = "us-east-1"
endpoints = { iam = "${aws.url}", sts = "${aws.url}" }
max_attempts = 1

[email]
host = "127.0.0.1"
port = ${smtp.port}
user = "${SMTP_USER}"
password = "env:WHOHAS_TEST_SMTP_PASSWORD"
ca = "${smtp.caFile}"
from = "whohas <whohas@example.com>"
to = ["secops@example.com"]
subject = "whohas"

[[alerts]]
name = "soc"
url = "${hook.url}"
min_severity = "low"

[report]
formats = ["json", "md"]
`);

    // Run 1: everything answers. Then GitHub and AWS are cut for runs 2 and 3, while at both providers an
    // account becomes admin and (at GitHub) a member is removed.
    expect((await cycle()).status).toBe("ok");
    cut(true);
    const change = mutations(tenant);
    change.addOwner("acme", { login: "mallory-gh", twoFactor: "secure" });
    leaving = [...findOrg(tenant, "acme").members].filter(([, role]) => role === "member").map(([id]) => tenant.users.get(id)!.login)[0]!;
    change.removeMember("acme", leaving);
    const user = [...org.account(ACCOUNT).users.values()].find((u) => !u.groups.includes("Admins") && u.attached.length === 0 && u.userName !== caller.userName)!;
    escalated = user.userName;
    org.attachUserPolicy(ACCOUNT, escalated, awsManagedArn("AdministratorAccess"));
    await cycle();
    await cycle();
    cut(false);
    await cycle();
    await cycle();
  }, 120_000);

  afterAll(async () => {
    await Promise.all([gh?.close(), aws?.close(), smtp?.close(), hook?.close()]);
  });

  it("runs 2 and 3 fail for GitHub and AWS only; 4 and 5 are whole again", () => {
    expect(results.map((r) => r.status)).toEqual(["ok", "partial", "partial", "ok", "ok"]);
    expect(results[1]!.scopes.filter((s) => s.status !== "ok").map((s) => s.source).sort()).toEqual(["aws", "gh"]);
  });

  it("the first report after recovery carries both changes, labelled with the window", () => {
    const report = results[3]!.report!;
    expect(report.previousRun!.id).toBe(3);
    const scope = (source: string) => report.diff!.scopes.find((s) => s.source === source)!;
    expect(scope("gh")).toMatchObject({ scope: "acme", compared: true, sinceRun: 1, window: "changes since run 1; runs 2–3 failed" });
    expect(scope("aws")).toMatchObject({ scope: ACCOUNT, compared: true, sinceRun: 1, window: "changes since run 1; runs 2–3 failed" });
    expect(scope("erp")).toMatchObject({ compared: true, sinceRun: 3 });
    expect(scope("erp").window).toBeUndefined();
    expect(report.diff!.principals.added.map((p) => `${p.source}:${p.name}`)).toEqual(["gh:mallory-gh"]);
    expect(report.diff!.principals.removed.map((p) => `${p.source}:${p.name}`)).toEqual([`gh:${leaving}`]);
    const newAdmins = report.findings.filter((f) => f.rule === "new-admin" && f.new).map((f) => f.subject).sort();
    expect(newAdmins).toEqual([`aws/${ACCOUNT}/${escalated}`, "gh/acme/mallory-gh"]);
    const before = report.diff!.accessLevels.find((a) => a.name === escalated)!.before;
    expect(report.findings.find((f) => f.subject === `aws/${ACCOUNT}/${escalated}` && f.rule === "new-admin")!.detail).toBe(`access level ${before} → admin in run 4 (changes since run 1; runs 2–3 failed)`);
    const md = readFileSync(join(loadConfig(fx.config, CONNECTORS).report.dir, readdirSync(loadConfig(fx.config, CONNECTORS).report.dir).find((f) => f.startsWith("run-4-") && f.endsWith(".md"))!), "utf8");
    expect(md).toContain("| gh/acme | changes since run 1; runs 2–3 failed |");
    expect(md).toContain("mallory-gh");
  });

  it("reports each change once: not before the recovery, not again after it", () => {
    const mentions = (r: CycleResult) => ({
      added: r.report!.diff?.principals.added.filter((p) => p.name === "mallory-gh").length ?? 0,
      removed: r.report!.diff?.principals.removed.filter((p) => p.name === leaving).length ?? 0,
      escalated: r.report!.diff?.accessLevels.filter((a) => a.name === escalated).length ?? 0,
    });
    expect(results.map(mentions)).toEqual([0, 0, 0, 1, 0].map((n) => ({ added: n, removed: n, escalated: n })));
    // Before the recovery the reports say the scopes were not compared, and why.
    expect(results[2]!.report!.diff!.scopes.find((s) => s.source === "gh")).toMatchObject({ compared: false, reason: expect.stringMatching(/^failed in run 3: /) });
  });

  it("emails each change once, in the first email after the recovery, with the window", () => {
    const withMallory = smtp.mails.filter((m) => (m.parsed.text ?? "").includes("+ mallory-gh"));
    expect(withMallory).toHaveLength(1);
    const text = withMallory[0]!.parsed.text!;
    expect(text).toContain("whohas report: run 4");
    expect(text).toContain("gh/acme: changes since run 1; runs 2–3 failed");
    expect(text).toContain(`aws/${ACCOUNT}: changes since run 1; runs 2–3 failed`);
    expect(text).toContain(`- ${leaving}`);
    expect(smtp.mails.filter((m) => (m.parsed.text ?? "").includes(`- ${leaving} `) || (m.parsed.text ?? "").includes(`- ${leaving}\n`))).toHaveLength(1);
  });

  it("alerts each new admin exactly once, in the first webhook after the recovery", () => {
    const findings = hook.requests.flatMap((r) => (JSON.parse(r.body) as { run: { id: number }; findings: { rule: string; subject: string; detail: string }[] }).findings.map((f) => ({ run: JSON.parse(r.body).run.id as number, ...f })));
    const admins = findings.filter((f) => f.rule === "new-admin");
    expect(admins.map((f) => `${f.run} ${f.subject}`).sort()).toEqual([`4 aws/${ACCOUNT}/${escalated}`, "4 gh/acme/mallory-gh"]);
    expect(admins.every((f) => f.detail.endsWith("(changes since run 1; runs 2–3 failed)"))).toBe(true);
  });

  it("whohas diff compares each scope from its last good run by default, and only ok-in-both with strict", () => {
    const db = openStore(loadConfig(fx.config, CONNECTORS).store.path, { readonly: true });
    try {
      expect(diffRuns(db, 3, 4).principals.added.map((p) => p.name)).toEqual(["mallory-gh"]);
      expect(diffRuns(db, 3, 4, { strict: true }).principals.added).toEqual([]);
      expect(diffRuns(db, 3, 4, { strict: true }).scopes.find((s) => s.source === "gh")).toMatchObject({ compared: false, reason: expect.stringMatching(/^failed in run 3: /) });
    } finally {
      db.close();
    }
  });
});

describe("a webhook that failed", () => {
  it("gets the findings it missed with the next run's, and then nothing again", async () => {
    const hook = await startWebhookReceiver();
    try {
      const fx = new Fixture(`[[alerts]]\nname = "soc"\nurl = "${hook.url}"\nretries = 0\n`);
      const log = recordingLog();
      const cycle = () => runCycle(loadConfig(fx.config, CONNECTORS), { log, signal: new AbortController().signal, email: false, sleep: async () => {} });
      await cycle();
      fx.mutate();
      hook.respond.push(500);
      const failed = await cycle();
      expect(failed.deliveries.find((d) => d.channel === "webhook")).toMatchObject({ status: "failed", sinceRun: 1 });
      const next = await cycle();
      expect(next.deliveries.find((d) => d.channel === "webhook")).toMatchObject({ status: "ok", sinceRun: 1 });
      const last = await cycle();
      expect(last.deliveries.find((d) => d.channel === "webhook")).toMatchObject({ status: "skipped", sinceRun: 3 });
      const bodies = hook.requests.map((r) => JSON.parse(r.body) as { run: { id: number }; previousRun: { id: number }; findings: { rule: string; subject: string }[] });
      expect(bodies.map((b) => `${b.run.id} since ${b.previousRun.id}`)).toEqual(["2 since 1", "3 since 1"]);
      expect(bodies[1]!.findings.map((f) => `${f.rule} ${f.subject}`).sort()).toEqual(bodies[0]!.findings.map((f) => `${f.rule} ${f.subject}`).sort());
      expect(bodies[1]!.findings.length).toBeGreaterThan(0);
    } finally {
      await hook.close();
    }
  });
});

describe("a run the daemon did not report on", () => {
  it("is covered by the next report: a collect made by hand between two cycles is not skipped over", async () => {
    const fx = new Fixture();
    const log = recordingLog();
    const config = () => loadConfig(fx.config, CONNECTORS);
    const cycle = () => runCycle(config(), { log, signal: new AbortController().signal, email: false, sleep: async () => {} });
    await cycle();
    fx.mutate();
    // `whohas collect` by hand (or a cycle cut short by a restart): run 2 holds the changes, no report was written for it.
    await collect(config(), { log, trigger: "cli" });
    const next = await cycle();
    expect(next.runId).toBe(3);
    expect(next.report!.previousRun!.id).toBe(1);
    expect(next.report!.diff!.principals.added.map((p) => p.name)).toEqual(["dave"]);
    expect(next.deliveries.find((d) => d.channel === "file")).toMatchObject({ status: "ok", sinceRun: 1 });
    const after = await cycle();
    expect(after.report!.previousRun!.id).toBe(3);
    expect(after.report!.diff!.principals.added).toEqual([]);
  });
});

// The connector end to end through the real AWS SDK clients against the simulated organization:
// discovery, paging, the credential report's states, throttling, failures of one account, hops.
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CollectEvent } from "../../../src/connector.js";
import { grantId } from "../../../src/model.js";
import { awsIamConnector } from "../../../connectors/aws-iam/index.js";
import { drain, testContext, type ScopeResult } from "../../helpers/collect.js";
import { fixture, SMALL_ORG, type Fixture } from "./helpers.js";
import { awsIamOptions } from "../../../connectors/aws-iam/options.js";

const MGMT = "111111111111";
const PROD = "222222222222";
const SANDBOX = "333333333333";

let f: Fixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const ids = (s: ScopeResult) => ({
  principals: s.principals.map((p) => p.id).sort(),
  credentials: s.credentials.map((c) => c.id).sort(),
  grants: s.grants.map(grantId).sort(),
});
const totalRequests = (scopes: Map<string, ScopeResult>) => [...scopes.values()].reduce((n, s) => n + s.requests, 0);

describe("organization discovery", () => {
  it("collects every active account as its own scope, with what the issue asks for", async () => {
    f = await fixture(
      { ...SMALL_ORG, accounts: [...SMALL_ORG.accounts, { id: "444444444444", name: "closing", users: 3, roles: 3, state: "SUSPENDED" }] },
      { maxAccountsPerPage: 2 },
    );
    const { events, scopes } = await drain(f.connector({ organization: true }), f.ctx());
    expect([...scopes.keys()].sort()).toEqual([MGMT, PROD, SANDBOX]);
    for (const s of scopes.values()) expect(s.status).toBe("ok");
    expect(scopes.get(PROD)!.label).toBe(`prod (${PROD})`);
    // ListAccounts followed NextToken over two pages (four accounts, two per page).
    expect(f.sim.actionCounts.get("organizations:ListAccounts")).toBe(2);
    // Every request the simulator saw is counted against some scope, retries included.
    expect(totalRequests(scopes)).toBe(f.sim.sim.requestCount);

    const prod = scopes.get(PROD)!;
    const account = f.sim.org.account(PROD);
    expect(prod.meta).toMatchObject({ account_id: PROD, account_name: "prod", assumed_role: `arn:aws:iam::${PROD}:role/WhohasAudit`, users: account.users.size, roles: account.roles.size, credential_report_generated_now: true });
    expect(scopes.get(MGMT)!.meta!.assumed_role).toBeNull();
    expect(typeof prod.meta!.credential_report_generated_at).toBe("string");

    const byKind = (k: string) => prod.principals.filter((p) => p.kind === k);
    expect(byKind("root")).toHaveLength(1);
    expect(byKind("root")[0]).toMatchObject({ accessLevel: "admin", email: "aws-prod@example.com" });
    // The prod root has an access key (the generator's "root with keys in one account").
    expect(prod.credentials.filter((c) => c.principalId === byKind("root")[0]!.id && c.kind === "access_key")).toHaveLength(1);
    expect(byKind("human").length + byKind("service").length + byKind("root").length + byKind("external").length).toBe(prod.principals.length);
    const grace = prod.principals.find((p) => p.name === "grace.hopper")!;
    expect(grace).toMatchObject({ kind: "human", email: "grace.hopper@example.com", status: "active", mfa: "enabled" });
    expect(prod.grants.filter((g) => g.principalId === grace.id).every((g) => g.via === "group")).toBe(true);
    // Third-party access: the vendor role and the external account that may assume it.
    const vendor = prod.principals.find((p) => p.name === "DatadogIntegrationRole")!;
    expect(vendor.attributes).toMatchObject({ third_party: true });
    const external = byKind("external");
    expect(external).toHaveLength(1);
    expect(prod.grants.find((g) => g.principalId === external[0]!.id)).toMatchObject({ level: "read", via: "eligible" });
    // Roles the organization's own accounts assume are not third-party.
    expect(prod.principals.find((p) => p.name === "OrganizationAccountAccessRole")!.attributes!.third_party).toBe(false);
    // Nothing secret travels in events: not the caller's key, not the session keys STS issued.
    const text = JSON.stringify(events);
    expect(text).not.toContain(f.caller.secretAccessKey);
    for (const id of f.sim.org.identities.values()) expect(text).not.toContain(id.secretAccessKey);
    // Timestamps are ISO-8601 UTC.
    for (const p of prod.principals) if (p.createdAt) expect(p.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("gets the same records however IAM pages its answers", async () => {
    f = await fixture();
    const whole = await drain(f.connector({ organization: true }), f.ctx());
    await f.close();
    f = await fixture(SMALL_ORG, { maxAuthorizationDetailsItems: 3 });
    const paged = await drain(f.connector({ organization: true }), f.ctx());
    for (const id of [MGMT, PROD, SANDBOX]) {
      expect(ids(paged.scopes.get(id)!)).toEqual(ids(whole.scopes.get(id)!));
      expect(paged.scopes.get(id)!.meta!.authorization_details_pages as number).toBeGreaterThan(whole.scopes.get(id)!.meta!.authorization_details_pages as number);
    }
    // One records event per page: records are streamed, not gathered per account.
    const recordEvents = paged.events.filter((e) => e.type === "records" && e.scope === PROD).length;
    expect(recordEvents).toBeGreaterThan(5);
  });
});

describe("credential report", () => {
  it("generates, polls while INPROGRESS, and records the report's time", async () => {
    f = await fixture();
    f.sim.org.account(MGMT).reportPolls = 3;
    const { scopes } = await drain(f.connector({ accounts: [MGMT] }), f.ctx());
    expect(scopes.get(MGMT)!.status).toBe("ok");
    // STARTED, INPROGRESS, INPROGRESS, COMPLETE.
    expect(f.sim.actionCounts.get("iam:GenerateCredentialReport")).toBe(4);
    const generated = f.sim.org.account(MGMT).report!.generatedAt.toISOString().replace(/\.\d{3}Z$/, ".000Z");
    expect(scopes.get(MGMT)!.meta).toMatchObject({ credential_report_generated_at: generated, credential_report_generated_now: true, credential_report_stale: false });
  });

  it("reuses a report younger than four hours and regenerates an older one", async () => {
    f = await fixture();
    const connector = f.connector({ accounts: [MGMT] });
    await drain(connector, f.ctx());
    const before = f.sim.actionCounts.get("iam:GenerateCredentialReport");
    const second = await drain(connector, f.ctx());
    expect(f.sim.actionCounts.get("iam:GenerateCredentialReport")).toBe(before);
    expect(second.scopes.get(MGMT)!.meta!.credential_report_generated_now).toBe(false);
    expect(second.scopes.get(MGMT)!.requests).toBe(4); // GetCallerIdentity, GetCredentialReport, two authorization-details passes

    f.sim.org.ageCredentialReports(5 * 3_600_000);
    const third = await drain(connector, f.ctx());
    expect(f.sim.actionCounts.get("iam:GenerateCredentialReport")).toBeGreaterThan(before!);
    expect(third.scopes.get(MGMT)!.meta!.credential_report_generated_now).toBe(true);

    // An account where AWS answers ReportExpired rather than the old report.
    f.sim.org.reportExpiresAfterMs = 3 * 3_600_000;
    f.sim.org.ageCredentialReports(3.5 * 3_600_000);
    const fourth = await drain(connector, f.ctx());
    expect(fourth.scopes.get(MGMT)!.meta).toMatchObject({ credential_report_generated_now: true, credential_report_stale: false });
  });

  it("on LimitExceeded uses the older report and says it is stale; without one, the account fails", async () => {
    f = await fixture();
    const connector = f.connector({ accounts: [MGMT, PROD] });
    await drain(connector, f.ctx());
    f.sim.org.ageCredentialReports(5 * 3_600_000);
    f.sim.org.reportLimitExceeded.add(MGMT);
    f.sim.org.reportLimitExceeded.add(PROD);
    f.sim.org.account(PROD).report = undefined;
    const { scopes } = await drain(connector, f.ctx());
    expect(scopes.get(MGMT)!.meta).toMatchObject({ credential_report_stale: true, credential_report_generated_now: false });
    expect(scopes.get(PROD)!.status).toBe("failed");
    expect(scopes.get(PROD)!.error).toMatch(new RegExp(`account ${PROD}: iam:GenerateCredentialReport failed: LimitExceeded: .*HTTP 409`));
  });

  it("gives up after credential_report_wait_seconds when the report never completes", async () => {
    f = await fixture();
    f.sim.org.account(SANDBOX).reportPolls = 100_000;
    const { scopes } = await drain(f.connector({ organization: true, credential_report_wait_seconds: 1 }), f.ctx());
    expect(scopes.get(SANDBOX)!.status).toBe("failed");
    expect(scopes.get(SANDBOX)!.error).toMatch(/credential report still INPROGRESS after 1 s/);
    expect(scopes.get(PROD)!.status).toBe("ok");
  });

  it("with credential_report = false, principals and grants come without passwords or keys", async () => {
    f = await fixture();
    const { scopes } = await drain(f.connector({ accounts: [PROD], credential_report: false }), f.ctx());
    const prod = scopes.get(PROD)!;
    expect(prod.status).toBe("ok");
    expect(prod.credentials).toEqual([]);
    // Root still exists without the report; what the report would say about it is unknown.
    expect(prod.principals.filter((p) => p.kind === "root")).toEqual([expect.objectContaining({ mfa: "unknown", accessLevel: "admin" })]);
    expect(prod.principals.filter((p) => p.kind === "human" || p.kind === "service").every((p) => p.mfa === "unknown" || p.mfa === "not_applicable")).toBe(true);
    expect(f.sim.actionCounts.get("iam:GetCredentialReport")).toBeUndefined();
  });
});

describe("throttling and failures", () => {
  it("retries Throttling (400), 429, 503 and TooManyRequestsException with the SDK's adaptive retry, counting every attempt", async () => {
    f = await fixture();
    const baseline = await drain(f.connector({ organization: true, concurrency: 1 }), f.ctx());
    f.sim.org.ageCredentialReports(0);
    const baseCount = f.sim.sim.requestCount;
    f.sim.throttle({ action: "GetAccountAuthorizationDetails", account: PROD }, 2);
    f.sim.throttle({ action: "GetCredentialReport", account: SANDBOX }, 1, "429");
    f.sim.throttle({ service: "sts", action: "AssumeRole" }, 1, "503");
    f.sim.throttle({ service: "organizations" }, 1);
    const { scopes } = await drain(f.connector({ organization: true, concurrency: 1 }), f.ctx());
    for (const id of [MGMT, PROD, SANDBOX]) {
      expect(scopes.get(id)!.status).toBe("ok");
      expect(ids(scopes.get(id)!)).toEqual(ids(baseline.scopes.get(id)!));
    }
    expect(totalRequests(scopes)).toBe(f.sim.sim.requestCount - baseCount);
    // Reports are fresh on the second run, so: the baseline minus report generation, plus retries.
    expect(scopes.get(PROD)!.requests).toBe(1 + 1 + 2 + 2 + 1); // AssumeRole, GetCredentialReport, 2 passes, 2 throttled, 1 AssumeRole 503
  });

  it("an account throttled past max_attempts fails alone, with AWS's code and message", async () => {
    f = await fixture();
    f.sim.throttle({ action: "GetAccountAuthorizationDetails", account: SANDBOX }, 1000);
    const { scopes } = await drain(f.connector({ organization: true, max_attempts: 3 }), f.ctx());
    expect(scopes.get(SANDBOX)!.status).toBe("failed");
    expect(scopes.get(SANDBOX)!.error).toBe(`source aws-test, account ${SANDBOX}: iam:GetAccountAuthorizationDetails (LocalManagedPolicy,AWSManagedPolicy,Group) failed: Throttling: Rate exceeded (HTTP 400, after 3 attempts)`);
    expect(scopes.get(MGMT)!.status).toBe("ok");
    expect(scopes.get(PROD)!.status).toBe("ok");
  });

  it("AssumeRole denied in one account: that scope fails, the others are stored, and the next run is whole again", async () => {
    f = await fixture();
    const connector = f.connector({ organization: true });
    const before = await drain(connector, f.ctx());
    f.sim.org.denyAssumeRole.add(PROD);
    const broken = await drain(connector, f.ctx());
    const prod = broken.scopes.get(PROD)!;
    expect(prod.status).toBe("failed");
    expect(prod.error).toMatch(new RegExp(`^source aws-test, account ${PROD}: sts:AssumeRole into arn:aws:iam::${PROD}:role/WhohasAudit failed: AccessDenied: User: arn:aws:iam::${MGMT}:user/whohas-auditor is not authorized to perform: sts:AssumeRole`));
    // A failed scope carries no records and no scope-end: nothing in it can read as "removed".
    expect(prod.principals).toEqual([]);
    expect(broken.events.some((e) => e.type === "scope-end" && e.scope === PROD)).toBe(false);
    expect(ids(broken.scopes.get(SANDBOX)!)).toEqual(ids(before.scopes.get(SANDBOX)!));
    f.sim.org.denyAssumeRole.delete(PROD);
    const healed = await drain(connector, f.ctx());
    expect(ids(healed.scopes.get(PROD)!)).toEqual(ids(before.scopes.get(PROD)!));
  });

  it("a response cut off mid-XML is retried like any transient network error", async () => {
    f = await fixture();
    f.sim.truncate({ action: "GetAccountAuthorizationDetails", account: SANDBOX }, 1);
    const { scopes } = await drain(f.connector({ accounts: [SANDBOX] }), f.ctx());
    expect(scopes.get(SANDBOX)!.status).toBe("ok");
    expect(totalRequests(scopes)).toBe(f.sim.sim.requestCount);
  });

  it("an IAM AccessDenied (audit role without iam:GetCredentialReport) fails that account", async () => {
    f = await fixture();
    f.sim.org.deniedActions.add(`${SANDBOX}:GetCredentialReport`);
    const { scopes } = await drain(f.connector({ organization: true }), f.ctx());
    expect(scopes.get(SANDBOX)!.error).toMatch(/iam:GetCredentialReport failed: AccessDenied: User: arn:aws:sts::333333333333:assumed-role\/WhohasAudit\/whohas is not authorized/);
    expect(scopes.get(PROD)!.status).toBe("ok");
  });

  it("a failed discovery fails the whole source (collect throws)", async () => {
    f = await fixture();
    const bad = f.connector({ organization: true, secret_access_key: "env:WRONG_SECRET" });
    const err = await drain(bad, testContext("aws-test", { ...f.env, WRONG_SECRET: "y".repeat(40) })).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^sts:GetCallerIdentity failed \(are AWS credentials configured\?\): SignatureDoesNotMatch: The request signature we calculated does not match/);
    // AWS appends the canonical request (signed headers, session tokens included): it is cut off.
    expect(err?.message).not.toContain("Canonical String");
  });

  it("stops when the run is aborted", async () => {
    f = await fixture();
    f.sim.sim.latencyMs = 30;
    const ac = new AbortController();
    const ctx = testContext("aws-test", f.env, ac.signal);
    const seen: CollectEvent[] = [];
    const run = (async () => {
      for await (const ev of f!.connector({ organization: true }).collect(ctx)) {
        seen.push(ev);
        if (ev.type === "scope-start") ac.abort(new Error("operator pressed ^C"));
      }
    })();
    await expect(run).rejects.toThrow(/operator pressed|aborted/i);
    expect(seen.some((e) => e.type === "scope-end")).toBe(false);
  });
});

describe("consumer stops early", () => {
  it("leaving the loop stops the account workers without stray errors", async () => {
    f = await fixture();
    f.sim.sim.latencyMs = 10;
    let records = 0;
    for await (const ev of f.connector({ organization: true, concurrency: 3 }).collect(f.ctx())) {
      if (ev.type === "records" && ++records === 1) break;
    }
    const served = f.sim.sim.requestCount;
    await new Promise((r) => setTimeout(r, 100));
    // Requests already in flight may land; no new ones are started after the abort.
    expect(f.sim.sim.requestCount - served).toBeLessThanOrEqual(3);
  });
});

describe("accounts, hops and options", () => {
  it("without accounts or organization, collects the caller's own account with its own credentials", async () => {
    f = await fixture();
    const { scopes } = await drain(f.connector({}), f.ctx());
    expect([...scopes.keys()]).toEqual([MGMT]);
    expect(f.sim.actionCounts.get("sts:AssumeRole")).toBeUndefined();
  });

  it("hops into an audit role with an external id, then into member accounts from there", async () => {
    f = await fixture();
    const { org } = f.sim;
    org.createRole(PROD, "AuditHub", { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${MGMT}:root` }, Action: "sts:AssumeRole", Condition: { StringEquals: { "sts:ExternalId": "hub-7f3a" } } }] });
    org.role(SANDBOX, "WhohasAudit").trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${PROD}:role/AuditHub` }, Action: "sts:AssumeRole" }] });
    const options = { role_arn: `arn:aws:iam::${PROD}:role/AuditHub`, accounts: [PROD, SANDBOX] };
    const { scopes } = await drain(f.connector({ ...options, external_id: "hub-7f3a" }), f.ctx());
    expect(scopes.get(PROD)!.meta!.assumed_role).toBeNull();
    expect(scopes.get(SANDBOX)!.meta!.assumed_role).toBe(`arn:aws:iam::${SANDBOX}:role/WhohasAudit`);
    expect(scopes.get(SANDBOX)!.status).toBe("ok");
    // The hop's request is charged to the hop account's scope.
    expect(totalRequests(scopes)).toBe(f.sim.sim.requestCount);
    await expect(drain(f.connector({ ...options, external_id: "wrong" }), f.ctx())).rejects.toThrow(`sts:AssumeRole into arn:aws:iam::${PROD}:role/AuditHub failed: AccessDenied`);
  });

  it("without static keys, uses the SDK default chain: environment, then a named profile", async () => {
    f = await fixture();
    const dir = await mkdtemp(join(tmpdir(), "whohas-aws-profile-"));
    const saved = { ...process.env };
    try {
      process.env.AWS_ACCESS_KEY_ID = f.caller.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = f.caller.secretAccessKey;
      const viaEnv = await drain(f.connector({ access_key_id: undefined, secret_access_key: undefined }), f.ctx());
      expect(viaEnv.scopes.get(MGMT)!.status).toBe("ok");

      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      const file = join(dir, "credentials");
      await writeFile(file, `[audit]\naws_access_key_id = ${f.caller.accessKeyId}\naws_secret_access_key = ${f.caller.secretAccessKey}\n`, { mode: 0o600 });
      process.env.AWS_SHARED_CREDENTIALS_FILE = file;
      process.env.AWS_CONFIG_FILE = join(dir, "config-absent");
      const viaProfile = await drain(f.connector({ access_key_id: undefined, secret_access_key: undefined, profile: "audit", accounts: [PROD] }), f.ctx());
      expect(viaProfile.scopes.get(PROD)!.status).toBe("ok");
    } finally {
      for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("access_key_ids = true records key ids (one ListAccessKeys per user holding keys)", async () => {
    f = await fixture();
    const { scopes } = await drain(f.connector({ accounts: [PROD], access_key_ids: true }), f.ctx());
    const keys = scopes.get(PROD)!.credentials.filter((c) => c.kind === "access_key" && !c.principalId.endsWith(":root"));
    const account = f.sim.org.account(PROD);
    const expected = [...account.users.values()].flatMap((u) => u.keys.map((k) => k.accessKeyId)).sort();
    expect(keys.map((k) => k.id).sort()).toEqual(expected);
    expect(keys[0]!.attributes!.key_id_last4).toBe(keys[0]!.id.slice(-4));
    expect(f.sim.actionCounts.get("iam:ListAccessKeys")).toBe([...account.users.values()].filter((u) => u.keys.length > 0).length);
  });

  it("access_key_ids = true follows ListAccessKeys' Marker: keys on a later page keep their ids", async () => {
    // One key per page: every user with two keys needs the second page.
    f = await fixture(SMALL_ORG, { maxAccessKeysItems: 1 });
    const { scopes } = await drain(f.connector({ accounts: [PROD], access_key_ids: true }), f.ctx());
    const keys = scopes.get(PROD)!.credentials.filter((c) => c.kind === "access_key" && !c.principalId.endsWith(":root"));
    const holders = [...f.sim.org.account(PROD).users.values()].filter((u) => u.keys.length > 0);
    const expected = holders.flatMap((u) => u.keys.map((k) => k.accessKeyId)).sort();
    expect(holders.some((u) => u.keys.length > 1)).toBe(true);
    expect(keys.map((k) => k.id).sort()).toEqual(expected);
    expect(f.sim.actionCounts.get("iam:ListAccessKeys")).toBe(holders.reduce((n, u) => n + u.keys.length, 0));
  });

  it("access_key_ids = true: a ListAccessKeys answer about another user fails the account, naming both, rather than moving a key", async () => {
    let victim = "";
    let other = "";
    f = await fixture(SMALL_ORG, {
      override: (call) => {
        if (call.service !== "iam" || call.action !== "ListAccessKeys" || call.params.get("UserName") !== victim) return undefined;
        const k = f!.sim.org.account(PROD).users.get(other)!.keys[0]!;
        return `<AccessKeyMetadata><member><UserName>${other}</UserName><AccessKeyId>${k.accessKeyId}</AccessKeyId><Status>Active</Status><CreateDate>2024-01-01T00:00:00Z</CreateDate></member></AccessKeyMetadata><IsTruncated>false</IsTruncated>`;
      },
    });
    const holders = [...f.sim.org.account(PROD).users.values()].filter((u) => u.keys.length > 0);
    expect(holders.length).toBeGreaterThanOrEqual(2);
    [victim, other] = [holders[0]!.userName, holders[1]!.userName];
    const { scopes } = await drain(f.connector({ accounts: [PROD], access_key_ids: true }), f.ctx());
    const prod = scopes.get(PROD)!;
    expect(prod.status).toBe("failed");
    expect(prod.error).toContain(`iam:ListAccessKeys for ${victim} answered about another user (${other})`);
  });

  it("rejects typos and contradictions in the options", () => {
    expect(awsIamOptions.safeParse({ organisation: true }).success).toBe(false);
    expect(awsIamOptions.safeParse({ access_key_id: "env:A" }).success).toBe(false);
    expect(awsIamOptions.safeParse({ access_key_id: "AKIAIOSFODNN7EXAMPLE", secret_access_key: "env:S" }).success).toBe(false);
    expect(awsIamOptions.safeParse({ partition: "aws-cn", region: "us-east-1" }).success).toBe(false);
    expect(awsIamOptions.safeParse({ accounts: ["12345"] }).success).toBe(false);
    expect(awsIamOptions.safeParse({ endpoints: { iam: "http://127.0.0.1:1", ec2: "x" } }).success).toBe(false);
    const parsed = awsIamOptions.parse({ organization: true, partition: "aws-us-gov" });
    expect(parsed).toMatchObject({ member_role_name: "OrganizationAccountAccessRole", concurrency: 4, max_attempts: 6, credential_report_max_age_hours: 4, access_key_ids: false });
  });
});

describe("demo", () => {
  it("runs against its simulator and the second collect shows escalation, removal, rotation and a leaver", async () => {
    const dir = await mkdtemp(join(tmpdir(), "whohas-aws-demo-"));
    const demo = await awsIamConnector.demo!(dir);
    try {
      const secretFile = String(demo.options.secret_access_key).slice("file:".length);
      expect((await stat(secretFile)).mode & 0o777).toBe(0o600);
      const connector = awsIamConnector.create("aws-demo", awsIamOptions.parse(demo.options));
      const ctx = () => testContext("aws-demo", { ...process.env, ...demo.env });
      const day1 = await drain(connector, ctx());
      expect([...day1.scopes.values()].every((s) => s.status === "ok")).toBe(true);
      const principals = [...day1.scopes.values()].reduce((n, s) => n + s.principals.length, 0);
      expect(principals).toBeGreaterThanOrEqual(20);
      expect(principals).toBeLessThanOrEqual(70);
      await demo.mutate();
      const day2 = await drain(connector, ctx());
      const p1 = day1.scopes.get("222222222222")!;
      const p2 = day2.scopes.get("222222222222")!;
      expect(day2.scopes.get("222222222222")!.meta!.credential_report_generated_now).toBe(true);

      const removed = p1.principals.filter((p) => !p2.principals.some((q) => q.id === p.id));
      expect(removed.map((p) => p.name)).toEqual([expect.stringMatching(/^ci-/)]);
      const adminsBefore = new Set(p1.grants.filter((g) => g.level === "admin").map((g) => g.principalId));
      const escalated = p2.grants.filter((g) => g.level === "admin" && g.via === "group" && !adminsBefore.has(g.principalId));
      expect(escalated).toHaveLength(1);
      const newKeys = p2.credentials.filter((c) => c.kind === "access_key" && !p1.credentials.some((o) => o.id === c.id));
      expect(newKeys).toHaveLength(1);
      expect(newKeys[0]!.lastUsed).toMatchObject({ at: null, known: false });

      const s1 = day1.scopes.get("333333333333")!;
      const s2 = day2.scopes.get("333333333333")!;
      const leavers = s2.principals.filter((p) => p.status === "disabled" && s1.principals.find((q) => q.id === p.id)?.status === "active");
      expect(leavers).toHaveLength(1);
      expect(leavers[0]!.kind).toBe("human");
      // grace.hopper stays active in AWS: the cross-source "orphaned access" of the demo.
      expect(p2.principals.find((p) => p.name === "grace.hopper")).toMatchObject({ status: "active", email: "grace.hopper@example.com" });
    } finally {
      await demo.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// The aws-iam audit-event feeds through the real @aws-sdk/client-cloudtrail against the simulator's
// CloudTrail (JSON 1.1 LookupEvents, 50 a page, NextToken, ThrottlingException beyond 2 requests per second
// per account and Region): paging, the limiter, throttling, failures, hostile names, the demo's changes and a
// second read that starts where the first one ended.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createAwsIamEventReader, type AwsEventTuning } from "../../../connectors/aws-iam/events.js";
import { DEMO_ACCOUNTS, startDemo } from "../../../connectors/aws-iam/demo.js";
import { awsIamOptions } from "../../../connectors/aws-iam/options.js";
import type { SimOrganization } from "../../../connectors/aws-iam/sim-tenant.js";
import type { AuditEvent, FeedEvent, FeedRequest } from "../../../src/events/contract.js";
import { testContext, type TestContext } from "../../helpers/collect.js";
import { fastTuning, fixture, SMALL_ORG, type Fixture } from "./helpers.js";

const MGMT = "111111111111";
const PROD = "222222222222";
const SANDBOX = "333333333333";
/** Tests that are not about the quota run it 25 times faster, in the simulator and the limiter alike. */
const FAST_RATE = { requests: 2, windowMs: 40 };

let f: Fixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

function reader(fx: Fixture, options: Record<string, unknown> = {}, tuning: AwsEventTuning = {}) {
  const opts = awsIamOptions.parse({
    access_key_id: "env:TEST_AWS_KEY",
    secret_access_key: "env:TEST_AWS_SECRET",
    endpoints: { iam: fx.sim.url, sts: fx.sim.url, organizations: fx.sim.url, cloudtrail: fx.sim.url },
    member_role_name: SMALL_ORG.memberRoleName,
    ...options,
  });
  return createAwsIamEventReader("aws-test", opts, { ...fastTuning(), cloudTrailRate: FAST_RATE, ...tuning });
}

async function read(r: ReturnType<typeof createAwsIamEventReader>, ctx: TestContext, requests: FeedRequest[]): Promise<FeedEvent[]> {
  const out: FeedEvent[] = [];
  try {
    for await (const ev of r.read(ctx, requests)) out.push(ev);
  } finally {
    await ctx.release();
  }
  return out;
}

const eventsOf = (evs: FeedEvent[], scope?: string, feed?: string): AuditEvent[] =>
  evs.flatMap((e) => (e.type === "events" && (!scope || e.scope === scope) && (!feed || e.feed === feed) ? e.events : []));
const endOf = (evs: FeedEvent[], scope: string, feed: string) => evs.find((e) => (e.type === "feed-end" || e.type === "feed-failed" || e.type === "feed-unavailable") && e.scope === scope && e.feed === feed);
const DAY = 86_400_000;
const sinceDaysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

/** n IAM changes in an account: users created, one a second apart going back from `org.now()`. */
function createUsers(org: SimOrganization, account: string, n: number, prefix = "batch-user"): void {
  const now = org.now;
  const base = now().getTime();
  for (let i = 0; i < n; i++) {
    org.now = () => new Date(base - (n - i) * 1000);
    org.createUser(account, `${prefix}-${i}`);
  }
  org.now = now;
}

describe("CloudTrail paging", () => {
  it("reads every page of 50 with NextToken, newest first, each event once", async () => {
    f = await fixture(SMALL_ORG, { cloudTrailRate: FAST_RATE });
    createUsers(f.sim.org, PROD, 120);
    const ctx = f.ctx();
    const evs = await read(reader(f), ctx, [{ scope: PROD, feed: "iam", cursor: null, since: sinceDaysAgo(1) }]);
    const pages = evs.filter((e) => e.type === "events");
    expect(pages.map((p) => (p.type === "events" ? p.events.length : 0))).toEqual([50, 50, 20]);
    const events = eventsOf(evs);
    expect(new Set(events.map((e) => e.id)).size).toBe(120);
    // Newest first across pages, as CloudTrail answers.
    const times = events.map((e) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
    expect(events.every((e) => e.action === "account.create" && e.providerAction === "CreateUser" && e.outcome === "success")).toBe(true);
    expect(endOf(evs, PROD, "iam")).toMatchObject({ type: "feed-end" });
    expect(evs[0]).toEqual({ type: "feed-start", scope: PROD, feed: "iam" });
    expect(f.sim.lookups.filter((l) => l.account === PROD)).toHaveLength(3);
    expect(f.sim.lookups.every((l) => !l.throttled)).toBe(true);
    // Every request the simulator saw is counted against the account (the member role hop included).
    expect(ctx.requests.get(PROD)).toBe(f.sim.sim.requestCount);
  });

  it("asks for at most 90 days however old `since` is", async () => {
    f = await fixture(SMALL_ORG, { cloudTrailRate: FAST_RATE });
    const org = f.sim.org;
    const now = org.now;
    org.now = () => new Date(Date.now() - 120 * DAY);
    org.createUser(PROD, "ancient");
    org.now = now;
    org.createUser(PROD, "recent");
    const evs = await read(reader(f), f.ctx(), [{ scope: PROD, feed: "iam", cursor: null, since: sinceDaysAgo(400) }]);
    expect(eventsOf(evs).map((e) => e.target?.name)).toEqual(["recent"]);
    expect(endOf(evs, PROD, "iam")).toMatchObject({ type: "feed-end" });
  });
});

describe("the 2 requests per second quota", () => {
  it("is kept by the limiter: no ThrottlingException, never more than 2 requests in any second per account and Region", async () => {
    // CloudTrail's real quota in the simulator and the limiter: 2 requests per 1000 ms.
    f = await fixture(SMALL_ORG);
    createUsers(f.sim.org, PROD, 210);
    createUsers(f.sim.org, SANDBOX, 60);
    const evs = await read(reader(f, {}, { cloudTrailRate: undefined }), f.ctx(), [
      { scope: PROD, feed: "iam", cursor: null, since: sinceDaysAgo(1) },
      { scope: SANDBOX, feed: "iam", cursor: null, since: sinceDaysAgo(1) },
    ]);
    expect(eventsOf(evs, PROD)).toHaveLength(210);
    expect(eventsOf(evs, SANDBOX)).toHaveLength(60);
    const lookups = f.sim.lookups;
    expect(lookups.filter((l) => l.throttled)).toEqual([]);
    for (const account of [PROD, SANDBOX]) {
      const at = lookups.filter((l) => l.account === account && l.region === "us-east-1").map((l) => l.at);
      expect(at).toHaveLength(account === PROD ? 5 : 2);
      // Any three consecutive arrivals span more than a second: at most two in any one-second window.
      for (let i = 0; i + 2 < at.length; i++) expect(at[i + 2]! - at[i]!).toBeGreaterThanOrEqual(1000);
    }
  });

  it("leaves a ThrottlingException to the SDK's retry and still reads everything", async () => {
    f = await fixture(SMALL_ORG, { cloudTrailRate: FAST_RATE });
    createUsers(f.sim.org, PROD, 70);
    f.sim.throttle({ service: "cloudtrail", account: PROD }, 2);
    const ctx = f.ctx();
    const evs = await read(reader(f), ctx, [{ scope: PROD, feed: "iam", cursor: null, since: sinceDaysAgo(1) }]);
    expect(endOf(evs, PROD, "iam")).toMatchObject({ type: "feed-end" });
    expect(new Set(eventsOf(evs).map((e) => e.id)).size).toBe(70);
    // Two pages answered, two throttled attempts retried: all four counted.
    expect(f.sim.lookups.filter((l) => l.account === PROD)).toHaveLength(2);
    expect(ctx.requests.get(PROD)).toBe(f.sim.sim.requestCount);
  });

  it("fails the feed, not the read, when throttling outlasts the retries", async () => {
    f = await fixture(SMALL_ORG, { cloudTrailRate: FAST_RATE });
    f.sim.throttle({ service: "cloudtrail", account: PROD }, 100);
    const evs = await read(reader(f, { max_attempts: 3 }), f.ctx(), [
      { scope: PROD, feed: "iam", cursor: null, since: sinceDaysAgo(1) },
      { scope: SANDBOX, feed: "iam", cursor: null, since: sinceDaysAgo(1) },
    ]);
    const failed = endOf(evs, PROD, "iam");
    expect(failed).toMatchObject({ type: "feed-failed" });
    expect(failed?.type === "feed-failed" && failed.error).toMatch(/ThrottlingException.*after 3 attempts/);
    expect(endOf(evs, SANDBOX, "iam")).toMatchObject({ type: "feed-end" });
  });
});

describe("errors", () => {
  it("names the missing permission; other accounts' feeds go on", async () => {
    f = await fixture(SMALL_ORG, { cloudTrailRate: FAST_RATE });
    f.sim.org.deniedActions.add(`${PROD}:LookupEvents`);
    createUsers(f.sim.org, SANDBOX, 3);
    const evs = await read(reader(f), f.ctx(), [
      { scope: PROD, feed: "iam", cursor: null, since: sinceDaysAgo(1) },
      { scope: PROD, feed: "signin", cursor: null, since: sinceDaysAgo(1) },
      { scope: SANDBOX, feed: "iam", cursor: null, since: sinceDaysAgo(1) },
    ]);
    for (const feed of ["iam", "signin"]) {
      const failed = endOf(evs, PROD, feed);
      expect(failed?.type).toBe("feed-failed");
      expect(failed?.type === "feed-failed" && failed.error).toMatch(/AccessDeniedException.*cloudtrail:LookupEvents/);
    }
    expect(eventsOf(evs, SANDBOX)).toHaveLength(3);
  });

  it("fails the feeds of an account whose member role cannot be assumed, and unknown feeds or scopes", async () => {
    f = await fixture(SMALL_ORG, { cloudTrailRate: FAST_RATE });
    f.sim.org.denyAssumeRole.add(SANDBOX);
    const evs = await read(reader(f), f.ctx(), [
      { scope: SANDBOX, feed: "iam", cursor: null, since: sinceDaysAgo(1) },
      { scope: PROD, feed: "cloudwatch", cursor: null, since: sinceDaysAgo(1) },
      { scope: "not-an-account", feed: "iam", cursor: null, since: sinceDaysAgo(1) },
      { scope: MGMT, feed: "iam", cursor: null, since: sinceDaysAgo(1) },
    ]);
    expect(endOf(evs, SANDBOX, "iam")).toMatchObject({ type: "feed-failed", error: expect.stringMatching(/sts:AssumeRole into arn:aws:iam::333333333333:role\/WhohasAudit failed/) });
    expect(endOf(evs, PROD, "cloudwatch")).toMatchObject({ type: "feed-failed", error: expect.stringMatching(/no feed "cloudwatch"/) });
    expect(endOf(evs, "not-an-account", "iam")).toMatchObject({ type: "feed-failed" });
    // The caller's own account is read with the caller's credentials (no hop).
    expect(endOf(evs, MGMT, "iam")).toMatchObject({ type: "feed-end" });
  });

  it("refuses a page that is not a LookupEvents answer instead of reading it as no events", async () => {
    f = await fixture(SMALL_ORG, { cloudTrailRate: FAST_RATE });
    f.sim.sim.injectFault({ fault: { kind: "status", status: 200, headers: { "content-type": "application/x-amz-json-1.1" }, body: "{}" }, match: (req) => String(req.headers["x-amz-target"] ?? "").endsWith("LookupEvents") });
    const evs = await read(reader(f), f.ctx(), [{ scope: MGMT, feed: "iam", cursor: null, since: sinceDaysAgo(1) }]);
    expect(endOf(evs, MGMT, "iam")).toMatchObject({ type: "feed-failed", error: expect.stringMatching(/no Events list/) });
  });
});

describe("mapping", () => {
  it("maps grants, credentials, MFA and sign-ins with actors, targets as stored ids, IPs and user agents", async () => {
    f = await fixture(SMALL_ORG, { cloudTrailRate: FAST_RATE });
    const org = f.sim.org;
    const grace = org.user(PROD, "grace.hopper");
    const admin = { type: "IAMUser" as const, name: "grace.hopper", ip: "198.51.100.9", userAgent: "aws-cli/2" };
    org.trail.as(PROD, admin, () => {
      const bob = org.createUser(PROD, "bob");
      org.attachUserPolicy(PROD, "bob", "arn:aws:iam::aws:policy/AdministratorAccess");
      org.putUserPolicy(PROD, "bob", "everything", '{"Statement":[]}');
      org.addUserToGroup(PROD, "bob", "Admins");
      const key = org.createAccessKey(PROD, "bob");
      org.setAccessKeyStatus(PROD, "bob", key.accessKeyId, "Inactive");
      void bob;
    });
    org.trail.as(PROD, { type: "Root", name: "root", ip: "192.0.2.1", userAgent: "console" }, () => org.deactivateMfa(PROD, "grace.hopper"));
    org.trail.as(PROD, { type: "AWSService", name: "sso.amazonaws.com", ip: "", userAgent: "" }, () => org.createRole(PROD, "sso-made", {}));
    org.trail.as(PROD, { type: "AssumedRole", name: "app-lambda-9", session: "job-42", ip: "10.0.0.5", userAgent: "Boto3/1.34" }, () => org.deleteRole(PROD, "sso-made"));
    org.trail.consoleLogin(PROD, { userName: "grace.hopper" }, { success: false, mfaUsed: false, ip: "192.0.2.146" });
    org.trail.consoleLogin(PROD, { userName: "grace.hopper" }, { success: true, mfaUsed: true, ip: "203.0.113.7" });
    org.trail.consoleLogin(PROD, { root: true }, { success: true, mfaUsed: true, ip: "203.0.113.8", region: "eu-west-1" });

    const evs = await read(reader(f, { signin_regions: ["us-east-1", "eu-west-1"] }), f.ctx(), [
      { scope: PROD, feed: "iam", cursor: null, since: sinceDaysAgo(1) },
      { scope: PROD, feed: "signin", cursor: null, since: sinceDaysAgo(1) },
    ]);
    const iam = eventsOf(evs, PROD, "iam");
    const by = (name: string) => iam.find((e) => e.providerAction === name)!;
    const bobId = org.user(PROD, "bob").userId;
    const key = org.user(PROD, "bob").keys[0]!.accessKeyId;
    expect(by("CreateUser")).toMatchObject({ action: "account.create", actor: { id: grace.userId, name: "grace.hopper", kind: "person" }, target: { principalId: bobId, name: "bob" }, ip: "198.51.100.9", userAgent: "aws-cli/2" });
    expect(by("AttachUserPolicy")).toMatchObject({ action: "grant.add", target: { principalId: bobId, privilege: "arn:aws:iam::aws:policy/AdministratorAccess" } });
    expect(by("PutUserPolicy")).toMatchObject({ action: "grant.add", target: { principalId: bobId, privilege: "inline:user/everything" } });
    expect(by("AddUserToGroup")).toMatchObject({ action: "grant.add", target: { principalId: bobId }, details: { group: "Admins" } });
    expect(by("CreateAccessKey")).toMatchObject({ action: "credential.create", target: { principalId: bobId, credentialId: key } });
    expect(by("UpdateAccessKey")).toMatchObject({ action: "credential.disable", target: { principalId: bobId, credentialId: key } });
    expect(by("DeactivateMFADevice")).toMatchObject({ action: "mfa.disable", actor: { id: `arn:aws:iam::${PROD}:root`, kind: "person" }, target: { principalId: grace.userId } });
    expect(by("CreateRole")).toMatchObject({ action: "account.create", actor: { kind: "provider", name: "sso.amazonaws.com" } });
    // The role is gone by the time of the read: its id came from the CreateRole answer, the delete names it only.
    expect(by("DeleteRole")).toMatchObject({ action: "account.delete", actor: { kind: "app", name: "app-lambda-9/job-42" }, target: { name: "sso-made" } });
    // Nothing secret travels: no access key secret in any record.
    expect(JSON.stringify(iam)).not.toContain(org.user(PROD, "bob").keys[0]!.secretAccessKey);

    const signin = eventsOf(evs, PROD, "signin");
    expect(signin).toHaveLength(3);
    const failure = signin.find((e) => e.outcome === "failure")!;
    expect(failure).toMatchObject({ action: "signin.failure", providerAction: "ConsoleLogin", target: { principalId: grace.userId }, ip: "192.0.2.146", details: { console_login: "Failure", mfa_used: "No", error_message: "Failed authentication", region: "us-east-1" } });
    expect(signin.find((e) => e.actor.kind === "person" && e.ip === "203.0.113.7")).toMatchObject({ action: "signin.success", details: { mfa_used: "Yes" } });
    expect(signin.find((e) => e.details?.region === "eu-west-1")).toMatchObject({ action: "signin.success", actor: { id: `arn:aws:iam::${PROD}:root` } });
    // signin read two Regions, each with its own quota.
    expect(new Set(f.sim.lookups.map((l) => l.region))).toEqual(new Set(["us-east-1", "eu-west-1"]));
  });

  it("keeps hostile names exactly and resolves them through a Map", async () => {
    f = await fixture(SMALL_ORG, { cloudTrailRate: FAST_RATE });
    const org = f.sim.org;
    const hostile = ["toString", "__proto__", "constructor", "<img src=x onerror=alert(1)>", "a|b\n## md", "\u001b[31mred\u001b[0m"];
    for (const name of hostile) org.createUser(PROD, name);
    // Named by name only (no id in the request), so the targets are resolved through the name index.
    for (const name of hostile) org.addUserToGroup(PROD, name, "ReadOnly");
    org.trail.as(PROD, { type: "AssumedRole", name: "AWSReservedSSO_AdministratorAccess", session: "<script>@example.com", ip: "203.0.113.7", userAgent: "\u001b]0;pwned\u0007" }, () => org.deleteUser(PROD, "toString"));
    const evs = await read(reader(f), f.ctx(), [{ scope: PROD, feed: "iam", cursor: null, since: sinceDaysAgo(1) }]);
    const adds = eventsOf(evs).filter((e) => e.providerAction === "AddUserToGroup");
    expect(adds.map((e) => e.target?.name).sort()).toEqual([...hostile].sort());
    for (const e of adds) {
      const name = e.target!.name!;
      // toString was deleted before the read: the index no longer knows it.
      expect(e.target!.principalId).toBe(name === "toString" ? null : org.user(PROD, name).userId);
    }
    const del = eventsOf(evs).find((e) => e.providerAction === "DeleteUser")!;
    expect(del).toMatchObject({ actor: { name: expect.stringContaining("<script>@example.com"), kind: "person" }, userAgent: "\u001b]0;pwned\u0007", target: { name: "toString", principalId: null } });
  });
});

describe("the demo", () => {
  it("records who made each of its changes, and one change without a record", async () => {
    const dir = await mkdtemp(join(tmpdir(), "whohas-aws-events-"));
    const demo = await startDemo(dir);
    try {
      await demo.mutate();
      process.env.WHOHAS_DEMO_AWS_ACCESS_KEY_ID = demo.env!.WHOHAS_DEMO_AWS_ACCESS_KEY_ID;
      const r = createAwsIamEventReader("aws-demo", awsIamOptions.parse(demo.options), { ...fastTuning(), cloudTrailRate: { requests: 2, windowMs: 1000 } });
      const ctx = testContext("aws-demo");
      const evs = await read(r, ctx, [
        { scope: DEMO_ACCOUNTS.prod, feed: "iam", cursor: null, since: sinceDaysAgo(1) },
        { scope: DEMO_ACCOUNTS.prod, feed: "signin", cursor: null, since: sinceDaysAgo(1) },
        { scope: DEMO_ACCOUNTS.sandbox, feed: "iam", cursor: null, since: sinceDaysAgo(1) },
      ]);
      const prod = eventsOf(evs, DEMO_ACCOUNTS.prod, "iam");
      const actions = prod.map((e) => `${e.action} ${e.providerAction}`);
      expect(actions).toContain("grant.add AddUserToGroup");
      expect(actions).toContain("account.delete DeleteUser");
      expect(actions).toContain("credential.create CreateAccessKey");
      expect(actions).toContain("credential.delete DeleteAccessKey");
      const escalation = prod.find((e) => e.providerAction === "AddUserToGroup")!;
      expect(escalation).toMatchObject({ actor: { kind: "person", name: expect.stringContaining("ann.admin@example.com") }, ip: "203.0.113.7", details: { group: "Admins" } });
      expect(escalation.target?.principalId).toMatch(/^AIDA/);
      expect(prod.find((e) => e.providerAction === "DeleteUser")).toMatchObject({ actor: { kind: "app", name: "github-actions-deploy/GitHubActions" } });
      const signin = eventsOf(evs, DEMO_ACCOUNTS.prod, "signin");
      expect(signin.filter((e) => e.action === "signin.failure" && e.target?.name === "grace.hopper")).toHaveLength(5);
      const sandbox = eventsOf(evs, DEMO_ACCOUNTS.sandbox, "iam");
      // The sandbox feed was read (healthy), so the leaver's password removal is a change no event explains.
      expect(endOf(evs, DEMO_ACCOUNTS.sandbox, "iam")?.type).toBe("feed-end");
      // Key deactivations of the leaver, if it held keys, are security operations'.
      expect(sandbox.filter((e) => e.action === "credential.disable").every((e) => e.actor.name?.endsWith("bob.secops@example.com"))).toBe(true);
      // The console password was removed out of band: no DeleteLoginProfile anywhere.
      expect([...prod, ...sandbox].some((e) => e.providerAction === "DeleteLoginProfile")).toBe(false);
    } finally {
      await demo.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("incremental reads", () => {
  it("a second read from the first one's coverage yields only the new events", async () => {
    // CloudTrail's real quota: three reads in a row fall within one window of each other, and the quota counts
    // them all (one limiter per account and Region in the process, not one per read).
    const QUOTA = { requests: 2, windowMs: 1000 };
    f = await fixture(SMALL_ORG, { cloudTrailRate: QUOTA });
    const org = f.sim.org;
    let clock = Date.now() - 3_600_000;
    org.now = () => new Date(clock);
    createUsers(org, PROD, 60, "first");
    const r = reader(f, {}, { ...fastTuning(), cloudTrailRate: QUOTA, now: () => clock });
    const first = await read(r, f.ctx(), [{ scope: PROD, feed: "iam", cursor: null, since: sinceDaysAgo(1) }]);
    expect(eventsOf(first)).toHaveLength(60);
    const end = endOf(first, PROD, "iam");
    expect(end?.type).toBe("feed-end");
    const coveredUntil = end?.type === "feed-end" ? end.coveredUntil : "";
    const cursor = first.filter((e) => e.type === "events").map((e) => (e.type === "events" ? e.cursor : "")).pop()!;

    clock += 60_000;
    for (let i = 0; i < 3; i++) org.createUser(PROD, `second-${i}`);
    clock += 1_000;
    const second = await read(r, f.ctx(), [{ scope: PROD, feed: "iam", cursor, since: coveredUntil }]);
    expect(eventsOf(second).map((e) => e.target?.name).sort()).toEqual(["second-0", "second-1", "second-2"]);
    // An idle poll costs one request per feed.
    const before = f.sim.lookups.length;
    const third = await read(r, f.ctx(), [{ scope: PROD, feed: "iam", cursor, since: (endOf(second, PROD, "iam") as { coveredUntil: string }).coveredUntil }]);
    expect(eventsOf(third)).toEqual([]);
    expect(f.sim.lookups.length - before).toBe(1);
    // Not one request over the quota, so none retried: each read waited for the previous reads' window.
    expect(f.sim.lookups.filter((l) => l.throttled)).toEqual([]);
    expect(f.sim.lookups).toHaveLength(4);
  });
});

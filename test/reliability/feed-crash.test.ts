// A crash between pages of each provider's audit-event feed (see feed-crash.ts): the built CLI is SIGKILLed
// after k pages are committed and before page k+1 arrives; the next poll ends with exactly the provider's
// events. Each connector's feed runs through its real SDK against its simulator. About 15 s a connector: npm test
// runs one (WHOHAS_FEED_CRASH_LABS in vitest.config.ts), npm run test:reliability all four.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";
import { mapActivity } from "../../connectors/google-workspace/audit-map.js";
import { GOOGLE_FEEDS } from "../../connectors/google-workspace/feed.js";
import { startGoogleSimulator } from "../../connectors/google-workspace/simulator.js";
import { generateOrganization } from "../../connectors/aws-iam/sim-tenant.js";
import { startAwsSimulator } from "../../connectors/aws-iam/simulator.js";
import { findOrg } from "../../connectors/github/tenant.js";
import { appKeys, APP_ID, startSim as startGithubSim } from "../connectors/github/setup.js";
import { SECRET_ENV, startFixture as startEntraFixture } from "../connectors/entra-id/setup.js";
import { crashBetweenPages, type FeedLab } from "./feed-crash.js";

const DAY = 86_400_000;
const idsOf = <T>(items: readonly T[], id: (x: T) => string) => new Set(items.map(id));

async function awsLab(): Promise<FeedLab> {
  const account = "222222222222";
  const { org, caller } = generateOrganization({
    seed: 7,
    now: new Date(),
    managementAccountId: "111111111111",
    memberRoleName: "WhohasAudit",
    accounts: [
      { id: "111111111111", name: "management", users: 2, roles: 2 },
      { id: account, name: "prod", users: 4, roles: 2 },
    ],
  });
  // 130 IAM changes: pages of 50, 50 and 30 (CloudTrail answers newest first).
  org.trail.synthesizeIam(account, 130, [...org.account(account).users.keys()]);
  const sim = await startAwsSimulator({ org });
  return {
    type: "aws-iam",
    options: {
      access_key_id: "env:CRASH_AWS_KEY",
      secret_access_key: "env:CRASH_AWS_SECRET",
      endpoints: { iam: sim.url, sts: sim.url, organizations: sim.url, cloudtrail: sim.url },
      member_role_name: "WhohasAudit",
    },
    env: { CRASH_AWS_KEY: caller.accessKeyId, CRASH_AWS_SECRET: caller.secretAccessKey },
    scope: account,
    feed: "iam",
    pageSize: 50,
    sim: sim.sim,
    isFeedPage: (req) => String(req.headers["x-amz-target"] ?? "").endsWith(".LookupEvents") && req.body.toString("utf8").includes("iam.amazonaws.com"),
    expected() {
      const kept = org.trail.events.filter((e) => e.accountId === account && e.region === "us-east-1" && e.eventTime >= Date.now() - 90 * DAY);
      return new Map([
        ["iam", idsOf(kept.filter((e) => e.eventSource === "iam.amazonaws.com"), (e) => e.eventId)],
        ["signin", idsOf(kept.filter((e) => e.eventName === "ConsoleLogin"), (e) => e.eventId)],
      ]);
    },
    close: () => sim.close(),
  };
}

async function entraLab(): Promise<FeedLab> {
  const f = await startEntraFixture({ seed: 4242, users: 30, applications: 2 });
  // Graph pages of 10: 25 accounts disabled and enabled again make 50 directory audits.
  f.sim.maxPageSize = 10;
  const users = [...f.tenant.users.values()].filter((u) => u.accountEnabled).slice(0, 25);
  for (const u of users) f.tenant.setAccountEnabled(u.id, false);
  for (const u of users) f.tenant.setAccountEnabled(u.id, true);
  return {
    type: "entra-id",
    options: {
      tenant_id: f.tenant.id,
      client_id: f.clientId,
      client_secret: `env:${SECRET_ENV}`,
      authority_host: f.sim.url,
      graph_base_url: f.sim.url,
      ca_file: join(f.dir, "ca.pem"),
    },
    env: { [SECRET_ENV]: f.secret },
    scope: f.tenant.id,
    feed: "directory",
    pageSize: 10,
    sim: f.sim.server,
    isFeedPage: (req) => req.url.pathname === "/v1.0/auditLogs/directoryAudits",
    expected() {
      const kept = (at: string) => Date.parse(at) >= Date.now() - 30 * DAY;
      return new Map([
        ["directory", idsOf(f.tenant.audit.directoryAudits.filter((a) => kept(a.activityDateTime)), (a) => a.id)],
        ["signin", idsOf(f.tenant.audit.signIns.filter((s) => kept(s.createdDateTime)), (s) => s.id)],
      ]);
    },
    close: () => f.close(),
  };
}

async function googleLab(): Promise<FeedLab> {
  // The Reports API keeps six months: the tenant's history is made by the real clock.
  const google = await startGoogleSimulator({ seed: 7, users: 30, now: new Date() });
  const dir = await mkdtemp(join(tmpdir(), "whohas-gws-crash-"));
  const keyPath = join(dir, "key.json");
  await writeFile(keyPath, google.tenant.keyFile(), { mode: 0o600 });
  const t = google.tenant;
  // Pages of 10: 25 password changes besides what the tenant's generation logged.
  google.activitiesPageCap = 10;
  const emails: string[] = [];
  for (let slot = 2; slot < t.slotCount && emails.length < 25; slot++) {
    const rec = t.record(slot);
    if (rec && !rec.user.suspended && !rec.user.archived) emails.push(rec.user.primaryEmail);
  }
  for (const e of emails) t.changePassword(e);
  return {
    type: "google-workspace",
    options: {
      subject: `admin@${t.domain}`,
      credentials: `file:${keyPath}`,
      root_url: google.rootUrl,
      token_url: google.tokenUrl,
      requests_per_minute: 100_000,
    },
    env: {},
    scope: "my_customer",
    feed: "admin",
    pageSize: 10,
    sim: google.sim,
    isFeedPage: (req) => req.url.pathname.endsWith("/applications/admin"),
    expected() {
      const kept = t.audit.activities.filter((a) => Date.parse(a.id.time) >= Date.now() - 180 * DAY);
      return new Map(GOOGLE_FEEDS.map((feed) => [feed, new Set(kept.filter((a) => a.id.applicationName === feed).flatMap((a) => mapActivity(a as Parameters<typeof mapActivity>[0]).map((e) => e.id)))]));
    },
    async close() {
      await google.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function githubLab(): Promise<FeedLab> {
  const keys = await appKeys();
  // 250 audit-log entries over 60 days: pages of 100, 100 and 50.
  const gh = await startGithubSim({ seed: 5, orgs: [{ login: "acme", members: 20, owners: 2, repos: 3, teams: 1, auditEvents: 250 }] }, keys);
  return {
    type: "github",
    options: { orgs: ["acme"], base_url: gh.baseUrl, app_id: APP_ID, private_key: `file:${keys.keyFile}` },
    env: {},
    scope: "acme",
    feed: "audit-log",
    pageSize: 100,
    sim: gh.sim,
    // The first page by login, the next ones by GitHub's canonical /organizations/{id}/ links.
    isFeedPage: (req) => req.url.pathname.endsWith("/audit-log"),
    expected: () => new Map([["audit-log", idsOf(findOrg(gh.tenant, "acme").auditLog, (e) => e._document_id)]]),
    close: async () => {
      await gh.close();
      await rm(join(keys.keyFile, ".."), { recursive: true, force: true });
    },
  };
}

const ALL: [string, () => Promise<FeedLab>][] = [
  ["aws-iam (CloudTrail LookupEvents)", awsLab],
  ["entra-id (Graph directoryAudits)", entraLab],
  ["google-workspace (Reports activities, admin)", googleLab],
  ["github (org audit log)", githubLab],
];
/** WHOHAS_FEED_CRASH_LABS: comma-separated connector types (npm test runs one; npm run test:reliability all). */
const only = process.env.WHOHAS_FEED_CRASH_LABS?.split(",").map((s) => s.trim()).filter(Boolean);
const LABS = only?.length ? ALL.filter(([name]) => only.some((o) => name.startsWith(`${o} `))) : ALL;

describe("a crash between two pages of an audit-event feed", () => {
  it.each(LABS)("%s: the poll after a SIGKILL ends with the provider's events exactly, none lost or doubled", async (_name, start) => {
    const lab = await start();
    try {
      await crashBetweenPages(lab);
    } finally {
      await lab.close();
    }
  });
});

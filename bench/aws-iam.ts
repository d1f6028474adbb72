// AWS IAM benchmark: one account of 10k users and 5k roles behind the simulator at 20 ms per request
// (the simulator runs in a child process, so the peak RSS printed is the collector's own). Runs our
// collector, then — against the same simulator, in the same run — the per-entity approach peers use
// (ListUsers, then per user ListAccessKeys, GetAccessKeyLastUsed per key, ListAttachedUserPolicies,
// ListUserPolicies, ListGroupsForUser, GetLoginProfile, ListMFADevices; ListRoles + GetRole per role).
// Goal: at least 10x fewer requests and 5x less wall time.
import { fork } from "node:child_process";
import { countEvents, deferRelease } from "./count-events.js";
import { ask, serveParent } from "./child-simulator.js";
import { fileURLToPath } from "node:url";
import {
  GetAccessKeyLastUsedCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListMFADevicesCommand,
  ListUserPoliciesCommand,
  paginateListRoles,
  paginateListUsers,
} from "@aws-sdk/client-iam";
import pLimit from "p-limit";
import { createAwsIamConnector } from "../connectors/aws-iam/index.js";
import { generateOrganization } from "../connectors/aws-iam/sim-tenant.js";
import { startAwsSimulator } from "../connectors/aws-iam/simulator.js";
import type { CollectContext } from "../src/connector.js";
import { awsIamOptions } from "../connectors/aws-iam/options.js";

const LATENCY_MS = 20;
const ACCOUNT = "111111111111";
const USERS = 10_000;
const ROLES = 5_000;
/** Parallel requests allowed to the per-entity approach (peers range from 1 to a few dozen). */
const PEER_CONCURRENCY = 32;

interface SimReady {
  url: string;
  accessKeyId: string;
  secretAccessKey: string;
  generateMs: number;
}

async function simulatorChild(): Promise<void> {
  const t0 = performance.now();
  const { org, caller } = generateOrganization({ seed: 10_000, managementAccountId: ACCOUNT, accounts: [{ id: ACCOUNT, name: "big", users: USERS, roles: ROLES, people: ["grace.hopper"], vendorTrust: true }] });
  const generateMs = performance.now() - t0;
  const sim = await startAwsSimulator({ org, latencyMs: LATENCY_MS });
  serveParent({ url: sim.url, accessKeyId: caller.accessKeyId, secretAccessKey: caller.secretAccessKey, generateMs }, () => sim.sim.requestCount, () => sim.close());
}

async function ours(ready: SimReady): Promise<{ requests: number; wallMs: number; records: string; status: string }> {
  process.env.WHOHAS_BENCH_AWS_KEY = ready.accessKeyId;
  process.env.WHOHAS_BENCH_AWS_SECRET = ready.secretAccessKey;
  const opts = awsIamOptions.parse({
    access_key_id: "env:WHOHAS_BENCH_AWS_KEY",
    secret_access_key: "env:WHOHAS_BENCH_AWS_SECRET",
    endpoints: { iam: ready.url, sts: ready.url, organizations: ready.url },
  });
  const connector = createAwsIamConnector("bench", opts);
  let requests = 0;
  const ctx: CollectContext = {
    sourceId: "bench",
    signal: new AbortController().signal,
    log: { debug() {}, info() {}, warn() {}, error: (o, m) => console.error(m, o) },
    countRequest: (_scope, n = 1) => void (requests += n),
    resolveSecret: async (ref) => process.env[ref.slice(4)]!,
    defer: deferRelease,
    quarantine: (scope, note) => console.error(`quarantined in ${scope}: ${note.table} ${note.id ?? ""}: ${note.reason}`),
  };
  const t0 = performance.now();
  const counts = await countEvents(connector.collect(ctx));
  return { requests, wallMs: performance.now() - t0, status: counts.status, records: `${counts.principals} principals, ${counts.credentials} credentials, ${counts.grants} grants in ${counts.batches} batches` };
}

async function peers(ready: SimReady): Promise<{ requests: number; wallMs: number; entities: string }> {
  let requests = 0;
  const iam = new IAMClient({
    endpoint: ready.url,
    region: "us-east-1",
    credentials: { accessKeyId: ready.accessKeyId, secretAccessKey: ready.secretAccessKey },
    retryMode: "adaptive",
    maxAttempts: 6,
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: PEER_CONCURRENCY } },
  });
  iam.middlewareStack.add(
    (next) => async (args) => {
      requests++;
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "benchCounter" },
  );
  const limit = pLimit(PEER_CONCURRENCY);
  const t0 = performance.now();
  let users = 0;
  let keys = 0;
  let roles = 0;
  const perUser: Promise<void>[] = [];
  // Peers page with the API's largest page size; each user then costs a fixed set of calls.
  for await (const page of paginateListUsers({ client: iam, pageSize: 1000 }, {})) {
    for (const u of page.Users ?? []) {
      users++;
      const UserName = u.UserName!;
      perUser.push(
        limit(async () => {
          const k = await iam.send(new ListAccessKeysCommand({ UserName }));
          for (const key of k.AccessKeyMetadata ?? []) {
            keys++;
            await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId! }));
          }
        }),
        limit(async () => void (await iam.send(new ListAttachedUserPoliciesCommand({ UserName })))),
        limit(async () => void (await iam.send(new ListUserPoliciesCommand({ UserName })))),
        limit(async () => void (await iam.send(new ListGroupsForUserCommand({ UserName })))),
        limit(async () => {
          try {
            await iam.send(new GetLoginProfileCommand({ UserName }));
          } catch (err) {
            if ((err as Error).name !== "NoSuchEntityException") throw err;
          }
        }),
        limit(async () => void (await iam.send(new ListMFADevicesCommand({ UserName })))),
      );
    }
  }
  const perRole: Promise<void>[] = [];
  for await (const page of paginateListRoles({ client: iam, pageSize: 1000 }, {})) {
    for (const r of page.Roles ?? []) {
      roles++;
      perRole.push(limit(async () => void (await iam.send(new GetRoleCommand({ RoleName: r.RoleName! })))));
    }
  }
  await Promise.all([...perUser, ...perRole]);
  return { requests, wallMs: performance.now() - t0, entities: `${users} users (${keys} keys), ${roles} roles` };
}

export async function run(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ["--aws-iam-simulator"], { execArgv: [], env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } });
  try {
    const ready = await ask<SimReady>(child, "ready");
    const served0 = (await ask<{ requests: number }>(child, "count", { type: "count" })).requests;
    const a = await ours(ready);
    const served1 = (await ask<{ requests: number }>(child, "count", { type: "count" })).requests;
    const rssOurs = process.resourceUsage().maxRSS / 1024;
    const b = await peers(ready);
    const served2 = (await ask<{ requests: number }>(child, "count", { type: "count" })).requests;

    console.log(`aws-iam: one account of ${USERS} users and ${ROLES} roles, ${LATENCY_MS} ms simulated latency (tenant generated in ${(ready.generateMs / 1000).toFixed(1)} s in the simulator process)`);
    console.log(`  whohas (GetAccountAuthorizationDetails x2 passes + credential report): ${a.status}; ${a.records}`);
    console.log(`    requests ${a.requests} (simulator served ${served1 - served0}), wall ${(a.wallMs / 1000).toFixed(2)} s, peak RSS ${rssOurs.toFixed(0)} MB`);
    console.log(`  per-entity (peers' approach, ${PEER_CONCURRENCY} requests in flight): ${b.entities}`);
    console.log(`    requests ${b.requests} (simulator served ${served2 - served1}), wall ${(b.wallMs / 1000).toFixed(2)} s`);
    const reqRatio = b.requests / a.requests;
    const wallRatio = b.wallMs / a.wallMs;
    console.log(`  ratio: ${reqRatio.toFixed(0)}x fewer requests (goal >= 10x), ${wallRatio.toFixed(1)}x less wall time (goal >= 5x); peak RSS of the process after both ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
    if (a.status !== "ok" || reqRatio < 10 || wallRatio < 5 || a.requests !== served1 - served0) process.exitCode = 1;

    // The CloudTrail feed at its real quota is measured by `npm run bench -- events` (stage cloudtrail).
  } finally {
    child.send({ type: "stop" });
  }
}

if (process.argv.includes("--aws-iam-simulator")) {
  await simulatorChild();
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run();
}

// Google Workspace connector against the simulator at 20 ms latency (the simulator runs in this process,
// generating users on demand). Case 1: 100k users, users + roles only — requests against the floor
// ⌈users/500⌉ + token + ⌈roles/100⌉ + ⌈assignments/200⌉ (goal ≤ 1.05×), wall time, peak RSS.
// Case 2: 10k users with per-user OAuth grants (one tokens.list per user) at concurrency 8 under a
// raised quota of 24,000 requests/minute. Records are counted, not kept, so RSS is the connector's.
import { googleWorkspaceConnector } from "../connectors/google-workspace/index.js";
import { countEvents, deferRelease } from "./count-events.js";
import { startGoogleSimulator } from "../connectors/google-workspace/simulator.js";
import type { CollectContext } from "../src/connector.js";
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { googleWorkspaceOptions } from "../connectors/google-workspace/options.js";

const LATENCY_MS = 20;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

interface Case {
  name: string;
  users: number;
  options: Record<string, unknown>;
  perUserCalls: number;
}

async function runCase(c: Case, dir: string): Promise<void> {
  const google = await startGoogleSimulator({ seed: 7, users: c.users, latencyMs: LATENCY_MS, now: new Date("2025-06-01T00:00:00Z") });
  const keyPath = join(dir, `key-${c.users}.json`);
  await writeFile(keyPath, google.tenant.keyFile(), { mode: 0o600 });
  const options = googleWorkspaceOptions.parse({
    subject: `admin@${google.tenant.domain}`,
    credentials: `file:${keyPath}`,
    root_url: google.rootUrl,
    token_url: google.tokenUrl,
    ...c.options,
  });
  let requests = 0;
  let warnings = 0;
  const ctx: CollectContext = {
    sourceId: "bench",
    signal: new AbortController().signal,
    log: { debug() {}, info() {}, warn: () => void warnings++, error() {} },
    countRequest: (_scope, n = 1) => void (requests += n),
    resolveSecret: async (ref) => (await import("node:fs/promises")).readFile(ref.slice(5), "utf8"),
    defer: deferRelease,
    quarantine: (scope, note) => console.error(`quarantined in ${scope}: ${note.table} ${note.id ?? ""}: ${note.reason}`),
  };
  const started = process.hrtime.bigint();
  const counts = await countEvents(googleWorkspaceConnector.create("bench", options).collect(ctx));
  const status = counts.status;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const floor =
    Math.ceil(c.users / 500) + 1 + Math.ceil(google.tenant.roles.length / 100) + Math.ceil(google.tenant.roleAssignments.length / 200) + c.perUserCalls * c.users;
  await google.close();
  console.log(`-- ${c.name}`);
  console.log(`   status ${status}; ${counts.principals} principals, ${counts.credentials} credentials, ${counts.grants} grants in ${counts.batches} batches`);
  console.log(`   requests ${requests} (simulator received ${google.sim.requestCount}); floor ${floor}; ratio ${(requests / floor).toFixed(3)} (goal ≤ 1.05); retry warnings ${warnings}`);
  console.log(`   wall ${seconds.toFixed(2)} s at ${LATENCY_MS} ms latency; peak RSS so far ${mb(process.resourceUsage().maxRSS)}`);
}

export async function run(): Promise<void> {
  console.log(`google-workspace: baseline RSS ${mb(process.resourceUsage().maxRSS)} (node, SDKs, simulator in-process)`);
  const dir = await mkdtemp(join(tmpdir(), "whohas-bench-gws-"));
  try {
    await runCase({ name: "100,000 users, users + admin roles", users: 100_000, options: {}, perUserCalls: 0 }, dir);
    await runCase(
      {
        name: "10,000 users + tokens.list per user (concurrency 8, requests_per_minute 24000)",
        users: 10_000,
        options: { collect_oauth_tokens: true, concurrency: 8, requests_per_minute: 24_000 },
        perUserCalls: 1,
      },
      dir,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

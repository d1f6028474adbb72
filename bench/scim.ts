// SCIM connector benchmark: one app of 50k users and 500 groups behind the simulator at 20 ms per request,
// pages capped at 100 by the server. The simulator runs in a child process so the peak RSS printed is the
// connector's own. Prints requests sent vs the minimum (one per page of users and of groups), wall time,
// peak RSS.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createScimConnector } from "../connectors/scim/index.js";
import { scimOptions, scopeOf, type ScimOptions } from "../connectors/scim/options.js";
import { generateTenant, type TenantSpec } from "../connectors/scim/sim-tenant.js";
import { startScimSimulator } from "../connectors/scim/simulator.js";
import type { CollectContext } from "../src/connector.js";
import { ask, serveParent } from "./child-simulator.js";
import { countEvents, deferRelease } from "./count-events.js";

const LATENCY_MS = 20;
const PAGE_CAP = 100;
const SPEC: TenantSpec = { seed: 50_000, users: 50_000, groups: 497, admins: 25 };

interface SimReady {
  baseUrl: string;
  token: string;
  minimum: number;
  generateMs: number;
}

async function simulatorChild(): Promise<void> {
  const t0 = performance.now();
  const tenant = generateTenant(SPEC);
  const generateMs = performance.now() - t0;
  const app = await startScimSimulator({ tenant, maxPageSize: PAGE_CAP, latencyMs: LATENCY_MS });
  const minimum = Math.ceil(tenant.users.length / PAGE_CAP) + Math.ceil(tenant.groups.length / PAGE_CAP);
  serveParent({ baseUrl: app.baseUrl, token: tenant.token, minimum, generateMs }, () => app.sim.requestCount, () => app.close());
}

export async function run(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ["--scim-simulator"], { execArgv: [] });
  try {
    const ready = await ask<SimReady>(child, "ready");
    const opts = scimOptions.parse({ base_url: ready.baseUrl, token: "env:WHOHAS_BENCH_SCIM_TOKEN", admin_groups: ["Admins"] }) as ScimOptions;
    const scope = scopeOf(opts);
    let sent = 0;
    const ctx: CollectContext = {
      sourceId: "bench",
      signal: new AbortController().signal,
      log: { debug() {}, info() {}, warn() {}, error: (o, m) => console.error(m, o) },
      countRequest: (s, n = 1) => void (s === scope && (sent += n)),
      resolveSecret: async () => ready.token,
      defer: deferRelease,
      quarantine: (s, note) => console.error(`quarantined in ${s}: ${note.table} ${note.id ?? ""}: ${note.reason}`),
    };
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    const counts = await countEvents(createScimConnector("bench", opts).collect(ctx));
    const wallMs = performance.now() - t0;
    const served = (await ask<{ requests: number }>(child, "count", { type: "count" })).requests;
    const peakRssMb = process.resourceUsage().maxRSS / 1024;

    console.log(`scim: app of ${SPEC.users} users and ${SPEC.groups! + 3} groups, pages capped at ${PAGE_CAP} by the server, ${LATENCY_MS} ms latency, concurrency ${opts.concurrency}`);
    console.log(`  status: ${counts.status}`);
    console.log(`  records: ${counts.principals} principals, ${counts.grants} grants in ${counts.batches} batches`);
    console.log(`  requests: ${sent} counted by the connector, ${served} served; minimum ${ready.minimum}; ratio ${(sent / ready.minimum).toFixed(3)} (goal <= 1.05); ${((1000 * sent) / SPEC.users).toFixed(1)} per 1,000 users`);
    console.log(`  wall time: ${(wallMs / 1000).toFixed(1)} s (${(wallMs / sent).toFixed(1)} ms per request)`);
    console.log(`  peak RSS (connector process): ${peakRssMb.toFixed(0)} MB (RSS before collect ${(rssBefore / 1048576).toFixed(0)} MB); tenant generation in the simulator process ${(ready.generateMs / 1000).toFixed(1)} s`);
    if (counts.status !== "ok" || sent !== served || sent > ready.minimum * 1.05) process.exitCode = 1;
  } finally {
    child.send({ type: "stop" });
  }
}

if (process.argv.includes("--scim-simulator")) {
  await simulatorChild();
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run();
}

// Entra ID connector benchmark: a tenant of 100k users (P1/P2 licensed: sign-in activity, MFA report,
// PIM) behind the simulator at 20 ms per request, read by the real msal-node and Graph client. The
// simulator runs in a child process so the peak RSS printed is the connector's own.
// Prints requests sent vs the minimum ⌈users / page size⌉ + the other lists' pages + metadata and token
// (goal ≤ 1.05×), wall time vs requests × latency, peak RSS.
import { fork } from "node:child_process";
import { countEvents, deferRelease } from "./count-events.js";
import { ask, serveParent } from "./child-simulator.js";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { entraIdConnector } from "../connectors/entra-id/index.js";
import { entraOptions } from "../connectors/entra-id/options.js";
import { generateTenant, minimumRequests, startEntraSimulator, type TenantSpec } from "../connectors/entra-id/simulator.js";
import type { CollectContext } from "../src/connector.js";
import { resolveSecret } from "../src/secrets.js";

const LATENCY_MS = 20;
const SPEC: TenantSpec = { seed: 100_000, users: 100_000, applications: 600, managedIdentities: 80, thirdPartyApps: 150 };
const SECRET_ENV = "WHOHAS_BENCH_ENTRA_SECRET";

interface SimReady {
  url: string;
  ca: string;
  tenantId: string;
  clientId: string;
  secret: string;
  minimum: number;
  users: number;
  generateMs: number;
}

/** Child side: build and serve the tenant, report where, then count requests on demand. */
async function simulatorChild(): Promise<void> {
  const t0 = performance.now();
  const tenant = generateTenant(SPEC);
  const clientId = tenant.newId();
  tenant.registerClient(clientId);
  const secret = randomBytes(24).toString("base64url");
  tenant.addClientSecret(clientId, secret);
  const generateMs = performance.now() - t0;
  const sim = await startEntraSimulator({ tenants: [tenant], latencyMs: LATENCY_MS });
  const ready: SimReady = { url: sim.url, ca: sim.ca, tenantId: tenant.id, clientId, secret, minimum: minimumRequests(tenant), users: tenant.users.size, generateMs };
  serveParent(ready, () => sim.server.requestCount, () => sim.close());
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "whohas-bench-entra-"));
  const child = fork(fileURLToPath(import.meta.url), ["--entra-simulator"], { execArgv: [] });
  try {
    const ready = await ask<SimReady>(child, "ready");
    const caFile = join(dir, "ca.pem");
    writeFileSync(caFile, ready.ca, { mode: 0o600 });
    const options = entraOptions.parse({
      tenant_id: ready.tenantId,
      client_id: ready.clientId,
      client_secret: `env:${SECRET_ENV}`,
      authority_host: ready.url,
      graph_base_url: ready.url,
      ca_file: caFile,
    });
    const connector = entraIdConnector.create("bench", options);
    const env = { [SECRET_ENV]: ready.secret };
    const requests = new Map<string, number>();
    const ctx: CollectContext = {
      sourceId: "bench",
      signal: new AbortController().signal,
      log: { debug() {}, info() {}, warn: (o, m) => console.error(m, o), error: (o, m) => console.error(m, o) },
      countRequest: (scope, n = 1) => void requests.set(scope, (requests.get(scope) ?? 0) + n),
      resolveSecret: (ref, key) => resolveSecret(ref, key, env),
      defer: deferRelease,
      quarantine: (scope, note) => console.error(`quarantined in ${scope}: ${note.table} ${note.id ?? ""}: ${note.reason}`),
    };

    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    const counts = await countEvents(connector.collect(ctx));
    const scope = counts.lastScope;
    const wallMs = performance.now() - t0;
    const served = (await ask<{ requests: number }>(child, "count", { type: "count" })).requests;
    const sent = requests.get(scope) ?? 0;
    const peakRssMb = process.resourceUsage().maxRSS / 1024;

    console.log(`entra-id: tenant of ${ready.users} users (licensed), ${LATENCY_MS} ms latency, default settings (sign-in activity, MFA report, PIM, group expansion)`);
    console.log(`  status: ${counts.status}`);
    console.log(`  records: ${counts.principals} principals, ${counts.credentials} credentials, ${counts.grants} grants in ${counts.batches} batches`);
    console.log(`  requests: ${sent} counted by the connector, ${served} served; minimum ${ready.minimum}; ratio ${(sent / ready.minimum).toFixed(3)} (goal <= 1.05)`);
    console.log(`  wall time: ${(wallMs / 1000).toFixed(1)} s; requests x latency ${((ready.minimum * LATENCY_MS) / 1000).toFixed(1)} s (${(wallMs / sent).toFixed(1)} ms per request)`);
    console.log(`  peak RSS (connector process): ${peakRssMb.toFixed(0)} MB (RSS before collect ${(rssBefore / 1048576).toFixed(0)} MB); tenant generation in the simulator process ${(ready.generateMs / 1000).toFixed(1)} s`);
    if (counts.status !== "ok" || sent !== served || sent > ready.minimum * 1.05) process.exitCode = 1;
  } finally {
    child.send({ type: "stop" });
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes("--entra-simulator")) {
  await simulatorChild();
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run();
}

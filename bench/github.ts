// GitHub connector benchmark: one org of 50k members and 2k repositories behind the simulator at 20 ms
// per request. The simulator runs in a child process so the peak RSS printed is the connector's own.
// Prints requests sent vs the API's minimum for the enabled settings (goal ≤ 1.05×), wall time, peak RSS.
import { fork } from "node:child_process";
import { countEvents, deferRelease } from "./count-events.js";
import { ask, serveParent } from "./child-simulator.js";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createGithubConnector } from "../connectors/github/index.js";
import { startGithubSimulator } from "../connectors/github/simulator.js";
import { costSettings, generateTenant, minimumRequests, type CostSettings, type TenantSpec } from "../connectors/github/tenant.js";
import type { CollectContext } from "../src/connector.js";
import { resolveSecret } from "../src/secrets.js";
import { type GithubOptions, githubOptions } from "../connectors/github/options.js";

const APP_ID = 29110;
const LATENCY_MS = 20;
const SPEC: TenantSpec = {
  seed: 50_000,
  orgs: [
    {
      login: "bigcorp",
      members: 50_000,
      owners: 40,
      outsideCollaborators: 2_500,
      repos: 2_000,
      teams: 400,
      teamSize: 30,
      invitations: 60,
      failedInvitations: 25,
      patGrants: 5_000,
      patRequests: 30,
      deployKeyRepos: 0.15,
      auditEvents: 0,
    },
  ],
};
const SETTINGS = { collect_deploy_keys: true, collaborator_repos: true };
const COST: CostSettings = costSettings("app", { collectDeployKeys: true, collaboratorRepos: true });

interface SimReady {
  baseUrl: string;
  minimum: number;
  generateMs: number;
}

/** Child side: build the tenant, serve it, report the URL and the minimum, then count requests on demand. */
async function simulatorChild(publicKey: string): Promise<void> {
  const t0 = performance.now();
  const tenant = generateTenant(SPEC);
  const generateMs = performance.now() - t0;
  const gh = await startGithubSimulator({ tenant, app: { id: APP_ID, publicKey }, latencyMs: LATENCY_MS });
  serveParent({ baseUrl: gh.baseUrl, minimum: minimumRequests(tenant, "bigcorp", COST), generateMs }, () => gh.sim.requestCount, () => gh.close());
}

export async function run(): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const dir = mkdtempSync(join(tmpdir(), "whohas-bench-gh-"));
  const keyFile = join(dir, "app.pem");
  writeFileSync(keyFile, privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });

  const child = fork(fileURLToPath(import.meta.url), ["--github-simulator"], {
    env: { ...process.env, WHOHAS_GH_PUBLIC_KEY: publicKey.export({ type: "spki", format: "pem" }).toString() },
    execArgv: [],
  });
  try {
    const ready = await ask<SimReady>(child, "ready");
    const opts = githubOptions.parse({
      orgs: ["bigcorp"],
      base_url: ready.baseUrl,
      app_id: APP_ID,
      private_key: `file:${keyFile}`,
      ...SETTINGS,
    }) as GithubOptions;
    const connector = createGithubConnector("bench", opts);
    const requests = new Map<string, number>();
    const ctx: CollectContext = {
      sourceId: "bench",
      signal: new AbortController().signal,
      log: { debug() {}, info() {}, warn() {}, error: (o, m) => console.error(m, o) },
      countRequest: (scope, n = 1) => void requests.set(scope, (requests.get(scope) ?? 0) + n),
      resolveSecret: (ref, key) => resolveSecret(ref, key),
      defer: deferRelease,
      quarantine: (scope, note) => console.error(`quarantined in ${scope}: ${note.table} ${note.id ?? ""}: ${note.reason}`),
    };

    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    const counts = await countEvents(connector.collect(ctx));
    const wallMs = performance.now() - t0;
    const served = (await ask<{ requests: number }>(child, "count", { type: "count" })).requests;
    const sent = requests.get("bigcorp") ?? 0;
    const peakRssMb = process.resourceUsage().maxRSS / 1024;

    console.log(`github: org of ${SPEC.orgs[0]!.members} members, ${SPEC.orgs[0]!.repos} repos, ${LATENCY_MS} ms latency, concurrency ${opts.concurrency}`);
    console.log(`  settings: defaults + ${Object.keys(SETTINGS).join(", ")}; App auth with installation lookup`);
    console.log(`  status: ${counts.status}`);
    console.log(`  records: ${counts.principals} principals, ${counts.credentials} credentials, ${counts.grants} grants in ${counts.batches} batches`);
    console.log(`  requests: ${sent} counted by the connector, ${served} served; minimum for these settings ${ready.minimum}; ratio ${(sent / ready.minimum).toFixed(3)} (goal <= 1.05)`);
    console.log(`  wall time: ${(wallMs / 1000).toFixed(1)} s (${(wallMs / sent).toFixed(1)} ms per request)`);
    console.log(`  peak RSS (connector process): ${peakRssMb.toFixed(0)} MB (RSS before collect ${(rssBefore / 1048576).toFixed(0)} MB); tenant generation in the simulator process ${(ready.generateMs / 1000).toFixed(1)} s`);
    if (counts.status !== "ok" || sent !== served || sent > ready.minimum * 1.05) process.exitCode = 1;
  } finally {
    child.send({ type: "stop" });
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes("--github-simulator")) {
  await simulatorChild(process.env.WHOHAS_GH_PUBLIC_KEY!);
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run();
}

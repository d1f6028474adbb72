// `whohas demo`: every connector that has a simulator, on loopback, in a private temp directory:
// collect, change the simulated tenants, collect again, print the diff. No credentials, no network.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "smol-toml";
import { CONNECTORS } from "../connectors/index.js";
import { collect } from "./collect.js";
import type { DemoSetup } from "./connector.js";
import { loadConfig } from "./config/load.js";
import { diffRuns } from "./diff/differ.js";
import { attributeDiff } from "./events/attribute.js";
import { createLogger } from "./log.js";
import { writeDiff, type DiffFormat } from "./report/diff.js";
import { scopeTable } from "./report/runs.js";
import { shown } from "./safe-text.js";
import { openStore, type Db } from "./store/db.js";
import { inventoryAt, quarantineOf } from "./store/reader.js";

export interface DemoOptions {
  format: DiffFormat;
  keep: boolean;
  out: NodeJS.WritableStream;
  progress: NodeJS.WritableStream;
}

/** What the second run could not store, and who holds access no listing returned: the demo shows both. */
function demoQuarantine(db: Db, runId: number): string {
  const lines: string[] = [];
  for (const q of quarantineOf(db, runId)) lines.push(`  quarantined  ${shown(`${q.source}/${q.scope}`)} ${q.table} ${shown(q.recordId ?? q.principalId ?? "(no id)")}: ${shown(q.reason)}`);
  for (const p of inventoryAt(db, runId, { kind: ["unknown"] })) {
    if (p.attributes?.claimed_kind === "group") continue;
    lines.push(`  unresolved   ${shown(`${p.source}/${p.scope}`)} ${shown(p.id)} (the provider says: ${shown(String(p.attributes?.claimed_kind ?? "?"))}) holds ${p.accessLevel} via ${shown(p.grants.map((g) => g.privilege).join(", ") || "credentials")}`);
  }
  return lines.length === 0 ? "" : `Records quarantined and holders no listing returned (run ${runId})\n${lines.join("\n")}\n\n`;
}

export async function runDemo(opts: DemoOptions): Promise<{ dir: string; runs: [number, number] }> {
  const dir = mkdtempSync(join(tmpdir(), "whohas-demo-"));
  const setups: { type: string; setup: DemoSetup }[] = [];
  const say = (text: string) => opts.progress.write(text);
  try {
    for (const descriptor of CONNECTORS) {
      const { demo } = await descriptor.load();
      if (!demo) continue;
      say(`starting the ${descriptor.type} simulator\n`);
      setups.push({ type: descriptor.type, setup: await demo(dir) });
    }
    const configPath = join(dir, "whohas.toml");
    const toml = stringify({
      store: { path: join(dir, "whohas.db") },
      remediation: { dir: join(dir, "plans") },
      sources: setups.map(({ type, setup }) => ({ id: `demo-${type}`, type, ...setup.options, ...(setup.remediate ? { remediate: setup.remediate.block } : {}) })),
      remediate: setups.flatMap(({ type, setup }) => (setup.remediate?.entries ?? []).map((e) => ({ ...e, sources: [`demo-${type}`] }))),
    });
    writeFileSync(configPath, `# written by "whohas demo"\n${toml}\n`, { mode: 0o600 });
    const config = loadConfig(configPath, CONNECTORS);
    const env = { ...process.env, ...Object.assign({}, ...setups.map((s) => s.setup.env ?? {})) };
    const log = createLogger("error");

    say("\ncollect #1\n");
    const first = await collect(config, { log, env, trigger: "demo" });
    opts.out.write(`Run ${first.runId}: ${first.status}\n${scopeTable(first.scopes)}\n`);

    say("changing the simulated tenants: a new admin, a removed account, a rotated key, a leaver\n");
    for (const { setup } of setups) await setup.mutate();

    say("collect #2\n");
    const second = await collect(config, { log, env, trigger: "demo" });
    opts.out.write(`Run ${second.runId}: ${second.status}\n${scopeTable(second.scopes)}\n`);

    const db = openStore(config.store.path, { readonly: true });
    try {
      opts.out.write(demoQuarantine(db, second.runId));
      writeDiff({ write: (t) => void opts.out.write(t), close: () => {} }, attributeDiff(db, config, diffRuns(db, first.runId, second.runId)), opts.format, false);
    } finally {
      db.close();
    }
    // Step three: remediation. In JSON mode the diff stays the only thing on stdout.
    if (config.remediate.length > 0) {
      const { remediationStep } = await import("./remediate/demo-step.js");
      await remediationStep(config, {
        log,
        env,
        out: opts.format === "json" ? opts.progress : opts.out,
        say,
        refresh: () => setups.forEach(({ setup }) => setup.remediate?.refresh?.()),
      });
    }
    if (opts.keep) say(`\nthe demo's config and database are in ${dir}; try: whohas inventory --config ${configPath}\n`);
    return { dir, runs: [first.runId, second.runId] };
  } finally {
    for (const { setup } of setups) await setup.close().catch(() => {});
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}

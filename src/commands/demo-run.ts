// `whohas demo`: every connector that has a simulator, on loopback, in a folder of its own (./whohas-demo
// by default, kept so the commands it suggests work on it): collect, change the simulated tenants, collect
// again, print the headline findings, the diff and what to try next, and write the HTML report. No
// credentials, no network.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { stringify } from "smol-toml";
import { CONNECTORS } from "../../connectors/index.js";
import { collect } from "../collect.js";
import type { DemoSetup } from "../connector.js";
import { loadConfig } from "../config/load.js";
import { diffRuns } from "../diff/differ.js";
import { attributeDiff } from "../events/attribute.js";
import { createLogger } from "../log.js";
import { CliUsageError } from "./exit.js";
import { writeDiff, type DiffFormat } from "../report/diff.js";
import { writeOutput } from "../report/output.js";
import { renderReport } from "../report/render.js";
import { buildReport } from "../build-report.js";
import { headline, type Report } from "../report/report.js";
import { scopeTable } from "../report/runs.js";
import { shown } from "../safe-text.js";
import { openStore, type Db } from "../store/db.js";
import { inventoryAt, quarantineOf, scopeRuns } from "../store/reader.js";

export interface DemoOptions {
  format: DiffFormat;
  /** The demo's folder; default ./whohas-demo. */
  dir?: string;
  /** Remove the folder when done (by default it is kept, with its config, database and report). */
  clean: boolean;
  out: NodeJS.WritableStream;
  progress: NodeJS.WritableStream;
}

/** What the second run could not store, and who holds access no listing returned: the demo shows both. */
function demoQuarantine(db: Db, runId: number): string {
  const lines: string[] = [];
  for (const q of quarantineOf(db, runId)) lines.push(`  quarantined  ${shown(`${q.source}/${q.scope}`)} ${q.table} ${shown(q.recordId ?? q.principalId ?? "(no id)")}: ${shown(q.reason)}`);
  let groups = 0;
  for (const p of inventoryAt(db, runId, { kind: ["unknown"] })) {
    if (p.attributes?.claimed_kind === "group") {
      groups++;
      continue;
    }
    lines.push(`  unresolved   ${shown(`${p.source}/${p.scope}`)} ${shown(p.id)} (the provider says: ${shown(String(p.attributes?.claimed_kind ?? "?"))}) holds ${p.accessLevel} via ${shown(p.grants.map((g) => g.privilege).join(", ") || "credentials")}`);
  }
  // The run table's UNRESOLVED count includes them: say where the difference went.
  if (groups > 0) lines.push(`  and ${groups} ${groups === 1 ? "group" : "groups"} holding roles (groups are not collected as accounts; their roles are in the inventory)`);
  return lines.length === 0 ? "" : `Records quarantined and holders no listing returned (run ${runId})\n${lines.join("\n")}\n\n`;
}

const MARKER = '# written by "whohas demo"';
export const DEMO_DIR = "whohas-demo";

/**
 * The demo's folder, emptied of an earlier demo's files (a new demo starts from nothing: its simulators
 * listen on new ports). A folder that holds anything else is refused, never emptied.
 */
function prepareDir(dir: string): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return;
  }
  const entries = readdirSync(dir);
  if (entries.length === 0) return;
  const config = join(dir, "whohas.toml");
  const ours = existsSync(config) && readFileSync(config, "utf8").startsWith(MARKER);
  if (!ours) throw new CliUsageError(`${dir} exists and was not made by "whohas demo"; remove it or pass --dir`);
  for (const e of entries) rmSync(join(dir, e), { recursive: true, force: true });
}

/** The findings a new user should see first: people who left but kept access, and new administrators. */
function headlineFindings(report: Report): string {
  const orphaned = report.findings.filter((f) => f.rule === "orphaned-access");
  const admins = report.findings.filter((f) => f.rule === "new-admin" && f.new);
  const lines = [`Findings of run ${report.run.id}: ${headline(report)}`];
  for (const [title, list] of [["Left the company, still has access", orphaned], ["New administrators", admins]] as const) {
    if (list.length === 0) continue;
    lines.push(`  ${title} (${list.length}):`);
    for (const f of list.slice(0, 5)) lines.push(`    ${f.severity.toUpperCase().padEnd(8)} ${shown(f.subject, 100)}: ${shown(f.detail, 160)}`);
    if (list.length > 5) lines.push(`    ... and ${list.length - 5} more (whohas report --rule ${list[0]!.rule})`);
  }
  const total = report.findings.length;
  lines.push(`  ${total} open finding(s) in all: ${Object.entries(report.counts.findings).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(", ") || "none"}`);
  return lines.join("\n") + "\n";
}

function nextSteps(configPath: string, htmlPath: string, person: string | undefined): string {
  const c = shellArg(relative(process.cwd(), configPath) || configPath);
  return [
    "",
    `The HTML report: ${relative(process.cwd(), htmlPath) || htmlPath} (open it in a browser)`,
    "Try next:",
    `  npx whohas report --config ${c}                        # findings, changes, coverage`,
    `  npx whohas who --config ${c} --level admin --mfa disabled   # admins without MFA`,
    ...(person ? [`  npx whohas person --config ${c} ${shellArg(person)}   # one person everywhere`] : []),
    `  npx whohas inventory --config ${c}                     # who has what`,
    `  npx whohas report --config ${c} --type access-review --format html --out review.html`,
    `The demo keeps its folder; remove it with: rm -r ${shellArg(relative(process.cwd(), resolve(configPath, "..")) || ".")} (or run the demo with --clean)`,
    "",
  ].join("\n");
}

const shellArg = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

export async function runDemo(opts: DemoOptions): Promise<{ dir: string; runs: [number, number] }> {
  const dir = resolve(opts.dir ?? DEMO_DIR);
  prepareDir(dir);
  const setups: { type: string; setup: DemoSetup }[] = [];
  const say = (text: string) => opts.progress.write(text);
  // With --format json, stdout carries one JSON document and nothing else: tables go to the progress stream.
  const json = opts.format === "json";
  const human = json ? opts.progress : opts.out;
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
      sources: setups.map(({ type, setup }) => ({
        id: `demo-${type}`,
        type,
        ...setup.options,
        ...(setup.remediate ? { remediate: setup.remediate.block } : {}),
        // Connectors with an audit-event feed read it, so the diff says who made each change.
        ...(CONNECTORS.find((c) => c.type === type)?.feeds?.length ? { events: { lookback_days: 1, overlap_minutes: 15 } } : {}),
      })),
      remediate: setups.flatMap(({ type, setup }) => (setup.remediate?.entries ?? []).map((e) => ({ ...e, sources: [`demo-${type}`] }))),
    });
    writeFileSync(configPath, `${MARKER}; its simulators are gone when it ends, so "collect" on it fails\n${toml}\n`, { mode: 0o600 });
    const config = loadConfig(configPath, CONNECTORS);
    const env = { ...process.env, ...Object.assign({}, ...setups.map((s) => s.setup.env ?? {})) };
    const log = createLogger("error");

    say("\ncollect #1\n");
    const first = await collect(config, { log, env, trigger: "demo" });
    human.write(`Run ${first.runId}: ${first.status}\n${scopeTable(first.scopes)}\n`);

    say("changing the simulated tenants: a new admin, a removed account, a rotated key, a leaver\n");
    for (const { setup } of setups) await setup.mutate();

    say("collect #2\n");
    const second = await collect(config, { log, env, trigger: "demo" });
    human.write(`Run ${second.runId}: ${second.status}\n${scopeTable(second.scopes)}\n`);

    const htmlPath = join(dir, "report.html");
    let person: string | undefined;
    const db = openStore(config.store.path, { readonly: true });
    try {
      const report = buildReport(db, config, { run: second.runId });
      writeOutput(htmlPath, (html) => html.write(renderReport(report, "html")));
      const diff = attributeDiff(db, config, diffRuns(db, first.runId, second.runId));
      const leaver = report.findings.find((f) => f.rule === "orphaned-access");
      person = leaver ? [...inventoryAt(db, second.runId)].find((p) => p.source === leaver.source && p.id === leaver.principalId)?.email ?? undefined : undefined;
      if (json) {
        opts.out.write(
          JSON.stringify(
            {
              schema: "whohas.demo/v1",
              dir,
              // false with --clean: dir, config and report name files that are gone when the demo ends.
              kept: !opts.clean,
              config: configPath,
              report: htmlPath,
              runs: [first.runId, second.runId],
              scopes: scopeRuns(db, second.runId),
              headline: headline(report),
              findings: report.findings,
              diff,
            },
            null,
            2,
          ) + "\n",
        );
      } else {
        opts.out.write(demoQuarantine(db, second.runId));
        opts.out.write(headlineFindings(report) + "\n");
        writeDiff({ write: (t) => void opts.out.write(t), close: () => {} }, diff, opts.format, false);
      }
    } finally {
      db.close();
    }
    // Step three: remediation. In JSON mode the diff stays the only thing on stdout.
    if (config.remediate.length > 0) {
      const { remediationStep } = await import("../remediate/demo-step.js");
      await remediationStep(config, {
        log,
        env,
        out: opts.format === "json" ? opts.progress : opts.out,
        say,
        refresh: () => setups.forEach(({ setup }) => setup.remediate?.refresh?.()),
      });
    }
    human.write(opts.clean ? `\nthe demo's folder ${dir} is removed (--clean)\n` : nextSteps(configPath, htmlPath, person));
    return { dir, runs: [first.runId, second.runId] };
  } finally {
    for (const { setup } of setups) await setup.close().catch(() => {});
    if (opts.clean) rmSync(dir, { recursive: true, force: true });
  }
}

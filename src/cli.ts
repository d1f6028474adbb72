#!/usr/bin/env node
// The command line. The only place that prints; every command maps its errors to the documented exit codes:
// 0 ok, 1 runtime error (or a scope failed in collect), 2 usage or config error, 3 --fail-on matched.
import { chmodSync, constants, copyFileSync, existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { CONNECTORS } from "../connectors/index.js";
import { collect, UsageError } from "./collect.js";
import { ConfigError, loadConfig, type Config } from "./config/load.js";
import { SecretError } from "./secrets.js";
import { checkSecretRefs, deliverySecretRefs, isSecretRef, sourceSecretRefs, type SecretCheck } from "./config/secret-refs.js";
import { DiffError, diffRuns } from "./diff/differ.js";
import { evaluate } from "./diff/evaluate.js";
import { writeDiff, type DiffFormat } from "./report/diff.js";
import { writeInventory, type InventoryFormat } from "./report/inventory.js";
import { openSink, OutputError } from "./report/output.js";
import { scopeTable, writeRuns } from "./report/runs.js";
import { useColor } from "./report/text.js";
import { shown, shownLines } from "./safe-text.js";
import { REPORT_FORMATS, renderReport, type ReportFormat } from "./report/render.js";
import { buildReport, hasFindingAtOrAbove, ReportError, type Report } from "./report/report.js";
import { SEVERITIES, type Severity } from "./vocabulary.js";
import { verifyChain } from "./store/integrity.js";
import { DeliveryError } from "./daemon/retry.js";
import type { Level } from "./log.js";
import { openStore, StoreError } from "./store/db.js";
import { acquireLock, LockError } from "./store/lock.js";
import { pruneRuns } from "./store/prune.js";
import { comparableRuns, getRun, inventoryAt, listRuns, scopeRuns } from "./store/reader.js";

const EXIT_OK = 0;
const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;
const EXIT_FINDINGS = 3;

class CliUsageError extends Error {}

function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError || err instanceof UsageError || err instanceof CliUsageError || err instanceof DiffError || err instanceof OutputError || err instanceof ReportError) {
    return EXIT_USAGE;
  }
  return EXIT_RUNTIME;
}

function parseRunId(value: string, what: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new CliUsageError(`${what}: expected a run id (a positive integer, see "whohas runs"), got "${value}"`);
  return Number(value);
}

function logLevel(opts: { verbose?: boolean; quiet?: boolean }): Level {
  return opts.verbose ? "debug" : opts.quiet ? "error" : "warn";
}

const configOption = () => new Option("-c, --config <path>", "config file (default ./whohas.toml, then /etc/whohas/config.toml)");

function packageRoot(): string {
  // dist/src/cli.js → package root
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..");
}

function withStore<T>(config: Config, fn: (db: ReturnType<typeof openStore>) => T): T {
  const db = openStore(config.store.path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function buildProgram(): Command {
  const program = new Command("whohas")
    .description("Who has access to what, and what changed: identity inventory across AWS IAM, Entra ID, Google Workspace, GitHub and exports.")
    .version(process.env.npm_package_version ?? "0.1.0")
    .showHelpAfterError()
    .exitOverride();

  program
    .command("collect")
    .description("collect every enabled source into a new snapshot run")
    .addOption(configOption())
    .option("-s, --source <id...>", "only these sources")
    .addOption(new Option("-f, --format <format>", "summary format").choices(["text", "json"]).default("text"))
    .option("-v, --verbose", "log debug details to stderr")
    .option("-q, --quiet", "log errors only")
    .action(async (opts: { config?: string; source?: string[]; format: "text" | "json"; verbose?: boolean; quiet?: boolean }) => {
      const config = loadConfig(opts.config, CONNECTORS);
      const { createLogger } = await import("./log.js");
      const log = createLogger(logLevel(opts));
      const controller = new AbortController();
      const stop = () => controller.abort(new Error("interrupted by signal"));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const progress = process.stderr.isTTY && !opts.quiet;
      const result = await collect(config, {
        sources: opts.source,
        signal: controller.signal,
        log,
        onProgress: progress ? (e) => process.stderr.write(`  ${shown(`${e.source}/${e.scope}`)}: ${e.state}\n`) : undefined,
      });
      if (opts.format === "json") {
        process.stdout.write(JSON.stringify({ schema: "whohas.collect/v1", run: result.runId, status: result.status, scopes: result.scopes }, null, 2) + "\n");
      } else {
        process.stdout.write(`Run ${result.runId}: ${result.status}\n\n${scopeTable(result.scopes)}`);
      }
      process.exitCode = result.status === "ok" ? EXIT_OK : EXIT_RUNTIME;
    });

  program
    .command("runs")
    .description("list runs with the status of every source and scope")
    .addOption(configOption())
    .option("-n, --limit <n>", "how many runs", "20")
    .addOption(new Option("-f, --format <format>").choices(["text", "json"]).default("text"))
    .action((opts: { config?: string; limit: string; format: "text" | "json" }) => {
      const config = loadConfig(opts.config, CONNECTORS);
      if (!/^\d+$/.test(opts.limit)) throw new CliUsageError(`--limit: expected a number, got "${opts.limit}"`);
      withStore(config, (db) => {
        const runs = listRuns(db, Number(opts.limit)).map((run) => ({ run, scopes: scopeRuns(db, run.id) }));
        writeRuns(openSink(), runs, opts.format);
      });
    });

  program
    .command("inventory")
    .description("who has access to what, as of a run (default the latest)")
    .addOption(configOption())
    .option("-r, --run <id>", "run id")
    .option("-s, --source <id...>", "only these sources")
    .option("-k, --kind <kind...>", "only these principal kinds (human, service, root, bot, guest, external)")
    .addOption(new Option("-f, --format <format>").choices(["text", "json", "csv"]).default("text"))
    .option("-o, --out <file>", "write to a file (created 0600) instead of stdout")
    .action((opts: { config?: string; run?: string; source?: string[]; kind?: string[]; format: InventoryFormat; out?: string }) => {
      const config = loadConfig(opts.config, CONNECTORS);
      withStore(config, (db) => {
        const run = opts.run ? getRun(db, parseRunId(opts.run, "--run")) : comparableRuns(db, 1)[0];
        if (!run) throw new CliUsageError(opts.run ? `run ${opts.run} does not exist (see "whohas runs")` : "no completed run yet: run \"whohas collect\"");
        const sink = openSink(opts.out);
        try {
          writeInventory(sink, run, inventoryAt(db, run.id, { source: opts.source, kind: opts.kind }), opts.format);
        } finally {
          sink.close();
        }
      });
    });

  program
    .command("diff")
    .description("what changed between two runs (default the last two)")
    .argument("[from]", "older run id")
    .argument("[to]", "newer run id")
    .addOption(configOption())
    .addOption(new Option("-f, --format <format>").choices(["text", "json"]).default("text"))
    .option("-o, --out <file>", "write to a file (created 0600) instead of stdout")
    .addOption(failOnOption())
    .option("--strict", "compare a scope only where it succeeded in both runs (default: from its last successful run, so changes made during an outage show)")
    .action((fromArg: string | undefined, toArg: string | undefined, opts: { config?: string; format: DiffFormat; out?: string; failOn?: Severity; strict?: boolean }) => {
      const config = loadConfig(opts.config, CONNECTORS);
      withStore(config, (db) => {
        let from: number;
        let to: number;
        if (fromArg && toArg) {
          from = parseRunId(fromArg, "FROM");
          to = parseRunId(toArg, "TO");
        } else if (fromArg) {
          from = parseRunId(fromArg, "FROM");
          const latest = comparableRuns(db, 1)[0];
          if (!latest) throw new CliUsageError("no completed run yet");
          to = latest.id;
        } else {
          const [latest, previous] = comparableRuns(db, 2);
          if (!latest || !previous) throw new CliUsageError("a diff needs two completed runs; run \"whohas collect\" again");
          from = previous.id;
          to = latest.id;
        }
        const diff = diffRuns(db, from, to, { strict: opts.strict === true });
        const sink = openSink(opts.out);
        try {
          writeDiff(sink, diff, opts.format, !opts.out && useColor());
        } finally {
          sink.close();
        }
        if (opts.failOn && hasFindingAtOrAbove(evaluate(db, config, to, diff).findings, opts.failOn)) process.exitCode = EXIT_FINDINGS;
      });
    });

  program
    .command("report")
    .description("findings, changes, coverage and evidence for a run (default the latest), compared with the run before it")
    .addOption(configOption())
    .option("-r, --run <id>", "run id")
    .addOption(new Option("-t, --type <type>", "changes (default) or access-review (adds the full inventory)").choices(["changes", "access-review"]).default("changes"))
    .addOption(new Option("-f, --format <format>").choices([...REPORT_FORMATS]).default("text"))
    .option("-o, --out <file>", "write to a file (created 0600) instead of stdout")
    .option("--history <n>", "runs of history in the HTML charts", "8")
    .addOption(failOnOption())
    .option("--send", "email it now with the [email] settings (text + HTML, CSV attached), e.g. to test them; also written to [report] dir")
    .action(async (opts: { config?: string; run?: string; type: "changes" | "access-review"; format: ReportFormat; out?: string; history: string; failOn?: Severity; send?: boolean }) => {
      const config = loadConfig(opts.config, CONNECTORS);
      if (!/^\d+$/.test(opts.history)) throw new CliUsageError(`--history: expected a number, got "${opts.history}"`);
      if (opts.send && !config.email) throw new CliUsageError(`--send: ${config.file} has no [email] section (see config.example.toml)`);
      const report = withStore(config, (db) =>
        buildReport(db, config, { type: opts.type, run: opts.run ? parseRunId(opts.run, "--run") : undefined, history: Number(opts.history) }),
      );
      if (opts.send) {
        const { sendReportNow } = await import("./daemon/once.js");
        const sent = await sendReportNow(config, report);
        process.stdout.write(`${sent}\n`);
        // With --send the report goes to stdout only when asked for with --out.
        if (!opts.out) {
          if (opts.failOn && hasFindingAtOrAbove(report.findings, opts.failOn)) process.exitCode = EXIT_FINDINGS;
          return;
        }
      }
      const sink = openSink(opts.out);
      try {
        sink.write(renderReport(report, opts.format, !opts.out && useColor()));
      } finally {
        sink.close();
      }
      if (opts.failOn && hasFindingAtOrAbove(report.findings, opts.failOn)) process.exitCode = EXIT_FINDINGS;
    });

  program
    .command("verify")
    .description("recompute the evidence digest chain of every run and name the first run that no longer matches")
    .addOption(configOption())
    .action((opts: { config?: string }) => {
      const config = loadConfig(opts.config, CONNECTORS);
      const result = withStore(config, (db) => verifyChain(db));
      if (result.ok) {
        process.stdout.write(`ok: ${result.checked} run(s) verified\n`);
      } else {
        process.stdout.write(`FAILED at run ${result.firstBad!.runId}: ${result.firstBad!.reason} (${result.checked} earlier run(s) verified)\n`);
        process.exitCode = EXIT_RUNTIME;
      }
    });

  program
    .command("check-config")
    .description("validate the config and the secret references without collecting")
    .addOption(configOption())
    .action(async (opts: { config?: string }) => {
      const config = loadConfig(opts.config, CONNECTORS);
      const out: string[] = [`store: ${config.store.path}${config.store.keepRuns ? ` (keep ${config.store.keepRuns} runs)` : ""}`, "sources:"];
      const problems: string[] = [];
      const shown = (c: SecretCheck) => `${c.ref} (${c.problem === undefined ? "resolves" : "DOES NOT RESOLVE"})`;
      for (const s of config.sources) {
        out.push(`  ${s.id} (${s.type})${s.enabled ? "" : " disabled"}`);
        const checks = new Map((s.enabled ? await checkSecretRefs(sourceSecretRefs(s)) : []).map((c) => [c.key, c]));
        for (const [key, value] of Object.entries(s.options as Record<string, unknown>)) {
          const check = checks.get(`sources.${s.id}.${key}`);
          if (check?.problem !== undefined) problems.push(check.problem);
          if (check) out.push(`    ${key} = ${shown(check)}`);
          else if (isSecretRef(value)) out.push(`    ${key} = ${value} (not checked: source disabled)`);
          else out.push(`    ${key} = ${JSON.stringify(value)}`);
        }
      }
      out.push(`schedule: ${config.schedule ? `collect "${config.schedule.collect}", report ${config.schedule.report ? `"${config.schedule.report}"` : "after each collect"}` : "none (needed by whohas daemon)"}`);
      out.push(`reports: ${config.report.dir} (${config.report.formats.join(", ")})`);
      if (config.email) out.push(`email: ${config.email.host} to ${config.email.to.join(", ")} (${config.email.send})`);
      for (const a of config.alerts) out.push(`alert ${a.name}: ${a.format}, ${a.min_severity} and above, ${a.rules.join(", ")}`);
      for (const check of await checkSecretRefs(deliverySecretRefs(config))) {
        if (check.problem !== undefined) problems.push(check.problem);
        out.push(`  ${check.key} = ${shown(check)}`);
      }
      // The verdict comes first, and only once every secret reference has been tried.
      const verdict = problems.length === 0 ? `${config.file}: ok` : `${config.file}: ${problems.length} secret reference(s) do not resolve`;
      process.stdout.write([verdict, ...out].join("\n") + "\n");
      if (problems.length > 0) throw new ConfigError(problems.map((p) => `${config.file}: ${p}`).join("\n"));
    });

  program
    .command("init")
    .description("write a commented starter config (0600); never overwrites")
    .argument("[path]", "where to write it", "whohas.toml")
    .action((path: string) => {
      if (existsSync(path)) throw new CliUsageError(`${path} already exists; not overwriting it`);
      copyFileSync(join(packageRoot(), "config.example.toml"), path, constants.COPYFILE_EXCL);
      // copyFile keeps the source's mode; a config names secret locations and belongs to its owner.
      chmodSync(path, 0o600);
      process.stdout.write(`wrote ${path}: fill in the sources, then run "whohas check-config"\n`);
    });

  program
    .command("prune")
    .description("remove old runs, keeping the newest N (what remaining runs read does not change)")
    .addOption(configOption())
    .requiredOption("-k, --keep <n>", "runs to keep")
    .action((opts: { config?: string; keep: string }) => {
      const config = loadConfig(opts.config, CONNECTORS);
      if (!/^[1-9]\d*$/.test(opts.keep)) throw new CliUsageError(`--keep: expected a positive number, got "${opts.keep}"`);
      const lock = acquireLock(config.store.path);
      try {
        const db = openStore(config.store.path);
        try {
          const r = pruneRuns(db, Number(opts.keep));
          db.pragma("wal_checkpoint(TRUNCATE)");
          process.stdout.write(`removed ${r.removedRuns} run(s) and ${r.removedVersions} superseded version(s)\n`);
        } finally {
          db.close();
        }
      } finally {
        lock.release();
      }
    });

  program
    .command("daemon")
    .description("collect, report, email and alert on the [schedule] of the config until SIGTERM; SIGHUP reloads the config; logs JSON lines to stdout")
    .addOption(configOption())
    .option("--now", "also run one collect right after starting")
    .option("--once", "run one collect, report, email and alerts, then exit (for systemd timers and cron); needs no [schedule]")
    .option("--stop-timeout <seconds>", "on SIGTERM, how long to wait for the collect to stop before marking its run failed", "20")
    .option("-v, --verbose", "log debug details")
    .option("-q, --quiet", "log warnings and errors only")
    .action(async (opts: { config?: string; now?: boolean; once?: boolean; stopTimeout: string; verbose?: boolean; quiet?: boolean }) => {
      if (!/^\d+(\.\d+)?$/.test(opts.stopTimeout)) throw new CliUsageError(`--stop-timeout: expected seconds, got "${opts.stopTimeout}"`);
      const { createLogger } = await import("./log.js");
      const log = createLogger(opts.verbose ? "debug" : opts.quiet ? "warn" : "info", 1);
      if (opts.once) {
        const { runOnce } = await import("./daemon/once.js");
        process.exitCode = await runOnce(opts.config, log);
        return;
      }
      const { runDaemon } = await import("./daemon/daemon.js");
      process.exitCode = await runDaemon({ configPath: opts.config, log, stopTimeoutMs: Number(opts.stopTimeout) * 1000, runNow: opts.now });
    });

  program
    .command("status")
    .description("last runs, each source's last outcome, recent email/webhook/file deliveries and the schedule; exit 1 when something needs attention")
    .addOption(configOption())
    .addOption(new Option("-f, --format <format>").choices(["text", "json"]).default("text"))
    .option("--max-age <hours>", "also a problem: a source not collected successfully for this long")
    .option("-n, --limit <n>", "runs and deliveries to show", "10")
    .action(async (opts: { config?: string; format: "text" | "json"; maxAge?: string; limit: string }) => {
      const config = loadConfig(opts.config, CONNECTORS);
      const { buildStatus, renderStatusText } = await import("./daemon/status.js");
      if (opts.maxAge !== undefined && !/^\d+(\.\d+)?$/.test(opts.maxAge)) throw new CliUsageError(`--max-age: expected hours, got "${opts.maxAge}"`);
      if (!/^[1-9]\d*$/.test(opts.limit)) throw new CliUsageError(`--limit: expected a positive number, got "${opts.limit}"`);
      const status = buildStatus(config, { runs: Number(opts.limit), deliveries: Number(opts.limit), maxAgeHours: opts.maxAge === undefined ? undefined : Number(opts.maxAge) });
      process.stdout.write(opts.format === "json" ? JSON.stringify(status, null, 2) + "\n" : renderStatusText(status));
      if (status.problems.length > 0) process.exitCode = EXIT_RUNTIME;
    });

  program
    .command("demo")
    .description("run whohas end to end against loopback simulators: two collects with changes between them, then the diff")
    .addOption(new Option("-f, --format <format>", "diff format").choices(["text", "json"]).default("text"))
    .option("--keep", "keep the demo's temp directory (config, database) and print where it is")
    .action(async (opts: { format: DiffFormat; keep?: boolean }) => {
      const { runDemo } = await import("./demo.js");
      await runDemo({ format: opts.format, keep: Boolean(opts.keep), out: process.stdout, progress: process.stderr });
    });

  return program;
}

function failOnOption(): Option {
  return new Option("--fail-on <severity>", "exit 3 when a finding at or above this severity is open").choices([...SEVERITIES]);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") return EXIT_OK;
      return EXIT_USAGE;
    }
    const known = err instanceof ConfigError || err instanceof UsageError || err instanceof CliUsageError || err instanceof DiffError || err instanceof ReportError ||
      err instanceof OutputError || err instanceof StoreError || err instanceof LockError || err instanceof SecretError || err instanceof DeliveryError;
    process.stderr.write(`whohas: ${shownLines(known ? (err as Error).message : (err as Error).stack ?? String(err))}\n`);
    return exitCodeFor(err);
  }
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(process.argv[1]);
if (invokedDirectly) {
  // The AWS SDK warns once per process about Node 20; the README carries that advice instead.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  void main(process.argv).then((code) => {
    // SDK keep-alive sockets must not hold a finished command open.
    process.stdout.write("", () => process.exit(code));
  });
}

// whohas collect
import { CONNECTORS } from "../../connectors/index.js";
import { collect } from "../collect.js";
import { loadConfig, type Config } from "../config/load.js";
import { storeRunFindings } from "../build-report.js";
import { scopeTable } from "../report/runs.js";
import { cliLogger, withStore, type LogOptions } from "./common.js";
import { EXIT_OK, EXIT_RUNTIME } from "./exit.js";
import { ProgressLines } from "./progress.js";

/** 128 + SIGINT, what a shell reports for a command stopped with Ctrl-C. */
const EXIT_INTERRUPTED = 130;

export const action = async (opts: LogOptions & { config?: string; source?: string[]; format: "text" | "json" }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  // Progress lines on a terminal only: a pipe, a file or a log collector gets the logs and the summary, and
  // --quiet means quiet. TERM=dumb cannot move the cursor, so it gets none either.
  const progress = process.stderr.isTTY && !opts.quiet && process.env.TERM !== "dumb" ? new ProgressLines(process.stderr) : undefined;
  const say = (text: string) => (progress ? progress.print(text) : process.stderr.write(text));
  const log = cliLogger(opts, progress ? (line) => progress.print(line) : undefined);
  const controller = new AbortController();
  let run: { runId: number; abortNow(reason: string): void } | undefined;
  let signals = 0;
  // First Ctrl-C / SIGTERM: in-flight requests are aborted and the run is marked failed as the sources stop
  // (an abort is never retried, so it is never logged as a provider error). A second one does not wait for
  // them: the run is marked failed there and then, and the process exits.
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    const which = run ? `run ${run.runId}` : "the run";
    if (signals === 1) {
      // The terminal echoed ^C where the cursor was: a fresh line (the progress block is cleared anyway).
      say(`${progress ? "" : "\n"}whohas: ${signal}: stopping; ${which} will be marked failed (again to stop at once)\n`);
      controller.abort(new Error(`interrupted by ${signal}`));
      return;
    }
    run?.abortNow(`collect stopped: interrupted twice (${signal})`);
    progress?.close();
    process.stderr.write(`whohas: ${signal} again: ${which} marked failed; exiting\n`);
    process.exit(EXIT_INTERRUPTED);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const result = await collect(config, {
      sources: opts.source,
      signal: controller.signal,
      log,
      onRunStarted: (r) => (run = r),
      onProgress: progress ? (e) => progress.update(e) : undefined,
    });
    progress?.close();
    if (controller.signal.aborted) {
      process.stderr.write(`whohas: run ${result.runId} marked failed: interrupted\n`);
      process.exitCode = EXIT_INTERRUPTED;
      return;
    }
    if (result.status !== "failed") storeFindings(config, result.runId, log);
    if (opts.format === "json") {
      process.stdout.write(JSON.stringify({ schema: "whohas.collect/v1", run: result.runId, status: result.status, scopes: result.scopes }, null, 2) + "\n");
    } else {
      process.stdout.write(`Run ${result.runId}: ${result.status}\n\n${scopeTable(result.scopes)}`);
    }
    process.exitCode = result.status === "ok" ? EXIT_OK : EXIT_RUNTIME;
  } finally {
    progress?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
};

/**
 * The run's findings, evaluated and stored as the daemon's report does after each cycle: a report made later
 * reads them, and its history chart reads each run's stored count instead of evaluating up to eight runs
 * (about 30 s of CPU each at a million accounts). The collect itself has succeeded: a failure here is a warning.
 */
function storeFindings(config: Config, runId: number, log: ReturnType<typeof cliLogger>): void {
  try {
    const n = withStore(config, (db) => storeRunFindings(db, config, runId), { storesFindings: true });
    log.debug({ run: runId, findings: n }, "findings evaluated and stored");
  } catch (err) {
    log.warn({ run: runId, error: err instanceof Error ? err.message : String(err) }, "findings were not stored; the next report evaluates them");
  }
}

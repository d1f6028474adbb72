// whohas report
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { openFileStream, OutputError, writeChunksAtomic, writeOutput } from "../report/output.js";
import { csvChunks, writeReport, type ReportFormat } from "../report/render.js";
import { buildReport, reportRun } from "../build-report.js";
import { reportHasFindingAtOrAbove, type Report } from "../report/report.js";
import { companionPath } from "../report/top.js";
import { suppressionWarnings } from "../rules/suppress.js";
import { shown } from "../safe-text.js";
import type { Config } from "../config/load.js";
import { useColor } from "../report/text.js";
import { openRowSpill } from "../store/spill.js";
import type { Severity } from "../vocabulary.js";
import { parseRunId, withStoreAsync } from "./common.js";
import { checkScopes, checkSources, knownSources, scopesOf } from "./filters.js";
import type { FindingFilter } from "../report/filter.js";
import { CliUsageError, EXIT_FINDINGS } from "./exit.js";

export interface ReportCommandOptions {
  config?: string;
  run?: string;
  type: "changes" | "access-review";
  format: ReportFormat | "xlsx";
  out?: string;
  history: string;
  top?: string;
  all?: boolean;
  failOn?: Severity;
  send?: boolean;
  severity?: Severity[];
  rule?: string[];
  source?: string[];
  scope?: string[];
  newOnly?: boolean;
  search?: string;
}

/** Formats that list the top of each rule; JSON and CSV always carry every finding. */
const LISTS_TOP = new Set<ReportCommandOptions["format"]>(["text", "md", "html"]);

export const action = async (opts: ReportCommandOptions) => {
  const config = loadConfig(opts.config, CONNECTORS);
  // A workbook is binary: it goes to a file, never to a terminal.
  if (opts.format === "xlsx" && (!opts.out || opts.out === "-")) throw new CliUsageError("--format xlsx: writes a workbook file; give --out PATH (e.g. --out review.xlsx)");
  if (!/^\d+$/.test(opts.history)) throw new CliUsageError(`--history: expected a number, got "${opts.history}"`);
  if (opts.top !== undefined && !/^\d+$/.test(opts.top)) throw new CliUsageError(`--top: expected a number of findings per rule, got "${opts.top}"`);
  if (opts.top !== undefined && opts.all) throw new CliUsageError("--top and --all: choose one");
  if (opts.send && !config.email) throw new CliUsageError(`--send: ${config.file} has no [email] section (see config.example.toml)`);
  const top = opts.all ? null : opts.top !== undefined ? Number(opts.top) : config.report.top;
  // The report's findings stream from the store while it is written: everything happens with the store open.
  await withStoreAsync(
    config,
    async (db) => {
      const runId = opts.run ? parseRunId(opts.run, "--run") : undefined;
      // Check the filter against the run's scopes before the findings are read.
      const probe = scopesOf(db, reportRun(db, runId).id);
      checkSources(opts.source, knownSources(config, probe.scopes));
      const filter: FindingFilter = { severities: opts.severity, rules: opts.rule, sources: opts.source, scopes: checkScopes(opts.scope, probe.scopes), newOnly: opts.newOnly, search: opts.search };
      // JSON, CSV and the xlsx workbook list nothing from memory (they stream every finding); the email body lists the top.
      const keep = LISTS_TOP.has(opts.format) || opts.send ? top : 0;
      const report = buildReport(db, config, { type: opts.type, run: runId, history: Number(opts.history), top: keep, filter });
      warnAboutSuppressions(config, report);
      if (opts.send) {
        const { sendReportNow } = await import("../daemon/once.js");
        const sent = await sendReportNow(config, report);
        process.stdout.write(`${sent}\n`);
        // With --send the report goes to stdout only when asked for with --out.
        if (!opts.out) return setExitCode(report, opts.failOn);
      }
      if (opts.format === "xlsx") {
        const { writeXlsx } = await import("../report/xlsx.js");
        const stream = openFileStream(opts.out!);
        try {
          await writeXlsx(report, stream);
        } catch (err) {
          stream.destroy(err as Error);
          throw err;
        }
        return setExitCode(report, opts.failOn);
      }
      writeOut(report, opts, opts.format);
      setExitCode(report, opts.failOn);
    },
    { storesFindings: true },
  );
};

/**
 * The report to stdout or --out; beside an --out file of a format that lists the top of each rule, the
 * companion X.findings.csv with every finding (written first: the report names it).
 */
function writeOut(report: Report, opts: ReportCommandOptions, format: ReportFormat): void {
  const toFile = opts.out !== undefined && opts.out !== "-";
  const companion = toFile && LISTS_TOP.has(format) ? companionPath(opts.out!) : undefined;
  if (companion) {
    try {
      writeChunksAtomic(companion, csvChunks(report));
    } catch (err) {
      // The companion sits beside --out: what stops it (a missing folder, no permission) is the user's --out to fix.
      if (err instanceof OutputError) throw new OutputError(`--out ${opts.out}: cannot write (${err.code ?? "error"}): its companion ${companion} could not be created`, err.code);
      throw err;
    }
  }
  writeOutput(opts.out, (sink) => writeReport(sink, report, format, !opts.out && useColor(), { ...(companion ? { companion } : {}), spill: { open: openRowSpill } }));
}

function setExitCode(report: Report, failOn: Severity | undefined): void {
  if (failOn && reportHasFindingAtOrAbove(report, failOn)) process.exitCode = EXIT_FINDINGS;
}

/** On stderr, so stdout stays the report (pure JSON with -f json). Matched against the report run's findings; dates against today. */
function warnAboutSuppressions(config: Config, report: Report): void {
  const warnings = suppressionWarnings(config.suppress, config.suppress.length > 0 ? report.everyFinding() : [], { now: Date.now(), warnDays: config.report.suppressionWarnDays, runId: report.run.id });
  for (const w of warnings) process.stderr.write(`whohas: warning: ${config.file}: ${shown(w)}\n`);
}

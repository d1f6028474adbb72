// whohas report
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { openFileStream, openSink } from "../report/output.js";
import { writeReport, type ReportFormat } from "../report/render.js";
import { buildReport, hasFindingAtOrAbove, type Report } from "../report/report.js";
import { suppressionWarnings } from "../diff/suppress.js";
import { shown } from "../safe-text.js";
import type { Config } from "../config/load.js";
import { useColor } from "../report/text.js";
import type { Severity } from "../vocabulary.js";
import { parseRunId, withStore } from "./common.js";
import { checkScopes, checkSources, knownSources, scopesOf } from "./filters.js";
import { filterReport, type FindingFilter } from "../report/filter.js";
import { CliUsageError, EXIT_FINDINGS } from "./exit.js";

export interface ReportCommandOptions {
  config?: string;
  run?: string;
  type: "changes" | "access-review";
  format: ReportFormat | "xlsx";
  out?: string;
  history: string;
  failOn?: Severity;
  send?: boolean;
  severity?: Severity[];
  rule?: string[];
  source?: string[];
  scope?: string[];
  newOnly?: boolean;
  search?: string;
}

export const action = async (opts: ReportCommandOptions) => {
  const config = loadConfig(opts.config, CONNECTORS);
  // A workbook is binary: it goes to a file, never to a terminal.
  if (opts.format === "xlsx" && (!opts.out || opts.out === "-")) throw new CliUsageError("--format xlsx: writes a workbook file; give --out PATH (e.g. --out review.xlsx)");
  if (!/^\d+$/.test(opts.history)) throw new CliUsageError(`--history: expected a number, got "${opts.history}"`);
  if (opts.send && !config.email) throw new CliUsageError(`--send: ${config.file} has no [email] section (see config.example.toml)`);
  const { report: full, filter } = withStore(config, (db) => {
    const built = buildReport(db, config, { type: opts.type, run: opts.run ? parseRunId(opts.run, "--run") : undefined, history: Number(opts.history) });
    const { scopes } = scopesOf(db, built.run.id);
    checkSources(opts.source, knownSources(config, scopes));
    const f: FindingFilter = { severities: opts.severity, rules: opts.rule, sources: opts.source, scopes: checkScopes(opts.scope, scopes), newOnly: opts.newOnly, search: opts.search };
    return { report: built, filter: f };
  }, { storesFindings: true });
  warnAboutSuppressions(config, full);
  const report = filterReport(full, filter);
  if (opts.send) {
    const { sendReportNow } = await import("../daemon/once.js");
    const sent = await sendReportNow(config, report);
    process.stdout.write(`${sent}\n`);
    // With --send the report goes to stdout only when asked for with --out.
    if (!opts.out) {
      if (opts.failOn && hasFindingAtOrAbove(report.findings, opts.failOn)) process.exitCode = EXIT_FINDINGS;
      return;
    }
  }
  if (opts.format === "xlsx") {
    const { writeXlsx } = await import("../report/xlsx.js");
    await writeXlsx(report, openFileStream(opts.out!));
    if (opts.failOn && hasFindingAtOrAbove(report.findings, opts.failOn)) process.exitCode = EXIT_FINDINGS;
    return;
  }
  const sink = openSink(opts.out);
  try {
    writeReport(sink, report, opts.format, !opts.out && useColor());
  } finally {
    sink.close();
  }
  if (opts.failOn && hasFindingAtOrAbove(report.findings, opts.failOn)) process.exitCode = EXIT_FINDINGS;
};

/** On stderr, so stdout stays the report (pure JSON with -f json). Matched against the report run's findings; dates against today. */
function warnAboutSuppressions(config: Config, report: Report): void {
  const findings = [...report.findings, ...report.suppressed];
  const warnings = suppressionWarnings(config.suppress, findings, { now: Date.now(), warnDays: config.report.suppressionWarnDays, runId: report.run.id });
  for (const w of warnings) process.stderr.write(`whohas: warning: ${config.file}: ${shown(w)}\n`);
}

// whohas report
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { openSink } from "../report/output.js";
import { renderReport, type ReportFormat } from "../report/render.js";
import { buildReport, hasFindingAtOrAbove } from "../report/report.js";
import { useColor } from "../report/text.js";
import type { Severity } from "../vocabulary.js";
import { parseRunId, withStore } from "./common.js";
import { CliUsageError, EXIT_FINDINGS } from "./exit.js";

export const action = async (opts: { config?: string; run?: string; type: "changes" | "access-review"; format: ReportFormat; out?: string; history: string; failOn?: Severity; send?: boolean }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  if (!/^\d+$/.test(opts.history)) throw new CliUsageError(`--history: expected a number, got "${opts.history}"`);
  if (opts.send && !config.email) throw new CliUsageError(`--send: ${config.file} has no [email] section (see config.example.toml)`);
  const report = withStore(config, (db) =>
    buildReport(db, config, { type: opts.type, run: opts.run ? parseRunId(opts.run, "--run") : undefined, history: Number(opts.history) }),
  );
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
  const sink = openSink(opts.out);
  try {
    sink.write(renderReport(report, opts.format, !opts.out && useColor()));
  } finally {
    sink.close();
  }
  if (opts.failOn && hasFindingAtOrAbove(report.findings, opts.failOn)) process.exitCode = EXIT_FINDINGS;
};

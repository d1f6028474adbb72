// whohas diff
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { diffRuns } from "../diff/differ.js";
import { evaluate, type Finding } from "../rules/evaluate.js";
import { storedFindingSource } from "../rules/stored.js";
import { writeDiff, type DiffFormat } from "../report/diff.js";
import { writeOutput } from "../report/output.js";
import { eachOpenFinding, hasFindingAtOrAbove } from "../report/report.js";
import { useColor } from "../report/text.js";
import { comparableRuns } from "../store/reader.js";
import type { Severity } from "../vocabulary.js";
import { parseRunId, withStore } from "./common.js";
import { CliUsageError, EXIT_FINDINGS } from "./exit.js";
import { attributeDiff } from "../events/attribute.js";

export const action = (fromArg: string | undefined, toArg: string | undefined, opts: { config?: string; format: DiffFormat; out?: string; failOn?: Severity; strict?: boolean }) => {
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
    const diff = attributeDiff(db, config, diffRuns(db, from, to, { strict: opts.strict === true }));
    writeOutput(opts.out, (sink) => writeDiff(sink, diff, opts.format, !opts.out && useColor()));
    if (opts.failOn) {
      // Stored findings are those of the default comparison, streamed from the store in the report's order;
      // a --strict diff's are evaluated for this command only.
      let open: Iterable<Finding>;
      if (opts.strict) open = evaluate(db, config, to, diff).findings;
      else {
        const source = storedFindingSource(db, config, to, diff);
        open = eachOpenFinding(() => source.each(), config, source.now);
      }
      if (hasFindingAtOrAbove(open, opts.failOn)) process.exitCode = EXIT_FINDINGS;
    }
  }, { storesFindings: opts.failOn !== undefined && opts.strict !== true });
};

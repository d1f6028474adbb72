// whohas runs
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { openSink } from "../report/output.js";
import { writeRuns } from "../report/runs.js";
import { listRuns, scopeRuns } from "../store/reader.js";
import { withStore } from "./common.js";
import { CliUsageError } from "./exit.js";

export const action = (opts: { config?: string; limit: string; format: "text" | "json" }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  if (!/^\d+$/.test(opts.limit)) throw new CliUsageError(`--limit: expected a number, got "${opts.limit}"`);
  withStore(config, (db) => {
    const runs = listRuns(db, Number(opts.limit)).map((run) => ({ run, scopes: scopeRuns(db, run.id) }));
    writeRuns(openSink(), runs, opts.format);
  });
};

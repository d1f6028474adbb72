// whohas inventory
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { writeInventory, type InventoryFormat } from "../report/inventory.js";
import { openSink } from "../report/output.js";
import { comparableRuns, getRun, inventoryAt } from "../store/reader.js";
import { parseRunId, withStore } from "./common.js";
import { CliUsageError } from "./exit.js";

export const action = (opts: { config?: string; run?: string; source?: string[]; kind?: string[]; format: InventoryFormat; out?: string }) => {
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
};

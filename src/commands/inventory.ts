// whohas inventory, and whohas who (the same listing, asked as a question: who holds at least a level, and through what)
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { filterPrincipals } from "../query/principals.js";
import { INVENTORY_COLUMNS, INVENTORY_DEFAULT_COLUMNS, WHO_DEFAULT_COLUMNS, writeInventory, type InventoryFormat } from "../report/inventory.js";
import { writeOutput } from "../report/output.js";
import { comparableRuns, getRun, inventoryAt, type RunRow } from "../store/reader.js";
import type { Db } from "../store/db.js";
import { openRowSpill } from "../store/spill.js";
import { parseRunId, withStore } from "./common.js";
import { CliUsageError } from "./exit.js";
import { pickColumns, principalFilter, tableWidth, type PrincipalFilterOptions, type TableOptions } from "./filters.js";

export interface InventoryOptions extends PrincipalFilterOptions, TableOptions {
  config?: string;
  run?: string;
  format: InventoryFormat;
  out?: string;
}

export function runOf(db: Db, run: string | undefined): RunRow {
  const found = run ? getRun(db, parseRunId(run, "--run")) : comparableRuns(db, 1)[0];
  if (!found) throw new CliUsageError(run ? `run ${run} does not exist (see "whohas runs")` : 'no completed run yet: run "whohas collect"');
  return found;
}

function list(opts: InventoryOptions, question: boolean): void {
  const config = loadConfig(opts.config, CONNECTORS);
  withStore(config, (db) => {
    const run = runOf(db, opts.run);
    const { filter, labels } = principalFilter(db, config, run.id, opts);
    const columns = pickColumns(opts, INVENTORY_COLUMNS.map((c) => c.name), question ? WHO_DEFAULT_COLUMNS : INVENTORY_DEFAULT_COLUMNS);
    const maxWidth = tableWidth(opts, Boolean(opts.out));
    writeOutput(opts.out, (sink) => {
      const principals = filterPrincipals(inventoryAt(db, run.id, { source: opts.source }), filter);
      writeInventory(sink, run, principals, opts.format, { columns, maxWidth, labels, minLevel: opts.level, spill: { open: openRowSpill }, title: question && opts.level ? `Access at or above ${opts.level}` : undefined });
    });
  });
}

export const action = (opts: InventoryOptions) => list(opts, false);
export const whoAction = (opts: InventoryOptions) => list(opts, true);

// What the commands share: run ids, log levels, the package's root and a read-only store.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/load.js";
import type { Level } from "../log.js";
import { openStore } from "../store/db.js";
import { CliUsageError } from "./exit.js";

export function parseRunId(value: string, what: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new CliUsageError(`${what}: expected a run id (a positive integer, see "whohas runs"), got "${value}"`);
  return Number(value);
}

export function logLevel(opts: { verbose?: boolean; quiet?: boolean }): Level {
  return opts.verbose ? "debug" : opts.quiet ? "error" : "warn";
}

export function packageRoot(): string {
  // dist/src/commands/common.js → package root
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
}

export function withStore<T>(config: Config, fn: (db: ReturnType<typeof openStore>) => T): T {
  const db = openStore(config.store.path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

// What the commands share: run ids, log levels, the package's root and a read-only store.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/load.js";
import type { Level } from "../log.js";
import { openStore, StoreError } from "../store/db.js";
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

/**
 * Opens the store for reading; `storesFindings`: writable as well, so that findings evaluated for a run that
 * has none stored yet (older runs, another policy) are stored for the next report instead of evaluated again.
 */
export function withStore<T>(config: Config, fn: (db: ReturnType<typeof openStore>) => T, opts: { storesFindings?: boolean } = {}): T {
  const path = config.store.path;
  if (opts.storesFindings && !existsSync(path)) throw new StoreError(`store ${path} does not exist yet: run "whohas collect" first`);
  const db = openStore(path, { readonly: !opts.storesFindings });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

// What the commands share: run ids, log levels, the package's root and a read-only store.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/load.js";
import { createLogger, LEVELS, type Level, type LogFormat } from "../log.js";
import { openStore, StoreError } from "../store/db.js";
import { CliUsageError } from "./exit.js";

export function parseRunId(value: string, what: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new CliUsageError(`${what}: expected a run id (a positive integer, see "whohas runs"), got "${value}"`);
  return Number(value);
}

export interface LogOptions {
  verbose?: boolean;
  quiet?: boolean;
  logLevel?: Level;
  logFormat?: LogFormat;
}

/** --log-level, else -v / -q, else WHOHAS_LOG_LEVEL, else warn. */
export function logLevel(opts: LogOptions, env: NodeJS.ProcessEnv = process.env): Level {
  if (opts.logLevel) return opts.logLevel;
  if (opts.verbose) return "debug";
  if (opts.quiet) return "error";
  const fromEnv = env.WHOHAS_LOG_LEVEL?.toLowerCase();
  if (fromEnv) {
    if (!(LEVELS as readonly string[]).includes(fromEnv)) throw new CliUsageError(`WHOHAS_LOG_LEVEL: expected one of ${LEVELS.join(", ")}, got "${env.WHOHAS_LOG_LEVEL}"`);
    return fromEnv as Level;
  }
  return "warn";
}

/**
 * The CLI's logger on stderr: human lines on a terminal, JSON lines (string levels) otherwise, unless --log-format
 * says. `write`: lines go there instead (collect's progress display, which clears its lines around them).
 */
export function cliLogger(opts: LogOptions, write?: (line: string) => void) {
  return createLogger(logLevel(opts), 2, opts.logFormat ?? (process.stderr.isTTY ? "human" : "json"), write);
}

export function packageRoot(): string {
  // dist/src/commands/common.js → package root
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
}

/**
 * Opens the store for reading; `storesFindings`: writable as well, so that findings evaluated for a run that
 * has none stored yet (older runs, another policy) are stored for the next report instead of evaluated again.
 */
/** withStore for work that awaits while it reads (a report whose findings stream from the store while it is sent). */
export async function withStoreAsync<T>(config: Config, fn: (db: ReturnType<typeof openStore>) => Promise<T>, opts: { storesFindings?: boolean } = {}): Promise<T> {
  const path = config.store.path;
  if (opts.storesFindings && !existsSync(path)) throw new StoreError(`store ${path} does not exist yet: run "whohas collect" first`);
  const db = openStore(path, { readonly: !opts.storesFindings });
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

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

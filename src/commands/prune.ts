// whohas prune
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { openStore } from "../store/db.js";
import { acquireLock } from "../store/lock.js";
import { pruneRuns } from "../store/prune.js";
import { CliUsageError } from "./exit.js";

export const action = (opts: { config?: string; keep: string }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  if (!/^[1-9]\d*$/.test(opts.keep)) throw new CliUsageError(`--keep: expected a positive number, got "${opts.keep}"`);
  const lock = acquireLock(config.store.path);
  try {
    const db = openStore(config.store.path);
    try {
      const r = pruneRuns(db, Number(opts.keep));
      db.pragma("wal_checkpoint(TRUNCATE)");
      process.stdout.write(`removed ${r.removedRuns} run(s) and ${r.removedVersions} superseded version(s)\n`);
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
};

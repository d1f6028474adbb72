// whohas prune: runs beyond --keep, and the remediation plans no kept run needs (src/store/prune.ts says which).
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { createLogger } from "../log.js";
import { openStore } from "../store/db.js";
import { acquireLock } from "../store/lock.js";
import { pruneStore } from "../store/retention.js";
import { CliUsageError } from "./exit.js";

export const action = (opts: { config?: string; keep: string }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  if (!/^[1-9]\d*$/.test(opts.keep)) throw new CliUsageError(`--keep: expected a positive number, got "${opts.keep}"`);
  const lock = acquireLock(config.store.path);
  try {
    const db = openStore(config.store.path);
    try {
      const r = pruneStore(db, Number(opts.keep), config.remediation.dir, createLogger("warn"));
      db.pragma("wal_checkpoint(TRUNCATE)");
      process.stdout.write(`removed ${r.removedRuns} run(s), ${r.removedVersions} superseded version(s) and ${r.removedPlans} finished remediation plan(s)\n`);
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
};

// whohas prune: runs beyond --keep, and the remediation plans no kept run needs (src/store/prune.ts says which).
import { rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
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
      // Only files in the plans directory: a path in the store is never a licence to delete anything else.
      const plans = resolve(config.remediation.dir);
      for (const file of r.planFiles) if (dirname(resolve(file)) === plans) rmSync(file, { force: true });
      process.stdout.write(`removed ${r.removedRuns} run(s), ${r.removedVersions} superseded version(s) and ${r.removedPlans} finished remediation plan(s)\n`);
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
};

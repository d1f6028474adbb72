// Retention, the one way: `whohas prune --keep N` and `[store] keep_runs` (after every collect, so the daemon's
// too) both prune the store and delete the plan files of the plans it removed. Two copies had drifted: the
// automatic one left every finished plan's file behind.
import { rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Logger } from "../connector.js";
import type { Db } from "./db.js";
import { pruneRuns, type PruneResult } from "./prune.js";

export interface RetentionResult extends PruneResult {
  /** Plan files deleted (those of removed plans that lay in the plans directory). */
  removedPlanFiles: string[];
}

/** Keeps the newest `keep` runs; removes the plans no kept run needs, and their files in `plansDir`. */
export function pruneStore(db: Db, keep: number, plansDir: string, log?: Logger): RetentionResult {
  const r = pruneRuns(db, keep);
  // Only files in the plans directory: a path in the store is never a licence to delete anything else.
  const plans = resolve(plansDir);
  const removedPlanFiles: string[] = [];
  for (const file of r.planFiles) {
    if (dirname(resolve(file)) !== plans) {
      log?.warn({ file, plansDir: plans }, "retention: a removed plan's file lies outside the plans directory; left alone");
      continue;
    }
    try {
      rmSync(file, { force: true });
      removedPlanFiles.push(file);
    } catch (err) {
      // The store is pruned already: a file that cannot go is reported, not a failed collect.
      log?.warn({ file, error: (err as Error).message }, "retention: a removed plan's file could not be deleted");
    }
  }
  return { ...r, removedPlanFiles };
}

// Retention: drop runs older than the newest `keep` without changing what the remaining runs read, and the
// remediation plans that no kept run needs as evidence any more.
import type { Db } from "./db.js";

export interface PruneResult {
  removedRuns: number;
  removedVersions: number;
  removedPlans: number;
  /** Plan files whohas wrote for the removed plans (the caller deletes them). */
  planFiles: string[];
}

/**
 * Actions that still await something: unknown (a crash; `apply --resume` reconciles it) and applied (a task the
 * next import checks). Every other state is final once the plan's run is gone: a plan computed from a pruned run
 * is stale for good, so what it left planned will never be applied.
 */
const OPEN_ACTION_STATES = ["unknown", "applied"];

/**
 * Plans (with their actions) computed from runs before `first`, last changed before that run started, with no
 * action still open. The action log keeps its hash chain: only its oldest lines, up to the first line of an
 * action still stored, go; like the runs', the chain then starts at the oldest kept line.
 */
function prunePlans(db: Db, first: number): { removedPlans: number; planFiles: string[] } {
  const startedAt = db.prepare("SELECT started_at FROM runs WHERE id = ?").pluck().get(first) as string | undefined;
  if (startedAt === undefined) return { removedPlans: 0, planFiles: [] };
  const open = OPEN_ACTION_STATES.map((x) => `'${x}'`).join(", ");
  const plans = db
    .prepare(
      `SELECT id, file FROM plans p WHERE p.created_at < @startedAt AND NOT EXISTS (
         SELECT 1 FROM actions a WHERE a.plan_id = p.id AND (a.status IN (${open}) OR a.run_id >= @first OR a.updated_at >= @startedAt))`,
    )
    .all({ startedAt, first }) as { id: string; file: string | null }[];
  if (plans.length === 0) return { removedPlans: 0, planFiles: [] };
  const dropActions = db.prepare("DELETE FROM actions WHERE plan_id = ?");
  const dropPlan = db.prepare("DELETE FROM plans WHERE id = ?");
  for (const p of plans) {
    dropActions.run(p.id);
    dropPlan.run(p.id);
  }
  const firstKept = db.prepare("SELECT MIN(l.seq) FROM action_log l WHERE l.action_id IN (SELECT id FROM actions)").pluck().get() as number | null;
  if (firstKept === null) db.prepare("DELETE FROM action_log").run();
  else db.prepare("DELETE FROM action_log WHERE seq < ?").run(firstKept);
  return { removedPlans: plans.length, planFiles: plans.flatMap((p) => (p.file ? [p.file] : [])) };
}

export function pruneRuns(db: Db, keep: number): PruneResult {
  if (keep < 1) throw new Error("keep must be at least 1");
  const oldest = db.prepare("SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?").get(keep - 1) as { id: number } | undefined;
  if (!oldest) return { removedRuns: 0, removedVersions: 0, removedPlans: 0, planFiles: [] };
  const first = oldest.id;
  return db.transaction(() => {
    let removedVersions = 0;
    for (const t of ["principals", "credentials", "grants", "roles"]) {
      // A version that stopped holding before the oldest kept run is invisible to every kept run. Those closed
      // by that run itself are kept: they are part of its evidence digest.
      removedVersions += db.prepare(`DELETE FROM ${t} WHERE to_run IS NOT NULL AND to_run < ?`).run(first).changes;
    }
    // Activity before the oldest kept run: only the latest value per entity still matters (it is what that run reads).
    db.prepare(
      `DELETE FROM activity WHERE run < @first AND run < (
         SELECT MAX(a.run) FROM activity a WHERE a.sid = activity.sid AND a.entity = activity.entity AND a.id = activity.id AND a.run <= @first)`,
    ).run({ first });
    db.prepare("DELETE FROM source_runs WHERE run_id < ?").run(first);
    const removedRuns = db.prepare("DELETE FROM runs WHERE id < ?").run(first).changes;
    // Their finding sets went with them (ON DELETE CASCADE); what no kept set refers to goes too.
    db.prepare("DELETE FROM finding_bodies WHERE bid NOT IN (SELECT bid FROM findings)").run();
    db.prepare("DELETE FROM finding_ids WHERE fid NOT IN (SELECT fid FROM finding_bodies)").run();
    return { removedRuns, removedVersions, ...prunePlans(db, first) };
  })();
}

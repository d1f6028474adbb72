// Retention: drop runs older than the newest `keep` without changing what the remaining runs read.
import type { Db } from "./db.js";

export interface PruneResult {
  removedRuns: number;
  removedVersions: number;
}

export function pruneRuns(db: Db, keep: number): PruneResult {
  if (keep < 1) throw new Error("keep must be at least 1");
  const oldest = db.prepare("SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?").get(keep - 1) as { id: number } | undefined;
  if (!oldest) return { removedRuns: 0, removedVersions: 0 };
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
    return { removedRuns, removedVersions };
  })();
}

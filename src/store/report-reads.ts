// What the audit report reads from the store besides the inventory and the findings: per-run headcounts
// for its history charts, and whether remediation was ever planned.
import { hasTable, type Db } from "./db.js";
import { heldAtRun } from "./reader.js";

/** Active accounts, admins and active credentials that held at a run: one point of the report's history. */
export interface HeldCounts {
  accounts: number;
  admins: number;
  credentials: number;
}

/** A counter of what held at a run, its statements prepared once for the many runs of a history. */
export function heldCounts(db: Db): (runId: number) => HeldCounts {
  const accounts = db.prepare(`SELECT COUNT(*) FROM principals WHERE ${heldAtRun()} AND status = 'active'`).pluck();
  // Admin by the provider's own level or by any grant at admin: grant ids begin with the principal id and a
  // unit separator, so a key range finds a principal's grants.
  const admins = db
    .prepare(
      `SELECT COUNT(*) FROM principals p WHERE ${heldAtRun("p")} AND p.status = 'active' AND (p.access_level = 'admin' OR EXISTS (
         SELECT 1 FROM grants g WHERE g.sid = p.sid AND g.id >= p.id || char(31) AND g.id < p.id || char(32) AND g.level = 'admin'
           AND ${heldAtRun("g")}))`,
    )
    .pluck();
  const credentials = db.prepare(`SELECT COUNT(*) FROM credentials WHERE ${heldAtRun()} AND status = 'active'`).pluck();
  return (runId) => ({
    accounts: accounts.get({ run: runId }) as number,
    admins: admins.get({ run: runId }) as number,
    credentials: credentials.get({ run: runId }) as number,
  });
}

/** Whether any remediation was ever planned (a store from before remediation has no actions table). */
export function remediationPlanned(db: Db): boolean {
  if (!hasTable(db, "actions")) return false;
  return db.prepare("SELECT 1 FROM plans LIMIT 1").get() !== undefined;
}

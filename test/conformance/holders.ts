// What every conformance run asserts of the store: no current grant or credential sits on a holder that is not a
// current principal of its scope (a known one or an unresolved stub).
import type { Db } from "../../src/store/db.js";

export function holdersWithoutPrincipal(db: Db): number {
  return db
    .prepare(
      `SELECT COUNT(*) FROM (SELECT sid, principal_id FROM grants WHERE to_run IS NULL UNION SELECT sid, principal_id FROM credentials WHERE to_run IS NULL) h
       WHERE NOT EXISTS (SELECT 1 FROM principals p WHERE p.sid = h.sid AND p.id = h.principal_id AND p.to_run IS NULL)`,
    )
    .pluck()
    .get() as number;
}

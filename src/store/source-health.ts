// Per-source outcome read back from the store: each scope of a source as it stood in the last run that
// included the source, and the data it serves now (its last complete collect). `whohas status` and the
// daemon's metrics both ask this, so a restarted daemon and the command report the same truth.
import type { Db } from "./db.js";
import { COMPLETE_SQL, type ScopeRunRow } from "./reader.js";

export interface LatestScopeRun {
  source: string;
  scope: string;
  runId: number;
  status: ScopeRunRow["status"];
  finishedAt: string | null;
  principals: number;
  credentials: number;
  grants: number;
  requests: number;
  error: string | null;
  /** Records the scope quarantined in that run (0 when its meta does not say). */
  quarantined: number;
  unresolved: number;
  /** When any scope of the source last completed (ok or partial), in any run. */
  lastOkAt: string | null;
}

/** Every scope of every source in the newest run that included the source, ordered by source and scope. */
export function latestScopeRuns(db: Db): LatestScopeRun[] {
  return db
    .prepare(
      `SELECT c.source, c.scope, s.run_id AS runId, s.status, s.finished_at AS finishedAt, s.principals, s.credentials, s.grants, s.requests, s.error,
         COALESCE(json_extract(s.meta, '$.quarantined'), 0) AS quarantined, COALESCE(json_extract(s.meta, '$.unresolved'), 0) AS unresolved,
         (SELECT MAX(x.finished_at) FROM source_runs x JOIN scopes y ON y.sid = x.sid WHERE y.source = c.source AND x.status IN ${COMPLETE_SQL}) AS lastOkAt
       FROM source_runs s JOIN scopes c ON c.sid = s.sid
       WHERE s.run_id = (SELECT MAX(x.run_id) FROM source_runs x JOIN scopes y ON y.sid = x.sid WHERE y.source = c.source)
       ORDER BY c.source, c.scope`,
    )
    .all() as LatestScopeRun[];
}

export interface SourceServing {
  source: string;
  /** When the newest of the source's scopes' last complete collects finished. */
  at: string | null;
  principals: number;
  credentials: number;
  grants: number;
}

/** Per source, the sums over each scope's last complete collect: the data the store serves for it now. */
export function servingBySource(db: Db): SourceServing[] {
  return db
    .prepare(
      `SELECT c.source, MAX(s.finished_at) AS at, SUM(s.principals) AS principals, SUM(s.credentials) AS credentials, SUM(s.grants) AS grants
       FROM source_runs s JOIN scopes c ON c.sid = s.sid
       WHERE s.status IN ${COMPLETE_SQL} AND s.run_id = (SELECT MAX(run_id) FROM source_runs x WHERE x.sid = s.sid AND x.status IN ${COMPLETE_SQL})
       GROUP BY c.source`,
    )
    .all() as SourceServing[];
}

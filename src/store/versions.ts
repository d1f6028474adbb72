// The reads that compare two runs of one scope (src/diff/differ.ts): the version rows that closed or opened
// between them, the runs in between, and point lookups of what held at a run. Set-based over the temporal
// tables: only versions that opened or closed between the two runs are read.
import type { AccessLevel } from "../model.js";
import type { Db } from "./db.js";
import { TABLE_COLUMNS } from "./integrity.js";
import { COMPLETE_SQL, HELD_AT_RUN } from "./reader.js";

/** The entity tables a diff compares. */
export type DiffTable = "principals" | "credentials" | "grants";

/** A version row as stored: its key, content hash and the table's content columns (snake_case, raw values). */
export interface VersionRow extends Record<string, unknown> {
  vid: number;
  id: string;
  hash: Buffer;
}

const columns = (table: DiffTable) => ["vid", "id", "hash", ...TABLE_COLUMNS[table]].join(", ");

/** Versions of the scope that held at run `a` and were closed by run `b`: removed or changed since `a`. */
export function versionsClosedBetween(db: Db, table: DiffTable, sid: number, a: number, b: number): VersionRow[] {
  return db
    .prepare(`SELECT ${columns(table)} FROM ${table} WHERE sid = ? AND from_run <= ? AND to_run IS NOT NULL AND to_run > ? AND to_run <= ?`)
    .all(sid, a, a, b) as VersionRow[];
}

/** Versions of the scope opened after run `a` that still held at run `b`: added or changed since `a`. */
export function versionsOpenedBetween(db: Db, table: DiffTable, sid: number, a: number, b: number): VersionRow[] {
  return db
    .prepare(`SELECT ${columns(table)} FROM ${table} WHERE sid = ? AND from_run > ? AND from_run <= ? AND (to_run IS NULL OR to_run > ?)`)
    .all(sid, a, b, b) as VersionRow[];
}

/**
 * How the source itself (its '*' scope, which fails when the source cannot start: a missing secret, a refused
 * sign-in) ended in a run: its error ("failed" when none was stored), or null when that scope did not fail there.
 */
export function sourceFailureIn(db: Db, source: string, runId: number): string | null {
  const row = db
    .prepare("SELECT s.error FROM source_runs s JOIN scopes c ON c.sid = s.sid WHERE s.run_id = ? AND c.source = ? AND c.scope = '*'")
    .get(runId, source) as { error: string | null } | undefined;
  return row ? (row.error ?? "failed") : null;
}

/** Ids of the runs after `after` up to and including `through`, oldest first (pruned runs are absent). */
export function runIdsBetween(db: Db, after: number, through: number): number[] {
  return db.prepare("SELECT id FROM runs WHERE id > ? AND id <= ? ORDER BY id").pluck().all(after, through) as number[];
}

/** The runs after `after` up to `through` in which the scope took part but did not complete (failed, or still running). */
export function incompleteRunsOfScope(db: Db, sid: number, after: number, through: number): Set<number> {
  const runs = db
    .prepare(`SELECT run_id FROM source_runs WHERE sid = ? AND run_id > ? AND run_id <= ? AND status NOT IN ${COMPLETE_SQL}`)
    .pluck()
    .all(sid, after, through) as number[];
  return new Set(runs);
}

/**
 * A principal's name as of a run (its newest version opened by then, even if closed since: a removed account
 * keeps the name it had). Prepared once per scope: a diff asks this for every changed credential and grant.
 */
export function principalNames(db: Db, sid: number): (id: string, run: number) => string | undefined {
  const nameAt = db.prepare("SELECT name FROM principals WHERE sid = ? AND id = ? AND from_run <= ? ORDER BY from_run DESC LIMIT 1").pluck();
  return (id, run) => nameAt.get(sid, id, run) as string | undefined;
}

/** The access level of a principal that held at a run, and the levels of the grants it held then. */
export interface LevelsAt {
  accessLevel: AccessLevel;
  grantLevels: AccessLevel[];
}

/**
 * Per principal and run, its own access level and its grants' levels, or undefined when it did not exist then.
 * Prepared once per scope: a 1 % churn at 1M principals asks this 20,000 times.
 */
export function principalLevels(db: Db, sid: number): (id: string, run: number) => LevelsAt | undefined {
  const principalAt = db.prepare(`SELECT access_level FROM principals WHERE sid = @sid AND id = @id AND ${HELD_AT_RUN}`).pluck();
  // Grant ids start with the principal id and a unit separator: a range on the key index finds them.
  const grantLevelsAt = db.prepare(`SELECT level FROM grants WHERE sid = @sid AND id >= @lo AND id < @hi AND ${HELD_AT_RUN}`).pluck();
  return (id, run) => {
    const accessLevel = principalAt.get({ sid, id, run }) as AccessLevel | undefined;
    if (accessLevel === undefined) return undefined;
    return { accessLevel, grantLevels: grantLevelsAt.all({ sid, lo: `${id}\u001f`, hi: `${id}\u0020`, run }) as AccessLevel[] };
  };
}

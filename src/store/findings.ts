// Stored findings: one finding set per evaluation of a run (see the findings migration in migrations.ts), written row by row while the
// rules stream over the run, and read back by cursor. Everything else (reports, remediation plans,
// attribution) reads findings through these functions; the rules themselves live in src/rules.
import { hasTable, type Db } from "./db.js";
import { Database } from "./sqlite.js";
import { hashBuffer } from "../hash.js";
import { FINDING_SELECT, findingRow, findingSetDigest, RowSum } from "./integrity.js";
import { SEVERITIES } from "../vocabulary.js";

/** A finding as stored: what the rules judged, without the catalogue's title and controls. */
export interface StoredFinding {
  id: string;
  rule: string;
  severity: string;
  source: string;
  scope: string;
  subject: string;
  principalId: string | null;
  credentialId: string | null;
  detail: string;
}

export interface FindingSet {
  id: number;
  runId: number;
  /** The earlier run whose diff the change rules read; 0 = the run's state alone. */
  basis: number;
  policy: string;
  /** Findings this evaluation reports. */
  reported: number;
  /** Findings an evaluation of the run's state alone reports: what the next run's "new" compares with. */
  state: number;
}

const SET_COLUMNS = "id, run_id AS runId, basis, policy, reported, state";

/** Stores opened read-only at an older schema have no findings tables: callers evaluate in memory then. */
export function canStoreFindings(db: Db): boolean {
  if (db.readonly || db.memory) return false;
  return hasTable(db, "finding_sets");
}

/**
 * What a diff's findings read besides the runs: the audit events and feed coverage that attribute its changes
 * (events arrive after the run too). A set with a basis is evaluated again when this has moved.
 */
export function changeInputs(db: Db): string {
  if (!hasTable(db, "feed_state")) return "";
  return db
    .prepare(
      `SELECT (SELECT COALESCE(MAX(eid), 0) FROM events) || '/' ||
         (SELECT COALESCE(group_concat(sid || ':' || feed || ':' || status || ':' || COALESCE(covered_from, '') || ':' || COALESCE(covered_until, ''), ','), '')
          FROM (SELECT * FROM feed_state ORDER BY sid, feed))`,
    )
    .pluck()
    .get() as string;
}

/** The complete set of run `runId` evaluated against `basis` under `policy` with `inputs`, if one is stored. */
export function findingSetOf(db: Db, runId: number, basis: number, policy: string, inputs = ""): FindingSet | undefined {
  return db
    .prepare(`SELECT ${SET_COLUMNS} FROM finding_sets WHERE run_id = ? AND basis = ? AND policy = ? AND inputs = ? AND digest IS NOT NULL`)
    .get(runId, basis, policy, inputs) as FindingSet | undefined;
}

/** Any complete set of the run under `policy`: their state rows are the same whatever the basis. */
export function anyFindingSetOf(db: Db, runId: number, policy: string): FindingSet | undefined {
  return db.prepare(`SELECT ${SET_COLUMNS} FROM finding_sets WHERE run_id = ? AND policy = ? AND digest IS NOT NULL ORDER BY basis LIMIT 1`).get(runId, policy) as
    | FindingSet
    | undefined;
}

const ROW_SELECT = `i.id, b.rule, b.severity, b.source, b.scope, b.subject, b.principal_id AS principalId, b.credential_id AS credentialId, b.detail`;
const ROW_FROM = "findings f JOIN finding_bodies b ON b.bid = f.bid JOIN finding_ids i ON i.fid = f.fid";
const IS_NEW = "NOT EXISTS (SELECT 1 FROM findings p WHERE p.set_id = @previous AND p.fid = f.fid AND p.in_state = 1)";

/**
 * The report's order (evaluate.ts byReportOrder): most severe first, then rule, then subject in code-unit
 * order, ties as the rules found them. SQLite sorts (spilling to disk when large), so a reader never holds
 * the set to order it.
 */
const REPORT_ORDER = `CASE b.severity ${SEVERITIES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(" ")} ELSE ${SEVERITIES.length} END, b.rule, b.subject, f.ord`;

/**
 * The findings a set reports, in the order the rules found them (or the report's order), each marked new
 * unless the `previous` set's state findings hold its id (null: nothing to compare with, nothing is new).
 * One cursor: callers decide what to keep.
 */
export function* reportedFindings(db: Db, set: FindingSet, previous: FindingSet | null, opts: { rule?: string; order?: "found" | "report" } = {}): Generator<StoredFinding & { isNew: boolean }> {
  const isNew = previous ? IS_NEW : "0";
  const rule = opts.rule !== undefined ? "AND b.rule = @rule" : "";
  const order = opts.order === "report" ? REPORT_ORDER : "f.ord";
  // A report read after its store was closed (a library caller, report --send's second connection) reads
  // the stored set through a read-only connection of its own.
  const conn = db.open ? db : new Database(db.name, { readonly: true, fileMustExist: true });
  try {
    const stmt = conn.prepare(`SELECT ${ROW_SELECT}, ${isNew} AS isNew FROM ${ROW_FROM} WHERE f.set_id = @set AND f.in_run = 1 ${rule} ORDER BY ${order}`);
    for (const r of stmt.iterate({ set: set.id, previous: previous?.id ?? 0, ...(opts.rule !== undefined ? { rule: opts.rule } : {}) }) as Iterable<StoredFinding & { isNew: number }>) {
      yield { ...r, isNew: r.isNew === 1 };
    }
  } finally {
    if (conn !== db) conn.close();
  }
}

/** The state findings of the given rules: what a suppression may hide from a run's count. */
export function* stateFindingsOf(db: Db, set: FindingSet, rules: string[]): Generator<Pick<StoredFinding, "id" | "rule" | "subject">> {
  const stmt = db.prepare(`SELECT i.id, b.rule, b.subject FROM ${ROW_FROM} WHERE f.set_id = ? AND b.rule = ? AND f.in_state = 1`);
  for (const rule of rules) yield* stmt.iterate(set.id, rule) as Iterable<Pick<StoredFinding, "id" | "rule" | "subject">>;
}

const BATCH = 5000;

/**
 * Writes one finding set while the rules still read the run: on a connection of its own (a connection
 * iterating a cursor cannot write), committed in batches, sealed with its digest at the end. A set left
 * without a digest (a crash mid-way) is ignored and replaced by the next evaluation.
 */
export class FindingSetWriter {
  private pending: [StoredFinding, number, boolean, boolean][] = [];
  private ord = 0;
  private readonly flushBatch: (rows: [StoredFinding, number, boolean, boolean][]) => void;

  private constructor(
    private readonly conn: Db,
    private readonly setId: number,
    private readonly runId: number,
    private readonly basis: number,
    private readonly policy: string,
    private readonly inputs: string,
  ) {
    const findId = conn.prepare("SELECT fid FROM finding_ids WHERE id = ?").pluck();
    const addId = conn.prepare("INSERT INTO finding_ids (id) VALUES (?)");
    // A body's hash covers the finding's id, so a stored body also answers which fid it is: most findings are
    // unchanged from the last run, and then this is their only look-up.
    const findBody = conn.prepare("SELECT bid, fid FROM finding_bodies WHERE hash = ?").raw();
    const addBody = conn.prepare(
      "INSERT INTO finding_bodies (hash, fid, rule, severity, source, scope, subject, principal_id, credential_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    // A finding found twice in one evaluation: the later one wins, in the first one's place (as a Map keeps it).
    const put = conn.prepare(
      `INSERT INTO findings (set_id, fid, bid, ord, in_run, in_state) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (set_id, fid) DO UPDATE SET bid = excluded.bid, in_run = excluded.in_run, in_state = excluded.in_state`,
    );
    this.flushBatch = conn.transaction((rows: [StoredFinding, number, boolean, boolean][]) => {
      for (const [f, ord, inRun, inState] of rows) {
        const values = [f.rule, f.severity, f.source, f.scope, f.subject, f.principalId, f.credentialId, f.detail];
        const h = hashBuffer("sha1", JSON.stringify([f.id, ...values]));
        let [bid, fid] = (findBody.get(h) as [number, number] | undefined) ?? [];
        if (bid === undefined || fid === undefined) {
          fid = (findId.get(f.id) as number | undefined) ?? Number(addId.run(f.id).lastInsertRowid);
          bid = Number(addBody.run(h, fid, ...values).lastInsertRowid);
        }
        put.run(this.setId, fid, bid, ord, inRun ? 1 : 0, inState ? 1 : 0);
      }
    });
  }

  /** Starts the set of run `runId` against `basis` under `policy`, dropping the run's incomplete or stale sets. */
  static begin(db: Db, runId: number, basis: number, policy: string, inputs = ""): FindingSetWriter {
    const conn = new Database(db.name, { fileMustExist: true });
    try {
      conn.pragma("busy_timeout = 5000");
      conn.pragma("foreign_keys = ON");
      conn.pragma("synchronous = NORMAL");
      const setId = conn.transaction(() => {
        conn.prepare("DELETE FROM finding_sets WHERE run_id = ? AND (policy != ? OR basis = ?)").run(runId, policy, basis);
        return Number(conn.prepare("INSERT INTO finding_sets (run_id, basis, policy, inputs) VALUES (?, ?, ?, ?)").run(runId, basis, policy, inputs).lastInsertRowid);
      })();
      return new FindingSetWriter(conn, setId, runId, basis, policy, inputs);
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  add(f: StoredFinding, inRun: boolean, inState: boolean): void {
    this.pending.push([f, this.ord++, inRun, inState]);
    if (this.pending.length >= BATCH) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.flushBatch(this.pending);
    this.pending = [];
  }

  /** Seals the set: its digest is computed from the rows as stored (a finding found twice was replaced). */
  finish(): FindingSet {
    try {
      this.flush();
      return this.conn.transaction(() => {
        const rows = new RowSum();
        let reported = 0;
        let state = 0;
        for (const row of this.conn.prepare(`${FINDING_SELECT} WHERE f.set_id = ?`).raw().iterate(this.setId) as Iterable<(string | number | null)[]>) {
          rows.add(findingRow(row));
          reported += row[10] as number;
          state += row[11] as number;
        }
        const runDigest = this.conn.prepare("SELECT digest FROM runs WHERE id = ?").pluck().get(this.runId) as string | null;
        this.conn.prepare("UPDATE finding_sets SET digest = ?, reported = ?, state = ? WHERE id = ?").run(findingSetDigest(runDigest, this.basis, this.policy, this.inputs, rows), reported, state, this.setId);
        return { id: this.setId, runId: this.runId, basis: this.basis, policy: this.policy, reported, state };
      })();
    } finally {
      this.conn.close();
    }
  }

  /** Drops what was written (the evaluation failed). */
  abort(): void {
    try {
      this.pending = [];
      this.conn.prepare("DELETE FROM finding_sets WHERE id = ?").run(this.setId);
    } finally {
      this.conn.close();
    }
  }
}

// Writes one collect run as temporal versions: an unchanged entity costs nothing, a changed one closes
// its version and opens a new one, one not seen while its scope is ok is closed at the end of the scope.
// A scope that fails has this run's writes undone, so it keeps exactly its previous state. A record the store
// cannot take is quarantined (the scope ends "partial") and its previous version is kept, never closed.
// Holders of grants or credentials that no listing of the scope returned get an unresolved principal.
import type { Statement } from "better-sqlite3";
import type { PreserveSelector } from "../connector.js";
import type { Activity, Attributes, Credential, Grant, Principal, RoleDefinition } from "../model.js";
import { ATTR, grantId } from "../model.js";
import type { Db } from "./db.js";
import { VidSet } from "./vid-set.js";
import { activityRow, closed, contentHash, DIGEST_FORMAT, legacyContentHash, RowSum, type RowHash, sealFromStore, sealRun, storedHash, TABLE_COLUMNS, type VersionTable } from "./integrity.js";
import { checkBatch, type QuarantineNote } from "./validate.js";

type Table = VersionTable;
const TABLES: readonly Table[] = ["principals", "credentials", "grants", "roles"];
const TABLE_NO: Record<Table, number> = { principals: 0, credentials: 1, grants: 2, roles: 3 };
const ENTITY_PRINCIPAL = 0;
const ENTITY_CREDENTIAL = 1;
/** firstOpened of a table the scope has opened no version in: above every row id. */
const NONE_OPENED = Number.MAX_SAFE_INTEGER;

export interface RecordBatch {
  principals?: Principal[];
  credentials?: Credential[];
  grants?: Grant[];
  roles?: RoleDefinition[];
}

export interface ScopeCounts {
  principals: number;
  credentials: number;
  grants: number;
  /** Role definitions received (stored only when new or changed). */
  roles: number;
  requests: number;
  activityRegressions: number;
  /** Records that could not be mapped or stored. */
  quarantined: number;
  /** Holders no listing of the scope returned, and holders found in another scope of the source instead. */
  unresolved: number;
  joined: number;
}

/** Stored quarantine rows per scope and run; the count in the scope's meta stays exact beyond it. */
export const QUARANTINE_ROWS_KEPT = 1000;

const now = () => new Date().toISOString();

/** Key order must not change a hash: attributes are serialized with sorted keys. */
export function stableAttributes(attrs: Attributes | undefined): string | null {
  if (!attrs) return null;
  const keys = Object.keys(attrs).filter((k) => attrs[k] !== undefined).sort();
  if (keys.length === 0) return null;
  const out: Attributes = {};
  for (const k of keys) out[k] = attrs[k]!;
  return JSON.stringify(out);
}

export function sidFor(db: Db, source: string, sourceType: string, scope: string): number {
  const row = db.prepare("SELECT sid FROM scopes WHERE source = ? AND scope = ?").get(source, scope) as { sid: number } | undefined;
  if (row) return row.sid;
  return Number(db.prepare("INSERT INTO scopes (source, scope, source_type) VALUES (?, ?, ?)").run(source, scope, sourceType).lastInsertRowid);
}

/** Undo everything run `runId` wrote for scope `sid`: its new versions go, the versions it closed reopen. */
export function rollbackScope(db: Db, sid: number, runId: number): void {
  db.transaction(() => {
    for (const t of TABLES) {
      db.prepare(`DELETE FROM ${t} WHERE sid = ? AND from_run = ?`).run(sid, runId);
      db.prepare(`UPDATE ${t} SET to_run = NULL WHERE sid = ? AND to_run = ?`).run(sid, runId);
    }
    db.prepare("DELETE FROM activity WHERE sid = ? AND run = ?").run(sid, runId);
    db.prepare("DELETE FROM quarantine WHERE sid = ? AND run_id = ?").run(sid, runId);
  })();
}

/**
 * Marks runs left "running" by a process that ended without finishing them as failed, undoing the writes
 * of the scopes they had not finished. Call only while holding the collect lock.
 */
/** Marks every run still "running" failed, its open scopes' partial rows rolled back; `why` says what ended it. */
export function recoverInterruptedRuns(db: Db, why = "interrupted: the collect process ended before the run finished"): number[] {
  const runs = db.prepare("SELECT id FROM runs WHERE status = 'running'").all() as { id: number }[];
  for (const { id } of runs) {
    const open = db.prepare("SELECT sid FROM source_runs WHERE run_id = ? AND status = 'running'").all(id) as { sid: number }[];
    for (const { sid } of open) rollbackScope(db, sid, id);
    db.transaction(() => {
      db.prepare(
        "UPDATE source_runs SET status = 'failed', finished_at = ?, error = ? WHERE run_id = ? AND status = 'running'",
      ).run(now(), why, id);
      db.prepare("UPDATE runs SET status = 'failed', finished_at = COALESCE(finished_at, ?), error = ? WHERE id = ?").run(now(), why, id);
      sealFromStore(db, id);
    })();
  }
  return runs.map((r) => r.id);
}

interface CandidateRow {
  vid: number;
  id: string;
  kind: string | null;
  status: string | null;
  privilege: string | null;
  via: string | null;
  principal_id: string | null;
}

/** Stored versions a quarantined record may be the new form of: kept as they were, not closed as removed. */
class Kept {
  readonly ids = new Set<string>();
  readonly holders = new Set<string>();
  readonly kinds = new Set<string>();
  whole = false;

  get empty(): boolean {
    return !this.whole && this.ids.size === 0 && this.holders.size === 0 && this.kinds.size === 0;
  }

  /** The narrowest family the note identifies: the record's own id, else its holder's, else its kind, else all. */
  note(n: QuarantineNote): void {
    if (n.id) this.ids.add(n.id);
    else if (n.principalId) this.holders.add(n.principalId);
    else if (n.kind) this.kinds.add(n.kind);
    else this.whole = true;
  }

  has(r: CandidateRow): boolean {
    return this.whole || this.ids.has(r.id) || (r.principal_id !== null && this.holders.has(r.principal_id)) || (r.kind !== null && this.kinds.has(r.kind));
  }
}

/** Store refusals that concern one record (a constraint, a value SQLite cannot bind), not the store as a whole. */
function recordLevel(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") return code.startsWith("SQLITE_CONSTRAINT") || code === "SQLITE_MISMATCH" || code === "SQLITE_TOOBIG";
  return err instanceof TypeError || err instanceof RangeError;
}

/** A principal present in another scope of the same source in this run. */
export type PrincipalElsewhere = (id: string) => { scope: string; principal: Principal } | undefined;

function preserves(p: PreserveSelector, r: CandidateRow): boolean {
  return (
    (p.kind === undefined || p.kind === r.kind) &&
    (p.status === undefined || p.status === r.status) &&
    (p.idPrefix === undefined || r.id.startsWith(p.idPrefix)) &&
    (p.privilegePrefix === undefined || (r.privilege ?? "").startsWith(p.privilegePrefix)) &&
    (p.via === undefined || p.via === r.via)
  );
}

/** A key's open version: its vid, the run that opened it, and whether its stored hash is the one asked about (1 or 0). */
type CurrentRow = [vid: number, fromRun: number, same: number];

class Statements {
  /**
   * A key's open version, its stored hash compared in SQL: an unchanged run asks this of every record, and a blob
   * read back costs a Buffer each time (a third of the look-up).
   */
  readonly current: Record<Table, Statement>;
  /** A version's stored hash, for the rare version a format-2 run opened. */
  readonly hashOf: Statement[];
  readonly insert: Record<Table, Statement>;
  readonly update: Record<Table, Statement>;
  /** Closes a version, returning its key: what the digest names a closed row by. */
  readonly close: Statement[];
  /** Replaces a format-2 content hash, found unchanged, with its format-3 hash (same length: in place). */
  readonly rehash: Statement[];
  /** A version's content columns, in the digest's order. */
  readonly values: Statement[];
  readonly unchangedCandidates: Record<Table, Statement>;
  /** Every version a scope held before this run, open or closed: the key index alone answers (it carries from_run and the vid). */
  readonly earlierVids: Statement[];
  /** Every closed version of a scope: the partial index on to_run alone answers. */
  readonly closedVids: Statement[];
  readonly lastActivity: Statement;
  /** Whether an entity's last stored activity is the one given (1, 0, or no row): most are, and then nothing needs reading. */
  readonly activitySame: Statement;
  readonly insertActivity: Statement;
  readonly insertQuarantine: Statement;
  /** Holders of current grants and credentials whose principal is missing or older than this run. */
  readonly holders: Statement;
  /** Holders of the grants and credentials opened from the given row ids on that have no open principal. */
  readonly openedHolders: Statement;
  /** The same in a fresh scope, where every principal row is open: the key index alone answers. */
  readonly openedHoldersFresh: Statement;
  /** Open versions of a scope: every row of it less the closed ones, each counted on an index of its own. */
  readonly openCount: Statement[];
  readonly holderAttributes: Statement;
  readonly principalAt: Statement;
  /** Runs sealed in digest format 2: the versions they opened may still carry format 2's content hash. */
  readonly legacyRuns: Set<number>;

  constructor(db: Db) {
    this.legacyRuns = new Set(db.prepare("SELECT id FROM runs WHERE digest_format = 2").pluck().all() as number[]);
    const cur = (t: Table) => db.prepare(`SELECT vid, from_run, hash = ? FROM ${t} WHERE sid = ? AND id = ? AND to_run IS NULL`).raw();
    this.current = { principals: cur("principals"), credentials: cur("credentials"), grants: cur("grants"), roles: cur("roles") };
    const ins = (t: Table) => {
      const cols = ["sid", "id", "from_run", "hash", ...TABLE_COLUMNS[t]];
      return db.prepare(`INSERT INTO ${t} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`);
    };
    this.insert = { principals: ins("principals"), credentials: ins("credentials"), grants: ins("grants"), roles: ins("roles") };
    this.update = {
      principals: db.prepare(
        "UPDATE principals SET hash = ?, kind = ?, name = ?, email = ?, display_name = ?, status = ?, mfa = ?, created_at = ?, access_level = ?, attributes = ? WHERE vid = ?",
      ),
      credentials: db.prepare(
        "UPDATE credentials SET hash = ?, principal_id = ?, kind = ?, name = ?, status = ?, created_at = ?, expires_at = ?, attributes = ? WHERE vid = ?",
      ),
      grants: db.prepare("UPDATE grants SET hash = ?, principal_id = ?, privilege = ?, level = ?, grant_scope = ?, via = ?, attributes = ? WHERE vid = ?"),
      roles: db.prepare("UPDATE roles SET hash = ?, privilege = ?, name = ?, kind = ?, level = ?, reason = ?, permissions = ?, holder_id = ?, attributes = ? WHERE vid = ?"),
    };
    this.close = TABLES.map((t) => db.prepare(`UPDATE ${t} SET to_run = ? WHERE vid = ? RETURNING id, from_run`));
    this.hashOf = TABLES.map((t) => db.prepare(`SELECT hash FROM ${t} WHERE vid = ?`).pluck());
    this.rehash = TABLES.map((t) => db.prepare(`UPDATE ${t} SET hash = ? WHERE vid = ?`));
    this.values = TABLES.map((t) => db.prepare(`SELECT ${TABLE_COLUMNS[t].join(", ")} FROM ${t} WHERE vid = ?`).raw());
    // id, kind/status or privilege come along so that preserved families can be recognised.
    const columns: Record<Table, string> = {
      principals: "kind, status, NULL AS privilege, NULL AS via, NULL AS principal_id",
      credentials: "kind, status, NULL AS privilege, NULL AS via, principal_id",
      grants: "NULL AS kind, NULL AS status, privilege, via, principal_id",
      roles: "kind, NULL AS status, privilege, NULL AS via, holder_id AS principal_id",
    };
    const candidates = (t: Table) => db.prepare(`SELECT vid, id, ${columns[t]} FROM ${t} WHERE sid = ? AND to_run IS NULL AND from_run < ?`);
    this.unchangedCandidates = { principals: candidates("principals"), credentials: candidates("credentials"), grants: candidates("grants"), roles: candidates("roles") };
    this.earlierVids = TABLES.map((t) => db.prepare(`SELECT vid FROM ${t} WHERE sid = ? AND from_run < ?`).pluck());
    this.closedVids = TABLES.map((t) => db.prepare(`SELECT vid FROM ${t} WHERE sid = ? AND to_run IS NOT NULL`).pluck());
    this.lastActivity = db.prepare("SELECT at, known FROM activity WHERE sid = ? AND entity = ? AND id = ? ORDER BY run DESC LIMIT 1");
    this.activitySame = db.prepare("SELECT at IS ? AND known = ? FROM activity WHERE sid = ? AND entity = ? AND id = ? ORDER BY run DESC LIMIT 1").pluck();
    // First value wins when a provider repeats an entity within a run: the digest's row sum stays exact.
    this.insertActivity = db.prepare("INSERT INTO activity (sid, entity, id, run, at, known, signal) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
    this.insertQuarantine = db.prepare("INSERT INTO quarantine (run_id, sid, entity, kind, record_id, principal_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?)");
    this.holders = db.prepare(
      `SELECT h.principal_id AS id, p.vid, p.kind, p.status FROM
         (SELECT principal_id FROM grants WHERE sid = @sid AND to_run IS NULL UNION SELECT principal_id FROM credentials WHERE sid = @sid AND to_run IS NULL) h
       LEFT JOIN principals p ON p.sid = @sid AND p.id = h.principal_id AND p.to_run IS NULL
       WHERE p.vid IS NULL OR p.from_run < @run`,
    );
    // Rows a scope opened have higher row ids than any it held before (SQLite gives a new row the highest id plus
    // one), so a range on the rowid finds them without a scan of the scope; "+sid" keeps the planner on that range.
    const openedHolders = (principalOpen: string) =>
      db
        .prepare(
          `SELECT principal_id FROM grants g WHERE g.vid >= @grants AND +g.sid = @sid AND g.to_run IS NULL
             AND NOT EXISTS (SELECT 1 FROM principals p WHERE p.sid = @sid AND p.id = g.principal_id${principalOpen})
           UNION
           SELECT principal_id FROM credentials c WHERE c.vid >= @credentials AND +c.sid = @sid AND c.to_run IS NULL
             AND NOT EXISTS (SELECT 1 FROM principals p WHERE p.sid = @sid AND p.id = c.principal_id${principalOpen})`,
        )
        .pluck();
    this.openedHolders = openedHolders(" AND p.to_run IS NULL");
    this.openedHoldersFresh = openedHolders("");
    this.openCount = TABLES.map((t) =>
      db.prepare(`SELECT (SELECT count(*) FROM ${t} WHERE sid = @sid) - (SELECT count(*) FROM ${t} WHERE sid = @sid AND to_run IS NOT NULL)`).pluck(),
    );
    this.holderAttributes = db.prepare(
      "SELECT 'grants' AS t, principal_id, attributes FROM grants WHERE sid = @sid AND to_run IS NULL UNION ALL SELECT 'credentials', principal_id, attributes FROM credentials WHERE sid = @sid AND to_run IS NULL",
    );
    this.principalAt = db.prepare(
      "SELECT kind, name, email, display_name, status, mfa, created_at, access_level FROM principals WHERE sid = ? AND id = ? AND to_run IS NULL AND kind != 'unknown'",
    );
  }
}

export class RunWriter {
  readonly runId: number;
  private readonly stmts: Statements;
  private readonly open = new Set<ScopeWriter>();
  /** Row sum of the scopes that ended ok: what the run's digest covers. */
  private readonly rows = new RowSum();
  /** Scopes that ended ok or partial in this run, per source: where an unresolved holder may turn up. */
  private readonly ended = new Map<string, { sid: number; scope: string }[]>();

  private constructor(
    private readonly db: Db,
    runId: number,
  ) {
    this.runId = runId;
    this.stmts = new Statements(db);
  }

  static begin(db: Db, trigger = "cli"): RunWriter {
    const id = Number(
      db
        .prepare("INSERT INTO runs (started_at, status, pid, trigger, digest_format) VALUES (?, 'running', ?, ?, ?)")
        .run(now(), process.pid, trigger, DIGEST_FORMAT).lastInsertRowid,
    );
    return new RunWriter(db, id);
  }

  /** `redact` cleans quarantine reasons (provider text) of configured secrets. */
  openScope(source: string, sourceType: string, scope: string, label?: string, redact: (text: string) => string = (t) => t): ScopeWriter {
    const sid = sidFor(this.db, source, sourceType, scope);
    const existing = this.db.prepare("SELECT status FROM source_runs WHERE run_id = ? AND sid = ?").get(this.runId, sid);
    if (existing) throw new Error(`source ${source} reported scope "${scope}" twice in one run`);
    this.db
      .prepare("INSERT INTO source_runs (run_id, sid, label, status, started_at) VALUES (?, ?, ?, 'running', ?)")
      .run(this.runId, sid, label ?? null, now());
    const writer = new ScopeWriter(
      this.db,
      this.stmts,
      this.runId,
      sid,
      (ok) => {
        this.open.delete(writer);
        if (!ok) return;
        this.rows.merge(writer.rows);
        this.ended.set(source, [...(this.ended.get(source) ?? []), { sid, scope }]);
      },
      (id) => this.principalElsewhere(source, sid, id),
      redact,
    );
    this.open.add(writer);
    return writer;
  }

  private principalElsewhere(source: string, sid: number, id: string): ReturnType<PrincipalElsewhere> {
    for (const other of this.ended.get(source) ?? []) {
      if (other.sid === sid) continue;
      const r = this.stmts.principalAt.get(other.sid, id) as PrincipalColumns | undefined;
      if (!r) continue;
      const lastActive = this.stmts.lastActivity.get(other.sid, ENTITY_PRINCIPAL, id) as { at: string | null; known: number } | undefined;
      return {
        scope: other.scope,
        principal: {
          id,
          kind: r.kind,
          name: r.name,
          email: r.email,
          displayName: r.display_name,
          status: r.status,
          mfa: r.mfa,
          createdAt: r.created_at,
          accessLevel: r.access_level,
          lastActive: lastActive ? { at: lastActive.at, known: lastActive.known === 1 } : { at: null, known: false },
        },
      };
    }
    return undefined;
  }

  /** A source that failed before reporting any scope (bad credentials, unreachable endpoint). */
  sourceFailed(source: string, sourceType: string, error: string, requests = 0): void {
    const sid = sidFor(this.db, source, sourceType, "*");
    this.db
      .prepare("INSERT OR REPLACE INTO source_runs (run_id, sid, status, started_at, finished_at, requests, error) VALUES (?, ?, 'failed', ?, ?, ?, ?)")
      .run(this.runId, sid, now(), now(), requests, error);
  }

  /** Ends the run: ok when every scope is ok, partial when some failed or quarantined records, failed when none completed. */
  finish(): "ok" | "partial" | "failed" {
    for (const w of [...this.open]) w.fail("the source ended without finishing this scope");
    const rows = this.db.prepare("SELECT status, COUNT(*) AS n FROM source_runs WHERE run_id = ? GROUP BY status").all(this.runId) as {
      status: string;
      n: number;
    }[];
    const count = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
    const ok = count("ok");
    const partial = count("partial");
    const failed = count("failed");
    const status = failed === 0 && partial === 0 && ok > 0 ? "ok" : ok + partial > 0 ? "partial" : "failed";
    this.db.transaction(() => {
      this.db.prepare("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?").run(status, now(), this.runId);
      sealRun(this.db, this.runId, this.rows);
    })();
    return status;
  }

  /** The run stops early (signal, fatal error): open scopes are undone and the run is marked failed. */
  abort(error: string): void {
    for (const w of [...this.open]) w.fail(error);
    this.db.transaction(() => {
      this.db.prepare("UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?").run(now(), error, this.runId);
      sealRun(this.db, this.runId, this.rows);
    })();
  }
}

type PrincipalColumns = {
  kind: Principal["kind"];
  name: string;
  email: string | null;
  display_name: string | null;
  status: Principal["status"];
  mfa: Principal["mfa"];
  created_at: string | null;
  access_level: NonNullable<Principal["accessLevel"]>;
};

export class ScopeWriter {
  readonly counts: ScopeCounts = { principals: 0, credentials: 0, grants: 0, roles: 0, requests: 0, activityRegressions: 0, quarantined: 0, unresolved: 0, joined: 0 };
  /** Every row this scope opened or closed in this run, for the run's digest. */
  readonly rows = new RowSum();
  /** A scope with nothing stored yet needs no look-ups: every record is new. */
  private readonly fresh: boolean;
  /** Versions from earlier runs seen unchanged in this one. */
  private readonly seen: Record<Table, VidSet> = { principals: new VidSet(), credentials: new VidSet(), grants: new VidSet(), roles: new VidSet() };
  /** While a batch is written: the versions it marked seen (true) or unmarked (false), to revert if its transaction is undone. */
  private seenLog: [Table, number, boolean][] | null = null;
  /** Versions this scope opened in this run, per table. */
  private opened: Record<Table, number> = { principals: 0, credentials: 0, grants: 0, roles: 0 };
  /** The lowest row id among them: every version it opens has a higher one (see Statements.openedHolders). */
  private firstOpened: Record<Table, number> = { principals: NONE_OPENED, credentials: NONE_OPENED, grants: NONE_OPENED, roles: NONE_OPENED };
  private readonly kept: Record<Table, Kept> = { principals: new Kept(), credentials: new Kept(), grants: new Kept(), roles: new Kept() };
  private done = false;

  constructor(
    private readonly db: Db,
    private readonly stmts: Statements,
    private readonly runId: number,
    readonly sid: number,
    private readonly onDone: (ok: boolean) => void,
    private readonly elsewhere: PrincipalElsewhere = () => undefined,
    private readonly redact: (text: string) => string = (t) => t,
  ) {
    this.fresh =
      db.prepare("SELECT 1 FROM principals WHERE sid = ? UNION ALL SELECT 1 FROM credentials WHERE sid = ? UNION ALL SELECT 1 FROM grants WHERE sid = ? LIMIT 1").get(sid, sid, sid) ===
        undefined &&
      db.prepare("SELECT 1 FROM activity WHERE sid = ? LIMIT 1").get(sid) === undefined;
  }

  /**
   * One transaction per batch. Records that do not fit the model are quarantined first; if the store still
   * refuses the batch, it is written again record by record and only the refused records are quarantined.
   */
  write(batch: RecordBatch): void {
    if (this.done) throw new Error("scope already finished");
    const checked = checkBatch(batch);
    for (const note of checked.quarantined) this.quarantine(note);
    if (checked.principals.length + checked.credentials.length + checked.grants.length + checked.roles.length === 0) return;
    try {
      this.undoable(() =>
        this.db.transaction(() => {
          for (const p of checked.principals) this.writePrincipal(p);
          for (const c of checked.credentials) this.writeCredential(c);
          for (const g of checked.grants) this.writeGrant(g);
          for (const r of checked.roles) this.writeRole(r);
        })(),
      );
    } catch (err) {
      if (!recordLevel(err)) throw err;
      // Closures per record only here, on the rare path: a million-record scope should not build millions.
      const writes: [() => void, () => QuarantineNote][] = [
        ...checked.principals.map((p) => [() => this.writePrincipal(p), () => ({ table: "principals", kind: p.kind, id: p.id })] as [() => void, () => QuarantineNote]),
        ...checked.credentials.map((c) => [() => this.writeCredential(c), () => ({ table: "credentials", kind: c.kind, id: c.id, principalId: c.principalId })] as [() => void, () => QuarantineNote]),
        ...checked.grants.map((g) => [() => this.writeGrant(g), () => ({ table: "grants", id: grantId(g), principalId: g.principalId })] as [() => void, () => QuarantineNote]),
        ...checked.roles.map((r) => [() => this.writeRole(r), () => ({ table: "roles", kind: r.kind, id: r.id })] as [() => void, () => QuarantineNote]),
      ];
      for (const [w, describe] of writes) {
        try {
          this.undoable(() => this.db.transaction(w)());
        } catch (e) {
          if (!recordLevel(e)) throw e;
          this.quarantine({ ...describe(), reason: `the store refused it: ${(e as Error).message}` });
        }
      }
    }
  }

  /** Runs `fn` (one transaction); if it throws, what it did to counts, the row sum and the seen sets is undone too. */
  private undoable(fn: () => void): void {
    const counts = { ...this.counts };
    const rows = this.rows.snapshot();
    const opened = { ...this.opened };
    const firstOpened = { ...this.firstOpened };
    this.seenLog = [];
    try {
      fn();
    } catch (err) {
      Object.assign(this.counts, counts);
      this.rows.restore(rows);
      this.opened = opened;
      this.firstOpened = firstOpened;
      for (const [t, vid, added] of this.seenLog.reverse()) {
        if (added) this.seen[t].delete(vid);
        else this.seen[t].add(vid);
      }
      throw err;
    } finally {
      this.seenLog = null;
    }
  }

  /** A record that could not be mapped or stored: noted (never the record itself) and its stored version kept. */
  quarantine(note: QuarantineNote): void {
    if (this.done) throw new Error("scope already finished");
    const reason = this.redact(note.reason).slice(0, 500);
    this.kept[note.table].note(note);
    if (this.counts.quarantined < QUARANTINE_ROWS_KEPT) {
      this.stmts.insertQuarantine.run(this.runId, this.sid, note.table, note.kind ?? null, note.id ?? null, note.principalId ?? null, reason);
    }
    this.counts.quarantined++;
  }

  addRequests(n: number): void {
    this.counts.requests += n;
  }

  /** Ended or failed: nothing more is written for the scope. */
  get finished(): boolean {
    return this.done;
  }

  end(meta?: Attributes, preserve: PreserveSelector[] = []): void {
    if (this.done) return;
    const m: Attributes = { ...(meta ?? {}) };
    if (this.counts.activityRegressions > 0) m.activity_regressions = this.counts.activityRegressions;
    if (preserve.length > 0) m.preserved = preserve.map((p) => `${p.table}${p.kind ? ` kind=${p.kind}` : ""}${p.status ? ` status=${p.status}` : ""}${p.idPrefix ? ` id=${p.idPrefix}*` : ""}${p.privilegePrefix ? ` privilege=${p.privilegePrefix}*` : ""}${p.via ? ` via=${p.via}` : ""}: ${p.reason}`);
    this.db.transaction(() => {
      // Grants and credentials first: their holders are known once they are closed out, and the holders'
      // unresolved principals must be written before principals are closed out.
      this.closeOut("credentials", preserve);
      this.closeOut("grants", preserve);
      this.closeOut("roles", preserve);
      this.resolveHolders(preserve.filter((p) => p.table === "principals"));
      this.closeOut("principals", preserve);
      if (this.counts.quarantined > 0) m.quarantined = this.counts.quarantined;
      if (this.counts.unresolved > 0) m.unresolved = this.counts.unresolved;
      if (this.counts.joined > 0) m.joined_elsewhere = this.counts.joined;
      this.db
        .prepare(
          "UPDATE source_runs SET status = ?, finished_at = ?, requests = ?, principals = ?, credentials = ?, grants = ?, meta = ? WHERE run_id = ? AND sid = ?",
        )
        .run(this.counts.quarantined > 0 ? "partial" : "ok", now(), this.counts.requests, this.counts.principals, this.counts.credentials, this.counts.grants, stableAttributes(m), this.runId, this.sid);
    })();
    this.finishUp(true);
  }

  /** Versions that held before this run and were neither seen unchanged nor replaced nor kept: gone. */
  private closeOut(t: Table, preserve: PreserveSelector[]): void {
    const seen = this.seen[t];
    if (this.unseen(t) === 0) {
      // Every version held before this run was seen again: nothing to close, and no need to read them all.
      seen.clear();
      return;
    }
    // A family of grants the connector could not read keeps the definitions of its privileges too.
    const keep = preserve.filter((p) => p.table === t || (t === "roles" && p.table === "grants" && p.privilegePrefix !== undefined && p.via === undefined));
    const kept = this.kept[t];
    // Without selectors only vids are needed: a million-row scope should not build a million objects.
    // Read first, write after: the statement cannot update while its cursor is open.
    const gone: number[] = [];
    if (keep.length === 0 && kept.empty) {
      // Two index-only reads instead of one that visits every row for its to_run: at 1M principals 0.94 -> 0.58 s for the grants.
      const closed = new VidSet();
      for (const vid of this.stmts.closedVids[TABLE_NO[t]]!.iterate(this.sid) as Iterable<number>) closed.add(vid);
      for (const vid of this.stmts.earlierVids[TABLE_NO[t]]!.iterate(this.sid, this.runId) as Iterable<number>) if (!seen.has(vid) && !closed.has(vid)) gone.push(vid);
    } else {
      for (const r of this.stmts.unchangedCandidates[t].iterate(this.sid, this.runId) as Iterable<CandidateRow>) {
        if (!seen.has(r.vid) && !kept.has(r) && !keep.some((p) => preserves(p, r))) gone.push(r.vid);
      }
    }
    for (const vid of gone) this.closeVersion(t, vid);
    seen.clear();
  }

  /**
   * Versions held before this run, still open, that this run did not see: counted, not read. Open versions are
   * those held before and not closed, plus those this run opened; the seen ones are among the former.
   */
  private unseen(t: Table): number {
    return (this.stmts.openCount[TABLE_NO[t]]!.get({ sid: this.sid }) as number) - this.opened[t] - this.seen[t].size;
  }

  /**
   * Holders of this scope's grants and credentials that no listing of the scope returned. One present in
   * another scope of the same source in this run is that principal (e.g. a GCP service account holding a
   * Workspace admin role); any other gets an unresolved principal, so its access shows everywhere a
   * principal does instead of vanishing.
   */
  private resolveHolders(keep: PreserveSelector[]): void {
    const missing = this.unseen("principals") === 0 ? this.openedHoldersWithoutPrincipal() : this.holdersWithoutPrincipal(keep);
    if (missing.length === 0) return;
    const wanted = new Set(missing);
    const found = new Map<string, { tables: Set<string>; claimed: string | null }>();
    for (const r of this.stmts.holderAttributes.iterate({ sid: this.sid }) as Iterable<{ t: string; principal_id: string; attributes: string | null }>) {
      if (!wanted.has(r.principal_id)) continue;
      let f = found.get(r.principal_id);
      if (!f) found.set(r.principal_id, (f = { tables: new Set(), claimed: null }));
      f.tables.add(r.t);
      const claimed = r.attributes ? (JSON.parse(r.attributes) as Attributes)[ATTR.holderKind] : undefined;
      if (typeof claimed === "string") f.claimed ??= claimed;
    }
    for (const id of missing.sort()) {
      const f = found.get(id);
      const other = this.elsewhere(id);
      if (other) {
        this.writePrincipal({ ...other.principal, attributes: { [ATTR.sameAs]: other.scope, [ATTR.claimedKind]: f?.claimed ?? null } }, false);
        this.counts.joined++;
      } else {
        this.writePrincipal(
          {
            id,
            kind: "unknown",
            name: id,
            status: "unknown",
            mfa: "unknown",
            lastActive: { at: null, known: false },
            attributes: {
              [ATTR.unresolved]: true,
              [ATTR.claimedKind]: f?.claimed ?? null,
              [ATTR.seenIn]: [...(f?.tables ?? [])].sort(),
              reason: this.kept.principals.ids.has(id)
                ? "its record was quarantined"
                : f?.claimed === "group"
                  ? "a group: this source lists no groups as principals"
                  : "no listing of this scope returned it",
            },
          },
          false,
        );
        this.counts.unresolved++;
      }
    }
  }

  /**
   * The holders to resolve when every principal held before this run was seen again. Every end of a scope
   * leaves each open grant and credential with an open principal (this method's caller makes sure of it, and a
   * failed scope goes back to such a state), and no principal will be closed: only a grant or credential this
   * run opened can lack one. An unchanged run opens none and reads nothing here.
   */
  private openedHoldersWithoutPrincipal(): string[] {
    if (this.opened.grants + this.opened.credentials === 0) return [];
    const statement = this.fresh ? this.stmts.openedHoldersFresh : this.stmts.openedHolders;
    return statement.all({ sid: this.sid, grants: this.firstOpened.grants, credentials: this.firstOpened.credentials }) as string[];
  }

  /** Holders whose principal is missing, or held before this run and neither seen, kept nor preserved: it is about to close. */
  private holdersWithoutPrincipal(keep: PreserveSelector[]): string[] {
    const missing: string[] = [];
    for (const h of this.stmts.holders.iterate({ sid: this.sid, run: this.runId }) as Iterable<{ id: string; vid: number | null; kind: string | null; status: string | null }>) {
      // An older version still counts when it was seen unchanged, or is kept (a quarantined record, a listing the connector could not read).
      if (h.vid !== null) {
        const r: CandidateRow = { vid: h.vid, id: h.id, kind: h.kind, status: h.status, privilege: null, via: null, principal_id: null };
        if (this.seen.principals.has(r.vid) || this.kept.principals.has(r) || keep.some((p) => preserves(p, r))) continue;
      }
      missing.push(h.id);
    }
    return missing;
  }

  fail(error: string): void {
    if (this.done) return;
    rollbackScope(this.db, this.sid, this.runId);
    for (const t of TABLES) this.seen[t].clear();
    this.db
      .prepare("UPDATE source_runs SET status = 'failed', finished_at = ?, requests = ?, error = ? WHERE run_id = ? AND sid = ?")
      .run(now(), this.counts.requests, error, this.runId, this.sid);
    this.finishUp(false);
  }

  private finishUp(ok: boolean): void {
    this.done = true;
    this.onDone(ok);
  }

  private upsert(table: Table, id: string, values: unknown[]): void {
    const content = contentHash(table, this.sid, id, values);
    if (this.fresh) {
      try {
        this.insertVersion(table, id, content, values);
        return;
      } catch (err) {
        // Only a repeated id within this run lands here; it takes the look-up path below.
        if ((err as { code?: string }).code !== "SQLITE_CONSTRAINT_UNIQUE") throw err;
      }
    }
    const hash = storedHash(content);
    const cur = this.stmts.current[table].get(hash, this.sid, id) as CurrentRow | undefined;
    if (cur && (cur[2] === 1 || (this.stmts.legacyRuns.has(cur[1]) && this.sameAsLegacy(table, cur[0], values, content)))) {
      if (cur[1] !== this.runId && this.seen[table].add(cur[0])) this.seenLog?.push([table, cur[0], true]);
      return;
    }
    if (cur) {
      const [vid, fromRun] = cur;
      if (fromRun === this.runId) {
        // The provider sent the same id twice in one run: the later record wins, no zero-length version.
        const before = this.stmts.values[TABLE_NO[table]]!.get(vid) as unknown[];
        this.stmts.update[table].run(hash, ...values, vid);
        this.rows.add(contentHash(table, this.sid, id, before), -1);
        this.rows.add(content);
        return;
      }
      this.closeVersion(table, vid);
    }
    this.insertVersion(table, id, content, values, hash);
  }

  /**
   * A version opened by a format-2 run carries format 2's hash: unchanged when that matches, and then its
   * hash is brought to format 3 (verify of its run reads the columns, not the stored hash).
   */
  private sameAsLegacy(table: Table, vid: number, values: unknown[], content: RowHash): boolean {
    const stored = this.stmts.hashOf[TABLE_NO[table]]!.get(vid) as Buffer;
    if (!stored.equals(legacyContentHash(values))) return false;
    this.stmts.rehash[TABLE_NO[table]]!.run(storedHash(content), vid);
    return true;
  }

  private closeVersion(table: Table, vid: number): void {
    // Seen earlier in this run, then sent again changed: no longer an open version that was seen.
    if (this.seen[table].delete(vid)) this.seenLog?.push([table, vid, false]);
    const key = this.stmts.close[TABLE_NO[table]]!.get(this.runId, vid) as { id: string; from_run: number };
    this.rows.add(closed(table, this.sid, key.id, key.from_run, this.runId));
  }

  private insertVersion(table: Table, id: string, content: RowHash, values: unknown[], hash = storedHash(content)): void {
    const vid = Number(this.stmts.insert[table].run(this.sid, id, this.runId, hash, ...values).lastInsertRowid);
    this.opened[table]++;
    if (vid < this.firstOpened[table]) this.firstOpened[table] = vid;
    this.rows.add(content);
  }

  private writeActivity(entity: number, id: string, activity: Activity | undefined): void {
    const next: Activity = activity ?? { at: null, known: false };
    const known = next.known ? 1 : 0;
    if (!this.fresh) {
      const same = this.stmts.activitySame.get(next.at, known, this.sid, entity, id) as number | undefined;
      if (same === 1) return;
      const cur = same === undefined ? undefined : (this.stmts.lastActivity.get(this.sid, entity, id) as { at: string | null; known: number });
      if (cur && cur.known && next.known && cur.at !== null && (next.at === null || next.at < cur.at)) {
        // Providers lag and flip (Google reports "never" for a user seen yesterday): last activity never goes backwards.
        this.counts.activityRegressions++;
        return;
      }
    }
    const signal = next.signal ?? null;
    if (this.stmts.insertActivity.run(this.sid, entity, id, this.runId, next.at, known, signal).changes === 1) {
      this.rows.add(activityRow(this.sid, entity, id, this.runId, next.at, known, signal));
    }
  }

  private writePrincipal(p: Principal, count = true): void {
    const values = [
      p.kind,
      p.name,
      p.email ?? null,
      p.displayName ?? null,
      p.status,
      p.mfa,
      p.createdAt ?? null,
      p.accessLevel ?? "none",
      stableAttributes(p.attributes),
    ];
    this.upsert("principals", p.id, values);
    this.writeActivity(ENTITY_PRINCIPAL, p.id, p.lastActive);
    if (count) this.counts.principals++;
  }

  private writeCredential(c: Credential): void {
    const values = [c.principalId, c.kind, c.name ?? null, c.status, c.createdAt ?? null, c.expiresAt ?? null, stableAttributes(c.attributes)];
    this.upsert("credentials", c.id, values);
    this.writeActivity(ENTITY_CREDENTIAL, c.id, c.lastUsed);
    this.counts.credentials++;
  }

  private writeGrant(g: Grant): void {
    const values = [g.principalId, g.privilege, g.level, g.scope, g.via, stableAttributes(g.attributes)];
    this.upsert("grants", grantId(g), values);
    this.counts.grants++;
  }

  private writeRole(r: RoleDefinition): void {
    const values = [r.privilege, r.name, r.kind, r.level, r.reason, JSON.stringify(r.permissions), r.holderId ?? null, stableAttributes(r.attributes)];
    this.upsert("roles", r.id, values);
    this.counts.roles++;
  }
}

// Writes one collect run as temporal versions: an unchanged entity costs nothing, a changed one closes
// its version and opens a new one, one not seen while its scope is ok is closed at the end of the scope.
// A scope that fails has this run's writes undone, so it keeps exactly its previous state.
import type { Statement } from "better-sqlite3";
import type { PreserveSelector } from "../connector.js";
import type { Activity, Attributes, Credential, Grant, Principal } from "../model.js";
import { grantId } from "../model.js";
import type { Db } from "./db.js";
import { VidSet } from "./vid-set.js";
import { activityRow, closed, contentHash, opened, RowSum, sealFromStore, sealRun } from "./integrity.js";

type Table = "principals" | "credentials" | "grants";
const TABLES: readonly Table[] = ["principals", "credentials", "grants"];
const TABLE_NO: Record<Table, number> = { principals: 0, credentials: 1, grants: 2 };
const ENTITY_PRINCIPAL = 0;
const ENTITY_CREDENTIAL = 1;

export interface RecordBatch {
  principals?: Principal[];
  credentials?: Credential[];
  grants?: Grant[];
}

export interface ScopeCounts {
  principals: number;
  credentials: number;
  grants: number;
  requests: number;
  activityRegressions: number;
}

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
  })();
}

/**
 * Marks runs left "running" by a process that ended without finishing them as failed, undoing the writes
 * of the scopes they had not finished. Call only while holding the collect lock.
 */
export function recoverInterruptedRuns(db: Db): number[] {
  const runs = db.prepare("SELECT id FROM runs WHERE status = 'running'").all() as { id: number }[];
  for (const { id } of runs) {
    const open = db.prepare("SELECT sid FROM source_runs WHERE run_id = ? AND status = 'running'").all(id) as { sid: number }[];
    for (const { sid } of open) rollbackScope(db, sid, id);
    db.transaction(() => {
      db.prepare(
        "UPDATE source_runs SET status = 'failed', finished_at = ?, error = 'interrupted: the collect process ended before this scope finished' WHERE run_id = ? AND status = 'running'",
      ).run(now(), id);
      db.prepare("UPDATE runs SET status = 'failed', finished_at = COALESCE(finished_at, ?), error = 'interrupted: the collect process ended before the run finished' WHERE id = ?").run(now(), id);
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
}

function preserves(p: PreserveSelector, r: CandidateRow): boolean {
  return (
    (p.kind === undefined || p.kind === r.kind) &&
    (p.status === undefined || p.status === r.status) &&
    (p.idPrefix === undefined || r.id.startsWith(p.idPrefix)) &&
    (p.privilegePrefix === undefined || (r.privilege ?? "").startsWith(p.privilegePrefix)) &&
    (p.via === undefined || p.via === r.via)
  );
}

interface CurrentRow {
  vid: number;
  hash: Buffer;
  from_run: number;
}

class Statements {
  readonly current: Record<Table, Statement>;
  readonly insert: Record<Table, Statement>;
  readonly update: Record<Table, Statement>;
  readonly close: Statement[];
  readonly unchangedCandidates: Record<Table, Statement>;
  readonly unchangedVids: Record<Table, Statement>;
  readonly lastActivity: Statement;
  readonly insertActivity: Statement;

  constructor(db: Db) {
    const cur = (t: Table) => db.prepare(`SELECT vid, hash, from_run FROM ${t} WHERE sid = ? AND id = ? AND to_run IS NULL`);
    this.current = { principals: cur("principals"), credentials: cur("credentials"), grants: cur("grants") };
    this.insert = {
      principals: db.prepare(
        "INSERT INTO principals (sid, id, from_run, hash, kind, name, email, display_name, status, mfa, created_at, access_level, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      credentials: db.prepare(
        "INSERT INTO credentials (sid, id, from_run, hash, principal_id, kind, name, status, created_at, expires_at, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      grants: db.prepare(
        "INSERT INTO grants (sid, id, from_run, hash, principal_id, privilege, level, grant_scope, via, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
    };
    this.update = {
      principals: db.prepare(
        "UPDATE principals SET hash = ?, kind = ?, name = ?, email = ?, display_name = ?, status = ?, mfa = ?, created_at = ?, access_level = ?, attributes = ? WHERE vid = ?",
      ),
      credentials: db.prepare(
        "UPDATE credentials SET hash = ?, principal_id = ?, kind = ?, name = ?, status = ?, created_at = ?, expires_at = ?, attributes = ? WHERE vid = ?",
      ),
      grants: db.prepare("UPDATE grants SET hash = ?, principal_id = ?, privilege = ?, level = ?, grant_scope = ?, via = ?, attributes = ? WHERE vid = ?"),
    };
    this.close = TABLES.map((t) => db.prepare(`UPDATE ${t} SET to_run = ? WHERE vid = ?`));
    // id, kind/status or privilege come along so that preserved families can be recognised.
    const candidates = (t: Table) =>
      db.prepare(
        `SELECT vid, id, ${t === "grants" ? "NULL AS kind, NULL AS status, privilege, via" : "kind, status, NULL AS privilege, NULL AS via"} FROM ${t} WHERE sid = ? AND to_run IS NULL AND from_run < ?`,
      );
    this.unchangedCandidates = { principals: candidates("principals"), credentials: candidates("credentials"), grants: candidates("grants") };
    const vids = (t: Table) => db.prepare(`SELECT vid FROM ${t} WHERE sid = ? AND to_run IS NULL AND from_run < ?`).pluck();
    this.unchangedVids = { principals: vids("principals"), credentials: vids("credentials"), grants: vids("grants") };
    this.lastActivity = db.prepare("SELECT at, known FROM activity WHERE sid = ? AND entity = ? AND id = ? ORDER BY run DESC LIMIT 1");
    // First value wins when a provider repeats an entity within a run: the digest's row sum stays exact.
    this.insertActivity = db.prepare("INSERT INTO activity (sid, entity, id, run, at, known, signal) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
  }
}

export class RunWriter {
  readonly runId: number;
  private readonly stmts: Statements;
  private readonly open = new Set<ScopeWriter>();
  /** Row sum of the scopes that ended ok: what the run's digest covers. */
  private readonly rows = new RowSum();

  private constructor(
    private readonly db: Db,
    runId: number,
  ) {
    this.runId = runId;
    this.stmts = new Statements(db);
  }

  static begin(db: Db, trigger = "cli"): RunWriter {
    const id = Number(
      db.prepare("INSERT INTO runs (started_at, status, pid, trigger) VALUES (?, 'running', ?, ?)").run(now(), process.pid, trigger).lastInsertRowid,
    );
    return new RunWriter(db, id);
  }

  openScope(source: string, sourceType: string, scope: string, label?: string): ScopeWriter {
    const sid = sidFor(this.db, source, sourceType, scope);
    const existing = this.db.prepare("SELECT status FROM source_runs WHERE run_id = ? AND sid = ?").get(this.runId, sid);
    if (existing) throw new Error(`source ${source} reported scope "${scope}" twice in one run`);
    this.db
      .prepare("INSERT INTO source_runs (run_id, sid, label, status, started_at) VALUES (?, ?, ?, 'running', ?)")
      .run(this.runId, sid, label ?? null, now());
    const writer = new ScopeWriter(this.db, this.stmts, this.runId, sid, (ok) => {
      this.open.delete(writer);
      if (ok) this.rows.merge(writer.rows);
    });
    this.open.add(writer);
    return writer;
  }

  /** A source that failed before reporting any scope (bad credentials, unreachable endpoint). */
  sourceFailed(source: string, sourceType: string, error: string, requests = 0): void {
    const sid = sidFor(this.db, source, sourceType, "*");
    this.db
      .prepare("INSERT OR REPLACE INTO source_runs (run_id, sid, status, started_at, finished_at, requests, error) VALUES (?, ?, 'failed', ?, ?, ?, ?)")
      .run(this.runId, sid, now(), now(), requests, error);
  }

  /** Ends the run: ok when every scope is ok, partial when some failed, failed when none succeeded. */
  finish(): "ok" | "partial" | "failed" {
    for (const w of [...this.open]) w.fail("the source ended without finishing this scope");
    const rows = this.db.prepare("SELECT status, COUNT(*) AS n FROM source_runs WHERE run_id = ? GROUP BY status").all(this.runId) as {
      status: string;
      n: number;
    }[];
    const ok = rows.find((r) => r.status === "ok")?.n ?? 0;
    const failed = rows.find((r) => r.status === "failed")?.n ?? 0;
    const status = failed === 0 && ok > 0 ? "ok" : ok > 0 ? "partial" : "failed";
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

export class ScopeWriter {
  readonly counts: ScopeCounts = { principals: 0, credentials: 0, grants: 0, requests: 0, activityRegressions: 0 };
  /** Every row this scope opened or closed in this run, for the run's digest. */
  readonly rows = new RowSum();
  /** A scope with nothing stored yet needs no look-ups: every record is new. */
  private readonly fresh: boolean;
  /** Versions from earlier runs seen unchanged in this one. */
  private readonly seen: Record<Table, VidSet> = { principals: new VidSet(), credentials: new VidSet(), grants: new VidSet() };
  private done = false;

  constructor(
    private readonly db: Db,
    private readonly stmts: Statements,
    private readonly runId: number,
    readonly sid: number,
    private readonly onDone: (ok: boolean) => void,
  ) {
    this.fresh =
      db.prepare("SELECT 1 FROM principals WHERE sid = ? UNION ALL SELECT 1 FROM credentials WHERE sid = ? UNION ALL SELECT 1 FROM grants WHERE sid = ? LIMIT 1").get(sid, sid, sid) ===
        undefined &&
      db.prepare("SELECT 1 FROM activity WHERE sid = ? LIMIT 1").get(sid) === undefined;
  }

  /** One transaction per batch. */
  write(batch: RecordBatch): void {
    if (this.done) throw new Error("scope already finished");
    this.db.transaction(() => {
      for (const p of batch.principals ?? []) this.writePrincipal(p);
      for (const c of batch.credentials ?? []) this.writeCredential(c);
      for (const g of batch.grants ?? []) this.writeGrant(g);
    })();
  }

  addRequests(n: number): void {
    this.counts.requests += n;
  }

  end(meta?: Attributes, preserve: PreserveSelector[] = []): void {
    if (this.done) return;
    const m: Attributes = { ...(meta ?? {}) };
    if (this.counts.activityRegressions > 0) m.activity_regressions = this.counts.activityRegressions;
    if (preserve.length > 0) m.preserved = preserve.map((p) => `${p.table}${p.kind ? ` kind=${p.kind}` : ""}${p.status ? ` status=${p.status}` : ""}${p.idPrefix ? ` id=${p.idPrefix}*` : ""}${p.privilegePrefix ? ` privilege=${p.privilegePrefix}*` : ""}${p.via ? ` via=${p.via}` : ""}: ${p.reason}`);
    this.db.transaction(() => {
      for (const t of TABLES) {
        // Versions that held before this run and were neither seen unchanged nor replaced: gone.
        const seen = this.seen[t];
        const keep = preserve.filter((p) => p.table === t);
        // Without selectors only vids are needed: a million-row scope should not build a million objects.
        // Read first, write after: the statement cannot update while its cursor is open.
        const gone: number[] = [];
        if (keep.length === 0) {
          for (const vid of this.stmts.unchangedVids[t].iterate(this.sid, this.runId) as Iterable<number>) if (!seen.has(vid)) gone.push(vid);
        } else {
          for (const r of this.stmts.unchangedCandidates[t].iterate(this.sid, this.runId) as Iterable<CandidateRow>) {
            if (!seen.has(r.vid) && !keep.some((p) => preserves(p, r))) gone.push(r.vid);
          }
        }
        for (const vid of gone) {
          this.stmts.close[TABLE_NO[t]]!.run(this.runId, vid);
          this.rows.add(closed(t, vid, this.runId));
        }
        seen.clear();
      }
      this.db
        .prepare(
          "UPDATE source_runs SET status = 'ok', finished_at = ?, requests = ?, principals = ?, credentials = ?, grants = ?, meta = ? WHERE run_id = ? AND sid = ?",
        )
        .run(now(), this.counts.requests, this.counts.principals, this.counts.credentials, this.counts.grants, stableAttributes(m), this.runId, this.sid);
    })();
    this.finishUp(true);
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

  private upsert(table: Table, id: string, hash: Buffer, values: unknown[]): void {
    if (this.fresh) {
      try {
        this.insertVersion(table, id, hash, values);
        return;
      } catch (err) {
        // Only a repeated id within this run lands here; it takes the look-up path below.
        if ((err as { code?: string }).code !== "SQLITE_CONSTRAINT_UNIQUE") throw err;
      }
    }
    const cur = this.stmts.current[table].get(this.sid, id) as CurrentRow | undefined;
    if (cur) {
      if (cur.hash.equals(hash)) {
        if (cur.from_run !== this.runId) this.seen[table].add(cur.vid);
        return;
      }
      if (cur.from_run === this.runId) {
        // The provider sent the same id twice in one run: the later record wins, no zero-length version.
        this.stmts.update[table].run(hash, ...values, cur.vid);
        this.rows.add(opened(table, cur.vid, this.sid, id, this.runId, cur.hash), -1);
        this.rows.add(opened(table, cur.vid, this.sid, id, this.runId, hash));
        return;
      }
      this.stmts.close[TABLE_NO[table]]!.run(this.runId, cur.vid);
      this.rows.add(closed(table, cur.vid, this.runId));
    }
    this.insertVersion(table, id, hash, values);
  }

  private insertVersion(table: Table, id: string, hash: Buffer, values: unknown[]): void {
    const vid = Number(this.stmts.insert[table].run(this.sid, id, this.runId, hash, ...values).lastInsertRowid);
    this.rows.add(opened(table, vid, this.sid, id, this.runId, hash));
  }

  private writeActivity(entity: number, id: string, activity: Activity | undefined): void {
    const next: Activity = activity ?? { at: null, known: false };
    if (!this.fresh) {
      const cur = this.stmts.lastActivity.get(this.sid, entity, id) as { at: string | null; known: number } | undefined;
      if (cur && cur.known === (next.known ? 1 : 0) && cur.at === next.at) return;
      if (cur && cur.known && next.known && cur.at !== null && (next.at === null || next.at < cur.at)) {
        // Providers lag and flip (Google reports "never" for a user seen yesterday): last activity never goes backwards.
        this.counts.activityRegressions++;
        return;
      }
    }
    const known = next.known ? 1 : 0;
    const signal = next.signal ?? null;
    if (this.stmts.insertActivity.run(this.sid, entity, id, this.runId, next.at, known, signal).changes === 1) {
      this.rows.add(activityRow(this.sid, entity, id, this.runId, next.at, known, signal));
    }
  }

  private writePrincipal(p: Principal): void {
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
    this.upsert("principals", p.id, contentHash(values), values);
    this.writeActivity(ENTITY_PRINCIPAL, p.id, p.lastActive);
    this.counts.principals++;
  }

  private writeCredential(c: Credential): void {
    const values = [c.principalId, c.kind, c.name ?? null, c.status, c.createdAt ?? null, c.expiresAt ?? null, stableAttributes(c.attributes)];
    this.upsert("credentials", c.id, contentHash(values), values);
    this.writeActivity(ENTITY_CREDENTIAL, c.id, c.lastUsed);
    this.counts.credentials++;
  }

  private writeGrant(g: Grant): void {
    const values = [g.principalId, g.privilege, g.level, g.scope, g.via, stableAttributes(g.attributes)];
    this.upsert("grants", grantId(g), contentHash(values), values);
    this.counts.grants++;
  }
}

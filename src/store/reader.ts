// Reading the store: runs, per-scope statuses, and the state of any run (what held at that run).
import type { Activity, AccessLevel, Attributes, CredentialKind, CredentialStatus, GrantVia, MfaState, PrincipalKind, PrincipalStatus } from "../model.js";
import { maxAccessLevel } from "../model.js";
import type { Db } from "./db.js";
import type { CredentialView, GrantView, PrincipalView, RunRow, ScopeRunRow } from "../views.js";

// The records are defined in src/views.ts (the renderers name them without importing the store).
export type { CredentialView, GrantView, PrincipalView, RunRow, ScopeRunRow } from "../views.js";

/** Scope statuses whose data is the scope's state as of that run ("partial": some records quarantined). */
export const COMPLETE_SQL = "('ok', 'partial')";
export const isComplete = (status: string) => status === "ok" || status === "partial";

const RUN_COLUMNS = "id, started_at AS startedAt, finished_at AS finishedAt, status, trigger, error, digest";

export function listRuns(db: Db, limit = 1000): RunRow[] {
  return db.prepare(`SELECT ${RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?`).all(limit) as RunRow[];
}

export function getRun(db: Db, id: number): RunRow | undefined {
  return db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
}

/** The oldest run still stored (retention removes older ones), or null when there is none. */
export function oldestRunId(db: Db): number | null {
  return db.prepare("SELECT MIN(id) FROM runs").pluck().get() as number | null;
}

/** Finished runs with at least one complete scope, newest first: the runs worth comparing. */
export function comparableRuns(db: Db, limit: number): RunRow[] {
  return db
    .prepare(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE status != 'running' AND EXISTS (SELECT 1 FROM source_runs s WHERE s.run_id = runs.id AND s.status IN ${COMPLETE_SQL}) ORDER BY id DESC LIMIT ?`,
    )
    .all(limit) as RunRow[];
}

interface RawScopeRun extends Omit<ScopeRunRow, "meta" | "quarantined" | "unresolved"> {
  meta: string | null;
}

const SCOPE_RUN_SELECT = `SELECT s.run_id AS runId, s.sid, c.source, c.source_type AS sourceType, c.scope, s.label, s.status,
  s.started_at AS startedAt, s.finished_at AS finishedAt, s.requests, s.principals, s.credentials, s.grants, s.error, s.meta
  FROM source_runs s JOIN scopes c ON c.sid = s.sid`;

function parseScopeRun(r: RawScopeRun): ScopeRunRow {
  const meta = r.meta ? (JSON.parse(r.meta) as Attributes) : null;
  const count = (k: string) => (typeof meta?.[k] === "number" ? (meta[k] as number) : 0);
  return { ...r, meta, quarantined: count("quarantined"), unresolved: count("unresolved") };
}

export interface QuarantinedRecord {
  source: string;
  scope: string;
  table: string;
  kind: string | null;
  recordId: string | null;
  principalId: string | null;
  reason: string;
}

/** What run `runId` quarantined (at most QUARANTINE_ROWS_KEPT per scope; the scope's count is exact). */
export function quarantineOf(db: Db, runId: number): QuarantinedRecord[] {
  return db
    .prepare(
      `SELECT c.source, c.scope, q.entity AS "table", q.kind, q.record_id AS recordId, q.principal_id AS principalId, q.reason
       FROM quarantine q JOIN scopes c ON c.sid = q.sid WHERE q.run_id = ? ORDER BY c.source, c.scope, q.id`,
    )
    .all(runId) as QuarantinedRecord[];
}

export function scopeRuns(db: Db, runId: number): ScopeRunRow[] {
  return (db.prepare(`${SCOPE_RUN_SELECT} WHERE s.run_id = ? ORDER BY c.source, c.scope`).all(runId) as RawScopeRun[]).map(parseScopeRun);
}

/**
 * For every scope known by run `runId`: the last run at or before it in which the scope was ok
 * (its data as of then), and its status in `runId` itself when it took part.
 */
export function scopesAsOf(db: Db, runId: number): { sid: number; source: string; sourceType: string; scope: string; okRun: number | null; inRun: ScopeRunRow | null }[] {
  const rows = db
    .prepare(
      `SELECT c.sid, c.source, c.source_type AS sourceType, c.scope,
         (SELECT MAX(run_id) FROM source_runs s WHERE s.sid = c.sid AND s.status IN ${COMPLETE_SQL} AND s.run_id <= ?) AS okRun
       FROM scopes c WHERE c.scope != '*' AND EXISTS (SELECT 1 FROM source_runs s WHERE s.sid = c.sid AND s.run_id <= ?)
       ORDER BY c.source, c.scope`,
    )
    .all(runId, runId) as { sid: number; source: string; sourceType: string; scope: string; okRun: number | null }[];
  const inRun = new Map(scopeRuns(db, runId).map((r) => [r.sid, r]));
  return rows.map((r) => ({ ...r, inRun: inRun.get(r.sid) ?? null }));
}

/** A version row (of the table aliased `alias`, when given) that held at run `@run`: opened by then, not closed by then. */
export function heldAtRun(alias?: string): string {
  const c = alias ? `${alias}.` : "";
  return `${c}from_run <= @run AND (${c}to_run IS NULL OR ${c}to_run > @run)`;
}

/** heldAtRun() for an unaliased table. */
export const HELD_AT_RUN = heldAtRun();

/** a < b in SQLite's BINARY (UTF-8 byte) order, which differs from JS order only beyond the BMP. */
export function before(a: string, b: string): boolean {
  if (/[\ud800-\uffff]/.test(a) || /[\ud800-\uffff]/.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;
  return a < b;
}

function parseAttrs(text: string | null): Attributes | null {
  return text ? (JSON.parse(text) as Attributes) : null;
}

export interface InventoryFilter {
  source?: string[];
  kind?: string[];
  /** Only the scopes it accepts (a report's --source/--scope): the others are not read at all. */
  inScope?: (s: { source: string; scope: string }) => boolean;
}

/**
 * Every principal as it stood at run `runId`, with its grants and credentials, ordered by scope and id.
 * A merge join of three ordered cursors: memory stays flat however large the scope.
 */
export function* inventoryAt(db: Db, runId: number, filter: InventoryFilter = {}): Generator<PrincipalView> {
  const lastActive = db.prepare("SELECT at, known, signal FROM activity WHERE sid = ? AND entity = ? AND id = ? AND run <= ? ORDER BY run DESC LIMIT 1");
  // Principals' activity joins by id like the grants (one cursor, not a look-up per principal): the latest
  // row at or before the run per id (SQLite takes the bare columns from the MAX(run) row).
  const activityQ = db.prepare(
    "SELECT id, at, known, signal, MAX(run) AS run FROM activity WHERE sid = @sid AND entity = 0 AND run <= @run GROUP BY id ORDER BY id",
  );
  type ActivityRow = { at: string | null; known: number; signal: string | null };
  const toActivity = (row: ActivityRow | undefined): Activity =>
    row ? { at: row.at, known: row.known === 1, ...(row.signal ? { signal: row.signal } : {}) } : { at: null, known: false };
  const principalsQ = db.prepare(
    `SELECT id, kind, name, email, display_name, status, mfa, created_at, access_level, attributes FROM principals WHERE sid = @sid AND ${HELD_AT_RUN} ORDER BY id`,
  );
  // Grant ids begin with the principal id and a separator, so key order is principal order.
  const grantsQ = db.prepare(
    `SELECT principal_id, privilege, level, grant_scope, via, attributes, (SELECT started_at FROM runs WHERE runs.id = grants.from_run) AS since
     FROM grants WHERE sid = @sid AND ${HELD_AT_RUN} ORDER BY id`,
  );
  const credentialsQ = db.prepare(
    `SELECT id, principal_id, kind, name, status, created_at, expires_at, attributes FROM credentials WHERE sid = @sid AND ${HELD_AT_RUN} ORDER BY principal_id, id`,
  );
  type GrantRow = { principal_id: string; privilege: string; level: GrantView["level"]; grant_scope: string; via: GrantVia; attributes: string | null; since: string | null };
  type CredRow = { id: string; principal_id: string; kind: CredentialKind; name: string | null; status: CredentialStatus; created_at: string | null; expires_at: string | null; attributes: string | null };
  type PrincipalRow = { id: string; kind: PrincipalKind; name: string; email: string | null; display_name: string | null; status: PrincipalStatus; mfa: MfaState; created_at: string | null; access_level: AccessLevel; attributes: string | null };

  for (const scope of scopesAsOf(db, runId)) {
    if (filter.source && !filter.source.includes(scope.source)) continue;
    if (filter.inScope && !filter.inScope(scope)) continue;
    const params = { sid: scope.sid, run: runId };
    const grants = (grantsQ.iterate(params) as IterableIterator<GrantRow>)[Symbol.iterator]();
    const creds = (credentialsQ.iterate(params) as IterableIterator<CredRow>)[Symbol.iterator]();
    const activity = (activityQ.iterate(params) as IterableIterator<ActivityRow & { id: string }>)[Symbol.iterator]();
    let g = grants.next();
    let c = creds.next();
    let a = activity.next();
    try {
      for (const p of principalsQ.iterate(params) as IterableIterator<PrincipalRow>) {
        const myGrants: GrantView[] = [];
        // Rows of principals that do not exist (a grant to a deleted account) are skipped, not attached elsewhere.
        while (!g.done && before(g.value.principal_id, p.id)) g = grants.next();
        while (!g.done && g.value.principal_id === p.id) {
          const r = g.value;
          myGrants.push({ privilege: r.privilege, level: r.level, scope: r.grant_scope, via: r.via, attributes: parseAttrs(r.attributes), since: r.since });
          g = grants.next();
        }
        const myCreds: CredentialView[] = [];
        while (!c.done && before(c.value.principal_id, p.id)) c = creds.next();
        while (!c.done && c.value.principal_id === p.id) {
          const r = c.value;
          myCreds.push({
            id: r.id,
            principalId: r.principal_id,
            kind: r.kind,
            name: r.name,
            status: r.status,
            createdAt: r.created_at,
            expiresAt: r.expires_at,
            lastUsed: toActivity(lastActive.get(scope.sid, 1, r.id, runId) as never),
            attributes: parseAttrs(r.attributes),
          });
          c = creds.next();
        }
        while (!a.done && before(a.value.id, p.id)) a = activity.next();
        const active = !a.done && a.value.id === p.id ? a.value : undefined;
        if (filter.kind && !filter.kind.includes(p.kind)) continue;
        yield {
          source: scope.source,
          sourceType: scope.sourceType,
          scope: scope.scope,
          id: p.id,
          kind: p.kind,
          name: p.name,
          email: p.email,
          displayName: p.display_name,
          status: p.status,
          mfa: p.mfa,
          createdAt: p.created_at,
          accessLevel: maxAccessLevel([p.access_level, ...myGrants.map((x) => x.level)]),
          lastActive: toActivity(active),
          grants: myGrants,
          credentials: myCreds,
          attributes: parseAttrs(p.attributes),
        };
      }
    } finally {
      grants.return?.();
      creds.return?.();
      activity.return?.();
    }
  }
}

/** How many principals inventoryAt(db, runId) yields from the scopes `inScope` keeps, counted without reading them. */
export function principalCountAt(db: Db, runId: number, inScope: (s: { source: string; scope: string }) => boolean = () => true): number {
  const q = db.prepare(`SELECT COUNT(*) FROM principals WHERE sid = @sid AND ${HELD_AT_RUN}`).pluck();
  let n = 0;
  for (const scope of scopesAsOf(db, runId)) if (inScope(scope)) n += q.get({ sid: scope.sid, run: runId }) as number;
  return n;
}

/** What telling who has left needs of a principal: no grants, credentials or activity. */
export interface PrincipalStanding {
  source: string;
  scope: string;
  kind: PrincipalKind;
  name: string;
  email: string | null;
  status: PrincipalStatus;
}

/**
 * The principals of the given kinds as they stood at run `runId`, read from their table alone: the cheap
 * first pass of the rules (who has left) over what inventoryAt would join with grants, credentials and activity.
 * `standing`: only those active or invited (true), or only the others (false): SQLite filters, so a caller
 * looking for the few who left does not read every account.
 */
export function* principalStandingAt(
  db: Db,
  runId: number,
  filter: { source: string[]; kind: PrincipalKind[]; standing?: boolean },
): Generator<PrincipalStanding> {
  const kinds = filter.kind.map(() => "?").join(", ");
  const standing = filter.standing === undefined ? "" : `AND status ${filter.standing ? "" : "NOT "}IN ('active', 'invited')`;
  const q = db.prepare(`SELECT kind, name, email, status FROM principals WHERE sid = @sid AND ${HELD_AT_RUN} AND kind IN (${kinds}) ${standing} ORDER BY id`);
  for (const scope of scopesAsOf(db, runId)) {
    if (!filter.source.includes(scope.source)) continue;
    for (const p of q.iterate(filter.kind, { sid: scope.sid, run: runId }) as IterableIterator<Pick<PrincipalStanding, "kind" | "name" | "email" | "status">>) {
      yield { source: scope.source, scope: scope.scope, ...p };
    }
  }
}

/** Each scope's latest label at or before run `runId` (AWS: "prod (222222222222)"), keyed by `source/scope`. */
export function scopeLabels(db: Db, runId: number): Map<string, string> {
  const rows = db
    .prepare(`SELECT c.source, c.scope, s.label FROM source_runs s JOIN scopes c ON c.sid = s.sid WHERE s.run_id <= ? AND s.label IS NOT NULL ORDER BY s.run_id`)
    .all(runId) as { source: string; scope: string; label: string }[];
  const labels = new Map<string, string>();
  for (const r of rows) labels.set(`${r.source}/${r.scope}`, r.label);
  return labels;
}

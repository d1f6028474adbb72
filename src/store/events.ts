// Audit events and feed health: storing a reader's pages (events and cursor in one transaction), recording
// each feed's health and the window it covers, querying events, and retention.
import { ACTOR_KINDS, EVENT_ACTIONS, EVENT_OUTCOMES, type ActorKind, type AuditEvent, type EventAction, type EventOutcome } from "../events/contract.js";
import type { Attributes } from "../model.js";
import type { Db } from "./db.js";
import { EVENT_COLUMNS, eventRow, RowSum } from "./integrity.js";
import { isoProblem } from "./validate.js";
import { stableAttributes } from "./writer.js";
import type { FeedStateRow, FeedStatus, StoredEvent, VersionSpan } from "../views.js";

// The records are defined in src/views.ts (the renderers name them without importing the store).
export type { FeedStateRow, FeedStatus, StoredEvent, VersionSpan } from "../views.js";

const ACTIONS = new Set<string>(EVENT_ACTIONS);
const OUTCOMES = new Set<string>(EVENT_OUTCOMES);
const KINDS = new Set<string>(ACTOR_KINDS);
const MAX_TEXT = 4096;

const optText = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v.slice(0, MAX_TEXT) : null);

/** Why a reader's event cannot be stored, or null. Readers are provider code: nothing is taken on trust. */
export function eventProblem(e: unknown): string | null {
  if (typeof e !== "object" || e === null) return "is not an object";
  const r = e as Record<string, unknown>;
  if (typeof r.id !== "string" || r.id === "") return "id is missing or empty";
  if (typeof r.at !== "string") return "at is missing";
  const iso = isoProblem(r.at);
  if (iso || Number.isNaN(Date.parse(r.at))) return `at ${iso ?? "is not a date"}`;
  if (typeof r.action !== "string" || !ACTIONS.has(r.action)) return "action is not in the vocabulary";
  if (typeof r.providerAction !== "string") return "providerAction is missing";
  if (typeof r.outcome !== "string" || !OUTCOMES.has(r.outcome)) return "outcome is not success, failure or unknown";
  const actor = r.actor as Record<string, unknown> | undefined;
  if (typeof actor !== "object" || actor === null || typeof actor.kind !== "string" || !KINDS.has(actor.kind)) return "actor.kind is missing or unknown";
  return null;
}

export interface PageResult {
  inserted: number;
  duplicates: number;
  rejected: { id: string | null; reason: string }[];
}

const now = () => new Date().toISOString();

/** Upserts a feed's row as "polling": the poll has begun; cursor and coverage stay as they were. */
export function startFeedPoll(db: Db, sid: number, feed: string, at = now()): void {
  db.prepare(
    `INSERT INTO feed_state (sid, feed, status, last_poll_at) VALUES (?, ?, 'polling', ?)
     ON CONFLICT (sid, feed) DO UPDATE SET status = 'polling', reason = NULL, last_poll_at = excluded.last_poll_at`,
  ).run(sid, feed, at);
}

/**
 * Stores one page of a feed and the cursor that follows it, in one transaction: after a crash either both
 * are stored or neither, so the next poll resumes exactly after the last stored page. Events already stored
 * (the overlap window, a page read again) are ignored by their id.
 */
export function storeEventPage(db: Db, sid: number, feed: string, events: readonly AuditEvent[], cursor: string, at = now()): PageResult {
  const insert = db.prepare(
    `INSERT INTO events (sid, feed, event_id, at, action, provider_action, outcome, actor_id, actor_name, actor_kind,
       target_principal, target_name, target_privilege, target_credential, ip, user_agent, details, ingested_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const result: PageResult = { inserted: 0, duplicates: 0, rejected: [] };
  db.transaction(() => {
    for (const e of events) {
      const problem = eventProblem(e);
      if (problem) {
        result.rejected.push({ id: typeof (e as { id?: unknown })?.id === "string" ? (e as { id: string }).id : null, reason: problem });
        continue;
      }
      const t = e.target ?? {};
      const changes = insert.run(
        sid,
        feed,
        e.id,
        new Date(e.at).toISOString(),
        e.action,
        e.providerAction.slice(0, MAX_TEXT),
        e.outcome,
        optText(e.actor.id),
        optText(e.actor.name),
        e.actor.kind,
        optText(t.principalId),
        optText(t.name),
        optText(t.privilege),
        optText(t.credentialId),
        optText(e.ip),
        optText(e.userAgent),
        stableAttributes(e.details),
        at,
      ).changes;
      if (changes > 0) result.inserted++;
      else result.duplicates++;
    }
    db.prepare(
      `INSERT INTO feed_state (sid, feed, cursor, status, rejected, last_poll_at) VALUES (?, ?, ?, 'polling', ?, ?)
       ON CONFLICT (sid, feed) DO UPDATE SET cursor = excluded.cursor, rejected = rejected + excluded.rejected, last_poll_at = excluded.last_poll_at`,
    ).run(sid, feed, cursor, result.rejected.length, at);
  })();
  return result;
}

/**
 * The feed was read up to `coveredUntil` from `since`: the covered window grows to include it. A poll's
 * `since` is at or before the previous coverage's end (the overlap), so the window stays continuous.
 */
export function endFeed(db: Db, sid: number, feed: string, since: string, coveredUntil: string, at = now()): void {
  const until = new Date(coveredUntil).toISOString();
  db.prepare(
    `UPDATE feed_state SET status = 'ok', reason = NULL, last_poll_at = @at, last_ok_at = @at,
       covered_from = CASE WHEN covered_from IS NULL OR covered_until IS NULL OR @since > covered_until THEN @since ELSE MIN(covered_from, @since) END,
       covered_until = CASE WHEN covered_until IS NULL OR @since > covered_until OR @until > covered_until THEN @until ELSE covered_until END
     WHERE sid = @sid AND feed = @feed`,
  ).run({ sid, feed, since, until, at });
}

/** Health that is not "ok": the coverage window stays where it was (nothing is claimed about the time since). */
export function feedNotOk(db: Db, sid: number, feed: string, status: "unavailable" | "failed", reason: string, at = now()): void {
  db.prepare(
    `INSERT INTO feed_state (sid, feed, status, reason, last_poll_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (sid, feed) DO UPDATE SET status = excluded.status, reason = excluded.reason, last_poll_at = excluded.last_poll_at`,
  ).run(sid, feed, status, reason.slice(0, MAX_TEXT), at);
}

const FEED_SELECT = `SELECT c.source, c.source_type AS sourceType, c.scope, f.sid, f.feed, f.cursor, f.covered_from AS coveredFrom,
  f.covered_until AS coveredUntil, f.status, f.reason, f.rejected, f.last_poll_at AS lastPollAt, f.last_ok_at AS lastOkAt
  FROM feed_state f JOIN scopes c ON c.sid = f.sid`;

export function feedStates(db: Db, source?: string): FeedStateRow[] {
  return (source === undefined
    ? db.prepare(`${FEED_SELECT} ORDER BY c.source, c.scope, f.feed`).all()
    : db.prepare(`${FEED_SELECT} WHERE c.source = ? ORDER BY c.scope, f.feed`).all(source)) as FeedStateRow[];
}

export function feedState(db: Db, sid: number, feed: string): FeedStateRow | undefined {
  return db.prepare(`${FEED_SELECT} WHERE f.sid = ? AND f.feed = ?`).get(sid, feed) as FeedStateRow | undefined;
}

/** The scopes of a source as of its newest run that completed (ok or partial) for each scope. */
export function collectedScopes(db: Db, source: string): { sid: number; scope: string }[] {
  return db
    .prepare(
      `SELECT c.sid, c.scope FROM scopes c WHERE c.source = ? AND c.scope != '*' AND EXISTS (
         SELECT 1 FROM source_runs s WHERE s.sid = c.sid AND s.status IN ('ok', 'partial')
           AND s.run_id = (SELECT MAX(s2.run_id) FROM source_runs s2 JOIN scopes c2 ON c2.sid = s2.sid
                           WHERE c2.source = c.source AND s2.status IN ('ok', 'partial')))
       ORDER BY c.scope`,
    )
    .all(source) as { sid: number; scope: string }[];
}

export interface EventFilter {
  sources?: readonly string[];
  scope?: string;
  /** ISO; inclusive. */
  since?: string;
  /** ISO; exclusive. */
  until?: string;
  /** Case-insensitive substring of the actor's id or name. */
  actor?: string;
  /** Case-insensitive substring of the target's principal id or name. */
  target?: string;
  /** Exact target principal ids (attribution, history). */
  targetIds?: readonly string[];
  actions?: readonly EventAction[];
  outcomes?: readonly EventOutcome[];
  limit?: number;
}

type EventDbRow = {
  source: string;
  sourceType: string;
  scope: string;
  feed: string;
  event_id: string;
  at: string;
  action: EventAction;
  provider_action: string;
  outcome: EventOutcome;
  actor_id: string | null;
  actor_name: string | null;
  actor_kind: ActorKind;
  target_principal: string | null;
  target_name: string | null;
  target_privilege: string | null;
  target_credential: string | null;
  ip: string | null;
  user_agent: string | null;
  details: string | null;
};

function toEvent(r: EventDbRow): StoredEvent {
  return {
    source: r.source,
    sourceType: r.sourceType,
    scope: r.scope,
    feed: r.feed,
    id: r.event_id,
    at: r.at,
    action: r.action,
    providerAction: r.provider_action,
    outcome: r.outcome,
    actor: { id: r.actor_id, name: r.actor_name, kind: r.actor_kind },
    target: { principalId: r.target_principal, name: r.target_name, privilege: r.target_privilege, credentialId: r.target_credential },
    ip: r.ip,
    userAgent: r.user_agent,
    details: r.details ? (JSON.parse(r.details) as Attributes) : null,
  };
}

const escapeLike = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Events matching the filter, oldest first. */
export function* queryEvents(db: Db, filter: EventFilter = {}): Generator<StoredEvent> {
  const where: string[] = [];
  const params: unknown[] = [];
  const list = (column: string, values: readonly string[]) => {
    where.push(`${column} IN (${values.map(() => "?").join(", ")})`);
    params.push(...values);
  };
  if (filter.sources?.length) list("c.source", filter.sources);
  if (filter.scope !== undefined) {
    where.push("c.scope = ?");
    params.push(filter.scope);
  }
  if (filter.since) {
    where.push("e.at >= ?");
    params.push(new Date(filter.since).toISOString());
  }
  if (filter.until) {
    where.push("e.at < ?");
    params.push(new Date(filter.until).toISOString());
  }
  if (filter.actor) {
    where.push("(lower(e.actor_id) LIKE ? ESCAPE '\\' OR lower(e.actor_name) LIKE ? ESCAPE '\\')");
    params.push(escapeLike(filter.actor), escapeLike(filter.actor));
  }
  if (filter.target) {
    where.push("(lower(e.target_principal) LIKE ? ESCAPE '\\' OR lower(e.target_name) LIKE ? ESCAPE '\\')");
    params.push(escapeLike(filter.target), escapeLike(filter.target));
  }
  if (filter.targetIds) {
    if (filter.targetIds.length === 0) return;
    list("e.target_principal", filter.targetIds);
  }
  if (filter.actions?.length) list("e.action", filter.actions);
  if (filter.outcomes?.length) list("e.outcome", filter.outcomes);
  const sql = `SELECT c.source, c.source_type AS sourceType, c.scope, e.feed, e.event_id, e.at, e.action, e.provider_action, e.outcome,
      e.actor_id, e.actor_name, e.actor_kind, e.target_principal, e.target_name, e.target_privilege, e.target_credential, e.ip, e.user_agent, e.details
    FROM events e JOIN scopes c ON c.sid = e.sid
    ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY e.at, e.eid${filter.limit ? ` LIMIT ${Math.floor(filter.limit)}` : ""}`;
  for (const r of db.prepare(sql).iterate(...params) as Iterable<EventDbRow>) yield toEvent(r);
}

/** The newest stored event's row id (0 when none): what a watch polls after. */
export function maxEventId(db: Db): number {
  return (db.prepare("SELECT COALESCE(MAX(eid), 0) FROM events").pluck().get() as number) ?? 0;
}

/** Events stored after row id `eid`, in the order they were stored. */
export function* eventsAfter(db: Db, eid: number): Generator<StoredEvent> {
  const sql = `SELECT c.source, c.source_type AS sourceType, c.scope, e.feed, e.event_id, e.at, e.action, e.provider_action, e.outcome,
      e.actor_id, e.actor_name, e.actor_kind, e.target_principal, e.target_name, e.target_privilege, e.target_credential, e.ip, e.user_agent, e.details
    FROM events e JOIN scopes c ON c.sid = e.sid WHERE e.eid > ? ORDER BY e.eid`;
  for (const r of db.prepare(sql).iterate(eid) as Iterable<EventDbRow>) yield toEvent(r);
}

export function countEvents(db: Db): number {
  return db.prepare("SELECT COUNT(*) FROM events").pluck().get() as number;
}

/**
 * Retention: deletes events that happened before `before` (ISO). The row sum of what a sealed run loses is
 * kept in events_pruned, so `whohas verify` still checks the chain; the feeds' covered windows start no
 * earlier than what is kept.
 */
export function pruneEvents(db: Db, before: string): number {
  const cutoff = new Date(before).toISOString();
  return db.transaction(() => {
    const sums = new Map<number, { rows: number; sum: RowSum }>();
    for (const r of db
      .prepare(`SELECT sealed_run, ${EVENT_COLUMNS.join(", ")} FROM events WHERE at < ? AND sealed_run IS NOT NULL`)
      .raw()
      .iterate(cutoff) as Iterable<(string | number | null)[]>) {
      const run = r[0] as number;
      let s = sums.get(run);
      if (!s) sums.set(run, (s = { rows: 0, sum: new RowSum() }));
      s.sum.add(eventRow(r.slice(1)));
      s.rows++;
    }
    for (const [run, s] of sums) {
      const old = db.prepare("SELECT rows, sum FROM events_pruned WHERE run_id = ?").get(run) as { rows: number; sum: string } | undefined;
      if (old) s.sum.merge(RowSum.fromHex(old.sum));
      db.prepare("INSERT OR REPLACE INTO events_pruned (run_id, rows, sum) VALUES (?, ?, ?)").run(run, s.rows + (old?.rows ?? 0), s.sum.hex());
    }
    const removed = db.prepare("DELETE FROM events WHERE at < ?").run(cutoff).changes;
    db.prepare("UPDATE feed_state SET covered_from = ? WHERE covered_from < ?").run(cutoff, cutoff);
    db.prepare("UPDATE feed_state SET covered_from = NULL, covered_until = NULL WHERE covered_until < covered_from").run();
    return removed;
  })();
}

/** When the store first saw a principal as it is at `runId` (the start of the run its version opened in). */
export function versionSince(db: Db, source: string, scope: string, id: string, runId: number): string | null {
  return (
    (db
      .prepare(
        `SELECT r.started_at FROM principals p JOIN scopes c ON c.sid = p.sid JOIN runs r ON r.id = p.from_run
         WHERE c.source = ? AND c.scope = ? AND p.id = ? AND p.from_run <= ? ORDER BY p.from_run DESC LIMIT 1`,
      )
      .pluck()
      .get(source, scope, id, runId) as string | undefined) ?? null
  );
}

/** Every stored version of one principal, its grants and its credentials, oldest first: a history's snapshot side. */
export function principalVersions(db: Db, source: string, scope: string, id: string): VersionSpan[] {
  const sid = db.prepare("SELECT sid FROM scopes WHERE source = ? AND scope = ?").pluck().get(source, scope) as number | undefined;
  if (sid === undefined) return [];
  const out: VersionSpan[] = [];
  const read = (table: VersionSpan["table"], where: string, params: unknown[], columns: string) => {
    for (const r of db
      .prepare(
        `SELECT v.id, v.from_run AS fromRun, rf.started_at AS fromAt, v.to_run AS toRun, rt.started_at AS toAt, ${columns}
         FROM ${table} v JOIN runs rf ON rf.id = v.from_run LEFT JOIN runs rt ON rt.id = v.to_run WHERE v.sid = ? AND ${where} ORDER BY v.from_run`,
      )
      .all(sid, ...params) as (Record<string, unknown> & { id: string; fromRun: number; fromAt: string; toRun: number | null; toAt: string | null })[]) {
      const { id: rid, fromRun, fromAt, toRun, toAt, ...values } = r;
      out.push({ table, id: rid, fromRun, fromAt, toRun, toAt, values });
    }
  };
  read("principals", "v.id = ?", [id], "v.kind, v.name, v.email, v.status, v.mfa, v.access_level");
  // Grant ids start with the principal id and a unit separator: a range on the key index finds them.
  read("grants", "v.id >= ? AND v.id < ?", [`${id}\u001f`, `${id}\u0020`], "v.privilege, v.level, v.via");
  read("credentials", "v.principal_id = ?", [id], "v.kind, v.name, v.status");
  return out;
}

// Remediation in the store: plans, their actions, the hash-chained log of every state an action went through,
// and the notice/grace bookkeeping. Every change of an action and its log line are one transaction, so the
// actions table never says something the chained log does not.
import { createHash } from "node:crypto";
import { hasTable, type Db } from "./db.js";

export const ACTION_STATUSES = ["planned", "applied", "done", "failed", "skipped", "unknown", "undone"] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

export interface PlanRecord {
  id: string;
  createdAt: string;
  contentHash: string;
  file: string | null;
  actions: number;
  blocked: string[];
}

export interface ActionRecord {
  id: string;
  planId: string;
  entry: string;
  type: string;
  source: string;
  scope: string;
  runId: number;
  principalId: string;
  principalName: string;
  credentialId: string | null;
  credentialName: string | null;
  grantPrivilege: string | null;
  /** The ActionTarget as JSON. */
  target: string;
  findingId: string;
  rule: string;
  status: ActionStatus;
  answer: string | null;
  /** The remediator's undo data as JSON. */
  undo: string | null;
  requests: number;
  approver: string | null;
  plannedAt: string;
  appliedAt: string | null;
  undoneAt: string | null;
  undoneBy: string | null;
  updatedAt: string;
}

export type NewAction = Pick<
  ActionRecord,
  "id" | "entry" | "type" | "source" | "scope" | "runId" | "principalId" | "principalName" | "credentialId" | "credentialName" | "grantPrivilege" | "target" | "findingId" | "rule"
>;

const ACTION_COLUMNS = `id, plan_id AS planId, entry, type, source, scope, run_id AS runId, principal_id AS principalId, principal_name AS principalName,
  credential_id AS credentialId, credential_name AS credentialName, grant_privilege AS grantPrivilege, target, finding_id AS findingId, rule, status,
  answer, undo, requests, approver, planned_at AS plannedAt, applied_at AS appliedAt, undone_at AS undoneAt, undone_by AS undoneBy, updated_at AS updatedAt`;

function logDigest(prev: string | null, row: { actionId: string; status: string; at: string; actor: string | null; answer: string | null; undo: string | null }): string {
  const h = createHash("sha256");
  h.update(`whohas-action-v1\n${prev ?? ""}\n`);
  h.update([row.actionId, row.status, row.at, row.actor ?? "\u0000", row.answer ?? "\u0000", row.undo ?? "\u0000"].join("\u001f"));
  return h.digest("hex");
}

function appendLog(db: Db, actionId: string, status: string, at: string, actor: string | null, answer: string | null, undo: string | null): void {
  const prev = (db.prepare("SELECT digest FROM action_log ORDER BY seq DESC LIMIT 1").pluck().get() as string | undefined) ?? null;
  const digest = logDigest(prev, { actionId, status, at, actor, answer, undo });
  db.prepare("INSERT INTO action_log (action_id, status, at, actor, answer, undo, prev_digest, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)").run(actionId, status, at, actor, answer, undo, prev, digest);
}

/** Records a plan whohas computed, with its actions as planned. */
export function recordPlan(db: Db, plan: PlanRecord, actions: readonly NewAction[]): void {
  db.transaction(() => {
    db.prepare("INSERT INTO plans (id, created_at, content_hash, file, actions, blocked) VALUES (?, ?, ?, ?, ?, ?)").run(
      plan.id,
      plan.createdAt,
      plan.contentHash,
      plan.file,
      plan.actions,
      plan.blocked.length > 0 ? JSON.stringify(plan.blocked) : null,
    );
    const insert = db.prepare(
      `INSERT INTO actions (id, plan_id, entry, type, source, scope, run_id, principal_id, principal_name, credential_id, credential_name, grant_privilege, target, finding_id, rule, status, planned_at, updated_at)
       VALUES (@id, @planId, @entry, @type, @source, @scope, @runId, @principalId, @principalName, @credentialId, @credentialName, @grantPrivilege, @target, @findingId, @rule, 'planned', @at, @at)`,
    );
    for (const a of actions) {
      insert.run({ ...a, planId: plan.id, at: plan.createdAt });
      appendLog(db, a.id, "planned", plan.createdAt, null, null, null);
    }
  })();
}

export function getPlan(db: Db, id: string): PlanRecord | undefined {
  const row = db.prepare("SELECT id, created_at AS createdAt, content_hash AS contentHash, file, actions, blocked FROM plans WHERE id = ?").get(id) as
    | (Omit<PlanRecord, "blocked"> & { blocked: string | null })
    | undefined;
  return row ? { ...row, blocked: row.blocked ? (JSON.parse(row.blocked) as string[]) : [] } : undefined;
}

export function setPlanFile(db: Db, id: string, file: string): void {
  db.prepare("UPDATE plans SET file = ? WHERE id = ?").run(file, id);
}

export function getAction(db: Db, id: string): ActionRecord | undefined {
  return db.prepare(`SELECT ${ACTION_COLUMNS} FROM actions WHERE id = ?`).get(id) as ActionRecord | undefined;
}

export function actionsOfPlan(db: Db, planId: string): ActionRecord[] {
  return db.prepare(`SELECT ${ACTION_COLUMNS} FROM actions WHERE plan_id = ? ORDER BY rowid`).all(planId) as ActionRecord[];
}

export interface ActionFilter {
  /** Only actions changed at or after this ISO time. */
  since?: string;
  status?: readonly ActionStatus[];
  limit?: number;
}

export function listActions(db: Db, filter: ActionFilter = {}): ActionRecord[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.since) {
    where.push("updated_at >= ?");
    params.push(filter.since);
  }
  if (filter.status && filter.status.length > 0) {
    where.push(`status IN (${filter.status.map(() => "?").join(", ")})`);
    params.push(...filter.status);
  }
  params.push(filter.limit ?? 1000);
  return db.prepare(`SELECT ${ACTION_COLUMNS} FROM actions ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY updated_at DESC, rowid DESC LIMIT ?`).all(...params) as ActionRecord[];
}

export interface ActionUpdate {
  status: ActionStatus;
  at: string;
  actor?: string | null;
  answer?: string | null;
  undo?: string | null;
  requests?: number;
}

/**
 * Moves an action to a new state, with its log line, in one transaction. `from` guards against two
 * appliers: the change happens only when the action is still in one of those states (returns false otherwise).
 */
export function updateAction(db: Db, id: string, u: ActionUpdate, from?: readonly ActionStatus[]): boolean {
  return db.transaction(() => {
    const current = db.prepare("SELECT status FROM actions WHERE id = ?").pluck().get(id) as ActionStatus | undefined;
    if (current === undefined || (from && !from.includes(current))) return false;
    const sets = ["status = @status", "updated_at = @at"];
    if (u.answer !== undefined) sets.push("answer = @answer");
    if (u.undo !== undefined) sets.push("undo = @undo");
    if (u.requests !== undefined) sets.push("requests = requests + @requests");
    if (u.status === "undone") sets.push("undone_at = @at", "undone_by = @actor");
    else if (u.actor !== undefined) sets.push("approver = @actor");
    if (u.status === "done" || u.status === "applied") sets.push("applied_at = @at");
    db.prepare(`UPDATE actions SET ${sets.join(", ")} WHERE id = @id`).run({ id, status: u.status, at: u.at, actor: u.actor ?? null, answer: u.answer ?? null, undo: u.undo ?? null, requests: u.requests ?? 0 });
    appendLog(db, id, u.status, u.at, u.actor ?? null, u.answer ?? null, u.undo ?? null);
    return true;
  })();
}

export interface ActionLogCheck {
  ok: boolean;
  checked: number;
  firstBad?: { seq: number; actionId: string; reason: string };
}

/** Recomputes the action log's chain and checks each action's current state against its last log line. */
export function verifyActionLog(db: Db): ActionLogCheck {
  // A store opened read-only before its first remediation migration has no log to check.
  if (!hasTable(db, "action_log")) return { ok: true, checked: 0 };
  // After a prune the oldest kept line may follow removed ones: its stored predecessor digest starts the chain.
  let prev: string | null | undefined;
  let checked = 0;
  const last = new Map<string, { seq: number; status: string }>();
  for (const r of db.prepare("SELECT seq, action_id AS actionId, status, at, actor, answer, undo, prev_digest AS prevDigest, digest FROM action_log ORDER BY seq").iterate() as Iterable<{
    seq: number;
    actionId: string;
    status: string;
    at: string;
    actor: string | null;
    answer: string | null;
    undo: string | null;
    prevDigest: string | null;
    digest: string;
  }>) {
    if (prev !== undefined && r.prevDigest !== prev) return { ok: false, checked, firstBad: { seq: r.seq, actionId: r.actionId, reason: "its link to the previous log line is broken" } };
    if (logDigest(r.prevDigest, r) !== r.digest) return { ok: false, checked, firstBad: { seq: r.seq, actionId: r.actionId, reason: "its content no longer matches its digest" } };
    last.set(r.actionId, { seq: r.seq, status: r.status });
    prev = r.digest;
    checked++;
  }
  for (const a of db.prepare("SELECT id, status FROM actions").iterate() as Iterable<{ id: string; status: string }>) {
    const l = last.get(a.id);
    if (!l || l.status !== a.status) return { ok: false, checked, firstBad: { seq: l?.seq ?? 0, actionId: a.id, reason: `the action says ${a.status} but its log says ${l?.status ?? "nothing"}` } };
  }
  return { ok: true, checked };
}

// ---- notice and grace bookkeeping -------------------------------------------------------------

export interface PendingRecord {
  entry: string;
  findingId: string;
  source: string;
  scope: string;
  principalId: string;
  subject: string;
  firstSeen: string;
  activity: string | null;
  notifiedAt: string | null;
  notifiedTo: string | null;
  state: "pending" | "cancelled" | "acted";
  reason: string | null;
}

const PENDING_COLUMNS = `entry, finding_id AS findingId, source, scope, principal_id AS principalId, subject, first_seen AS firstSeen, activity,
  notified_at AS notifiedAt, notified_to AS notifiedTo, state, reason`;

export function pendingOf(db: Db, entry: string): Map<string, PendingRecord> {
  const rows = db.prepare(`SELECT ${PENDING_COLUMNS} FROM remediation_pending WHERE entry = ?`).all(entry) as PendingRecord[];
  return new Map(rows.map((r) => [r.findingId, r]));
}

export function listPending(db: Db, state: PendingRecord["state"] = "pending"): PendingRecord[] {
  return db.prepare(`SELECT ${PENDING_COLUMNS} FROM remediation_pending WHERE state = ? ORDER BY first_seen, entry, finding_id`).all(state) as PendingRecord[];
}

/** Starts (or restarts, after activity) the clock of a finding an entry will act on. */
export function upsertPending(db: Db, r: Omit<PendingRecord, "notifiedAt" | "notifiedTo" | "state" | "reason">, at: string): void {
  db.prepare(
    `INSERT INTO remediation_pending (entry, finding_id, source, scope, principal_id, subject, first_seen, activity, state, updated_at)
     VALUES (@entry, @findingId, @source, @scope, @principalId, @subject, @firstSeen, @activity, 'pending', @at)
     ON CONFLICT (entry, finding_id) DO UPDATE SET subject = excluded.subject, first_seen = excluded.first_seen, activity = excluded.activity,
       notified_at = NULL, notified_to = NULL, state = 'pending', reason = NULL, updated_at = excluded.updated_at`,
  ).run({ ...r, at });
}

export function setPendingState(db: Db, entry: string, findingId: string, state: PendingRecord["state"], reason: string, at: string): void {
  db.prepare("UPDATE remediation_pending SET state = ?, reason = ?, updated_at = ? WHERE entry = ? AND finding_id = ?").run(state, reason, at, entry, findingId);
}

export function markNotified(db: Db, entry: string, findingId: string, to: string, at: string): void {
  db.prepare("UPDATE remediation_pending SET notified_at = ?, notified_to = ?, updated_at = ? WHERE entry = ? AND finding_id = ?").run(at, to, at, entry, findingId);
}

/** Each scope's newest collect (any status): what apply checks a plan's runs against. */
export function latestScopeRuns(db: Db): Map<string, { runId: number; status: string }> {
  const rows = db
    .prepare(
      `SELECT c.source, c.scope, s.run_id AS runId, s.status FROM source_runs s JOIN scopes c ON c.sid = s.sid
       WHERE s.run_id = (SELECT MAX(run_id) FROM source_runs x WHERE x.sid = s.sid AND x.status != 'running')`,
    )
    .all() as { source: string; scope: string; runId: number; status: string }[];
  return new Map(rows.map((r) => [`${r.source}\u001f${r.scope}`, { runId: r.runId, status: r.status }]));
}

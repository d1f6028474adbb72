// Two runs → what changed, per scope, only where the scope was ok in both runs. Set-based over the
// temporal tables: only versions that opened or closed between the two runs are read.
import { accessRank, maxAccessLevel, type AccessLevel } from "../model.js";
import type { Db } from "../store/db.js";
import type { Attribution } from "./attribution.js";
import { TABLE_COLUMNS } from "../store/integrity.js";
import { getRun, isComplete, scopesAsOf, type RunRow } from "../store/reader.js";
import {
  incompleteRunsOfScope,
  principalLevels,
  principalNames,
  runIdsBetween,
  sourceFailureIn,
  versionsClosedBetween,
  versionsOpenedBetween,
  type DiffTable,
  type VersionRow,
} from "../store/versions.js";

export interface ScopeComparison {
  source: string;
  sourceType: string;
  scope: string;
  compared: boolean;
  /** Why not compared: failed in run N (error), not collected in run N. */
  reason?: string;
  /**
   * Compared scopes: the run its changes are counted from — its last successful run at or before the
   * diff's first run. Earlier than the first run when the scope failed there: the changes made while it
   * could not be read are reported now, once.
   */
  sinceRun?: number;
  /** When sinceRun is earlier than the diff's first run: "changes since run 27; runs 28–29 failed". */
  window?: string;
}

export interface DiffOptions {
  /**
   * Compare each scope only where it was ok in both given runs (the older behaviour, `whohas diff --strict`).
   * By default a scope that failed in the first run is compared from its last successful run before it.
   */
  strict?: boolean;
}

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface EntityRef {
  source: string;
  scope: string;
  id: string;
  /** Human-readable name of the entity (principal name, credential name or id, grant privilege). */
  name: string;
  principalId?: string;
  principalName?: string;
  row: Record<string, unknown>;
  /** Who made the change, from the scope's audit events (src/events/attribute.ts); absent: the scope has no event feed. */
  attribution?: Attribution;
}

export interface EntityChange extends EntityRef {
  changes: FieldChange[];
  /** What the field changes mean: suspended, disabled, archived, reactivated, renamed, kind-changed, mfa-off, mfa-on, deactivated. */
  events: string[];
}

export interface Rotation {
  source: string;
  scope: string;
  principalId: string;
  principalName: string;
  kind: string;
  removed: string;
  added: string;
  /** Name and created date of each, so a report can say which key replaced which. */
  removedCredential: CredentialBrief;
  addedCredential: CredentialBrief;
}

export interface CredentialBrief {
  name: string | null;
  createdAt: string | null;
}

export interface AccessLevelChange {
  source: string;
  scope: string;
  principalId: string;
  name: string;
  before: AccessLevel;
  after: AccessLevel;
  direction: "up" | "down";
  attribution?: Attribution;
}

export interface DiffResult {
  from: RunRow;
  to: RunRow;
  scopes: ScopeComparison[];
  principals: { added: EntityRef[]; removed: EntityRef[]; changed: EntityChange[] };
  /** Rotated = for the same principal and kind, one credential removed and one added. They also appear in added/removed. */
  credentials: { added: EntityRef[]; removed: EntityRef[]; changed: EntityChange[]; rotated: Rotation[] };
  grants: { added: EntityRef[]; removed: EntityRef[] };
  /** Escalations first, then reductions. */
  accessLevels: AccessLevelChange[];
}

type Table = DiffTable;
const TABLE_FIELDS = TABLE_COLUMNS;

export class DiffError extends Error {
  override name = "DiffError";
}

export function diffRuns(db: Db, fromId: number, toId: number, opts: DiffOptions = {}): DiffResult {
  if (fromId >= toId) throw new DiffError(`the first run (${fromId}) must be older than the second (${toId})`);
  const from = getRun(db, fromId);
  const to = getRun(db, toId);
  if (!from) throw new DiffError(`run ${fromId} does not exist (see "whohas runs")`);
  if (!to) throw new DiffError(`run ${toId} does not exist (see "whohas runs")`);

  const result: DiffResult = {
    from,
    to,
    scopes: [],
    principals: { added: [], removed: [], changed: [] },
    credentials: { added: [], removed: [], changed: [], rotated: [] },
    grants: { added: [], removed: [] },
    accessLevels: [],
  };
  const before = new Map(scopesAsOf(db, fromId).map((s) => [s.sid, s]));
  for (const after of scopesAsOf(db, toId)) {
    const old = before.get(after.sid);
    before.delete(after.sid);
    const base = { source: after.source, sourceType: after.sourceType, scope: after.scope };
    const toSide = side(toId, after.inRun, sourceFailureIn(db, after.source, toId));
    // Each scope counts its changes from its own last good run: a scope that failed in the first run is
    // compared from the run before the outage, so what changed meanwhile is reported, not lost.
    const since = opts.strict ? (old?.inRun && isComplete(old.inRun.status) ? fromId : null) : (old?.okRun ?? null);
    const reason = toSide ?? (since === null ? side(fromId, old?.inRun ?? null, sourceFailureIn(db, after.source, fromId)) : null);
    if (reason || since === null) {
      result.scopes.push({ ...base, compared: false, reason: reason ?? `not collected in run ${fromId}` });
      continue;
    }
    const window = since < fromId ? `changes since run ${since}; ${gapText(db, after.sid, after.source, since, fromId)}` : undefined;
    result.scopes.push({ ...base, compared: true, sinceRun: since, ...(window ? { window } : {}) });
    diffScope(db, after.sid, after.source, after.scope, since, toId, result);
  }
  for (const old of before.values()) {
    result.scopes.push({ source: old.source, sourceType: old.sourceType, scope: old.scope, compared: false, reason: `not collected in run ${toId}` });
  }
  result.accessLevels.sort((a, b) => (a.direction === b.direction ? accessRank(b.after) - accessRank(a.after) : a.direction === "up" ? -1 : 1));
  return result;
}

/** The window note of a scope compared across an outage, if it was: for finding details and renderers. */
export function scopeWindow(diff: Pick<DiffResult, "scopes">, source: string, scope: string): string | undefined {
  return diff.scopes.find((s) => s.source === source && s.scope === scope)?.window;
}

/** Why a scope cannot be compared at this end of the diff, or null when it completed (ok or partial) in that run. */
function side(run: number, s: { status: string; error: string | null } | null, sourceError: string | null): string | null {
  // A partial scope's stored records are its state; what it quarantined kept its earlier version.
  if (s && isComplete(s.status)) return null;
  if (s) return `failed in run ${run}: ${s.error ?? "unknown error"}`;
  if (sourceError) return `source failed in run ${run}: ${sourceError}`;
  return `not collected in run ${run}`;
}

/** The runs after `since` up to `through` in which the scope was not read: "runs 28–29 failed", "run 28 not collected". */
function gapText(db: Db, sid: number, source: string, since: number, through: number): string {
  const incomplete = incompleteRunsOfScope(db, sid, since, through);
  const failed: number[] = [];
  const missed: number[] = [];
  for (const run of runIdsBetween(db, since, through)) (incomplete.has(run) || sourceFailureIn(db, source, run) !== null ? failed : missed).push(run);
  const parts = [failed.length > 0 ? `${runList(failed)} failed` : "", missed.length > 0 ? `${runList(missed)} not collected` : ""].filter(Boolean);
  return parts.join(", ") || `runs ${since + 1}–${through} pruned`;
}

/** "run 28", "runs 28–29", "runs 28–29, 31". */
export function runList(ids: number[]): string {
  const ranges: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    ranges.push(j === i ? String(ids[i]) : `${ids[i]}–${ids[j]}`);
    i = j + 1;
  }
  return `${ids.length === 1 ? "run" : "runs"} ${ranges.join(", ")}`;
}

function diffTable(db: Db, table: Table, sid: number, a: number, b: number) {
  const left = versionsClosedBetween(db, table, sid, a, b);
  const right = versionsOpenedBetween(db, table, sid, a, b);
  const rightById = new Map(right.map((r) => [r.id, r]));
  const removed: VersionRow[] = [];
  const changed: { before: VersionRow; after: VersionRow }[] = [];
  for (const l of left) {
    const r = rightById.get(l.id);
    if (!r) removed.push(l);
    else {
      rightById.delete(l.id);
      // Hashes of two digest formats differ for the same values: only the columns can say it changed.
      if (!l.hash.equals(r.hash) && fieldChanges(table, l, r).length > 0) changed.push({ before: l, after: r });
    }
  }
  return { removed, added: [...rightById.values()], changed };
}

function strip(row: VersionRow): Record<string, unknown> {
  const { vid: _v, hash: _h, ...rest } = row;
  if (typeof rest.attributes === "string") rest.attributes = JSON.parse(rest.attributes);
  return rest;
}

function fieldChanges(table: Table, before: VersionRow, after: VersionRow): FieldChange[] {
  const out: FieldChange[] = [];
  for (const f of TABLE_FIELDS[table]) {
    if (f === "attributes") {
      const x = before.attributes ? (JSON.parse(before.attributes as string) as Record<string, unknown>) : {};
      const y = after.attributes ? (JSON.parse(after.attributes as string) as Record<string, unknown>) : {};
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
        if (JSON.stringify(x[k]) !== JSON.stringify(y[k])) out.push({ field: `attributes.${k}`, before: x[k] ?? null, after: y[k] ?? null });
      }
    } else if (before[f] !== after[f]) {
      out.push({ field: f, before: before[f], after: after[f] });
    }
  }
  return out;
}

function changeEvents(table: Table, changes: FieldChange[]): string[] {
  const events: string[] = [];
  for (const c of changes) {
    if (c.field === "status") {
      if (c.after === "active") events.push("reactivated");
      else if (table === "principals") events.push(String(c.after));
      else events.push("deactivated");
    } else if (c.field === "name" && table === "principals") events.push("renamed");
    else if (c.field === "kind" && table === "principals") events.push("kind-changed");
    else if (c.field === "mfa" && c.after === "disabled" && c.before === "enabled") events.push("mfa-off");
    else if (c.field === "mfa" && c.after === "enabled") events.push("mfa-on");
  }
  return events;
}

/** Pairs a removed and an added credential of the same principal and kind: a rotation. */
const brief = (r: VersionRow): CredentialBrief => ({ name: (r.name as string | null) ?? null, createdAt: (r.created_at as string | null) ?? null });

function rotations(removed: VersionRow[], added: VersionRow[], source: string, scope: string, nameOf: (id: string, run: number) => string, run: number): Rotation[] {
  const pool = new Map<string, VersionRow[]>();
  for (const r of added) {
    const k = `${r.principal_id as string}\u001f${r.kind as string}`;
    pool.set(k, [...(pool.get(k) ?? []), r]);
  }
  const out: Rotation[] = [];
  for (const r of removed) {
    const k = `${r.principal_id as string}\u001f${r.kind as string}`;
    const match = pool.get(k)?.shift();
    if (!match) continue;
    const principalId = r.principal_id as string;
    out.push({ source, scope, principalId, principalName: nameOf(principalId, run), kind: r.kind as string, removed: r.id, added: match.id, removedCredential: brief(r), addedCredential: brief(match) });
  }
  return out;
}

function diffScope(db: Db, sid: number, source: string, scope: string, a: number, b: number, result: DiffResult): void {
  const nameAt = principalNames(db, sid);
  const principalName = (id: string, run: number) => nameAt(id, run) ?? id;
  const ref = (table: Table, row: VersionRow, run: number): EntityRef => {
    const base = { source, scope, id: row.id, row: strip(row) };
    if (table === "principals") return { ...base, name: row.name as string };
    const principalId = row.principal_id as string;
    const name = table === "grants" ? (row.privilege as string) : ((row.name as string | null) ?? row.id);
    return { ...base, name, principalId, principalName: principalName(principalId, run) };
  };
  // Principals whose row or grants changed: their effective access level is compared below.
  const touched = new Set<string>();
  for (const table of ["principals", "credentials", "grants"] as const) {
    const d = diffTable(db, table, sid, a, b);
    if (table !== "credentials") {
      for (const r of [...d.added, ...d.removed, ...d.changed.map((c) => c.after)]) {
        touched.add(table === "principals" ? r.id : (r.principal_id as string));
      }
    }
    const target = result[table];
    target.added.push(...d.added.map((r) => ref(table, r, b)));
    target.removed.push(...d.removed.map((r) => ref(table, r, a)));
    if (table !== "grants") {
      (target as DiffResult["principals"]).changed.push(
        ...d.changed.map((c) => {
          const changes = fieldChanges(table, c.before, c.after);
          return { ...ref(table, c.after, b), changes, events: changeEvents(table, changes) };
        }),
      );
      if (table === "credentials") result.credentials.rotated.push(...rotations(d.removed, d.added, source, scope, principalName, b));
    } else {
      // A grant whose level or attributes changed is a removal of the old and an addition of the new.
      result.grants.removed.push(...d.changed.map((c) => ref(table, c.before, a)));
      result.grants.added.push(...d.changed.map((c) => ref(table, c.after, b)));
    }
  }
  const levelsAt = principalLevels(db, sid);
  const levelAt = (id: string, run: number): AccessLevel | null => {
    const p = levelsAt(id, run);
    return p ? maxAccessLevel([p.accessLevel, ...p.grantLevels]) : null;
  };
  for (const id of touched) {
    const before = levelAt(id, a);
    const after = levelAt(id, b);
    // Accounts that appear or vanish are reported as added/removed; this list is about the same account.
    if (before === null || after === null || before === after) continue;
    result.accessLevels.push({
      source,
      scope,
      principalId: id,
      name: principalName(id, b),
      before,
      after,
      direction: accessRank(after) > accessRank(before) ? "up" : "down",
    });
  }
}

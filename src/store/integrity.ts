// Evidence integrity: each run's digest covers its scope statuses and every row it wrote or closed, chained
// to the previous run's digest. `whohas verify` recomputes the chain and names the first run that differs.
//
// The rows of a run are folded into a sum of per-row SHA-256 values modulo 2^256 (an additive multiset
// hash): the writer adds each row as it writes it, so sealing a run reads nothing back, and verification
// is one scan of each table in any order. This detects corruption and edits of the store; like any digest
// kept next to the data, it proves untampered history only together with digests kept elsewhere (the
// reports and emails print them).
//
// Stored findings (derived from a run's rows by the rules) carry a digest of their own per finding set,
// bound to the run's digest; verify checks them in the same pass.
import { createHash } from "node:crypto";
import { hashBinary, hashBuffer } from "../hash.js";
import { hasTable, type Db } from "./db.js";

type Part = string | number | null | Buffer;

function encode(parts: Part[]): string {
  return parts.map((v) => (v === null ? "\u0000" : Buffer.isBuffer(v) ? v.toString("hex") : String(v))).join("\u001f");
}

/**
 * A row's SHA-256 as 32 latin1 ("binary") characters, one per byte: crypto.hash returns a string in a third of the time
 * it takes to return a Buffer, and a million-row run hashes every row it writes.
 */
export type RowHash = string;

const sha256 = (text: string): RowHash => hashBinary("sha256", text);

function rowHash(tag: string, parts: Part[]): RowHash {
  return sha256(`${tag}\u001e${encode(parts)}`);
}

/**
 * Digest formats. 2: a version row's content hash is sha1 of its values alone, and the digest adds a SHA-256
 * of the row's key, vid and that hash (two hashes per row). 3 (runs written since): one SHA-256 of the table,
 * scope and id with the values is the row's contribution to the digest of the run it opened in, and its first
 * 20 bytes are the stored content hash that change detection compares (one hash per row). A closed row is
 * named by its key, not its vid. Each run records its format; verify checks every run by its own.
 */
export const DIGEST_FORMAT = 3;

/** Format 2's content hash of a version row's values, kept to verify old runs and to recognise their rows unchanged. */
export function legacyContentHash(values: unknown[]): Buffer {
  return hashBuffer("sha1", JSON.stringify(values));
}

/** Format 3: a version row's contribution to the digest of the run it opened in. */
export function contentHash(table: VersionTable, sid: number, id: string, values: unknown[]): RowHash {
  return sha256(JSON.stringify([table, sid, id, values]));
}

/** The part of a format-3 content hash a version row stores: as long as format 2's, so a rewrite stays in place. */
export const storedHash = (content: RowHash): Buffer => Buffer.from(content.slice(0, 20), "latin1");

/** A 256-bit accumulator, as eight 32-bit lanes with carry: add and subtract are exact modulo 2^256. */
export class RowSum {
  private readonly lanes = new Uint32Array(8);

  add(h: RowHash, sign: 1 | -1 = 1): void {
    let carry = 0;
    for (let i = 7; i >= 0; i--) {
      const j = i * 4;
      const word = ((h.charCodeAt(j) << 24) | (h.charCodeAt(j + 1) << 16) | (h.charCodeAt(j + 2) << 8) | h.charCodeAt(j + 3)) >>> 0;
      const v = this.lanes[i]! + sign * word + carry;
      carry = Math.floor(v / 0x1_0000_0000);
      this.lanes[i] = v - carry * 0x1_0000_0000;
    }
  }

  /** The sum as it is now, to go back to when a batch's writes are undone. */
  snapshot(): Uint32Array {
    return this.lanes.slice();
  }

  restore(snapshot: Uint32Array): void {
    this.lanes.set(snapshot);
  }

  merge(other: RowSum): void {
    const b = Buffer.alloc(32);
    other.lanes.forEach((v, i) => b.writeUInt32BE(v, i * 4));
    this.add(b.toString("latin1"));
  }

  static fromHex(hex: string): RowSum {
    const s = new RowSum();
    for (let i = 0; i < 8; i++) s.lanes[i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16);
    return s;
  }

  hex(): string {
    return [...this.lanes].map((v) => v.toString(16).padStart(8, "0")).join("");
  }
}

export const TABLE_COLUMNS = {
  principals: ["kind", "name", "email", "display_name", "status", "mfa", "created_at", "access_level", "attributes"],
  credentials: ["principal_id", "kind", "name", "status", "created_at", "expires_at", "attributes"],
  grants: ["principal_id", "privilege", "level", "grant_scope", "via", "attributes"],
  roles: ["privilege", "name", "kind", "level", "reason", "permissions", "holder_id", "attributes"],
} as const;
export type VersionTable = keyof typeof TABLE_COLUMNS;
const TABLES = Object.keys(TABLE_COLUMNS) as VersionTable[];

/** Format 2 only: a row's contribution to the run it opened in, from its legacy content hash. */
export const legacyOpened = (table: VersionTable, vid: number, sid: number, id: string, fromRun: number, content: Buffer) =>
  rowHash(`${table}+`, [vid, sid, id, fromRun, content]);
/** Format 2 only: a row's contribution to the run that closed it. */
export const legacyClosed = (table: VersionTable, vid: number, toRun: number) => rowHash(`${table}-`, [vid, toRun]);
/** A row's contribution to the run that closed it: its key (vids may be swapped; the key is what the opening covered). */
export const closed = (table: VersionTable, sid: number, id: string, fromRun: number, toRun: number) => rowHash(`${table}-`, [sid, id, fromRun, toRun]);
export const activityRow = (sid: number, entity: number, id: string, run: number, at: string | null, known: number, signal: string | null) =>
  rowHash("activity", [sid, entity, id, run, at, known, signal]);

/** The columns of an event row the digest covers, in this order. */
export const EVENT_COLUMNS = [
  "eid", "sid", "feed", "event_id", "at", "action", "provider_action", "outcome", "actor_id", "actor_name", "actor_kind",
  "target_principal", "target_name", "target_privilege", "target_credential", "ip", "user_agent", "details", "ingested_at",
] as const;
export const eventRow = (values: Part[]) => rowHash("event", values);

/**
 * Events arrive between runs (collect, watch): each run's seal claims the events stored since the previous
 * seal, and its digest covers them like the rows it wrote.
 */
function sealEvents(db: Db, runId: number, rows: RowSum): void {
  const claimed = db.prepare("UPDATE events SET sealed_run = ? WHERE sealed_run IS NULL").run(runId).changes;
  if (claimed === 0) return;
  for (const r of db.prepare(`SELECT ${EVENT_COLUMNS.join(", ")} FROM events WHERE sealed_run = ?`).raw().iterate(runId) as Iterable<Part[]>) {
    rows.add(eventRow(r));
  }
}

/** A stored finding's values as the set digest covers them, in order, read through its body and id. */
export const FINDING_SELECT = `SELECT i.id, f.ord, b.rule, b.severity, b.source, b.scope, b.subject, b.principal_id, b.credential_id, b.detail, f.in_run, f.in_state
  FROM findings f JOIN finding_bodies b ON b.bid = f.bid JOIN finding_ids i ON i.fid = f.fid`;
export const findingRow = (values: Part[]) => rowHash("finding", values);

/** A finding set's digest: its run's digest, what it was evaluated against, and the sum of its rows. */
export function findingSetDigest(runDigest: string | null, basis: number, policy: string, inputs: string, rows: RowSum): string {
  return createHash("sha256").update(`whohas-findings-v1\n${runDigest ?? ""}\n${basis}\n${policy}\n${inputs}\n${rows.hex()}`).digest("hex");
}

function seal(db: Db, runId: number, prevDigest: string | null, rows: RowSum): string {
  const h = createHash("sha256");
  h.update(`whohas-run-v${digestFormat(db, runId)}\n${prevDigest ?? ""}\n`);
  h.update(encode(db.prepare("SELECT id, started_at, finished_at, status, trigger, error FROM runs WHERE id = ?").raw().get(runId) as Part[]) + "\n");
  for (const s of db
    .prepare(
      "SELECT c.source, c.scope, c.source_type, s.status, s.started_at, s.finished_at, s.requests, s.principals, s.credentials, s.grants, s.error, s.meta FROM source_runs s JOIN scopes c ON c.sid = s.sid WHERE s.run_id = ? ORDER BY c.source, c.scope",
    )
    .raw()
    .iterate(runId) as Iterable<Part[]>) {
    h.update(encode(s) + "\n");
  }
  h.update(rows.hex());
  return h.digest("hex");
}

function digestFormat(db: Db, runId: number): number {
  return db.prepare("SELECT digest_format FROM runs WHERE id = ?").pluck().get(runId) as number;
}

function previousDigest(db: Db, runId: number): string | null {
  return (db.prepare("SELECT digest FROM runs WHERE id < ? AND digest IS NOT NULL ORDER BY id DESC LIMIT 1").pluck().get(runId) as string | undefined) ?? null;
}

/** Seals a finished run from the row sum its writer kept: its digest, chained to the newest earlier sealed run. */
export function sealRun(db: Db, runId: number, rows: RowSum): string {
  const prev = previousDigest(db, runId);
  const all = new RowSum();
  all.merge(rows);
  sealEvents(db, runId, all);
  const digest = seal(db, runId, prev, all);
  db.prepare("UPDATE runs SET prev_digest = ?, digest = ? WHERE id = ?").run(prev, digest, runId);
  return digest;
}

/**
 * Row sums of every run, recomputed from what is stored now: one scan per table. Content hashes are
 * recomputed from the columns, so an edited column shows even when the stored hash was left alone.
 */
function recomputeRowSums(db: Db, onlyRun?: number): Map<number, RowSum> {
  const sums = new Map<number, RowSum>();
  const sum = (run: number) => {
    let s = sums.get(run);
    if (!s) sums.set(run, (s = new RowSum()));
    return s;
  };
  const wanted = (run: number | null): run is number => run !== null && (onlyRun === undefined || run === onlyRun);
  const legacy = new Set(db.prepare("SELECT id FROM runs WHERE digest_format = 2").pluck().all() as number[]);
  for (const t of TABLES) {
    const cols = TABLE_COLUMNS[t];
    for (const row of db.prepare(`SELECT vid, sid, id, from_run, to_run, ${cols.join(", ")} FROM ${t}`).raw().iterate() as Iterable<unknown[]>) {
      const [vid, sid, id, fromRun, toRun] = row as [number, number, string, number, number | null];
      if (wanted(fromRun)) {
        const values = row.slice(5);
        sum(fromRun).add(legacy.has(fromRun) ? legacyOpened(t, vid, sid, id, fromRun, legacyContentHash(values)) : contentHash(t, sid, id, values));
      }
      if (wanted(toRun)) sum(toRun).add(legacy.has(toRun) ? legacyClosed(t, vid, toRun) : closed(t, sid, id, fromRun, toRun));
    }
  }
  for (const r of db.prepare("SELECT sid, entity, id, run, at, known, signal FROM activity").raw().iterate() as Iterable<Part[]>) {
    const [sid, entity, id, run, at, known, signal] = r as [number, number, string, number, string | null, number, string | null];
    if (wanted(run)) sum(run).add(activityRow(sid, entity, id, run, at, known, signal));
  }
  for (const r of db.prepare(`SELECT sealed_run, ${EVENT_COLUMNS.join(", ")} FROM events WHERE sealed_run IS NOT NULL`).raw().iterate() as Iterable<Part[]>) {
    const run = r[0] as number;
    if (wanted(run)) sum(run).add(eventRow(r.slice(1)));
  }
  // Events retention deleted: their row sum, kept when they were deleted.
  for (const p of db.prepare("SELECT run_id, sum FROM events_pruned").all() as { run_id: number; sum: string }[]) {
    if (wanted(p.run_id)) sum(p.run_id).merge(RowSum.fromHex(p.sum));
  }
  return sums;
}

/** For a run whose writer died with it (crash recovery): seal it from what it left in the store. */
export function sealFromStore(db: Db, runId: number): string {
  return sealRun(db, runId, recomputeRowSums(db, runId).get(runId) ?? new RowSum());
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** Events stored since the newest run's seal: the next run's digest will cover them. */
  unsealedEvents?: number;
  firstBad?: { runId: number; reason: string };
}

/** Finding sets whose rows or run no longer match their digest, by run: one scan of the findings table. */
function badFindingSets(db: Db): Map<number, string> {
  const bad = new Map<number, string>();
  if (!hasTable(db, "finding_sets")) return bad;
  const sets = db
    .prepare("SELECT f.id, f.run_id AS runId, f.basis, f.policy, f.inputs, f.digest, r.digest AS runDigest FROM finding_sets f JOIN runs r ON r.id = f.run_id WHERE f.digest IS NOT NULL")
    .all() as { id: number; runId: number; basis: number; policy: string; inputs: string; digest: string; runDigest: string | null }[];
  const sums = new Map<number, RowSum>(sets.map((s) => [s.id, new RowSum()]));
  for (const row of db.prepare(FINDING_SELECT.replace("SELECT ", "SELECT f.set_id, ")).raw().iterate() as Iterable<Part[]>) {
    sums.get(row[0] as number)?.add(findingRow(row.slice(1)));
  }
  for (const s of sets) {
    if (findingSetDigest(s.runDigest, s.basis, s.policy, s.inputs, sums.get(s.id)!) !== s.digest && !bad.has(s.runId)) {
      bad.set(s.runId, "its stored findings no longer match their digest");
    }
  }
  return bad;
}

export function verifyChain(db: Db): VerifyResult {
  const runs = db.prepare("SELECT id, prev_digest AS prev, digest FROM runs WHERE status != 'running' ORDER BY id").all() as {
    id: number;
    prev: string | null;
    digest: string | null;
  }[];
  const sums = recomputeRowSums(db);
  const badFindings = badFindingSets(db);
  let expectedPrev: string | null | undefined;
  let checked = 0;
  for (const r of runs) {
    if (!r.digest) return { ok: false, checked, firstBad: { runId: r.id, reason: "the run has no digest" } };
    // The oldest kept run may follow pruned runs: its stored predecessor digest starts the chain.
    if (expectedPrev !== undefined && r.prev !== expectedPrev) {
      return { ok: false, checked, firstBad: { runId: r.id, reason: "its link to the previous run's digest is broken" } };
    }
    if (seal(db, r.id, r.prev, sums.get(r.id) ?? new RowSum()) !== r.digest) {
      return { ok: false, checked, firstBad: { runId: r.id, reason: "its stored data no longer matches its digest" } };
    }
    const findings = badFindings.get(r.id);
    if (findings) return { ok: false, checked, firstBad: { runId: r.id, reason: findings } };
    expectedPrev = r.digest;
    checked++;
  }
  const unsealedEvents = db.prepare("SELECT COUNT(*) FROM events WHERE sealed_run IS NULL").pluck().get() as number;
  return unsealedEvents > 0 ? { ok: true, checked, unsealedEvents } : { ok: true, checked };
}

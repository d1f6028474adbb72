// Evidence integrity: each run's digest covers its scope statuses and every row it wrote or closed, chained
// to the previous run's digest. `whohas verify` recomputes the chain and names the first run that differs.
import { createHash, type Hash } from "node:crypto";
import type { Db } from "./db.js";

const TABLES = ["principals", "credentials", "grants"] as const;

/** Rows come as arrays (statement.raw()); a field separator and a null marker keep the encoding unambiguous. */
function feed(h: Hash, rows: Iterable<unknown>): void {
  for (const row of rows) {
    const values = Array.isArray(row) ? row : [row];
    h.update(values.map((v) => (v === null ? "\u0000" : Buffer.isBuffer(v) ? v.toString("hex") : String(v))).join("\u001f") + "\n");
  }
}

export function computeDigest(db: Db, runId: number, prevDigest: string | null): string {
  const h = createHash("sha256");
  h.update(`whohas-run-v1\n${prevDigest ?? ""}\n${runId}\n`);
  feed(h, [db.prepare("SELECT id, started_at, finished_at, status, trigger, error FROM runs WHERE id = ?").raw().get(runId)]);
  feed(
    h,
    db
      .prepare(
        "SELECT c.source, c.scope, c.source_type, s.status, s.started_at, s.finished_at, s.requests, s.principals, s.credentials, s.grants, s.error, s.meta FROM source_runs s JOIN scopes c ON c.sid = s.sid WHERE s.run_id = ? ORDER BY c.source, c.scope",
      )
      .raw()
      .iterate(runId),
  );
  for (const t of TABLES) {
    h.update(`${t} opened\n`);
    // to_run is left out: a later run closing this version must not change this run's digest.
    const columns = (db.prepare(`SELECT name FROM pragma_table_info('${t}') WHERE name != 'to_run' ORDER BY cid`).pluck().all() as string[]).join(", ");
    feed(h, db.prepare(`SELECT ${columns} FROM ${t} WHERE from_run = ? ORDER BY vid`).raw().iterate(runId));
    h.update(`${t} closed\n`);
    feed(h, db.prepare(`SELECT vid FROM ${t} WHERE to_run = ? ORDER BY vid`).pluck().iterate(runId));
  }
  h.update("activity\n");
  feed(h, db.prepare("SELECT sid, entity, id, at, known, signal FROM activity WHERE run = ? ORDER BY sid, entity, id").raw().iterate(runId));
  return h.digest("hex");
}

/** Seals a finished run: its digest, chained to the newest earlier sealed run. */
export function sealRun(db: Db, runId: number): string {
  const prev = db.prepare("SELECT digest FROM runs WHERE id < ? AND digest IS NOT NULL ORDER BY id DESC LIMIT 1").pluck().get(runId) as string | undefined;
  const digest = computeDigest(db, runId, prev ?? null);
  db.prepare("UPDATE runs SET prev_digest = ?, digest = ? WHERE id = ?").run(prev ?? null, digest, runId);
  return digest;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBad?: { runId: number; reason: string };
}

export function verifyChain(db: Db): VerifyResult {
  const runs = db.prepare("SELECT id, prev_digest AS prev, digest FROM runs WHERE status != 'running' ORDER BY id").all() as {
    id: number;
    prev: string | null;
    digest: string | null;
  }[];
  let expectedPrev: string | null | undefined;
  let checked = 0;
  for (const r of runs) {
    if (!r.digest) return { ok: false, checked, firstBad: { runId: r.id, reason: "the run has no digest" } };
    // The oldest kept run may follow pruned runs: its stored predecessor digest starts the chain.
    if (expectedPrev !== undefined && r.prev !== expectedPrev) {
      return { ok: false, checked, firstBad: { runId: r.id, reason: "its link to the previous run's digest is broken" } };
    }
    if (computeDigest(db, r.id, r.prev) !== r.digest) {
      return { ok: false, checked, firstBad: { runId: r.id, reason: "its stored data no longer matches its digest" } };
    }
    expectedPrev = r.digest;
    checked++;
  }
  return { ok: true, checked };
}

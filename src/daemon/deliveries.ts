// What was delivered for which run: report files, emails, webhook alerts. Read by `whohas status` and
// by the next email, which starts where the last one sent ended.
import type { Db } from "../store/db.js";

export type Channel = "file" | "email" | "webhook";

export interface Delivery {
  runId: number;
  channel: Channel;
  target: string;
  status: "ok" | "failed" | "skipped";
  attempts: number;
  startedAt: string;
  finishedAt: string;
  sinceRun: number | null;
  detail: string | null;
  error: string | null;
}

export function recordDelivery(db: Db, d: Delivery): void {
  db.prepare(
    `INSERT INTO deliveries (run_id, channel, target, status, attempts, started_at, finished_at, since_run, detail, error)
     VALUES (@runId, @channel, @target, @status, @attempts, @startedAt, @finishedAt, @sinceRun, @detail, @error)`,
  ).run(d);
}

const COLUMNS = `run_id AS runId, channel, target, status, attempts, started_at AS startedAt, finished_at AS finishedAt,
  since_run AS sinceRun, detail, error`;

/** Newest first. */
export function recentDeliveries(db: Db, limit = 20): Delivery[] {
  return db.prepare(`SELECT ${COLUMNS} FROM deliveries ORDER BY id DESC LIMIT ?`).all(limit) as Delivery[];
}

/** The newest run an email went out for, if that run is still stored. */
export function lastEmailedRun(db: Db): number | undefined {
  return (db.prepare("SELECT MAX(run_id) FROM deliveries WHERE channel = 'email' AND status = 'ok'").pluck().get() as number | null) ?? undefined;
}

/** A store older than the deliveries table (opened read-only, never migrated) simply has none. */
export function hasDeliveries(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'").get() !== undefined;
}

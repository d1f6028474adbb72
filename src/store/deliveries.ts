// What was delivered for which run: report files, emails, webhook alerts. Read by `whohas status` and
// by the next email, which starts where the last one sent ended.
import { hasTable, type Db } from "./db.js";

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

/**
 * The run the next delivery on this channel and target compares from, so that every change and finding goes
 * out once and none is skipped: after a delivery that went out (or had nothing to send) for run N, from N;
 * after a failed one, from where that one started, so its content goes out with the next. Undefined before
 * the first delivery.
 */
export function deliveryBase(db: Db, channel: Channel, target: string): number | undefined {
  const last = db.prepare("SELECT run_id AS runId, status, since_run AS sinceRun FROM deliveries WHERE channel = ? AND target = ? ORDER BY id DESC LIMIT 1").get(channel, target) as
    | { runId: number; status: Delivery["status"]; sinceRun: number | null }
    | undefined;
  if (!last) return undefined;
  return last.status === "failed" ? (last.sinceRun ?? undefined) : last.runId;
}

/** A store older than the deliveries table (opened read-only, never migrated) simply has none. */
export function hasDeliveries(db: Db): boolean {
  return hasTable(db, "deliveries");
}

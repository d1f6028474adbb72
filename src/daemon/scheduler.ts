// The daemon's clock: node-cron in production. The daemon only ever sees this interface, so tests drive
// it with a fake clock (node-cron under fake timers) or fire jobs by hand.
import cron from "node-cron";
import type { Logger } from "../connector.js";

export interface Job {
  stop(): void;
  /** The next time the job is due, or null when it never will be again. */
  nextRun(): Date | null;
}

export interface Scheduler {
  schedule(name: string, expression: string, timezone: string | undefined, fire: () => void): Job;
}

export const LATE_TOLERANCE_MS = 10 * 60_000;

export function cronScheduler(log: Logger): Scheduler {
  // node-cron logs through console by default; journald gets JSON lines only.
  const logger = {
    info: (m: string) => log.info({ scheduler: "node-cron" }, m),
    warn: (m: string) => log.warn({ scheduler: "node-cron" }, m),
    error: (m: string | Error, err?: Error) => log.error({ scheduler: "node-cron", error: (err ?? m) instanceof Error ? (err ?? (m as Error)).message : String(m) }, "scheduler error"),
    debug: (m: string | Error) => log.debug({ scheduler: "node-cron" }, String(m)),
  };
  return {
    schedule(name, expression, timezone, fire) {
      // Overlap is the daemon's business (one collect at a time, whoever started it), so node-cron fires and forgets.
      // node-cron drops a run whose timer fires over 1 s late; a long report build blocking the event loop or a
      // suspended VM must not cost the night's collect, so a slot up to 10 minutes late (and before the next) still runs.
      const task = cron.schedule(expression, () => fire(), { name, timezone, logger, missedExecutionTolerance: LATE_TOLERANCE_MS });
      task.on("execution:missed", (ctx) => log.warn({ job: name, due: ctx.date.toISOString() }, "scheduled run missed: it was due too long ago"));
      return {
        stop: () => void task.destroy(),
        nextRun: () => task.getNextRun(),
      };
    },
  };
}

/** The next `count` due times of an expression, without scheduling anything (for `whohas status`). */
export function nextRuns(expression: string, timezone: string | undefined, count: number): Date[] {
  const task = cron.createTask(expression, () => {}, { timezone });
  try {
    return task.getNextRuns(count);
  } finally {
    void task.destroy();
  }
}

// The daemon's work without the daemon: `whohas daemon --once` (systemd timer, cron) and `whohas report --send`.
import type { Logger } from "../connector.js";
import type { Config } from "../config/load.js";
import { createLogger } from "../log.js";
import type { Report } from "../report/report.js";
import { openStore } from "../store/db.js";
import { runCycle } from "./cycle.js";
import { loadDaemonConfig } from "./daemon.js";
import { deliverEmail, deliverFiles } from "./deliver.js";
import { DeliveryError } from "./retry.js";

/** Exit code: 0 when every scope was collected and every delivery went out, else 1. */
export async function runOnce(configPath: string | undefined, log: Logger): Promise<number> {
  const config = await loadDaemonConfig(configPath, process.env, false);
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => controller.abort(new Error(`stopped by ${signal}`));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  try {
    const result = await runCycle(config, { log, signal: controller.signal, trigger: "once", email: true });
    return result.status === "ok" && result.deliveries.every((d) => d.status !== "failed") ? 0 : 1;
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
  }
}

/** Emails `report` now, whatever [email] send says, and writes it to [report] dir. Throws DeliveryError when the mail did not go out. */
export async function sendReportNow(config: Config, report: Report, log: Logger = createLogger("warn")): Promise<string> {
  const db = openStore(config.store.path);
  try {
    const files = deliverFiles(db, config, report, { log });
    const d = await deliverEmail(db, config, { run: report.run.id, report, force: true }, { log });
    const written = files.status === "ok" ? `; written to ${config.report.dir}: ${files.detail}` : `; NOT written to ${config.report.dir}: ${files.error}`;
    if (d.status !== "ok") throw new DeliveryError(`email to ${d.target} failed after ${d.attempts} attempt(s): ${d.error}${written}`, d.attempts);
    return `sent "${d.detail}" to ${d.target}${d.attempts > 1 ? ` (${d.attempts} attempts)` : ""}${written}`;
  } finally {
    db.close();
  }
}

// whohas watch [--once] [--interval MINUTES]: poll only the audit-log feeds and alert on privileged changes.
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { eventSources } from "../events/engine.js";
import { watchOnce, type WatchResult } from "../daemon/watch.js";
import { shown } from "../safe-text.js";
import { cliLogger, type LogOptions } from "./common.js";
import { CliUsageError, EXIT_OK, EXIT_RUNTIME } from "./exit.js";

function summary(r: WatchResult): string {
  const feeds = r.poll.sources.flatMap((s) => (s.skipped ? [`${shown(s.source)}: skipped (${shown(s.skipped)})`] : s.feeds.map((f) => `${shown(`${f.source}/${f.scope}/${f.feed}`)}: ${f.status}${f.reason ? ` (${shown(f.reason)})` : ""}, ${f.inserted} new`)));
  const alerts = r.findings.map((f) => `  ${f.severity} ${f.rule}: ${shown(f.subject)}: ${shown(f.detail)}`);
  const sent = r.alerts.map((a) => `  alert ${shown(a.name)}: ${a.ok ? `sent (${a.findings})` : `failed: ${shown(a.error ?? "")}`}`);
  return `${new Date().toISOString()} ${r.events} new event(s); ${feeds.join("; ")}\n${[...alerts, ...sent].map((l) => l + "\n").join("")}`;
}

export const action = async (opts: { config?: string; once?: boolean; interval: string; format: "text" | "json"; verbose?: boolean; quiet?: boolean } & LogOptions) => {
  const config = loadConfig(opts.config, CONNECTORS);
  if (!/^[1-9]\d*$/.test(opts.interval)) throw new CliUsageError(`--interval: expected whole minutes (1 or more), got "${opts.interval}"`);
  if (eventSources(config).length === 0) throw new CliUsageError(`${config.file}: no enabled source has a [sources.events] table: nothing to watch`);
  const log = cliLogger(opts);
  const controller = new AbortController();
  const stop = () => controller.abort(new Error("interrupted by signal"));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const intervalMs = Number(opts.interval) * 60_000;
  let failed = false;
  for (;;) {
    const r = await watchOnce(config, { log, signal: controller.signal });
    failed = r.poll.sources.some((s) => s.feeds.some((f) => f.status === "failed")) || r.alerts.some((a) => !a.ok);
    process.stdout.write(opts.format === "json" ? JSON.stringify({ schema: "whohas.watch/v1", ...r }) + "\n" : summary(r));
    if (opts.once || controller.signal.aborted) break;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, intervalMs);
      controller.signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });
    if (controller.signal.aborted) break;
  }
  process.exitCode = failed && opts.once ? EXIT_RUNTIME : EXIT_OK;
};

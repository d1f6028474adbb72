// whohas daemon
import { CliUsageError } from "./exit.js";

export const action = async (opts: { config?: string; now?: boolean; once?: boolean; stopTimeout: string; verbose?: boolean; quiet?: boolean }) => {
  if (!/^\d+(\.\d+)?$/.test(opts.stopTimeout)) throw new CliUsageError(`--stop-timeout: expected seconds, got "${opts.stopTimeout}"`);
  const { createLogger } = await import("../log.js");
  const log = createLogger(opts.verbose ? "debug" : opts.quiet ? "warn" : "info", 1);
  if (opts.once) {
    const { runOnce } = await import("../daemon/once.js");
    process.exitCode = await runOnce(opts.config, log);
    return;
  }
  const { runDaemon } = await import("../daemon/daemon.js");
  process.exitCode = await runDaemon({ configPath: opts.config, log, stopTimeoutMs: Number(opts.stopTimeout) * 1000, runNow: opts.now });
};

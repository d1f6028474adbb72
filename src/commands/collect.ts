// whohas collect
import { CONNECTORS } from "../../connectors/index.js";
import { collect } from "../collect.js";
import { loadConfig } from "../config/load.js";
import { createLogger } from "../log.js";
import { scopeTable } from "../report/runs.js";
import { shown } from "../safe-text.js";
import { logLevel } from "./common.js";
import { EXIT_OK, EXIT_RUNTIME } from "./exit.js";

export const action = async (opts: { config?: string; source?: string[]; format: "text" | "json"; verbose?: boolean; quiet?: boolean }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  const log = createLogger(logLevel(opts));
  const controller = new AbortController();
  const stop = () => controller.abort(new Error("interrupted by signal"));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const progress = process.stderr.isTTY && !opts.quiet;
  const result = await collect(config, {
    sources: opts.source,
    signal: controller.signal,
    log,
    onProgress: progress ? (e) => process.stderr.write(`  ${shown(`${e.source}/${e.scope}`)}: ${e.state}\n`) : undefined,
  });
  if (opts.format === "json") {
    process.stdout.write(JSON.stringify({ schema: "whohas.collect/v1", run: result.runId, status: result.status, scopes: result.scopes }, null, 2) + "\n");
  } else {
    process.stdout.write(`Run ${result.runId}: ${result.status}\n\n${scopeTable(result.scopes)}`);
  }
  process.exitCode = result.status === "ok" ? EXIT_OK : EXIT_RUNTIME;
};

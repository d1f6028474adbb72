// whohas status
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { CliUsageError, EXIT_RUNTIME } from "./exit.js";

export const action = async (opts: { config?: string; format: "text" | "json"; maxAge?: string; limit: string }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  const { buildStatus, renderStatusText } = await import("../daemon/status.js");
  if (opts.maxAge !== undefined && !/^\d+(\.\d+)?$/.test(opts.maxAge)) throw new CliUsageError(`--max-age: expected hours, got "${opts.maxAge}"`);
  if (!/^[1-9]\d*$/.test(opts.limit)) throw new CliUsageError(`--limit: expected a positive number, got "${opts.limit}"`);
  const status = buildStatus(config, { runs: Number(opts.limit), deliveries: Number(opts.limit), maxAgeHours: opts.maxAge === undefined ? undefined : Number(opts.maxAge) });
  process.stdout.write(opts.format === "json" ? JSON.stringify(status, null, 2) + "\n" : renderStatusText(status));
  if (status.problems.length > 0) process.exitCode = EXIT_RUNTIME;
};

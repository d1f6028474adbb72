// whohas undo ACTION|PLAN: restore what an action (or every done action of a plan) changed.
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { undoActions } from "../remediate/apply.js";
import { renderOutcomes } from "../remediate/render.js";
import { approverOf } from "./apply.js";
import { cliLogger, type LogOptions } from "./common.js";
import { EXIT_RUNTIME } from "./exit.js";

export const action = async (ref: string, opts: { config?: string; approver?: string; format: "text" | "json"; verbose?: boolean; quiet?: boolean } & LogOptions) => {
  const config = loadConfig(opts.config, CONNECTORS);
  const outcomes = await undoActions(config, ref, { actor: approverOf(opts.approver), log: cliLogger(opts) });
  if (opts.format === "json") process.stdout.write(JSON.stringify({ schema: "whohas.undo/v1", ref, actions: outcomes }, null, 2) + "\n");
  else process.stdout.write(renderOutcomes(`Undo ${ref}:`, outcomes));
  if (outcomes.some((o) => o.status !== "undone")) process.exitCode = EXIT_RUNTIME;
};

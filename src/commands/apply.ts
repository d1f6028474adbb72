// whohas apply PLAN: apply a plan whohas computed (refused when stale or blocked), recording every action.
import { userInfo } from "node:os";
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { applyPlan } from "../remediate/apply.js";
import { readPlanFile } from "../remediate/plan-file.js";
import { renderOutcomes } from "../remediate/render.js";
import { cliLogger, type LogOptions } from "./common.js";
import { EXIT_RUNTIME } from "./exit.js";

export function approverOf(explicit: string | undefined): string {
  if (explicit) return explicit;
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? "?"}`;
  }
}

export const action = async (planPath: string, opts: { config?: string; resume?: boolean; dryRun?: boolean; approver?: string; format: "text" | "json"; verbose?: boolean; quiet?: boolean } & LogOptions) => {
  const config = loadConfig(opts.config, CONNECTORS);
  const plan = readPlanFile(planPath);
  const controller = new AbortController();
  const stop = () => controller.abort(new Error("interrupted by signal"));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const summary = await applyPlan(config, plan, {
    approver: approverOf(opts.approver),
    log: cliLogger(opts),
    signal: controller.signal,
    ...(opts.resume ? { resume: true } : {}),
    ...(opts.dryRun ? { dryRun: true } : {}),
  });
  if (opts.format === "json") process.stdout.write(JSON.stringify({ schema: "whohas.apply/v1", plan: summary.planId, dryRun: opts.dryRun === true, actions: summary.outcomes }, null, 2) + "\n");
  else process.stdout.write(renderOutcomes(`${opts.dryRun ? "Dry run of" : "Applied"} plan ${summary.planId}:`, summary.outcomes));
  if (summary.outcomes.some((o) => o.status === "failed" || o.status === "unknown")) process.exitCode = EXIT_RUNTIME;
};

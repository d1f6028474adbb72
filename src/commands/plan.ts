// whohas plan: what the [[remediate]] entries would do now, written as a plan file (0600) and printed.
// Reads the store and keeps the notice bookkeeping; sends nothing to any provider.
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { computePlan } from "../remediate/plan.js";
import { savePlanFile } from "../remediate/plan-file.js";
import { renderPlan } from "../remediate/render.js";
import { openStore } from "../store/db.js";
import { EXIT_RUNTIME } from "./exit.js";

export const action = (opts: { config?: string; entry?: string[]; format: "text" | "json" }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  const db = openStore(config.store.path);
  let plan;
  let file: string;
  try {
    plan = computePlan(db, config, { ...(opts.entry ? { entries: opts.entry } : {}) });
    file = savePlanFile(db, config.remediation.dir, plan);
  } finally {
    db.close();
  }
  if (opts.format === "json") process.stdout.write(JSON.stringify({ file, plan }, null, 2) + "\n");
  else process.stdout.write(renderPlan(plan, file));
  if (plan.blocked.length > 0) {
    // A human has to look: the cap exists because a broken collect must never disable half the company.
    process.stderr.write(`whohas plan: BLOCKED, nothing of plan ${plan.id} can be applied:\n${plan.blocked.map((b) => `  ${b}`).join("\n")}\n`);
    process.exitCode = EXIT_RUNTIME;
  }
};

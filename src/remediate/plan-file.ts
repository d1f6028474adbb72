// The plan as a file: JSON, 0600 in a private directory, with its content hash. Apply reads it back and refuses
// one that was edited (the hash) or that this store never computed (the plans table).
import { PlanFileError } from "./errors.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir, writeFileAtomic } from "../private-files.js";
import { setPlanFile } from "../store/actions.js";
import type { Db } from "../store/db.js";
import { PLAN_SCHEMA, planHash, type Plan } from "./plan.js";


export { PlanFileError };

export function writePlanFile(dir: string, plan: Plan): string {
  ensurePrivateDir(dir, "plan directory");
  const path = join(dir, `${plan.id}.json`);
  writeFileAtomic(path, JSON.stringify(plan, null, 2) + "\n");
  return path;
}

/**
 * Writes the plan's file and records it with the plan, so retention deletes the file when it prunes the plan.
 * Every writer of plans (plan, the daemon, the demo) goes through this: an unrecorded file stays forever.
 */
export function savePlanFile(db: Db, dir: string, plan: Plan): string {
  const path = writePlanFile(dir, plan);
  setPlanFile(db, plan.id, path);
  return path;
}

export function readPlanFile(path: string): Plan {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new PlanFileError(`${path}: cannot read the plan (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let plan: Plan;
  try {
    plan = JSON.parse(text) as Plan;
  } catch {
    throw new PlanFileError(`${path}: not a plan (invalid JSON)`);
  }
  if (typeof plan !== "object" || plan === null || plan.schema !== PLAN_SCHEMA || typeof plan.id !== "string" || !Array.isArray(plan.actions) || typeof plan.contentHash !== "string") {
    throw new PlanFileError(`${path}: not a ${PLAN_SCHEMA} plan (run "whohas plan" to make one)`);
  }
  if (planHash(plan) !== plan.contentHash) throw new PlanFileError(`${path}: the plan was changed after whohas wrote it (its content hash no longer matches); make a new one with "whohas plan"`);
  return plan;
}

// The demo's third step: plan → apply → collect (the change is visible) → undo, on the simulators.
import { collect } from "../collect.js";
import type { Logger } from "../connector.js";
import type { Config } from "../config/load.js";
import { shown } from "../safe-text.js";
import { openStore } from "../store/db.js";
import { inventoryAt } from "../store/reader.js";
import { applyPlan, undoActions } from "./apply.js";
import { computePlan } from "./plan.js";
import { savePlanFile } from "./plan-file.js";
import { renderOutcomes, renderPlan } from "./render.js";

export interface DemoStepOptions {
  log: Logger;
  env: NodeJS.ProcessEnv;
  out: NodeJS.WritableStream;
  say(text: string): void;
  refresh(): void;
}

export async function remediationStep(config: Config, o: DemoStepOptions): Promise<void> {
  o.say("\nremediation: plan → apply → collect → undo\n");
  let db = openStore(config.store.path);
  const { plan, file } = (() => {
    try {
      const p = computePlan(db, config);
      return { plan: p, file: savePlanFile(db, config.remediation.dir, p) };
    } finally {
      db.close();
    }
  })();
  o.out.write(`\n${renderPlan(plan, file)}\n`);
  if (plan.actions.length === 0 || plan.blocked.length > 0) return;
  const applied = await applyPlan(config, plan, { approver: "demo", log: o.log, env: o.env });
  o.out.write(renderOutcomes(`Applied plan ${plan.id}:`, applied.outcomes) + "\n");

  o.refresh();
  o.say("collect #3\n");
  const third = await collect(config, { log: o.log, env: o.env, trigger: "demo" });
  db = openStore(config.store.path, { readonly: true });
  try {
    const wanted = new Map(plan.actions.map((a) => [`${a.source}/${a.scope}/${a.target.principal.id}`, a]));
    const lines: string[] = [];
    for (const p of inventoryAt(db, third.runId, { source: [...new Set(plan.actions.map((a) => a.source))] })) {
      const a = wanted.get(`${p.source}/${p.scope}/${p.id}`);
      if (!a) continue;
      const c = a.target.credential ? p.credentials.find((x) => x.id === a.target.credential!.id) : undefined;
      lines.push(`  ${shown(`${p.source}/${p.scope}/${p.name}`)}${c ? ` ${shown(c.name ?? c.id)}: ${c.status}` : `: ${p.status}`}`);
    }
    o.out.write(`Run ${third.runId} sees what apply changed:\n${lines.join("\n")}\n\n`);
  } finally {
    db.close();
  }
  const undone = await undoActions(config, plan.id, { actor: "demo", log: o.log, env: o.env });
  o.out.write(renderOutcomes(`Undo ${plan.id}:`, undone));
}

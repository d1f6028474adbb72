// Plans, apply outcomes and the actions table for a person to read. Every provider value goes through shown():
// a hostile account name cannot drive the terminal or forge a line. JSON output keeps exact values.
import { shown } from "../safe-text.js";
import type { ActionRecord } from "../store/actions.js";
import type { ActionOutcome } from "./apply.js";
import type { Plan, PlannedAction } from "./plan.js";

function targetText(a: PlannedAction): string {
  const t = a.target;
  const extra = t.credential ? `/${t.credential.name ?? t.credential.id}` : t.grant ? `/${t.grant.privilege}` : "";
  return shown(`${a.source}/${t.scope}/${t.principal.name}${extra}`);
}

export function renderPlan(plan: Plan, file?: string): string {
  const out: string[] = [];
  out.push(`Plan ${plan.id} (${plan.createdAt})`);
  if (plan.runs.length > 0) out.push(`From: ${plan.runs.map((r) => `${shown(`${r.source}/${r.scope}`)} run ${r.runId}`).join(", ")}`);
  if (plan.blocked.length > 0) {
    out.push("", "BLOCKED: nothing of this plan will be applied.");
    for (const b of plan.blocked) out.push(`  ! ${shown(b, 1000)}`);
  }
  out.push("", plan.actions.length === 0 ? "No action is due." : `${plan.actions.length} action(s):`);
  plan.actions.forEach((a, i) => {
    out.push(`  ${i + 1}. ${a.type}  ${targetText(a)}  [${a.id}]`);
    out.push(`     why:  ${a.finding.rule} (${a.finding.severity}): ${shown(a.finding.detail, 400)}`);
    out.push(`     undo: ${a.reversible ? shown(a.undo) : "IRREVERSIBLE"}   entry: ${a.entry}`);
  });
  if (plan.pending.length > 0) {
    out.push("", `Pending (grace period or notice): ${plan.pending.length}`);
    for (const p of plan.pending.slice(0, 50)) out.push(`  - ${shown(p.subject)}: ${shown(p.why)}${p.dueAt ? `; due ${p.dueAt.slice(0, 10)}` : ""} [${p.entry}]`);
    if (plan.pending.length > 50) out.push(`  … ${plan.pending.length - 50} more (see the JSON)`);
  }
  if (plan.excluded.length > 0) {
    out.push("", `Excluded: ${plan.excluded.length}`);
    for (const p of plan.excluded.slice(0, 50)) out.push(`  - ${shown(p.subject)}: ${shown(p.why)} [${p.entry}]`);
    if (plan.excluded.length > 50) out.push(`  … ${plan.excluded.length - 50} more (see the JSON)`);
  }
  if (plan.skippedScopes.length > 0) {
    out.push("", "Scopes with no action:");
    for (const s of plan.skippedScopes) out.push(`  - ${shown(`${s.source}/${s.scope}`)}: ${shown(s.why)}`);
  }
  if (file) {
    out.push("", `Written to ${shown(file, 1000)} (sha256 ${plan.contentHash.slice(0, 16)}…)`);
    if (plan.actions.length > 0 && plan.blocked.length === 0) out.push(`Apply it with: whohas apply ${shown(file, 1000)}`);
  }
  return out.join("\n") + "\n";
}

export function renderOutcomes(title: string, outcomes: readonly ActionOutcome[]): string {
  const out = [title];
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
  out.push(`  ${[...counts].map(([s, n]) => `${n} ${s}`).join(", ") || "nothing to do"}; ${outcomes.reduce((n, o) => n + o.requests, 0)} provider request(s)`);
  for (const o of outcomes) out.push(`  ${o.status.padEnd(8)} ${o.type}  ${shown(o.subject)}  [${o.id}]\n           ${shown(o.detail, 600)}`);
  return out.join("\n") + "\n";
}

export function renderActions(actions: readonly ActionRecord[]): string {
  if (actions.length === 0) return "No remediation actions recorded.\n";
  const out: string[] = [];
  for (const a of actions) {
    const what = `${a.source}/${a.scope}/${a.principalName}${a.credentialName ? `/${a.credentialName}` : a.grantPrivilege ? `/${a.grantPrivilege}` : ""}`;
    out.push(`${a.updatedAt}  ${a.status.padEnd(8)} ${a.type}  ${shown(what)}`);
    out.push(`    action ${a.id}  plan ${a.planId}  entry ${a.entry}  finding ${shown(a.findingId)}`);
    if (a.approver) out.push(`    approved by ${shown(a.approver)}${a.appliedAt ? ` · applied ${a.appliedAt}` : ""}${a.undoneAt ? ` · undone ${a.undoneAt} by ${shown(a.undoneBy)}` : ""}`);
    if (a.answer) out.push(`    ${shown(a.answer, 600)}`);
  }
  return out.join("\n") + "\n";
}

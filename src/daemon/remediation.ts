// Remediation in the daemon, after each collect: plan; email the notices that are due (the account holder and
// the entry's owner, notify_before_days ahead); alert a human when a plan is blocked by a cap; apply the due
// actions of entries with auto_apply = true. Never throws: a remediation problem never fails the cycle.
import type { Logger } from "../connector.js";
import type { Config } from "../config/load.js";
import { sendEmail } from "./mail.js";
import { escapeHtml } from "../report/html.js";
import { headerLine } from "../safe-text.js";
import { markNotified } from "../store/actions.js";
import { openStore } from "../store/db.js";
import { applyPlan, type ActionOutcome } from "../remediate/apply.js";
import { computePlan, type Plan, type PlanNote } from "../remediate/plan.js";
import { savePlanFile } from "../remediate/plan-file.js";

export interface RemediationCycleOptions {
  log: Logger;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  now?: () => Date;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RemediationCycleResult {
  planId: string | null;
  notified: number;
  blocked: string[];
  applied: ActionOutcome[];
  error?: string;
}

function notice(n: PlanNote, days: number, owner: string | undefined): { subject: string; text: string; html: string } {
  const when = new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
  const action = n.notify!.action;
  // Names come from providers: one line each, control characters shown, HTML escaped.
  const subjectLine = headerLine(n.subject, "?").slice(0, 200);
  const lines = [
    `whohas will take this action on ${when} or later:`,
    ``,
    `  ${action} on ${subjectLine}`,
    `  because: ${n.findingId.split(":")[0]}`,
    ``,
    `If you still need this access, use it before then: activity cancels the action. Questions: ${owner ?? "your identity team"}.`,
  ];
  return { subject: `whohas: ${action} planned for ${subjectLine}`.slice(0, 200), text: lines.join("\n") + "\n", html: `<pre>${escapeHtml(lines.join("\n"))}</pre>` };
}

export async function remediationCycle(config: Config, opts: RemediationCycleOptions): Promise<RemediationCycleResult> {
  const { log } = opts;
  const result: RemediationCycleResult = { planId: null, notified: 0, blocked: [], applied: [] };
  if (config.remediate.length === 0) return result;
  let plan: Plan;
  try {
    const db = openStore(config.store.path);
    try {
      plan = computePlan(db, config, opts.now ? { now: opts.now() } : {});
      savePlanFile(db, config.remediation.dir, plan);
    } finally {
      db.close();
    }
  } catch (err) {
    log.error({ error: (err as Error).message }, "remediation: planning failed");
    return { ...result, error: (err as Error).message };
  }
  result.planId = plan.id;
  result.blocked = plan.blocked;

  // Notices: each goes once; without [email] nothing is sent, so nothing becomes due.
  const waiting = plan.pending.filter((p) => p.notify);
  if (waiting.length > 0 && !config.email) log.warn({ waiting: waiting.length }, "remediation: notify_before_days needs [email]; no notice sent, so nothing becomes due");
  if (config.email) {
    for (const n of waiting) {
      const entry = config.remediate.find((e) => e.name === n.entry)!;
      const to = [...new Set([n.notify!.email, entry.notifyOwner].filter((x): x is string => typeof x === "string" && x.includes("@")))];
      const recipients = to.length > 0 ? to : config.email.to;
      try {
        await sendEmail({ ...config.email, to: recipients }, { ...notice(n, entry.notifyBeforeDays, entry.notifyOwner), attachments: [] }, { log, env: opts.env, signal: opts.signal, sleep: opts.sleep });
        const db = openStore(config.store.path);
        try {
          markNotified(db, n.entry, n.findingId, recipients.join(", "), (opts.now?.() ?? new Date()).toISOString());
        } finally {
          db.close();
        }
        result.notified++;
      } catch (err) {
        log.warn({ entry: n.entry, finding: n.findingId, error: (err as Error).message }, "remediation: notice not sent; the action stays pending");
      }
    }
  }

  if (plan.blocked.length > 0) {
    // A human has to look before anything of this plan happens.
    log.error({ plan: plan.id, blocked: plan.blocked }, "remediation: plan blocked by max_actions_per_run; nothing applied");
    if (config.email) {
      const text = `Plan ${plan.id} was not applied:\n${plan.blocked.map((b) => `  ${b}`).join("\n")}\n`;
      await sendEmail(config.email, { subject: `${config.email.subject}: remediation blocked, nothing applied`, text, html: `<pre>${escapeHtml(text)}</pre>`, attachments: [] }, { log, env: opts.env, signal: opts.signal, sleep: opts.sleep }).catch((err: unknown) =>
        log.error({ error: (err as Error).message }, "remediation: could not send the blocked-plan alert"),
      );
    }
    return result;
  }
  const auto = new Set(config.remediate.filter((e) => e.autoApply).map((e) => e.name));
  if (auto.size === 0 || !plan.actions.some((a) => auto.has(a.entry))) return result;
  try {
    const out = await applyPlan(config, plan, { approver: "whohas daemon (auto_apply)", log, env: opts.env, ...(opts.signal ? { signal: opts.signal } : {}), entries: auto, ...(opts.now ? { now: opts.now } : {}) });
    result.applied = out.outcomes.filter((o) => auto.has(plan.actions.find((a) => a.id === o.id)?.entry ?? ""));
    for (const o of result.applied) {
      if (o.status === "done") log.info({ action: o.id, status: o.status, detail: o.detail }, "remediation: auto-applied");
      else log.warn({ action: o.id, status: o.status, detail: o.detail }, "remediation: auto-apply did not change it");
    }
  } catch (err) {
    log.error({ plan: plan.id, error: (err as Error).message }, "remediation: auto-apply failed");
    result.error = (err as Error).message;
  }
  return result;
}

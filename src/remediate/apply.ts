// Applying a plan, and undoing what was applied. Under the store's lock (never during a collect). A plan is
// refused whole when it is not one this store computed, was edited, is blocked by a cap, is older than
// plan_max_age_hours, or was computed from a run that is no longer the latest ok run of one of its scopes. Each
// action is re-checked with the remediator's inspect first (changed → skipped), marked unknown just before its
// write (so a kill leaves it done, failed or unknown, never silently planned) and recorded with the provider's
// answer. A failure fails that action only.
import { ApplyRefused } from "./errors.js";
import pLimit from "p-limit";
import type { Logger } from "../connector.js";
import type { Config, SourceConfig } from "../config/load.js";
import type { Attributes } from "../model.js";
import { openStore, type Db } from "../store/db.js";
import { acquireLock } from "../store/lock.js";
import { actionsOfPlan, getAction, getPlan, latestScopeRuns, setPendingState, updateAction, type ActionRecord, type ActionStatus } from "../store/actions.js";
import { countedAction, RemediationSession, type RemediatorFactory } from "./context.js";
import type { ActionRequest, ActionTarget, ActionType } from "./contract.js";
import type { Plan } from "./plan.js";


export { ApplyRefused };

export interface ApplyOptions {
  /** Who approved: the OS user or --approver. */
  approver: string;
  log: Logger;
  now?: () => Date;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Reconcile actions a crash left unknown (by reading the provider) before applying the rest. */
  resume?: boolean;
  /** Only actions of these entries (the daemon's auto-apply); default all. */
  entries?: ReadonlySet<string>;
  /** Check the plan and read each target's state, change nothing (no write request, nothing recorded). */
  dryRun?: boolean;
  remediators?: RemediatorFactory;
}

export interface ActionOutcome {
  id: string;
  type: string;
  source: string;
  scope: string;
  subject: string;
  status: ActionStatus;
  /** What happened: the provider's answer, why it was skipped or failed. */
  detail: string;
  requests: number;
  /** True when this run changed the state (a write the provider accepted). */
  changed: boolean;
}

export interface ApplySummary {
  planId: string;
  outcomes: ActionOutcome[];
}

const key = (source: string, scope: string) => `${source}\u001f${scope}`;

function requestOf(a: ActionRecord): ActionRequest {
  return { type: a.type as ActionType, target: JSON.parse(a.target) as ActionTarget };
}

function subjectOf(a: ActionRecord): string {
  return `${a.source}/${a.scope}/${a.principalName}${a.credentialName ? `/${a.credentialName}` : a.grantPrivilege ? `/${a.grantPrivilege}` : ""}`;
}

/** Why the plan may not be applied, or null. Staleness by age and by run; blocked plans; unknown or edited plans. */
function refusal(db: Db, config: Config, plan: Plan, now: Date): string | null {
  const stored = getPlan(db, plan.id);
  if (!stored) return `plan ${plan.id} was not computed by this store (${config.store.path}): make one with "whohas plan"`;
  if (stored.contentHash !== plan.contentHash) return `plan ${plan.id} differs from the plan this store recorded (content hash): make a new one with "whohas plan"`;
  if (stored.blocked.length > 0) return `plan ${plan.id} is blocked, nothing of it is applied:\n  ${stored.blocked.join("\n  ")}`;
  const ageHours = (now.getTime() - Date.parse(plan.createdAt)) / 3_600_000;
  if (ageHours > config.remediation.planMaxAgeHours) {
    return `plan ${plan.id} is stale: made ${plan.createdAt}, ${ageHours.toFixed(1)} h ago (plan_max_age_hours = ${config.remediation.planMaxAgeHours}); make a new one with "whohas plan"`;
  }
  const latest = latestScopeRuns(db);
  for (const r of plan.runs) {
    const now_ = latest.get(key(r.source, r.scope));
    if (now_ && now_.runId !== r.runId && now_.status === "ok") {
      return `plan ${plan.id} is stale: computed from run ${r.runId} of ${r.source}/${r.scope}, whose latest ok collect is now run ${now_.runId}; make a new one with "whohas plan"`;
    }
  }
  return null;
}

/** Scopes whose latest collect since the plan failed or was partial: their actions are skipped. */
function unhealthyScopes(db: Db, plan: Plan): Map<string, string> {
  const latest = latestScopeRuns(db);
  const out = new Map<string, string>();
  for (const r of plan.runs) {
    const l = latest.get(key(r.source, r.scope));
    if (!l) out.set(key(r.source, r.scope), "the scope is no longer in the store");
    else if (l.status !== "ok") out.set(key(r.source, r.scope), `the latest collect of ${r.source}/${r.scope} (run ${l.runId}) was ${l.status}: no action until one succeeds`);
  }
  return out;
}

export async function applyPlan(config: Config, plan: Plan, opts: ApplyOptions): Promise<ApplySummary> {
  const now = opts.now ?? (() => new Date());
  const lock = acquireLock(config.store.path);
  const db = openStore(config.store.path);
  const signal = opts.signal ?? new AbortController().signal;
  const session = new RemediationSession(opts.log, signal, opts.env, opts.remediators);
  try {
    const why = refusal(db, config, plan, now());
    const records = actionsOfPlan(db, plan.id);
    if (why) {
      // A stale plan applies nothing; what a crash left unknown is still reconciled (reads only).
      if (opts.resume) return { planId: plan.id, outcomes: await reconcileOnly(db, config, records, session, opts, now) };
      throw new ApplyRefused(why);
    }
    const unhealthy = unhealthyScopes(db, plan);
    const sources = new Map(config.sources.map((s) => [s.id, s]));
    const limit = pLimit(config.remediation.concurrency);
    const outcomes = await Promise.all(
      records.map((a) =>
        limit(() => {
          if (signal.aborted) return Promise.resolve(outcome(a, a.status, "not attempted: interrupted", 0, false));
          return applyOne(db, a, { sources, unhealthy, session, opts, now, config });
        }),
      ),
    );
    return { planId: plan.id, outcomes };
  } finally {
    await session.close();
    db.close();
    lock.release();
  }
}

function outcome(a: ActionRecord, status: ActionStatus, detail: string, requests: number, changed: boolean): ActionOutcome {
  return { id: a.id, type: a.type, source: a.source, scope: a.scope, subject: subjectOf(a), status, detail, requests, changed };
}

interface ApplyEnv {
  sources: Map<string, SourceConfig>;
  unhealthy: Map<string, string>;
  session: RemediationSession;
  opts: ApplyOptions;
  now: () => Date;
  config: Config;
}

async function applyOne(db: Db, a: ActionRecord, env: ApplyEnv): Promise<ActionOutcome> {
  const { opts, now, session } = env;
  const actor = opts.approver;
  const set = (status: ActionStatus, answer: string, extra: { undo?: Attributes; requests?: number; from?: ActionStatus[] } = {}) =>
    updateAction(db, a.id, { status, at: now().toISOString(), actor, answer, ...(extra.undo ? { undo: JSON.stringify(extra.undo) } : {}), requests: extra.requests ?? 0 }, extra.from);

  if (opts.entries && !opts.entries.has(a.entry)) return outcome(a, a.status, "not applied: its entry is not auto-applied", 0, false);
  const resumable = a.status === "planned" || (opts.resume && a.status === "unknown");
  if (!resumable) {
    const what = a.status === "unknown" ? "left unknown by an interrupted apply: run whohas apply --resume" : `already ${a.status}${a.answer ? `: ${a.answer}` : ""}`;
    return outcome(a, a.status, what, 0, false);
  }
  const sick = env.unhealthy.get(key(a.source, a.scope));
  if (sick) {
    if (!opts.dryRun) set("skipped", sick);
    return outcome(a, "skipped", sick, 0, false);
  }
  const entry = env.config.remediate.find((e) => e.name === a.entry);
  const source = env.sources.get(a.source);
  if (!entry || !entry.sources.includes(a.source) || !source?.remediate) {
    const why = !entry ? `entry ${a.entry} is no longer configured` : `source ${a.source} is no longer remediated by entry ${a.entry}`;
    if (!opts.dryRun) set("skipped", why);
    return outcome(a, "skipped", why, 0, false);
  }
  let requests = 0;
  const count = (n: number) => (requests += n);
  const request = requestOf(a);
  try {
    const { remediator, ctx } = await session.remediation(source);
    if (!remediator.supports.includes(request.type)) throw new Error(`the ${source.type} remediator does not take ${request.type}`);
    const observed = await countedAction(count, () => remediator.inspect(ctx, request));
    if (opts.dryRun) {
      const verb = observed.state === "ready" ? "would apply" : observed.state === "already-done" ? "would skip (already so)" : `would skip (${observed.state})`;
      return outcome(a, a.status, `${verb}: ${session.redactor.redact(observed.detail)}`, requests, false);
    }
    if (observed.state === "already-done") {
      // Nothing is sent. A planned action: someone (or an earlier apply) got there first, nothing of ours to undo.
      const detail = `already so at the provider, nothing sent: ${session.redactor.redact(observed.detail)}`;
      // An action left unknown had read "ready" just before its write was sent: the change is ours to undo. Undo
      // data recorded before that write describes the state it changed; the read now can only rebuild it.
      if (a.status === "unknown") set("done", `reconciled after an interruption: ${detail}`, { requests, ...(!a.undo && observed.undo ? { undo: observed.undo } : {}) });
      else set("skipped", detail, { requests });
      return outcome(a, a.status === "unknown" ? "done" : "skipped", detail, requests, false);
    }
    if (observed.state === "changed" || observed.state === "gone") {
      const detail = `${observed.state === "gone" ? "gone" : "changed"} since the plan: ${session.redactor.redact(observed.detail)}`;
      set("skipped", detail, { requests });
      return outcome(a, "skipped", detail, requests, false);
    }
    // In flight: a kill from here on leaves "unknown", which --resume reconciles by reading the provider.
    if (!set("unknown", "write sent; no answer recorded yet", { requests, from: ["planned", "unknown"] })) {
      return outcome(a, a.status, "taken by another apply", requests, false);
    }
    const before = requests;
    // Undo data known before the write is stored with the in-flight action (a kill after the write keeps it).
    const recordUndo = (undo: Attributes) => void updateAction(db, a.id, { status: "unknown", at: now().toISOString(), actor, answer: "write about to be sent; undo data recorded", undo: JSON.stringify(undo) }, ["unknown"]);
    const result = await countedAction(count, () => remediator.apply(ctx, request, recordUndo));
    const answer = session.redactor.redact(result.answer);
    // A task for a system's owner is issued, not done: the next import says whether it was (see plan.ts).
    const status: ActionStatus = request.type === "task" ? "applied" : "done";
    set(status, result.status === "already-done" ? `already done: ${answer}` : answer, { undo: result.undo, requests: requests - before, from: ["unknown"] });
    setPendingState(db, a.entry, a.findingId, "acted", `action ${a.id}`, now().toISOString());
    return outcome(a, status, answer, requests, result.status === "done");
  } catch (err) {
    const detail = session.describe(err);
    if (opts.dryRun) return outcome(a, a.status, `would fail: ${detail}`, requests, false);
    set("failed", detail, { requests: 0 });
    return outcome(a, "failed", detail, requests, false);
  }
}

/** For a stale plan: actions a crash left unknown are read at the provider and recorded as they are; nothing is written. */
async function reconcileOnly(db: Db, config: Config, records: ActionRecord[], session: RemediationSession, opts: ApplyOptions, now: () => Date): Promise<ActionOutcome[]> {
  const out: ActionOutcome[] = [];
  for (const a of records) {
    if (a.status !== "unknown") continue;
    const source = config.sources.find((s) => s.id === a.source);
    let requests = 0;
    try {
      if (!source) throw new Error(`source ${a.source} is no longer configured`);
      const { remediator, ctx } = await session.remediation(source);
      const observed = await countedAction((n) => (requests += n), () => remediator.inspect(ctx, requestOf(a)));
      const done = observed.state === "already-done";
      const detail = done ? `reconciled: the provider shows it done (${session.redactor.redact(observed.detail)})` : `reconciled: not done at the provider (${observed.state}); the plan is stale, so it is not retried`;
      updateAction(db, a.id, { status: done ? "done" : "failed", at: now().toISOString(), actor: opts.approver, answer: detail, requests, ...(done && !a.undo && observed.undo ? { undo: JSON.stringify(observed.undo) } : {}) });
      out.push(outcome(a, done ? "done" : "failed", detail, requests, false));
    } catch (err) {
      out.push(outcome(a, "unknown", `still unknown: ${session.describe(err)}`, requests, false));
    }
  }
  return out;
}

export interface UndoOptions {
  actor: string;
  log: Logger;
  now?: () => Date;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  remediators?: RemediatorFactory;
}

/** Undoes actions by id, or every done action of a plan when `ref` is a plan id. */
export async function undoActions(config: Config, ref: string, opts: UndoOptions): Promise<ActionOutcome[]> {
  const now = opts.now ?? (() => new Date());
  const lock = acquireLock(config.store.path);
  const db = openStore(config.store.path);
  const session = new RemediationSession(opts.log, opts.signal ?? new AbortController().signal, opts.env, opts.remediators);
  try {
    const one = getAction(db, ref);
    const records = one ? [one] : getPlan(db, ref) ? actionsOfPlan(db, ref) : undefined;
    if (!records) throw new ApplyRefused(`${ref}: no action or plan with this id (see "whohas actions")`);
    const out: ActionOutcome[] = [];
    const limit = pLimit(config.remediation.concurrency);
    await Promise.all(
      records.map((a) =>
        limit(async () => {
          if (a.status !== "done" || !a.undo) {
            if (a.status === "done") out.push(outcome(a, a.status, "whohas cannot undo it: no undo data was recorded (reconciled after an interruption by a read that could not tell the earlier state); restore it at the provider", 0, false));
            else if (one) out.push(outcome(a, a.status, a.status === "undone" ? "already undone" : `nothing to undo: the action is ${a.status}`, 0, false));
            return;
          }
          const source = config.sources.find((s) => s.id === a.source);
          let requests = 0;
          try {
            if (!source) throw new Error(`source ${a.source} is no longer configured`);
            const { remediator, ctx } = await session.remediation(source);
            const data = JSON.parse(a.undo) as Attributes;
            const r = await countedAction((n) => (requests += n), () => remediator.undo(ctx, requestOf(a), data));
            const answer = session.redactor.redact(r.answer);
            updateAction(db, a.id, { status: "undone", at: now().toISOString(), actor: opts.actor, answer: r.status === "already-done" ? `undo: already so: ${answer}` : `undo: ${answer}`, requests }, ["done"]);
            out.push(outcome(a, "undone", answer, requests, r.status === "done"));
          } catch (err) {
            out.push(outcome(a, "done", `undo failed: ${session.describe(err)}`, requests, false));
          }
        }),
      ),
    );
    return out;
  } finally {
    await session.close();
    db.close();
    lock.release();
  }
}

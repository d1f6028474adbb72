// Computing a plan: the findings the `[[remediate]]` entries bind to actions, turned into actions on exact targets,
// each with the finding that justifies it and how it is undone. Reads the store and keeps the notice/grace
// bookkeeping; never talks to a provider. A scope whose latest collect was not ok gets no action; an entry with
// more due actions than its cap blocks the whole plan.
import { PlanError } from "./errors.js";
import { createHash, randomBytes } from "node:crypto";
import type { Config, RemediateEntry, SourceConfig } from "../config/load.js";
import { evaluate, type Finding } from "../rules/evaluate.js";
import type { Attributes } from "../model.js";
import { globMatcher } from "../glob.js";
import type { Db } from "../store/db.js";
import { comparableRuns, inventoryAt, type PrincipalView } from "../store/reader.js";
import { latestScopeRuns, listActions, pendingOf, recordPlan, setPendingState, updateAction, upsertPending, type NewAction, type PendingRecord } from "../store/actions.js";
import { CREDENTIAL_ACTIONS, IRREVERSIBLE_ACTIONS } from "./config-schema.js";
import type { ActionTarget, ActionType } from "./contract.js";

export { PlanError };
export const PLAN_SCHEMA = "whohas.plan/v1";
const DAY = 86_400_000;

export interface PlannedAction {
  id: string;
  entry: string;
  type: ActionType;
  source: string;
  scope: string;
  /** The run whose state this action was planned from: the scope's latest ok run. */
  runId: number;
  target: ActionTarget;
  finding: { id: string; rule: string; severity: string; subject: string; detail: string };
  reversible: boolean;
  undo: string;
}

export interface PlanNote {
  entry: string;
  findingId: string;
  subject: string;
  why: string;
  /** Pending: when the action becomes due (if known). */
  dueAt?: string;
  /** Pending and waiting for its notice: the account holder's address, when the inventory has one. */
  notify?: { email: string | null; action: ActionType };
}

export interface Plan {
  schema: typeof PLAN_SCHEMA;
  id: string;
  createdAt: string;
  config: string;
  /** The run each acted-on scope's state comes from. */
  runs: { source: string; scope: string; runId: number }[];
  actions: PlannedAction[];
  /** Findings an entry will act on once their grace or notice period ends. */
  pending: PlanNote[];
  /** Findings no action is planned for: excluded, break-glass, nothing to act on. */
  excluded: PlanNote[];
  /** Scopes that get no action: their latest collect was not ok. */
  skippedScopes: { source: string; scope: string; why: string }[];
  /** Why nothing of this plan may be applied (an entry over its max_actions_per_run). */
  blocked: string[];
  contentHash: string;
}

export interface PlanOptions {
  now?: Date;
  /** Only these entries (by name); default all. */
  entries?: string[];
}


/** The plan's content hash: sha256 over its JSON without the hash itself. */
export function planHash(plan: Omit<Plan, "contentHash"> & { contentHash?: string }): string {
  const { contentHash: _ignored, ...rest } = plan;
  return createHash("sha256").update(JSON.stringify(rest)).digest("hex");
}

function newPlanId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "").replace("T", "-");
  return `p${stamp}-${randomBytes(3).toString("hex")}`;
}

const scopeKey = (source: string, scope: string) => `${source}\u001f${scope}`;

/** "key" or "key=value" against the account's tags (an object or AWS-style list) or its attributes. */
function hasTag(attributes: Attributes | null, spec: string): boolean {
  if (!attributes) return false;
  const eq = spec.indexOf("=");
  const key = eq < 0 ? spec : spec.slice(0, eq);
  const want = eq < 0 ? undefined : spec.slice(eq + 1);
  const tags = attributes.tags as unknown;
  let value: unknown;
  if (tags && typeof tags === "object" && !Array.isArray(tags) && Object.hasOwn(tags, key)) value = (tags as Record<string, unknown>)[key];
  else if (Object.hasOwn(attributes, key)) value = attributes[key];
  else return false;
  return want === undefined || String(value) === want;
}

function exclusionOf(p: PrincipalView, entry: RemediateEntry, globalBreakGlass: (s: string) => boolean): string | null {
  const names = [`${p.source}/${p.scope}/${p.name}`, p.name, ...(p.email ? [p.email] : [])];
  if (p.kind === "root") return "root account: never acted on";
  if (names.some(globalBreakGlass) || names.some(globMatcher(entry.breakGlass))) return "break-glass account";
  if (names.some(globMatcher(entry.exclude))) return "excluded by the entry's exclude";
  const tag = entry.excludeTags.find((t) => hasTag(p.attributes, t));
  if (tag) return `excluded by tag ${tag}`;
  return null;
}

const CREDENTIAL_KIND_OF: Partial<Record<ActionType, string>> = { "deactivate-access-key": "access_key", "revoke-token": "pat" };

/** The targets one finding gives one action: its credential, the account's active credentials, its groups or roles. */
function targetsOf(action: ActionType, f: Finding, p: PrincipalView): ActionTarget[] {
  const principal = { id: p.id, name: p.name, kind: p.kind, attributes: p.attributes ?? {} };
  const base = { scope: p.scope, principal };
  if (CREDENTIAL_ACTIONS.has(action)) {
    const kind = CREDENTIAL_KIND_OF[action];
    const creds = p.credentials.filter((c) => (f.credentialId ? c.id === f.credentialId : c.status === "active") && c.kind === kind);
    return creds.map((c) => ({ ...base, credential: { id: c.id, kind: c.kind, name: c.name, attributes: c.attributes ?? {} } }));
  }
  // temporary-access-overdue names the privilege held too long after the account id: only that one goes.
  const privilege = f.rule === "temporary-access-overdue" && f.id.startsWith(`${f.rule}:${p.source}/${p.scope}/${p.id}/`) ? f.id.slice(`${f.rule}:${p.source}/${p.scope}/${p.id}/`.length) : undefined;
  const grants = p.grants.filter((g) => privilege === undefined || g.privilege === privilege);
  if (action === "remove-group-member") {
    const groups = new Set<string>();
    for (const g of grants) if (g.via === "group" && Array.isArray(g.attributes?.groups)) for (const name of g.attributes.groups) groups.add(name);
    // An account's groups that give no policy are still memberships to remove.
    if (privilege === undefined && Array.isArray(p.attributes?.groups)) for (const name of p.attributes.groups) groups.add(name);
    return [...groups].sort().map((group) => ({ ...base, grant: { privilege: `group:${group}`, scope: p.scope, attributes: { group } } }));
  }
  if (action === "remove-role-assignment") {
    return grants.filter((g) => g.via === "direct").map((g) => ({ ...base, grant: { privilege: g.privilege, scope: g.scope, attributes: g.attributes ?? {} } }));
  }
  if (action === "task" && f.credentialId) {
    const c = p.credentials.find((x) => x.id === f.credentialId);
    if (c) return [{ ...base, credential: { id: c.id, kind: c.kind, name: c.name, attributes: c.attributes ?? {} } }];
  }
  return [base];
}

function targetKey(type: ActionType, source: string, t: ActionTarget): string {
  return [type, source, t.scope, t.principal.id, t.credential?.id ?? "", t.grant?.privilege ?? ""].join("\u001f");
}

/** Last activity of what the finding is about: activity after the clock started restarts it. */
function activityOf(f: Finding, p: PrincipalView): string | null {
  if (f.credentialId) {
    const c = p.credentials.find((x) => x.id === f.credentialId);
    return c?.lastUsed.at ?? null;
  }
  return p.lastActive.at;
}

interface DueCheck {
  due: boolean;
  why: string;
  dueAt?: string;
}

function dueness(entry: RemediateEntry, r: PendingRecord, now: number): DueCheck {
  const graceEnd = Date.parse(r.firstSeen) + entry.graceDays * DAY;
  if (entry.notifyBeforeDays > 0) {
    if (!r.notifiedAt) return { due: false, why: `waiting for its notice (${entry.notifyBeforeDays} day(s) before the action)` };
    const end = Math.max(graceEnd, Date.parse(r.notifiedAt) + entry.notifyBeforeDays * DAY);
    if (now < end) return { due: false, why: `notice sent ${r.notifiedAt.slice(0, 10)} to ${r.notifiedTo ?? "(no address)"}`, dueAt: new Date(end).toISOString() };
    return { due: true, why: "notice period over" };
  }
  if (now < graceEnd) return { due: false, why: `grace period (${entry.graceDays} day(s))`, dueAt: new Date(graceEnd).toISOString() };
  return { due: true, why: "due" };
}

/**
 * Computes a plan from the store's latest state and records it (with the bookkeeping of pending findings).
 * `db` must be writable; nothing is sent to any provider.
 */
export function computePlan(db: Db, config: Config, opts: PlanOptions = {}): Plan {
  const now = opts.now ?? new Date();
  const entries = config.remediate.filter((e) => !opts.entries || opts.entries.includes(e.name));
  if (opts.entries) {
    const unknown = opts.entries.filter((n) => !config.remediate.some((e) => e.name === n));
    if (unknown.length > 0) throw new PlanError(`unknown [[remediate]] entry ${unknown.join(", ")}; configured: ${config.remediate.map((e) => e.name).join(", ") || "none"}`);
  }
  if (entries.length === 0) throw new PlanError(`${config.file}: no [[remediate]] entries: nothing to plan`);
  const latest = comparableRuns(db, 1)[0];
  if (!latest) throw new PlanError(`no collected run in ${config.store.path}: run "whohas collect" first`);

  const sourcesById = new Map<string, SourceConfig>(config.sources.map((s) => [s.id, s]));
  const wantedSources = new Set(entries.flatMap((e) => e.sources));
  const rules = new Set<string>(entries.map((e) => e.rule));
  const findings = evaluate(db, config, latest.id).findings.filter((f) => rules.has(f.rule) && wantedSources.has(f.source) && f.principalId !== undefined);

  // Scope health: only scopes whose newest collect ended ok are acted on, from that run's state.
  const scopeRuns = latestScopeRuns(db);
  const skippedScopes: Plan["skippedScopes"] = [];
  const okScopes = new Map<string, number>();
  for (const f of findings) {
    const k = scopeKey(f.source, f.scope);
    if (okScopes.has(k) || skippedScopes.some((s) => scopeKey(s.source, s.scope) === k)) continue;
    const r = scopeRuns.get(k);
    if (r && r.status === "ok") okScopes.set(k, r.runId);
    else skippedScopes.push({ source: f.source, scope: f.scope, why: r ? `its latest collect (run ${r.runId}) was ${r.status}: no action until a collect of it succeeds` : "never collected" });
  }

  const neededPrincipals = new Set(findings.map((f) => `${f.source}/${f.scope}/${f.principalId}`));
  const principals = new Map<string, PrincipalView>();
  for (const p of inventoryAt(db, latest.id, { source: [...wantedSources] })) {
    const k = `${p.source}/${p.scope}/${p.id}`;
    if (neededPrincipals.has(k)) principals.set(k, p);
  }

  const planId = newPlanId(now);
  const at = now.toISOString();
  const globalBreakGlass = globMatcher(config.remediation.breakGlass);
  const actions: PlannedAction[] = [];
  const pending: PlanNote[] = [];
  const excluded: PlanNote[] = [];
  const blocked: string[] = [];
  const seen = new Set<string>();
  const usedRuns = new Map<string, { source: string; scope: string; runId: number }>();

  return db.transaction((): Plan => {
    // Tasks issued to a system's owner are done once an ok import no longer shows their finding.
    const current = new Set(findings.map((f) => f.id));
    for (const a of listActions(db, { status: ["applied"] })) {
      const r = scopeRuns.get(scopeKey(a.source, a.scope));
      if (a.type === "task" && r?.status === "ok" && r.runId > a.runId && !current.has(a.findingId)) {
        updateAction(db, a.id, { status: "done", at, answer: `the import of run ${r.runId} no longer shows the finding: done by the owner` });
      }
    }
    for (const entry of entries) {
      const sources = new Set(entry.sources);
      const book = pendingOf(db, entry.name);
      const stillFound = new Set<string>();
      const due: PlannedAction[] = [];
      for (const f of findings) {
        if (f.rule !== entry.rule || !sources.has(f.source)) continue;
        const runId = okScopes.get(scopeKey(f.source, f.scope));
        if (runId === undefined) continue;
        const note = (why: string, dueAt?: string): PlanNote => ({ entry: entry.name, findingId: f.id, subject: f.subject, why, ...(dueAt ? { dueAt } : {}) });
        const p = principals.get(`${f.source}/${f.scope}/${f.principalId}`);
        if (!p) {
          excluded.push(note("the account is no longer in the inventory"));
          continue;
        }
        const exclusion = exclusionOf(p, entry, globalBreakGlass);
        if (exclusion) {
          excluded.push(note(exclusion));
          continue;
        }
        const targets = targetsOf(entry.action, f, p);
        if (targets.length === 0) {
          excluded.push(note(`nothing for ${entry.action} to act on`));
          continue;
        }
        stillFound.add(f.id);
        // The clock: started when the entry first saw the finding, restarted by activity since.
        const activity = activityOf(f, p);
        let record = book.get(f.id);
        if (!record || record.state !== "pending" || record.activity !== activity) {
          const restarted = record !== undefined && record.state === "pending" && record.activity !== activity;
          upsertPending(db, { entry: entry.name, findingId: f.id, source: f.source, scope: f.scope, principalId: p.id, subject: f.subject, firstSeen: at, activity }, at);
          record = { entry: entry.name, findingId: f.id, source: f.source, scope: f.scope, principalId: p.id, subject: f.subject, firstSeen: at, activity, notifiedAt: null, notifiedTo: null, state: "pending", reason: restarted ? "activity restarted the clock" : null };
        }
        const d = dueness(entry, record, now.getTime());
        if (!d.due) {
          const waiting = entry.notifyBeforeDays > 0 && !record.notifiedAt;
          pending.push({ ...note(d.why, d.dueAt), ...(waiting ? { notify: { email: p.email, action: entry.action } } : {}) });
          continue;
        }
        const doc = sourcesById.get(f.source)?.connector.actions?.find((a) => a.type === entry.action);
        for (const target of targets) {
          const key = targetKey(entry.action, f.source, target);
          if (seen.has(key)) continue;
          seen.add(key);
          due.push({
            id: `${planId}-${actions.length + due.length + 1}`,
            entry: entry.name,
            type: entry.action,
            source: f.source,
            scope: f.scope,
            runId,
            target,
            finding: { id: f.id, rule: f.rule, severity: f.severity, subject: f.subject, detail: f.detail },
            reversible: doc?.reversible ?? !IRREVERSIBLE_ACTIONS.has(entry.action),
            undo: doc?.undo ?? (IRREVERSIBLE_ACTIONS.has(entry.action) ? "irreversible" : "see the connector's README"),
          });
          usedRuns.set(scopeKey(f.source, f.scope), { source: f.source, scope: f.scope, runId });
        }
      }
      // A finding that went away (activity, a fix by hand, an exclusion) cancels what was pending for it.
      for (const r of book.values()) {
        if (r.state === "pending" && !stillFound.has(r.findingId)) setPendingState(db, entry.name, r.findingId, "cancelled", "the finding is gone (activity, or fixed meanwhile)", at);
      }
      if (due.length > entry.maxActionsPerRun) {
        blocked.push(`${entry.name}: ${due.length} actions exceed max_actions_per_run = ${entry.maxActionsPerRun}; nothing of this plan may be applied (a broken collect must never disable half the company): check the findings, then raise the cap or narrow the entry`);
      }
      actions.push(...due);
    }
    // Ids in plan order, numbered once every entry is in.
    actions.forEach((a, i) => (a.id = `${planId}-${i + 1}`));
    const body: Omit<Plan, "contentHash"> = {
      schema: PLAN_SCHEMA,
      id: planId,
      createdAt: at,
      config: config.file,
      runs: [...usedRuns.values()].sort((a, b) => a.source.localeCompare(b.source) || a.scope.localeCompare(b.scope)),
      actions,
      pending,
      excluded,
      skippedScopes,
      blocked,
    };
    const contentHash = planHash(body);
    recordPlan(db, { id: planId, createdAt: at, contentHash, file: null, actions: actions.length, blocked }, actions.map(toNewAction));
    return { ...body, contentHash };
  })();
}

export function toNewAction(a: PlannedAction): NewAction {
  return {
    id: a.id,
    entry: a.entry,
    type: a.type,
    source: a.source,
    scope: a.scope,
    runId: a.runId,
    principalId: a.target.principal.id,
    principalName: a.target.principal.name,
    credentialId: a.target.credential?.id ?? null,
    credentialName: a.target.credential?.name ?? null,
    grantPrivilege: a.target.grant?.privilege ?? null,
    target: JSON.stringify(a.target),
    findingId: a.finding.id,
    rule: a.finding.rule,
  };
}

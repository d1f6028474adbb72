// Rules over a run's state (and its diff from the previous run) → findings. The clock is the run's own start
// time, so evaluating an old run again gives the same findings: evidence is reproducible.
import type { Config, SourceConfig, Suppression } from "../config/load.js";
import type { Policy } from "../config/schema.js";
import type { Db } from "../store/db.js";
import { getRun, inventoryAt, principalStandingAt, scopesAsOf, type CredentialView, type PrincipalView, type RunRow } from "../store/reader.js";
import { scopeWindow, type DiffResult, type EntityRef } from "../diff/differ.js";
import { ATTR, META, type AccessLevel, type PrincipalKind } from "../model.js";
import { personKey } from "../diff/identity.js";
import { severityRank, type RuleId, type Severity } from "../vocabulary.js";
import { RULES } from "./rules.js";
import { matchSuppression } from "./suppress.js";
import { attributionText, mustBeExplained, type Attribution } from "../events/attribute.js";
import { eventRules, indexWants, InventoryIndex, type Offboarded } from "../events/rules.js";
import { queryEvents, versionSince, type StoredEvent } from "../store/events.js";

export interface Finding {
  /** Stable across runs: rule + the subject's provider ids. Suppressions and "new" use it. */
  id: string;
  rule: RuleId;
  severity: Severity;
  title: string;
  source: string;
  scope: string;
  /** Human-readable: source/scope/account[/credential]. */
  subject: string;
  principalId?: string;
  credentialId?: string;
  detail: string;
  controls: string[];
  /** Not present in the previous run's findings. */
  new: boolean;
  /** A suppression that has run out: the finding is back. */
  suppressionExpired?: { reason: string; until: string };
}

export interface Evaluation {
  run: RunRow;
  previousRun: RunRow | null;
  evaluatedAt: string;
  findings: Finding[];
  suppressed: { finding: Finding; reason: string; until: string; addedBy?: string }[];
}

const DAY = 86_400_000;
const ACCESS_KEY_KINDS = new Set(["access_key", "service_account_key"]);
const ROTATABLE = new Set(["access_key", "client_secret", "pat", "service_account_key", "app_password", "ssh_key", "deploy_key", "certificate"]);
const day = (iso: string) => iso.slice(0, 10);
const ADMIN_NAMES_SHOWN = 20;

interface Ctx {
  now: number;
  sources: Map<string, SourceConfig>;
  policyOf(source: string): Policy;
  temporaryPatterns(source: string): RegExp[];
  isProvider(source: string): boolean;
  aliases: Record<string, string>;
  add(f: Omit<Finding, "id" | "severity" | "title" | "controls" | "new"> & { severity?: Severity; key: string }, presence?: Presence): void;
}

/**
 * Where a finding shows: in this evaluation, and in an evaluation of the run's state alone (no diff). The
 * next run's "new" compares with the latter, so a stored evaluation records both.
 */
export interface Presence {
  inRun: boolean;
  inState: boolean;
}
const FROM_STATE: Presence = { inRun: true, inState: true };
const FROM_CHANGES: Presence = { inRun: true, inState: false };

export function evaluate(db: Db, config: Config, runId: number, diff?: DiffResult, withPrevious = true): Evaluation {
  const run = getRun(db, runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  // The previous run's finding ids mark what is new; only ids are kept of it, never its findings.
  const previousIds = withPrevious && diff ? findingIds(db, config, diff.from.id) : undefined;
  const found = new Map<string, Finding>();
  const now = runRules(db, config, run, diff, (id, make, presence) => {
    if (presence.inRun) found.set(id, make(previousIds ? !previousIds.has(id) : false));
  });
  const previousRun = withPrevious && diff ? diff.from : null;
  return { run, previousRun, evaluatedAt: new Date(now).toISOString(), ...applySuppressions([...found.values()], config.suppress, now) };
}

/** The ids of every finding of a run (suppressed ones included), without building the findings. */
export function findingIds(db: Db, config: Config, runId: number): Set<string> {
  const run = getRun(db, runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  const ids = new Set<string>();
  runRules(db, config, run, undefined, (id) => ids.add(id));
  return ids;
}

/**
 * Streams every finding of run `runId` (against `diff` when given) to `emit` as the rules find it, with
 * where it shows; nothing is collected here. A finding found twice is emitted twice: the later one wins.
 */
export function streamFindings(db: Db, config: Config, runId: number, diff: DiffResult | undefined, emit: (f: Finding, presence: Presence) => void): void {
  const run = getRun(db, runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  runRules(db, config, run, diff, (_id, make, presence) => emit(make(false), presence));
}

type Emit = (id: string, make: (isNew: boolean) => Finding, presence: Presence) => void;

/** Runs every rule over a run's state (and its diff); returns the clock it judged by, the run's start. */
function runRules(db: Db, config: Config, run: RunRow, diff: DiffResult | undefined, emit: Emit): number {
  const runId = run.id;
  const now = Date.parse(run.startedAt);
  const sources = new Map(config.sources.map((s) => [s.id, s]));
  const providers = config.identity.providers
    ? new Set(config.identity.providers)
    : new Set(config.sources.filter((s) => s.connector.identityProvider).map((s) => s.id));
  const patterns = new Map<string, RegExp[]>();
  const ctx: Ctx = {
    now,
    sources,
    policyOf: (source) => sources.get(source)?.policy ?? config.policy,
    temporaryPatterns: (source) => {
      let re = patterns.get(source);
      if (!re) patterns.set(source, (re = ctx.policyOf(source).temporary_patterns.map((s) => new RegExp(s, "i"))));
      return re;
    },
    isProvider: (source) => providers.has(source),
    aliases: config.identity.aliases,
    add(f, presence = FROM_STATE) {
      const info = RULES[f.rule];
      const { key, ...rest } = f;
      // title and controls are shared with the catalogue: a million findings must not copy them a million times.
      emit(
        `${f.rule}:${key}`,
        (isNew) => ({ ...rest, id: `${f.rule}:${key}`, severity: f.severity ?? info.severity, title: info.title, controls: info.controls as unknown as string[], new: isNew }),
        presence,
      );
    },
  };

  const scopes = scopesAsOf(db, runId).filter((s) => s.okRun !== null);
  const scopeMeta = new Map(scopes.map((s) => [`${s.source}/${s.scope}`, s]));

  // Pass 1: who has left, according to the identity providers.
  const leavers = findLeavers(db, runId, ctx, diff);

  // Pass 2: every principal.
  // Per scope, the administrators' count and the first names the finding shows: not every name.
  const perScope = new Map<string, { admins: number; adminNames: string[]; unknownActivity: number; source: string; scope: string }>();
  for (const p of inventoryAt(db, runId)) {
    const key = `${p.source}/${p.scope}`;
    let agg = perScope.get(key);
    if (!agg) perScope.set(key, (agg = { admins: 0, adminNames: [], unknownActivity: 0, source: p.source, scope: p.scope }));
    if (p.status === "active" && p.accessLevel === "admin" && (p.kind === "human" || p.kind === "guest" || p.kind === "external")) {
      if (agg.admins++ < ADMIN_NAMES_SHOWN) agg.adminNames.push(p.name);
    }
    if (p.status === "active" && !p.lastActive.known && p.attributes?.[ATTR.sameAs] === undefined) agg.unknownActivity++;
    principalRules(p, ctx, leavers, scopeMeta.get(key)?.inRun?.meta ?? null);
  }

  for (const agg of perScope.values()) {
    const policy = ctx.policyOf(agg.source);
    const base = { source: agg.source, scope: agg.scope, subject: `${agg.source}/${agg.scope}` };
    if (ctx.isProvider(agg.source)) {
      if (agg.admins > policy.max_admins) {
        ctx.add({ ...base, rule: "too-many-admins", key: base.subject, detail: `${agg.admins} active administrators (policy: at most ${policy.max_admins}): ${agg.adminNames.join(", ")}` });
      }
      if (agg.admins < policy.min_admins) {
        ctx.add({ ...base, rule: "too-few-admins", key: base.subject, detail: `${agg.admins} active administrator(s) (policy: at least ${policy.min_admins} for break-glass coverage)` });
      }
    }
    if (agg.unknownActivity > 0) {
      const meta = scopeMeta.get(base.subject)?.inRun?.meta;
      const why = meta?.[META.activityUnknownReason];
      const reason = typeof why === "string" ? `: ${why}` : "";
      ctx.add({ ...base, rule: "cannot-assess", key: base.subject, detail: `${agg.unknownActivity} active account(s) with unknown last activity${reason}; they are not reported as dormant` });
    }
  }

  if (diff) {
    diffRules(diff, ctx);
    const events = [...queryEvents(db, { since: diff.from.startedAt, until: run.finishedAt ?? new Date(now).toISOString() })];
    if (events.length > 0) runEventRules(db, config, runId, events, ctx, leavers, diff);
  }
  return now;
}

/** The event rules over `events`, judged against run `runId`'s accounts that they (or the leavers) name; returns that index. */
function runEventRules(db: Db, config: Config, runId: number, events: StoredEvent[], ctx: Ctx, leavers: Map<string, Leaver>, diff?: DiffResult): InventoryIndex {
  const inventory = new InventoryIndex(inventoryAt(db, runId), ctx.aliases, indexWants(events, ctx.aliases, leavers.keys()));
  const offboarded = new Map<string, Offboarded>();
  for (const [person, leaver] of leavers) {
    const times: string[] = [];
    for (const a of inventory.byPerson.get(person) ?? []) {
      if (!leaver.sources.has(a.source) || a.status === "active" || a.status === "invited") continue;
      const off = [...queryEvents(db, { sources: [a.source], scope: a.scope, targetIds: [a.id], actions: ["account.disable", "account.delete"] })].filter((e) => e.outcome !== "failure").pop();
      const t = off?.at ?? versionSince(db, a.source, a.scope, a.id, runId);
      if (t) times.push(t);
    }
    // Removed from the identity provider: gone by the run that no longer saw them.
    const at = times.sort().pop() ?? diff?.to.startedAt;
    if (at) offboarded.set(person, { person, at, why: leaver.why });
  }
  eventRules(events, { policyOf: ctx.policyOf, aliases: config.identity.aliases, inventory, offboarded }, (f) => {
    const { severity, ...rest } = f;
    ctx.add({ ...rest, ...(severity ? { severity } : {}) });
  });
  return inventory;
}

/**
 * Findings of the event rules alone over `events` (the watch's freshly polled ones), judged against run
 * `runId`'s inventory; with the index they were judged by, so the caller asks it again rather than building another.
 */
export function eventFindings(db: Db, config: Config, runId: number, events: StoredEvent[]): { findings: Finding[]; inventory: InventoryIndex } {
  const run = getRun(db, runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  const out: Finding[] = [];
  const sources = new Map(config.sources.map((s) => [s.id, s]));
  const providers = config.identity.providers ? new Set(config.identity.providers) : new Set(config.sources.filter((s) => s.connector.identityProvider).map((s) => s.id));
  const ctx: Ctx = {
    now: Date.now(),
    sources,
    policyOf: (source) => sources.get(source)?.policy ?? config.policy,
    temporaryPatterns: () => [],
    isProvider: (source) => providers.has(source),
    aliases: config.identity.aliases,
    add(f) {
      const info = RULES[f.rule];
      const { key, ...rest } = f;
      out.push({ ...rest, id: `${f.rule}:${key}`, severity: f.severity ?? info.severity, title: info.title, controls: info.controls as unknown as string[], new: true });
    },
  };
  const inventory = runEventRules(db, config, runId, events, ctx, findLeavers(db, runId, ctx));
  return { findings: out, inventory };
}

/** A suppression in force at `now` hides the finding; one that ran out marks it. */
export function suppressionOf(
  rules: Suppression[],
  f: { rule: string; subject: string; id: string },
  now: number,
): { active: boolean; reason: string; until: string; addedBy?: string } | undefined {
  const s = matchSuppression(rules, f);
  if (!s) return undefined;
  return { active: Date.parse(`${s.until}T23:59:59.999Z`) >= now, reason: s.reason, until: s.until, ...(s.added_by ? { addedBy: s.added_by } : {}) };
}

/**
 * The report's order: most severe first, then rule, then subject; ties keep the order the rules found them.
 * Plain code-unit comparison, not localeCompare: the store sorts stored findings the same way (SQLite's
 * BINARY collation), so a report streamed from the store and one evaluated in memory agree.
 */
const codeUnitOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
export const byReportOrder = (a: Pick<Finding, "severity" | "rule" | "subject">, b: Pick<Finding, "severity" | "rule" | "subject">) =>
  severityRank(b.severity) - severityRank(a.severity) || codeUnitOrder(a.rule, b.rule) || codeUnitOrder(a.subject, b.subject);

export function applySuppressions(all: Iterable<Finding>, rules: Suppression[], now: number): Pick<Evaluation, "findings" | "suppressed"> {
  const findings: Finding[] = [];
  const suppressed: Evaluation["suppressed"] = [];
  for (const f of all) {
    const s = suppressionOf(rules, f, now);
    if (!s) findings.push(f);
    else if (s.active) suppressed.push({ finding: f, reason: s.reason, until: s.until, ...(s.addedBy ? { addedBy: s.addedBy } : {}) });
    else findings.push({ ...f, suppressionExpired: { reason: s.reason, until: s.until } });
  }
  findings.sort(byReportOrder);
  return { findings, suppressed };
}

interface Leaver {
  /** "disabled in entra/tenant", "removed from google/customer in run 12" */
  why: string;
  /** The identity-provider sources that say so. */
  sources: Set<string>;
  /** The same from the run's state alone (removals seen in the diff left out): what a state-only evaluation says. */
  stateWhy: string;
  stateSources: Set<string>;
}

/**
 * People an identity provider says have left: suspended, disabled or removed there, with no active account
 * left in that same source (a re-hire's new account counts). Being active in another source is exactly the
 * leaver gap this looks for, so it does not clear them.
 */
function findLeavers(db: Db, runId: number, ctx: Ctx, diff?: DiffResult): Map<string, Leaver> {
  const left = new Map<string, { source: string; why: string; fromDiff: boolean }[]>();
  const note = (key: string, source: string, why: string, fromDiff = false) => left.set(key, [...(left.get(key) ?? []), { source, why, fromDiff }]);
  const providerSources = [...ctx.sources.keys()].filter((s) => ctx.isProvider(s));
  if (providerSources.length === 0) return new Map();
  const kind: PrincipalKind[] = ["human", "guest"];
  for (const p of principalStandingAt(db, runId, { source: providerSources, kind, standing: false })) {
    const key = personKey(p, ctx.aliases);
    if (key) note(key, p.source, `${p.status} in ${p.source}/${p.scope} (${p.name})`);
  }
  for (const r of diff?.principals.removed ?? []) {
    if (!ctx.isProvider(r.source)) continue;
    const key = personKey({ source: r.source, name: r.name, email: (r.row.email as string | null) ?? null }, ctx.aliases);
    if (!key) continue;
    const window = scopeWindow(diff!, r.source, r.scope);
    note(key, r.source, `removed from ${r.source}/${r.scope} in run ${diff!.to.id}${window ? ` (${window})` : ""} (${r.name})`, true);
  }
  if (left.size === 0) return new Map();
  // A second read of the active accounts keeps only those of people noted above: the set stays as small as
  // the leavers, where remembering every active account would grow with the run.
  const activeIn = new Set<string>();
  const noted = [...new Set([...left.values()].flatMap((reasons) => reasons.map((r) => r.source)))];
  for (const p of principalStandingAt(db, runId, { source: noted, kind, standing: true })) {
    const key = personKey(p, ctx.aliases);
    if (key && left.has(key)) activeIn.add(`${key}\u001f${p.source}`);
  }
  const leavers = new Map<string, Leaver>();
  for (const [key, reasons] of left) {
    const standing = reasons.filter((r) => !activeIn.has(`${key}\u001f${r.source}`));
    const fromState = standing.filter((r) => !r.fromDiff);
    if (standing.length > 0) {
      leavers.set(key, {
        why: standing.map((r) => r.why).join("; "),
        sources: new Set(standing.map((r) => r.source)),
        stateWhy: fromState.map((r) => r.why).join("; "),
        stateSources: new Set(fromState.map((r) => r.source)),
      });
    }
  }
  return leavers;
}

function olderThan(iso: string | null | undefined, days: number, now: number): boolean {
  return iso !== null && iso !== undefined && Date.parse(iso) < now - days * DAY;
}

function principalRules(p: PrincipalView, ctx: Ctx, leavers: Map<string, Leaver>, scopeMeta: Record<string, unknown> | null): void {
  const policy = ctx.policyOf(p.source);
  const subject = `${p.source}/${p.scope}/${p.name}`;
  const key = `${p.source}/${p.scope}/${p.id}`;
  const base = { source: p.source, scope: p.scope, subject, principalId: p.id };
  const active = p.status === "active";
  const admin = p.accessLevel === "admin";
  const thirdParty = p.attributes?.[ATTR.thirdParty] === true;
  const activeCreds = p.credentials.filter((c) => c.status === "active");
  // A group holding a role is what the provider says it is; anything else unlisted is unknown.
  if (p.attributes?.[ATTR.unresolved] === true && p.attributes[ATTR.claimedKind] !== "group") unresolvedRule(p, ctx, base, key);

  if (active) {
    // Dormancy: unknown is never dormant; never-active counts only once the account is old enough.
    const a = p.lastActive;
    if (a.known && !thirdParty) {
      if (a.at && olderThan(a.at, policy.dormant_after_days, ctx.now)) {
        ctx.add({ ...base, rule: "dormant-account", key, severity: admin ? "high" : undefined, detail: `last active ${day(a.at)}${a.signal ? ` (${a.signal})` : ""}, over ${policy.dormant_after_days} days before this run${admin ? "; holds admin access" : ""}` });
      } else if (!a.at && olderThan(p.createdAt, policy.dormant_after_days, ctx.now)) {
        ctx.add({ ...base, rule: "dormant-account", key, severity: admin ? "high" : undefined, detail: `never active since it was created ${day(p.createdAt!)}${admin ? "; holds admin access" : ""}` });
      }
    }
    if (admin && p.mfa === "disabled" && (p.kind === "human" || p.kind === "root" || p.kind === "guest" || p.kind === "external")) {
      ctx.add({ ...base, rule: "admin-without-mfa", key, severity: p.kind === "root" ? "critical" : undefined, detail: `${p.kind} account with ${p.accessLevel} access and MFA disabled` });
    }
    if (admin && (p.kind === "guest" || p.kind === "external" || p.kind === "bot" || p.kind === "service" || thirdParty)) {
      const who = thirdParty ? "third-party" : p.kind;
      const via = p.grants.filter((g) => g.level === "admin").map((g) => g.privilege).join(", ");
      ctx.add({ ...base, rule: "risky-admin", key, severity: p.kind === "service" && !thirdParty ? "medium" : undefined, detail: `${who} account holds admin access${via ? ` via ${via}` : ""}` });
    }
    temporaryRules(p, ctx, base, key, policy);
    if (thirdParty && p.lastActive.known) {
      const at = p.lastActive.at;
      if ((at && olderThan(at, policy.dormant_after_days, ctx.now)) || (!at && olderThan(p.createdAt, policy.dormant_after_days, ctx.now))) {
        ctx.add({ ...base, rule: "stale-third-party", key, detail: at ? `third-party access last used ${day(at)}` : `third-party access never used since ${day(p.createdAt!)}` });
      }
    }
    const person = personKey(p, ctx.aliases);
    const leaver = person ? leavers.get(person) : undefined;
    if (leaver) {
      const inRun = !leaver.sources.has(p.source);
      const inState = leaver.stateSources.size > 0 && !leaver.stateSources.has(p.source);
      const what = [admin ? "admin access" : `${p.accessLevel} access`, activeCreds.length > 0 ? `${activeCreds.length} active credential(s)` : ""].filter(Boolean).join(" and ");
      const why = inRun ? leaver.why : leaver.stateWhy;
      if (inRun || inState) {
        ctx.add({ ...base, rule: "orphaned-access", key, severity: admin ? "critical" : undefined, detail: `${person} is ${why} but still active here with ${what}` }, { inRun, inState });
      }
    }
  }

  if (p.kind === "root" && activeCreds.some((c) => c.kind === "access_key")) {
    ctx.add({ ...base, rule: "root-access-key", key, detail: `root account has ${activeCreds.filter((c) => c.kind === "access_key").length} active access key(s)` });
  }
  for (const kind of ACCESS_KEY_KINDS) {
    const keys = activeCreds.filter((c) => c.kind === kind);
    if (keys.length > 1) ctx.add({ ...base, rule: "multiple-active-keys", key: `${key}/${kind}`, detail: `${keys.length} active ${kind.replace(/_/g, " ")}s` });
  }
  if (active || p.kind === "service" || p.kind === "bot" || p.kind === "unknown") {
    for (const c of p.credentials) credentialRules(p, c, ctx, base, policy, scopeMeta);
  }
}

/** Severity follows the strongest access the unknown holder has: admin high, privileged or write medium, else low. */
const UNRESOLVED_SEVERITY: Record<AccessLevel, Severity> = { admin: "high", privileged: "medium", write: "medium", read: "low", none: "low" };

function unresolvedRule(p: PrincipalView, ctx: Ctx, base: { source: string; scope: string; subject: string; principalId: string }, key: string): void {
  const claimed = p.attributes?.[ATTR.claimedKind];
  const strongest = p.grants.filter((g) => g.level === p.accessLevel).map((g) => g.privilege);
  const holds = [
    p.grants.length > 0 ? `${p.accessLevel} access via ${strongest.slice(0, 5).join(", ")}${strongest.length > 5 ? ", …" : ""}` : "",
    p.credentials.length > 0 ? `${p.credentials.length} credential(s)` : "",
  ].filter(Boolean).join(" and ");
  const why = typeof p.attributes?.reason === "string" ? p.attributes.reason : "no listing of this scope returned it";
  ctx.add({
    ...base,
    rule: "unresolved-grantee",
    key,
    severity: UNRESOLVED_SEVERITY[p.accessLevel],
    detail: `principal ${p.id}${typeof claimed === "string" ? ` (the provider says: ${claimed})` : ""} holds ${holds || "nothing any more"}, but ${why}`,
  });
}

function temporaryRules(p: PrincipalView, ctx: Ctx, base: { source: string; scope: string; subject: string; principalId: string }, key: string, policy: Policy): void {
  const endsAttr = p.attributes?.[ATTR.accessExpiresAt];
  const ends = typeof endsAttr === "string" ? endsAttr : null;
  if (ends && Date.parse(ends) < ctx.now) {
    ctx.add({ ...base, rule: "temporary-access-overdue", key, detail: `access was to end ${day(ends)} but the account is still active` });
    return;
  }
  const temporary = ctx.temporaryPatterns(p.source).some((re) => re.test(p.name) || (p.email ? re.test(p.email) : false));
  if (!temporary) return;
  for (const g of p.grants) {
    if (g.level !== "admin" || !g.since) continue;
    if (olderThan(g.since, policy.temporary_admin_max_days, ctx.now)) {
      ctx.add({ ...base, rule: "temporary-access-overdue", key: `${key}/${g.privilege}`, detail: `temporary account has held admin ${g.privilege} since ${day(g.since)}, over ${policy.temporary_admin_max_days} days` });
    }
  }
}

function credentialRules(
  p: PrincipalView,
  c: CredentialView,
  ctx: Ctx,
  base: { source: string; scope: string; subject: string; principalId: string },
  policy: Policy,
  scopeMeta: Record<string, unknown> | null,
): void {
  const label = `${c.kind} ${c.name ?? (c.id.length > 8 ? `…${c.id.slice(-4)}` : c.id)}`;
  const sub = { ...base, subject: `${base.subject}/${label}`, credentialId: c.id };
  const key = `${p.source}/${p.scope}/${p.id}/${c.id}`;
  const asOf = scopeMeta?.[META.activityAsOf];
  const freshness = typeof asOf === "string" ? ` (provider data as of ${asOf})` : "";
  if (c.expiresAt && Date.parse(c.expiresAt) <= ctx.now) {
    ctx.add({ ...sub, rule: "credential-expired", key, detail: `expired ${day(c.expiresAt)} and still present` });
    return;
  }
  if (c.status !== "active") return;
  if (c.expiresAt && Date.parse(c.expiresAt) <= ctx.now + policy.expiring_within_days * DAY) {
    ctx.add({ ...sub, rule: "credential-expiring", key, detail: `expires ${day(c.expiresAt)}, within ${policy.expiring_within_days} days` });
  }
  if (ROTATABLE.has(c.kind) && olderThan(c.createdAt, policy.rotate_after_days, ctx.now)) {
    ctx.add({ ...sub, rule: "credential-rotation", key, detail: `created ${day(c.createdAt!)}, over ${policy.rotate_after_days} days ago` });
  }
  // Unused: unknown stays unknown; a credential created or rotated within the window is in its grace period.
  const u = c.lastUsed;
  if (!u.known || !c.createdAt || !olderThan(c.createdAt, policy.unused_credential_days, ctx.now)) return;
  const rule = c.kind === "oauth_grant" ? "stale-third-party" : "unused-credential";
  if (u.at && olderThan(u.at, policy.unused_credential_days, ctx.now)) {
    ctx.add({ ...sub, rule, key, detail: `last used ${day(u.at)}, over ${policy.unused_credential_days} days before this run${freshness}` });
  } else if (!u.at) {
    ctx.add({ ...sub, rule, key, detail: `never used since it was created ${day(c.createdAt)}${freshness}` });
  }
}

/** " — by ann at 2026-11-27 14:02 UTC from 203.0.113.7" after a change finding's detail, where known. */
const byWhom = (x: { attribution?: Attribution }) => (x.attribution ? ` — ${attributionText(x.attribution)}` : "");

function diffRules(diff: DiffResult, ctx: Ctx): void {
  // A change found in a scope compared across its outage says when it could have happened.
  const when0 = (source: string, scope: string) => {
    const w = scopeWindow(diff, source, scope);
    return `in run ${diff.to.id}${w ? ` (${w})` : ""}`;
  };
  let current: { attribution?: Attribution } = {};
  const when = (source: string, scope: string) => when0(source, scope) + byWhom(current);
  const added = new Set(diff.principals.added.map((p) => `${p.source}/${p.scope}/${p.id}`));
  for (const a of diff.accessLevels) {
    if (a.direction !== "up") continue;
    current = a;
    const base = { source: a.source, scope: a.scope, subject: `${a.source}/${a.scope}/${a.name}`, principalId: a.principalId };
    const key = `${a.source}/${a.scope}/${a.principalId}`;
    if (a.after === "admin") ctx.add({ ...base, rule: "new-admin", key, detail: `access level ${a.before} → admin ${when(a.source, a.scope)}` }, FROM_CHANGES);
    else ctx.add({ ...base, rule: "privilege-escalation", key, detail: `access level ${a.before} → ${a.after} ${when(a.source, a.scope)}` }, FROM_CHANGES);
  }
  for (const p of diff.principals.added) {
    current = p;
    if (p.row.access_level === "admin" || (p.row.level as string | undefined) === "admin") {
      ctx.add({ source: p.source, scope: p.scope, subject: `${p.source}/${p.scope}/${p.name}`, principalId: p.id, rule: "new-admin", key: `${p.source}/${p.scope}/${p.id}`, detail: `new account with admin access ${when(p.source, p.scope)}` }, FROM_CHANGES);
    }
  }
  // A new account whose admin comes from a grant: the grant is in grants.added.
  for (const g of diff.grants.added) {
    const pk = `${g.source}/${g.scope}/${g.principalId}`;
    if (g.row.level !== "admin" || !added.has(pk)) continue;
    current = g;
    ctx.add({ source: g.source, scope: g.scope, subject: `${g.source}/${g.scope}/${g.principalName}`, principalId: g.principalId, rule: "new-admin", key: pk, detail: `new account with admin access (${g.name}) ${when(g.source, g.scope)}` }, FROM_CHANGES);
  }
  for (const p of diff.principals.changed) {
    current = p;
    const mfa = p.changes.find((c) => c.field === "mfa");
    if (mfa && mfa.before === "enabled" && mfa.after === "disabled") {
      ctx.add({ source: p.source, scope: p.scope, subject: `${p.source}/${p.scope}/${p.name}`, principalId: p.id, rule: "mfa-disabled", key: `${p.source}/${p.scope}/${p.id}`, detail: `MFA enabled → disabled ${when(p.source, p.scope)}` }, FROM_CHANGES);
    }
  }
  unattributedRules(diff, ctx);
}

/** Each change a healthy feed should have logged and did not: one finding per change. */
function unattributedRules(diff: DiffResult, ctx: Ctx): void {
  const privileged = (level: unknown) => level === "admin" || level === "privileged";
  // Grants and keys that came or went with their account are that account's change, reported once.
  const accounts = new Set([...diff.principals.added, ...diff.principals.removed].map((p) => `${p.source}\u001f${p.scope}\u001f${p.id}`));
  const add = (x: EntityRef, what: string, subjectName: string | undefined, principalId: string | undefined, important: boolean) => {
    const a = x.attribution;
    if (a?.status !== "unexplained") return;
    if (x.principalId !== undefined && accounts.has(`${x.source}\u001f${x.scope}\u001f${x.principalId}`)) return;
    ctx.add({
      source: x.source,
      scope: x.scope,
      subject: `${x.source}/${x.scope}/${subjectName ?? x.name}`,
      ...(principalId ? { principalId } : {}),
      rule: "unattributed-change",
      key: `${x.source}/${x.scope}/${what}/${x.id}/${diff.to.id}`,
      severity: important ? "high" : undefined,
      detail: `${what} between ${a.window.from} and ${a.window.until}: no audit event explains it although feed ${a.feeds.join(", ")} covered that window (an out-of-band change, a gap in the log or tampering)`,
    }, FROM_CHANGES);
  };
  for (const p of diff.principals.added) add(p, "account added", p.name, p.id, privileged(p.row.access_level));
  for (const p of diff.principals.removed) add(p, "account removed", p.name, p.id, false);
  for (const p of diff.principals.changed) {
    if (!mustBeExplained("principal-changed", p)) continue;
    add(p, `account changed (${p.changes.map((c) => c.field).join(", ")})`, p.name, p.id, p.events.includes("mfa-off") || p.changes.some((c) => c.field === "access_level" && privileged(c.after)));
  }
  for (const g of diff.grants.added) add(g, `grant ${g.name} (${String(g.row.level)}) added`, g.principalName, g.principalId, privileged(g.row.level));
  for (const g of diff.grants.removed) add(g, `grant ${g.name} (${String(g.row.level)}) removed`, g.principalName, g.principalId, false);
  for (const c of diff.credentials.added) add(c, `${String(c.row.kind)} credential added`, c.principalName, c.principalId, false);
  for (const c of diff.credentials.removed) add(c, `${String(c.row.kind)} credential removed`, c.principalName, c.principalId, false);
  for (const c of diff.credentials.changed) {
    if (c.changes.some((f) => f.field === "status")) add(c, `${String(c.row.kind)} credential changed (status)`, c.principalName, c.principalId, false);
  }
}

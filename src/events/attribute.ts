// Attribution: each change the differ found is joined to the stored audit events that explain it — the same
// target principal, a matching action, a time within the window between the two runs. Where the scope's
// change-carrying feeds covered that whole window and no event explains a change, the change is
// "unexplained" (the rules make it an unattributed-change finding); where they did not, the report says
// the feed could not tell, never that nobody did it.
import type { Config } from "../config/load.js";
import type { AccessLevelChange, DiffResult, EntityChange, EntityRef } from "../diff/differ.js";
import type { Db } from "../store/db.js";
import { feedStates, queryEvents, type FeedStateRow, type StoredEvent } from "../store/events.js";
import { getRun, scopesAsOf } from "../store/reader.js";
import type { Attribution } from "../diff/attribution.js";
import { EVENT_ACTIONS, type EventAction } from "./contract.js";

export type { Attribution, AttributionEvent } from "../diff/attribution.js";

const CHANGE_ACTIONS = EVENT_ACTIONS.filter((a) => a !== "signin.success" && a !== "signin.failure");

interface ScopeEvents {
  window: { from: string; until: string };
  byTarget: Map<string, StoredEvent[]>;
  coverage: { covered: true; feeds: string[] } | { covered: false; reason: string };
}

const norm = (s: string | null | undefined) => (s ?? "").trim().toLowerCase();

/** A privilege or credential id named two ways (an ARN and a name, a key id and its suffix) still matches. */
export function sameRef(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return true;
  const x = norm(a);
  const y = norm(b);
  return x === y || x.endsWith(`/${y}`) || y.endsWith(`/${x}`) || x.endsWith(`:${y}`) || y.endsWith(`:${x}`);
}

function coverageOf(feeds: FeedStateRow[], signInsOnly: Set<string>, from: string, until: string): ScopeEvents["coverage"] {
  const relevant = feeds.filter((f) => !signInsOnly.has(f.feed));
  if (relevant.length === 0) return { covered: false, reason: "no event feed of this scope records changes" };
  const covering = relevant.filter((f) => f.coveredFrom !== null && f.coveredUntil !== null && f.coveredFrom <= from && f.coveredUntil >= until);
  if (covering.length > 0) return { covered: true, feeds: covering.map((f) => f.feed) };
  const why = relevant.map((f) => {
    const health = f.status === "ok" || f.status === "polling" ? "" : ` ${f.status}${f.reason ? ` (${f.reason})` : ""}`;
    const window = f.coveredUntil ? `covered ${f.coveredFrom} – ${f.coveredUntil}` : "nothing covered yet";
    return `feed ${f.feed}${health}: ${window}`;
  });
  return { covered: false, reason: why.join("; ") };
}

/**
 * Adds `attribution` to every change of `diff` in scopes that have event feeds (others are left as they
 * were). The window of a scope runs from the start of the run its changes are counted from to the moment
 * the diff's second run finished reading the scope.
 */
export function attributeDiff(db: Db, config: Config, diff: DiffResult): DiffResult {
  const sourceById = new Map(config.sources.map((s) => [s.id, s]));
  const statesBySource = new Map<string, FeedStateRow[]>();
  const scopes = new Map<string, ScopeEvents>();
  const runEnd = diff.to.finishedAt ?? new Date().toISOString();
  // A change the second run saw happened before that run finished reading its scope.
  const readEnd = new Map(scopesAsOf(db, diff.to.id).map((x) => [`${x.source}\u001f${x.scope}`, x.inRun?.finishedAt ?? null]));
  for (const s of diff.scopes) {
    if (!s.compared) continue;
    const until = readEnd.get(`${s.source}\u001f${s.scope}`) ?? runEnd;
    let states = statesBySource.get(s.source);
    if (!states) statesBySource.set(s.source, (states = feedStates(db, s.source)));
    const feeds = states.filter((f) => f.scope === s.scope);
    if (feeds.length === 0) continue;
    const from = getRun(db, s.sinceRun ?? diff.from.id)?.startedAt ?? diff.from.startedAt;
    const docs = sourceById.get(s.source)?.connector.feeds ?? [];
    const signInsOnly = new Set(docs.filter((d) => d.signInsOnly).map((d) => d.feed));
    const byTarget = new Map<string, StoredEvent[]>();
    for (const e of queryEvents(db, { sources: [s.source], scope: s.scope, since: from, until, actions: CHANGE_ACTIONS })) {
      for (const k of new Set([e.target.principalId, norm(e.target.principalId), norm(e.target.name)])) {
        if (!k) continue;
        byTarget.set(k, [...(byTarget.get(k) ?? []), e]);
      }
    }
    scopes.set(`${s.source}\u001f${s.scope}`, { window: { from, until }, byTarget, coverage: coverageOf(feeds, signInsOnly, from, until) });
  }
  if (scopes.size === 0) return diff;

  const judge = (
    at: { source: string; scope: string },
    principal: { id: string; name: string | undefined },
    actions: readonly EventAction[],
    matches: (e: StoredEvent) => boolean = () => true,
  ): Attribution | undefined => {
    const sc = scopes.get(`${at.source}\u001f${at.scope}`);
    if (!sc) return undefined;
    const candidates = new Map<string, StoredEvent>();
    for (const k of [principal.id, norm(principal.id), norm(principal.name)]) {
      for (const e of sc.byTarget.get(k) ?? []) if (actions.includes(e.action) && e.outcome !== "failure" && matches(e)) candidates.set(`${e.feed}\u001f${e.id}`, e);
    }
    if (candidates.size > 0) {
      const events = [...candidates.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
      return {
        status: "attributed",
        events: events.map((e) => ({ id: e.id, feed: e.feed, at: e.at, action: e.action, providerAction: e.providerAction, actor: e.actor, ip: e.ip, userAgent: e.userAgent })),
      };
    }
    return sc.coverage.covered
      ? { status: "unexplained", window: sc.window, feeds: sc.coverage.feeds }
      : { status: "no-coverage", window: sc.window, reason: sc.coverage.reason };
  };
  const set = <T extends object>(x: T, a: Attribution | undefined): void => {
    if (a) (x as T & { attribution?: Attribution }).attribution = a;
  };

  for (const p of diff.principals.added) set(p, judge(p, { id: p.id, name: p.name }, ["account.create"]));
  for (const p of diff.principals.removed) set(p, judge(p, { id: p.id, name: p.name }, ["account.delete", "account.disable"]));
  for (const p of diff.principals.changed) set(p, judge(p, { id: p.id, name: p.name }, principalActions(p)));
  const grant = (g: EntityRef, action: EventAction) =>
    judge(g, { id: g.principalId!, name: g.principalName }, [action, "account.update"], (e) => e.action === "account.update" || sameRef(e.target.privilege, g.name));
  for (const g of diff.grants.added) set(g, grant(g, "grant.add"));
  for (const g of diff.grants.removed) set(g, grant(g, "grant.remove"));
  const credential = (c: EntityRef, actions: EventAction[]) =>
    judge(c, { id: c.principalId!, name: c.principalName }, actions, (e) => sameRef(e.target.credentialId, c.id));
  for (const c of diff.credentials.added) set(c, credential(c, ["credential.create"]));
  for (const c of diff.credentials.removed) set(c, credential(c, ["credential.delete"]));
  for (const c of diff.credentials.changed) set(c, credential(c, ["credential.disable", "credential.enable", "credential.delete", "credential.create"]));
  for (const a of diff.accessLevels) set(a, judge(a, { id: a.principalId, name: a.name }, accessActions(a)));
  // The grants and keys of an account created or deleted came or went with it: the account's event explains them.
  const accounts = new Map<string, Attribution | undefined>();
  for (const p of [...diff.principals.added, ...diff.principals.removed]) accounts.set(`${p.source}\u001f${p.scope}\u001f${p.id}`, p.attribution);
  for (const x of [...diff.grants.added, ...diff.grants.removed, ...diff.credentials.added, ...diff.credentials.removed]) {
    const k = `${x.source}\u001f${x.scope}\u001f${x.principalId}`;
    if (!accounts.has(k) || x.attribution?.status === "attributed") continue;
    const owner = accounts.get(k);
    if (owner) x.attribution = owner;
    else delete x.attribution;
  }
  return diff;
}

function principalActions(p: EntityChange): EventAction[] {
  const out = new Set<EventAction>(["account.update"]);
  for (const e of p.events) {
    if (e === "reactivated") out.add("account.enable");
    else if (e === "mfa-off") out.add("mfa.disable");
    else if (e === "mfa-on") out.add("mfa.enable");
    else if (e === "suspended" || e === "disabled" || e === "archived" || e === "deactivated") out.add("account.disable");
  }
  // Group membership is held as grants: a group added or removed is a grant event (AddUserToGroup, "Add member to group").
  if (p.changes.some((c) => c.field === "access_level" || c.field === "attributes.groups")) {
    out.add("grant.add");
    out.add("grant.remove");
  }
  return [...out];
}

function accessActions(a: AccessLevelChange): EventAction[] {
  return a.direction === "up" ? ["grant.add", "account.update"] : ["grant.remove", "account.update"];
}

/** Changes whose absence from a healthy audit log is worth a finding: who exists, who holds what, with which key. */
export function mustBeExplained(kind: "principal-added" | "principal-removed" | "principal-changed" | "grant" | "credential", change?: EntityChange): boolean {
  if (kind !== "principal-changed") return true;
  return (change?.changes ?? []).some((c) => ["status", "mfa", "kind", "access_level"].includes(c.field));
}

/** "by ann@contoso at 2026-11-27 14:02 UTC from 203.0.113.7"; raw text: each sink escapes it. */
export function attributionText(a: Attribution | undefined): string {
  if (!a) return "";
  if (a.status === "attributed") {
    return a.events
      .map((e) => {
        const who = e.actor.name ?? e.actor.id ?? `an unnamed ${e.actor.kind}`;
        return `by ${who} at ${e.at.slice(0, 16).replace("T", " ")} UTC${e.ip ? ` from ${e.ip}` : ""}`;
      })
      .join("; ");
  }
  if (a.status === "unexplained") return `no audit event explains it (feed ${a.feeds.join(", ")} covered ${a.window.from} – ${a.window.until})`;
  return `who did it cannot be told: ${a.reason}`;
}

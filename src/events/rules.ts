// Rules over audit events: failed sign-in bursts, activity after offboarding, self-escalation, privileged
// changes by outsiders and outside change windows. Pure over the events and a view of the inventory, so the
// report (events in the run's window) and the watch (events just polled) judge alike.
import type { Policy } from "../config/schema.js";
import { personKey } from "../diff/identity.js";
import { ATTR, type AccessLevel } from "../model.js";
import type { StoredEvent } from "../store/events.js";
import type { PrincipalView } from "../store/reader.js";
import type { RuleId, Severity } from "../vocabulary.js";
import { sameRef } from "./attribute.js";

export interface EventFinding {
  rule: RuleId;
  severity?: Severity;
  key: string;
  source: string;
  scope: string;
  subject: string;
  principalId?: string;
  detail: string;
}

interface Known {
  source: string;
  scope: string;
  id: string;
  name: string;
  kind: PrincipalView["kind"];
  status: PrincipalView["status"];
  accessLevel: AccessLevel;
  thirdParty: boolean;
  person: string | null;
  grants: { privilege: string; level: string }[];
}

const norm = (s: string | null | undefined) => (s ?? "").trim().toLowerCase();
const PRIVILEGED_NAME = /admin|owner|root|super|privileged|global/i;

const idKey = (source: string, id: string) => `${source}\u001f${id}`;
const nameKey = (source: string, name: string) => `${source}\u001f${norm(name)}`;

/** The person an email-like (or aliased) name or id stands for, when no account of the source answers to it. */
function namedPerson(source: string, id: string | null | undefined, name: string | null | undefined, aliases: Record<string, string>): string | null {
  for (const n of [name, id]) {
    if (!n) continue;
    const k = personKey({ source, name: n, email: null }, aliases);
    if (k) return k;
  }
  return null;
}

/** The keys the event rules can look up: the index keeps only accounts answering to one of them. */
export interface IndexWants {
  ids: Set<string>;
  names: Set<string>;
  persons: Set<string>;
}

/**
 * Every key `account`, `personOf` and `byPerson` can be asked for over `events` (actors and targets), plus
 * `persons` (the leavers, whose accounts the offboarding times come from). Because every account answering to
 * a wanted key is kept, in inventory order, each look-up returns what the whole inventory would have.
 */
export function indexWants(events: Iterable<StoredEvent>, aliases: Record<string, string>, persons: Iterable<string> = []): IndexWants {
  const wants: IndexWants = { ids: new Set(), names: new Set(), persons: new Set(persons) };
  const named = (source: string, id: string | null | undefined, name: string | null | undefined) => {
    if (id) {
      wants.ids.add(idKey(source, id));
      wants.names.add(nameKey(source, id));
    }
    if (name) wants.names.add(nameKey(source, name));
    const person = namedPerson(source, id, name, aliases);
    if (person) wants.persons.add(person);
  };
  for (const e of events) {
    named(e.source, e.actor.id, e.actor.name);
    named(e.source, e.target.principalId, e.target.name);
  }
  return wants;
}

/**
 * The inventory as the event rules see it: accounts by (source, id), (source, name), and by person. Given
 * `wants`, only the accounts answering to one of its keys are held: the run may have a million accounts, the
 * events name a few.
 */
export class InventoryIndex {
  private readonly byId = new Map<string, Known>();
  private readonly byName = new Map<string, Known>();
  readonly byPerson = new Map<string, Known[]>();
  private held = 0;

  constructor(principals: Iterable<PrincipalView>, aliases: Record<string, string>, wants?: IndexWants) {
    for (const p of principals) {
      const id = idKey(p.source, p.id);
      const names = p.email ? [nameKey(p.source, p.name), nameKey(p.source, p.email)] : [nameKey(p.source, p.name)];
      const person = personKey(p, aliases);
      if (wants && !wants.ids.has(id) && !names.some((n) => wants.names.has(n)) && !(person && wants.persons.has(person))) continue;
      const k: Known = {
        source: p.source,
        scope: p.scope,
        id: p.id,
        name: p.name,
        kind: p.kind,
        status: p.status,
        accessLevel: p.accessLevel,
        thirdParty: p.attributes?.[ATTR.thirdParty] === true,
        person,
        grants: p.grants.map((g) => ({ privilege: g.privilege, level: g.level })),
      };
      this.held++;
      this.byId.set(id, k);
      for (const n of names) this.byName.set(n, k);
      if (person) this.byPerson.set(person, [...(this.byPerson.get(person) ?? []), k]);
    }
  }

  /** How many accounts the index holds. */
  get size(): number {
    return this.held;
  }

  /** An account of the event's source named by id or name (login, email). */
  account(source: string, id: string | null | undefined, name: string | null | undefined): Known | undefined {
    return (id ? this.byId.get(idKey(source, id)) : undefined) ?? (id ? this.byName.get(nameKey(source, id)) : undefined) ?? (name ? this.byName.get(nameKey(source, name)) : undefined);
  }

  /** The person behind an actor: their account in the event's source, else an email-like name. */
  personOf(source: string, id: string | null | undefined, name: string | null | undefined, aliases: Record<string, string>): string | null {
    return this.account(source, id, name)?.person || namedPerson(source, id, name, aliases);
  }
}

const isPrivilegedLevel = (l: string | undefined) => l === "admin" || l === "privileged";

/**
 * A change to who holds privilege: admin or privileged grants given or taken, accounts created, keys made for
 * privileged accounts, MFA turned off, privileged accounts enabled, disabled or deleted.
 */
export function isPrivilegedEvent(e: StoredEvent, inv: InventoryIndex): boolean {
  if (e.outcome === "failure") return false;
  const target = inv.account(e.source, e.target.principalId, e.target.name);
  const targetPrivileged = target !== undefined && (isPrivilegedLevel(target.accessLevel) || target.kind === "root");
  switch (e.action) {
    case "mfa.disable":
    case "account.create":
      return true;
    case "grant.add":
    case "grant.remove": {
      const held = target?.grants.find((g) => sameRef(g.privilege, e.target.privilege) && e.target.privilege);
      if (held) return isPrivilegedLevel(held.level);
      return (e.target.privilege ? PRIVILEGED_NAME.test(e.target.privilege) : false) || (e.action === "grant.remove" && targetPrivileged);
    }
    case "credential.create":
    case "account.enable":
    case "account.disable":
    case "account.delete":
      return targetPrivileged;
    default:
      return false;
  }
}

const actorText = (e: StoredEvent) => e.actor.name ?? e.actor.id ?? `an unnamed ${e.actor.kind}`;
const targetText = (e: StoredEvent) => e.target.name ?? e.target.principalId ?? "(unknown target)";
const when = (e: StoredEvent) => `${e.at.slice(0, 16).replace("T", " ")} UTC${e.ip ? ` from ${e.ip}` : ""}`;
const what = (e: StoredEvent) => `${e.action}${e.target.privilege ? ` ${e.target.privilege}` : ""} on ${targetText(e)} (${e.providerAction})`;

export interface Offboarded {
  person: string;
  at: string;
  why: string;
}

export interface EventRuleContext {
  policyOf(source: string): Policy;
  aliases: Record<string, string>;
  inventory: InventoryIndex;
  /** People an identity provider says have left, with when. */
  offboarded: Map<string, Offboarded>;
}

export function eventRules(events: readonly StoredEvent[], ctx: EventRuleContext, add: (f: EventFinding) => void): void {
  burstRule(events, ctx, add);
  for (const e of events) {
    if (e.outcome === "failure") continue;
    const policy = ctx.policyOf(e.source);
    const base = { source: e.source, scope: e.scope, subject: `${e.source}/${e.scope}/${targetText(e)}`, ...(e.target.principalId ? { principalId: e.target.principalId } : {}) };
    const privileged = isPrivilegedEvent(e, ctx.inventory);

    // Self-escalation: the actor is the target of a grant (same account, or the same person).
    if (e.action === "grant.add" && (e.target.principalId || e.target.name)) {
      const sameAccount = (e.actor.id && e.actor.id === e.target.principalId) || (e.actor.name && norm(e.actor.name) === norm(e.target.name));
      const actorPerson = ctx.inventory.personOf(e.source, e.actor.id, e.actor.name, ctx.aliases);
      const targetPerson = ctx.inventory.personOf(e.source, e.target.principalId, e.target.name, ctx.aliases);
      if (sameAccount || (actorPerson !== null && actorPerson === targetPerson)) {
        add({ ...base, rule: "self-escalation", key: `${e.source}/${e.scope}/${e.feed}/${e.id}`, severity: privileged ? "critical" : undefined, detail: `${actorText(e)} granted ${e.target.privilege ?? "a privilege"} to themselves at ${when(e)} (${e.providerAction})` });
      }
    }

    if (privileged && e.actor.kind !== "provider") {
      const actor = ctx.inventory.account(e.source, e.actor.id, e.actor.name);
      const person = ctx.inventory.personOf(e.source, e.actor.id, e.actor.name, ctx.aliases);
      const known = actor ?? (person ? ctx.inventory.byPerson.get(person)?.[0] : undefined);
      const outsider = !known ? "is not in the inventory" : known.thirdParty ? "is a third party" : known.kind === "guest" ? "is a guest" : known.kind === "external" ? "is an external collaborator" : null;
      if (outsider) {
        add({ ...base, rule: "privileged-change-by-outsider", key: `${e.source}/${e.scope}/${e.feed}/${e.id}`, detail: `${what(e)} by ${actorText(e)}, who ${outsider}, at ${when(e)}` });
      }
      if (policy.change_windows.length > 0 && !inChangeWindow(e.at, policy.change_windows, policy.change_window_timezone)) {
        add({ ...base, rule: "privileged-change-outside-window", key: `${e.source}/${e.scope}/${e.feed}/${e.id}`, detail: `${what(e)} by ${actorText(e)} at ${when(e)}, outside the change windows (${policy.change_windows.join(", ")} ${policy.change_window_timezone})` });
      }
    }

    // Activity after offboarding: the person acted, or signed in, after an identity provider let them go.
    const actorPerson = ctx.inventory.personOf(e.source, e.actor.id, e.actor.name, ctx.aliases);
    const signedIn = e.action === "signin.success" ? ctx.inventory.personOf(e.source, e.target.principalId, e.target.name, ctx.aliases) : null;
    for (const person of new Set([actorPerson, signedIn])) {
      if (!person) continue;
      const gone = ctx.offboarded.get(person);
      if (!gone || e.at <= gone.at) continue;
      add({
        source: e.source,
        scope: e.scope,
        subject: `${e.source}/${e.scope}/${person}`,
        rule: "activity-after-offboarding",
        key: `${person}/${e.source}/${e.scope}/${gone.at.slice(0, 10)}`,
        severity: privileged ? "critical" : undefined,
        detail: `${person} is ${gone.why} (since ${gone.at.slice(0, 16).replace("T", " ")} UTC) but ${e.action === "signin.success" && person === signedIn ? "signed in" : `did ${what(e)}`} at ${when(e)}`,
      });
    }
  }
}

/** Failed sign-ins on one account: `signin_failure_burst` within `signin_failure_window_minutes`, one finding per account and day. */
function burstRule(events: readonly StoredEvent[], ctx: EventRuleContext, add: (f: EventFinding) => void): void {
  const failures = new Map<string, StoredEvent[]>();
  for (const e of events) {
    if (e.action !== "signin.failure" && !(e.action === "signin.success" && e.outcome === "failure")) continue;
    const target = e.target.principalId ?? norm(e.target.name);
    if (!target) continue;
    const k = `${e.source}\u001f${e.scope}\u001f${target}`;
    failures.set(k, [...(failures.get(k) ?? []), e]);
  }
  for (const list of failures.values()) {
    const first = list[0]!;
    const policy = ctx.policyOf(first.source);
    const windowMs = policy.signin_failure_window_minutes * 60_000;
    list.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    const reported = new Set<string>();
    let lo = 0;
    for (let hi = 0; hi < list.length; hi++) {
      while (Date.parse(list[hi]!.at) - Date.parse(list[lo]!.at) > windowMs) lo++;
      const n = hi - lo + 1;
      if (n < policy.signin_failure_burst) continue;
      const startDay = list[lo]!.at.slice(0, 10);
      if (reported.has(startDay)) continue;
      reported.add(startDay);
      // The whole burst: every failure within the window of its first.
      let end = hi;
      while (end + 1 < list.length && Date.parse(list[end + 1]!.at) - Date.parse(list[lo]!.at) <= windowMs) end++;
      const e = list[lo]!;
      const target = ctx.inventory.account(e.source, e.target.principalId, e.target.name);
      const privileged = target !== undefined && (isPrivilegedLevel(target.accessLevel) || target.kind === "root");
      const ips = [...new Set(list.slice(lo, end + 1).map((x) => x.ip).filter((x): x is string => Boolean(x)))];
      add({
        source: e.source,
        scope: e.scope,
        subject: `${e.source}/${e.scope}/${target?.name ?? targetText(e)}`,
        ...(target ? { principalId: target.id } : e.target.principalId ? { principalId: e.target.principalId } : {}),
        rule: "signin-failure-burst",
        key: `${e.source}/${e.scope}/${target?.id ?? e.target.principalId ?? norm(e.target.name)}/${startDay}`,
        severity: privileged ? "high" : undefined,
        detail: `${end - lo + 1} failed sign-ins within ${policy.signin_failure_window_minutes} min from ${e.at.slice(0, 16).replace("T", " ")} UTC (policy: ${policy.signin_failure_burst})${privileged ? `; the account holds ${target!.accessLevel} access` : ""}${ips.length ? `; from ${ips.slice(0, 5).join(", ")}${ips.length > 5 ? ", …" : ""}` : ""}`,
      });
    }
  }
}

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
export const CHANGE_WINDOW = /^(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?\s+([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/i;

/** Whether an instant falls in any window ("Mon-Fri 08:00-18:00", "Sat 10:00-12:00") read in `timeZone`. */
export function inChangeWindow(iso: string, windows: readonly string[], timeZone: string): boolean {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const day = DAYS.indexOf(get("weekday").toLowerCase().slice(0, 3));
  const minute = Number(get("hour")) * 60 + Number(get("minute"));
  return windows.some((w) => {
    const m = CHANGE_WINDOW.exec(w.trim());
    if (!m) return false;
    const from = DAYS.indexOf(m[1]!.toLowerCase());
    const to = m[2] ? DAYS.indexOf(m[2].toLowerCase()) : from;
    const dayOk = from <= to ? day >= from && day <= to : day >= from || day <= to;
    const start = Number(m[3]) * 60 + Number(m[4]);
    const end = Number(m[5]) * 60 + Number(m[6]);
    return dayOk && minute >= start && minute < end;
  });
}

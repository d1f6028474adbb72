// One person's (or account's) timeline across every system: what the snapshots show changed, run by run,
// merged with the audit events that name their accounts as target or actor.
import type { StoredEvent, VersionSpan } from "../views.js";
import { csvLine } from "./csv.js";
import type { Sink } from "./output.js";
import { TextTable } from "./text.js";

export interface TimelineEntry {
  at: string;
  source: string;
  scope: string;
  account: string;
  /** snapshot: seen by a collect (at the run's start); event: from the provider's audit log. */
  kind: "snapshot" | "event";
  text: string;
  actor?: string | null;
  ip?: string | null;
  run?: number;
}

const str = (v: unknown) => (v === null || v === undefined ? "(none)" : String(v));

/** The snapshot side: each version opened or closed becomes an entry. */
export function snapshotEntries(source: string, scope: string, account: string, versions: VersionSpan[]): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const base = { source, scope, account, kind: "snapshot" as const };
  const principals = versions.filter((v) => v.table === "principals");
  principals.forEach((v, i) => {
    const prev = principals[i - 1];
    if (!prev || prev.toRun !== v.fromRun) {
      out.push({ ...base, at: v.fromAt, run: v.fromRun, text: `first collected: ${str(v.values.kind)}, ${str(v.values.status)}, ${str(v.values.access_level)} access, MFA ${str(v.values.mfa)}` });
    } else {
      const changes = Object.keys(v.values).filter((k) => v.values[k] !== prev.values[k]).map((k) => `${k} ${str(prev.values[k])} → ${str(v.values[k])}`);
      if (changes.length > 0) out.push({ ...base, at: v.fromAt, run: v.fromRun, text: `changed: ${changes.join(", ")}` });
    }
    const next = principals[i + 1];
    if (v.toRun !== null && (!next || next.fromRun !== v.toRun)) out.push({ ...base, at: v.toAt!, run: v.toRun, text: "no longer collected (removed)" });
  });
  for (const v of versions.filter((x) => x.table !== "principals")) {
    const what = v.table === "grants" ? `grant ${str(v.values.privilege)} (${str(v.values.level)}, ${str(v.values.via)})` : `credential ${str(v.values.kind)} ${str(v.values.name ?? v.id)}`;
    out.push({ ...base, at: v.fromAt, run: v.fromRun, text: `${what} ${v.table === "grants" ? "held" : "present"}` });
    if (v.toRun !== null) out.push({ ...base, at: v.toAt!, run: v.toRun, text: `${what} gone` });
  }
  return out;
}

export function eventEntry(e: StoredEvent, account: string): TimelineEntry {
  const target = e.target.name ?? e.target.principalId;
  const who = e.actor.name ?? e.actor.id ?? e.actor.kind;
  return {
    at: e.at,
    source: e.source,
    scope: e.scope,
    account,
    kind: "event",
    text: `${e.action}${e.target.privilege ? ` ${e.target.privilege}` : ""}${target ? ` on ${target}` : ""} by ${who}${e.outcome === "success" ? "" : ` (${e.outcome})`} [${e.providerAction}]`,
    actor: who,
    ip: e.ip,
  };
}

export function sortTimeline(entries: TimelineEntry[]): TimelineEntry[] {
  return entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.kind === b.kind ? 0 : a.kind === "snapshot" ? -1 : 1));
}

export function writeHistory(sink: Sink, query: string, person: string | null, timeline: TimelineEntry[], format: "text" | "json" | "csv"): void {
  if (format === "json") {
    sink.write(JSON.stringify({ schema: "whohas.history/v1", query, person, timeline }, null, 2) + "\n");
    return;
  }
  if (format === "csv") {
    sink.write(csvLine(["time", "source", "scope", "account", "kind", "what", "actor", "ip", "run"]));
    for (const t of timeline) sink.write(csvLine([t.at, t.source, t.scope, t.account, t.kind, t.text, t.actor, t.ip, t.run]));
    return;
  }
  const table = new TextTable(["TIME (UTC)", "SOURCE/SCOPE", "ACCOUNT", "SEEN IN", "WHAT", "IP"]);
  for (const t of timeline) table.add([t.at.slice(0, 19).replace("T", " "), `${t.source}/${t.scope}`, t.account, t.kind === "event" ? "audit log" : `run ${t.run}`, t.text, t.ip ?? ""]);
  table.write((s) => sink.write(s));
}

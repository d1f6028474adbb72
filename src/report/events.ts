// Rendering stored audit events and feed health: a table for people (provider text escaped), JSON with the
// exact values for machines (schema whohas.events/v1), CSV for spreadsheets (formula-guarded).
import type { FeedStateRow, StoredEvent } from "../views.js";
import { csvLine } from "./csv.js";
import type { Sink } from "./output.js";
import { TextTable, type TextTableOptions } from "./text.js";

export const EVENT_FORMATS = ["text", "json", "csv"] as const;
export type EventFormat = (typeof EVENT_FORMATS)[number];

const actorOf = (e: StoredEvent) => e.actor.name ?? e.actor.id ?? `(${e.actor.kind})`;
const targetOf = (e: StoredEvent) => [e.target.name ?? e.target.principalId, e.target.privilege, e.target.credentialId].filter(Boolean).join(" / ");

/**
 * Streams events to the sink: a million events cost their own size in JSON and CSV; the text table, whose
 * widths are known only at the end, keeps its rows in `spill` past a threshold (see TextTable).
 */
export function writeEvents(sink: Sink, events: Iterable<StoredEvent>, format: EventFormat, opts: { spill?: TextTableOptions["spill"] } = {}): number {
  let n = 0;
  if (format === "json") {
    sink.write('{"schema":"whohas.events/v1","events":[');
    for (const e of events) sink.write(`${n++ === 0 ? "\n" : ",\n"}${JSON.stringify(e)}`);
    sink.write("\n]}\n");
    return n;
  }
  if (format === "csv") {
    sink.write(csvLine(["time", "source", "scope", "feed", "id", "action", "provider_action", "outcome", "actor_id", "actor_name", "actor_kind", "target_principal", "target_name", "privilege", "credential", "ip", "user_agent"]));
    for (const e of events) {
      n++;
      sink.write(csvLine([e.at, e.source, e.scope, e.feed, e.id, e.action, e.providerAction, e.outcome, e.actor.id, e.actor.name, e.actor.kind, e.target.principalId, e.target.name, e.target.privilege, e.target.credentialId, e.ip, e.userAgent]));
    }
    return n;
  }
  const t = new TextTable(["TIME (UTC)", "SOURCE/SCOPE", "ACTION", "OUTCOME", "ACTOR", "TARGET", "IP", "PROVIDER EVENT"], { spill: opts.spill });
  try {
    for (const e of events) {
      n++;
      t.add([e.at.slice(0, 19).replace("T", " "), `${e.source}/${e.scope}`, e.action, e.outcome, actorOf(e), targetOf(e) || "-", e.ip ?? "-", e.providerAction]);
    }
    if (n === 0) sink.write("No events match.\n");
    else t.write((s) => sink.write(s));
  } finally {
    t.close();
  }
  return n;
}

export function writeFeeds(sink: Sink, feeds: FeedStateRow[], format: EventFormat): void {
  if (format === "json") {
    sink.write(JSON.stringify({ schema: "whohas.feeds/v1", feeds }, null, 2) + "\n");
    return;
  }
  if (format === "csv") {
    sink.write(csvLine(["source", "scope", "feed", "status", "reason", "covered_from", "covered_until", "last_poll_at", "last_ok_at", "rejected"]));
    for (const f of feeds) sink.write(csvLine([f.source, f.scope, f.feed, f.status, f.reason, f.coveredFrom, f.coveredUntil, f.lastPollAt, f.lastOkAt, f.rejected]));
    return;
  }
  if (feeds.length === 0) {
    sink.write("No event feed polled yet: add [sources.events] to a source and run whohas collect or whohas watch --once.\n");
    return;
  }
  const t = new TextTable(["SOURCE/SCOPE", "FEED", "STATUS", "COVERED FROM", "COVERED UNTIL", "LAST POLL", "REASON"]);
  for (const f of feeds) t.add([`${f.source}/${f.scope}`, f.feed, f.status, f.coveredFrom ?? "-", f.coveredUntil ?? "-", f.lastPollAt, f.reason ?? ""]);
  t.write((s) => sink.write(s));
}

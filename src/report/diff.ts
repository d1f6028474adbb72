// Rendering a diff: text for people (escalations first), JSON for machines (schema whohas.diff/v1).
import type { DiffResult, EntityChange, EntityRef } from "../diff/differ.js";
import { attributionText, type Attribution } from "../events/attribute.js";
import { credentialOf } from "./inventory.js";
import { bufferedSink, type Sink } from "./output.js";
import { shown } from "../safe-text.js";
import { day, paint, type Color } from "./text.js";

export type DiffFormat = "text" | "json";

export function diffCounts(d: DiffResult) {
  return {
    principalsAdded: d.principals.added.length,
    principalsRemoved: d.principals.removed.length,
    principalsChanged: d.principals.changed.length,
    credentialsAdded: d.credentials.added.length,
    credentialsRemoved: d.credentials.removed.length,
    credentialsChanged: d.credentials.changed.length,
    grantsAdded: d.grants.added.length,
    grantsRemoved: d.grants.removed.length,
    escalations: d.accessLevels.filter((a) => a.direction === "up").length,
    reductions: d.accessLevels.filter((a) => a.direction === "down").length,
    scopesNotCompared: d.scopes.filter((s) => !s.compared).length,
  };
}

/** A changed field's value for a person: escaped and capped like every provider value. */
function show(v: unknown): string {
  if (v === null || v === undefined) return "(none)";
  return shown(typeof v === "string" ? v : JSON.stringify(v));
}

export function writeDiff(sink: Sink, d: DiffResult, format: DiffFormat, color = false): void {
  if (format === "json") {
    sink.write(JSON.stringify({ schema: "whohas.diff/v1", ...d, counts: diffCounts(d) }, null, 2) + "\n");
    return;
  }
  const c = (t: string, k: Color) => paint(t, k, color);
  const where = (e: { source: string; scope: string }) => shown(`${e.source}/${e.scope}`);
  // "pat deploy of alice, created 2026-01-05": the name (or id tail) first, its created date after the owner.
  const owner = (e: EntityRef) => (e.principalName ? ` of ${shown(e.principalName)}` : "") + (typeof e.row.created_at === "string" ? `, created ${day(e.row.created_at)}` : "");
  const credName = (e: EntityRef) => shown(credentialOf({ id: e.id, row: { ...e.row, created_at: null } }));
  // Line by line through a buffer: a first run's diff has a million lines, which must not also sit in memory as one string.
  const out = bufferedSink(sink);
  const line = (text: string) => out.write(text + "\n");
  line(c(`Changes from run ${d.from.id} (${d.from.startedAt}) to run ${d.to.id} (${d.to.startedAt})`, "bold"));
  const compared = d.scopes.filter((s) => s.compared);
  line(`Compared ${compared.length} scope(s).`);
  for (const s of d.scopes.filter((x) => !x.compared)) line(c(`  not compared: ${where(s)}: ${shown(s.reason)}`, "yellow"));
  for (const s of compared.filter((x) => x.window)) line(c(`  ${where(s)}: ${shown(s.window)}`, "yellow"));

  // Who did it: provider text (actor names, addresses), escaped like every other.
  const by = (x: { attribution?: Attribution }) => {
    const who = attributionText(x.attribution);
    if (!who) return "";
    const text = ` — ${shown(who, 400)}`;
    return x.attribution?.status === "attributed" ? text : c(text, "yellow");
  };
  // Each item rendered as it is written, not mapped into a second list first.
  const section = <T>(title: string, items: readonly T[], text: (item: T) => string) => {
    if (items.length === 0) return;
    line("");
    line(c(`${title} (${items.length})`, "bold"));
    for (const i of items) line(`  ${text(i)}`);
  };
  section(
    "Access level raised",
    d.accessLevels.filter((a) => a.direction === "up"),
    (a) => c(`${where(a)}: ${shown(a.name)}: ${a.before} → ${a.after}`, "red") + by(a),
  );
  section(
    "Access level lowered",
    d.accessLevels.filter((a) => a.direction === "down"),
    (a) => `${where(a)}: ${shown(a.name)}: ${a.before} → ${a.after}${by(a)}`,
  );
  section("Accounts added", d.principals.added, (p) => c(`${where(p)}: + ${shown(p.name)} (${shown(p.row.kind)}, ${shown(p.row.status)})`, "green") + by(p));
  section("Accounts removed", d.principals.removed, (p) => c(`${where(p)}: - ${shown(p.name)} (${shown(p.row.kind)})`, "red") + by(p));
  const changeText = (e: EntityChange) => e.changes.map((f) => `${shown(f.field)} ${show(f.before)} → ${show(f.after)}`).join(", ");
  section("Accounts changed", d.principals.changed, (p) => `${where(p)}: ${shown(p.name)}: ${changeText(p)}${by(p)}`);
  section("Grants added", d.grants.added, (g) => `${where(g)}: + ${shown(g.principalName)} ${shown(g.name)} (${shown(g.row.level)}, ${shown(g.row.via)})${by(g)}`);
  section("Grants removed", d.grants.removed, (g) => `${where(g)}: - ${shown(g.principalName)} ${shown(g.name)} (${shown(g.row.level)})${by(g)}`);
  section("Credentials added", d.credentials.added, (e) => `${where(e)}: + ${credName(e)}${owner(e)}${by(e)}`);
  section("Credentials removed", d.credentials.removed, (e) => `${where(e)}: - ${credName(e)}${owner(e)}${by(e)}`);
  section("Credentials changed", d.credentials.changed, (e) => `${where(e)}: ${credName(e)}${owner(e)}: ${changeText(e)}${by(e)}`);
  const n = diffCounts(d);
  const total = n.principalsAdded + n.principalsRemoved + n.principalsChanged + n.credentialsAdded + n.credentialsRemoved + n.credentialsChanged + n.grantsAdded + n.grantsRemoved;
  if (total === 0) {
    line("");
    line("No changes in the compared scopes.");
  }
  out.flush();
}

// Rendering a diff: text for people (escalations first), JSON for machines (schema whohas.diff/v1).
import type { DiffResult, EntityChange, EntityRef } from "../diff/differ.js";
import { attributionText, type Attribution } from "../events/attribute.js";
import { credentialOf } from "./inventory.js";
import type { Sink } from "./output.js";
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
  const lines: string[] = [];
  lines.push(c(`Changes from run ${d.from.id} (${d.from.startedAt}) to run ${d.to.id} (${d.to.startedAt})`, "bold"));
  const compared = d.scopes.filter((s) => s.compared);
  lines.push(`Compared ${compared.length} scope(s).`);
  for (const s of d.scopes.filter((x) => !x.compared)) lines.push(c(`  not compared: ${where(s)}: ${shown(s.reason)}`, "yellow"));
  for (const s of compared.filter((x) => x.window)) lines.push(c(`  ${where(s)}: ${shown(s.window)}`, "yellow"));

  // Who did it: provider text (actor names, addresses), escaped like every other.
  const by = (x: { attribution?: Attribution }) => {
    const who = attributionText(x.attribution);
    if (!who) return "";
    const text = ` — ${shown(who, 400)}`;
    return x.attribution?.status === "attributed" ? text : c(text, "yellow");
  };
  const section = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push("", c(`${title} (${items.length})`, "bold"));
    // One push per item: spreading a section as arguments overflows the stack past ~100,000 items (a first run).
    for (const i of items) lines.push(`  ${i}`);
  };
  section(
    "Access level raised",
    d.accessLevels.filter((a) => a.direction === "up").map((a) => c(`${where(a)}: ${shown(a.name)}: ${a.before} → ${a.after}`, "red") + by(a)),
  );
  section(
    "Access level lowered",
    d.accessLevels.filter((a) => a.direction === "down").map((a) => `${where(a)}: ${shown(a.name)}: ${a.before} → ${a.after}${by(a)}`),
  );
  section("Accounts added", d.principals.added.map((p) => c(`${where(p)}: + ${shown(p.name)} (${shown(p.row.kind)}, ${shown(p.row.status)})`, "green") + by(p)));
  section("Accounts removed", d.principals.removed.map((p) => c(`${where(p)}: - ${shown(p.name)} (${shown(p.row.kind)})`, "red") + by(p)));
  const changeText = (e: EntityChange) => e.changes.map((f) => `${shown(f.field)} ${show(f.before)} → ${show(f.after)}`).join(", ");
  section("Accounts changed", d.principals.changed.map((p) => `${where(p)}: ${shown(p.name)}: ${changeText(p)}${by(p)}`));
  section("Grants added", d.grants.added.map((g) => `${where(g)}: + ${shown(g.principalName)} ${shown(g.name)} (${shown(g.row.level)}, ${shown(g.row.via)})${by(g)}`));
  section("Grants removed", d.grants.removed.map((g) => `${where(g)}: - ${shown(g.principalName)} ${shown(g.name)} (${shown(g.row.level)})${by(g)}`));
  section("Credentials added", d.credentials.added.map((e) => `${where(e)}: + ${credName(e)}${owner(e)}${by(e)}`));
  section("Credentials removed", d.credentials.removed.map((e) => `${where(e)}: - ${credName(e)}${owner(e)}${by(e)}`));
  section("Credentials changed", d.credentials.changed.map((e) => `${where(e)}: ${credName(e)}${owner(e)}: ${changeText(e)}${by(e)}`));
  const n = diffCounts(d);
  const total = n.principalsAdded + n.principalsRemoved + n.principalsChanged + n.credentialsAdded + n.credentialsRemoved + n.credentialsChanged + n.grantsAdded + n.grantsRemoved;
  if (total === 0) lines.push("", "No changes in the compared scopes.");
  sink.write(lines.join("\n") + "\n");
}

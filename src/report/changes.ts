// The diff as rows of (change, subject, detail), shared by the Markdown and HTML renderers.
import type { DiffResult } from "../diff/differ.js";
import { shortId } from "./inventory.js";

export function changeRows(d: DiffResult): [string, string, string][] {
  const at = (x: { source: string; scope: string }, name: string | undefined) => `${x.source}/${x.scope}/${name ?? ""}`;
  return [
    ...d.accessLevels.map((a): [string, string, string] => [a.direction === "up" ? "access raised" : "access lowered", at(a, a.name), `${a.before} → ${a.after}`]),
    ...d.principals.added.map((p): [string, string, string] => ["account added", at(p, p.name), `${p.row.kind}, ${p.row.status}`]),
    ...d.principals.removed.map((p): [string, string, string] => ["account removed", at(p, p.name), ""]),
    ...d.principals.changed.map((p): [string, string, string] => ["account changed", at(p, p.name), p.changes.map((c) => `${c.field}: ${String(c.before)} → ${String(c.after)}`).join("; ")]),
    ...d.grants.added.map((g): [string, string, string] => ["grant added", at(g, g.principalName), `${g.name} (${String(g.row.level)})`]),
    ...d.grants.removed.map((g): [string, string, string] => ["grant removed", at(g, g.principalName), `${g.name} (${String(g.row.level)})`]),
    ...d.credentials.rotated.map((x): [string, string, string] => ["credential rotated", at(x, x.principalName), `${x.kind} ${shortId(x.removed)} → ${shortId(x.added)}`]),
    ...d.credentials.added.map((x): [string, string, string] => ["credential added", at(x, x.principalName), `${String(x.row.kind)} ${shortId(x.id)}`]),
    ...d.credentials.removed.map((x): [string, string, string] => ["credential removed", at(x, x.principalName), `${String(x.row.kind)} ${shortId(x.id)}`]),
    ...d.credentials.changed.map((x): [string, string, string] => ["credential changed", at(x, x.principalName), x.changes.map((c) => `${c.field}: ${String(c.before)} → ${String(c.after)}`).join("; ")]),
  ];
}

// The diff as rows of (change, subject, detail), shared by the Markdown and HTML renderers.
import type { DiffResult } from "../diff/differ.js";
import { attributionText, type Attribution } from "../events/attribute.js";
import { credentialOf, credentialText } from "./inventory.js";

/** The detail followed by who did it, where the scope has an event feed. */
const by = (detail: string, x: { attribution?: Attribution }) => {
  const who = attributionText(x.attribution);
  return who ? (detail ? `${detail} — ${who}` : who) : detail;
};

export function changeRows(d: DiffResult): [string, string, string][] {
  return changeRowsPlain(d).map(([kind, subject, detail, x]) => [kind, subject, by(detail, x)]);
}

type Row = [string, string, string, { attribution?: Attribution }];

function changeRowsPlain(d: DiffResult): Row[] {
  const at = (x: { source: string; scope: string }, name: string | undefined) => `${x.source}/${x.scope}/${name ?? ""}`;
  return [
    ...d.accessLevels.map((a): Row => [a.direction === "up" ? "access raised" : "access lowered", at(a, a.name), `${a.before} → ${a.after}`, a]),
    ...d.principals.added.map((p): Row => ["account added", at(p, p.name), `${p.row.kind}, ${p.row.status}`, p]),
    ...d.principals.removed.map((p): Row => ["account removed", at(p, p.name), "", p]),
    ...d.principals.changed.map((p): Row => ["account changed", at(p, p.name), p.changes.map((c) => `${c.field}: ${String(c.before)} → ${String(c.after)}`).join("; "), p]),
    ...d.grants.added.map((g): Row => ["grant added", at(g, g.principalName), `${g.name} (${String(g.row.level)})`, g]),
    ...d.grants.removed.map((g): Row => ["grant removed", at(g, g.principalName), `${g.name} (${String(g.row.level)})`, g]),
    ...d.credentials.rotated.map((x): Row => [
      "credential rotated",
      at(x, x.principalName),
      `${credentialText({ kind: x.kind, id: x.removed, ...x.removedCredential })} → ${credentialText({ kind: x.kind, id: x.added, ...x.addedCredential })}`,
      {},
    ]),
    ...d.credentials.added.map((x): Row => ["credential added", at(x, x.principalName), credentialOf(x), x]),
    ...d.credentials.removed.map((x): Row => ["credential removed", at(x, x.principalName), credentialOf(x), x]),
    ...d.credentials.changed.map((x): Row => ["credential changed", at(x, x.principalName), x.changes.map((c) => `${c.field}: ${String(c.before)} → ${String(c.after)}`).join("; "), x]),
  ];
}

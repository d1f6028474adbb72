// whohas history <person|account>: one timeline across every system, snapshot changes and audit events merged.
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { findPerson } from "../query/person.js";
import { writeOutput } from "../report/output.js";
import { eventEntry, snapshotEntries, sortTimeline, writeHistory, type TimelineEntry } from "../report/history.js";
import { principalVersions, queryEvents } from "../store/events.js";
import { inventoryAt } from "../store/reader.js";
import { withStore } from "./common.js";
import { CliUsageError } from "./exit.js";
import { runOf } from "./inventory.js";

const norm = (s: string | null | undefined) => (s ?? "").trim().toLowerCase();

export const action = (query: string, opts: { config?: string; run?: string; format: "text" | "json" | "csv"; out?: string }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  if (query.trim() === "") throw new CliUsageError("history: expected an email, an alias (source:account), a login or an account id");
  withStore(config, (db) => {
    const run = runOf(db, opts.run);
    let match = findPerson(query, () => inventoryAt(db, run.id), config.identity.aliases);
    if (match.kind === "none") {
      // An account id (a provider's stable id) names one account.
      const byId = [...inventoryAt(db, run.id)].filter((p) => p.id === query.trim());
      if (byId.length > 0) match = { kind: "found", key: null, accounts: byId };
    }
    if (match.kind === "ambiguous") throw new CliUsageError(`history: "${query}" names accounts of ${match.candidates.length} people; ask for one of ${match.candidates.join(", ")}`);
    if (match.kind === "none") throw new CliUsageError(`history: no account matches "${query}" in run ${run.id} (by email, [identity] aliases, login, display name or account id)`);
    const entries: TimelineEntry[] = [];
    const seen = new Set<string>();
    for (const a of match.accounts) {
      entries.push(...snapshotEntries(a.source, a.scope, a.name, principalVersions(db, a.source, a.scope, a.id)));
      const names = new Set([norm(a.id), norm(a.name), ...(a.email ? [norm(a.email)] : [])]);
      const mine = [
        ...queryEvents(db, { sources: [a.source], scope: a.scope, targetIds: [a.id] }),
        ...queryEvents(db, { sources: [a.source], scope: a.scope, target: a.name }),
        ...queryEvents(db, { sources: [a.source], scope: a.scope, actor: a.name }),
      ].filter((e) => e.target.principalId === a.id || names.has(norm(e.target.name)) || names.has(norm(e.target.principalId)) || names.has(norm(e.actor.id)) || names.has(norm(e.actor.name)));
      for (const e of mine) {
        const k = `${e.source}\u001f${e.scope}\u001f${e.feed}\u001f${e.id}`;
        if (seen.has(k)) continue;
        seen.add(k);
        entries.push(eventEntry(e, a.name));
      }
    }
    writeOutput(opts.out, (sink) => writeHistory(sink, query, match.key, sortTimeline(entries), opts.format));
  });
};

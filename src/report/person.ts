// `whohas person`: every account, grant and credential of one person across all systems, as text, JSON
// (whohas.person/v1) or CSV (one row per account, grant and credential).
import { scopeKey, scopeText } from "../query/principals.js";
import type { PrincipalView, RunRow } from "../views.js";
import { csvLine } from "./csv.js";
import { activityText, shortId } from "./inventory.js";
import type { Sink } from "./output.js";
import { day, table } from "./text.js";

export type PersonFormat = "text" | "json" | "csv";

export interface PersonView {
  query: string;
  /** The email the accounts were matched on; null when matched by name only. */
  person: string | null;
  accounts: PrincipalView[];
}

export function writePerson(sink: Sink, run: RunRow, view: PersonView, format: PersonFormat, opts: { labels: Map<string, string>; maxWidth?: number }): void {
  const scope = (p: PrincipalView) => scopeText({ scope: p.scope, label: opts.labels.get(scopeKey(p)) });
  if (format === "json") {
    const accounts = view.accounts.map((p) => {
      const label = opts.labels.get(scopeKey(p));
      return label === undefined ? p : { ...p, scopeLabel: label };
    });
    sink.write(JSON.stringify({ schema: "whohas.person/v1", run: { id: run.id, startedAt: run.startedAt, status: run.status }, query: view.query, person: view.person, accounts }, null, 2) + "\n");
    return;
  }
  if (format === "csv") {
    sink.write(csvLine(["item", "source", "scope", "scope_label", "account_id", "account", "kind", "status", "access_level", "mfa", "last_active", "privilege_or_credential", "level_or_credential_kind", "via_or_status", "since_or_last_used"]));
    for (const p of view.accounts) {
      const base = [p.source, p.scope, opts.labels.get(scopeKey(p)) ?? "", p.id, p.name];
      sink.write(csvLine(["account", ...base, p.kind, p.status, p.accessLevel, p.mfa, p.lastActive.at ?? (p.lastActive.known ? "never" : "unknown"), "", "", "", ""]));
      for (const g of p.grants) sink.write(csvLine(["grant", ...base, "", "", "", "", "", g.privilege, g.level, g.via, g.since ?? ""]));
      for (const c of p.credentials) sink.write(csvLine(["credential", ...base, "", "", "", "", "", c.name ?? c.id, c.kind, c.status, c.lastUsed.at ?? (c.lastUsed.known ? "never" : "unknown")]));
    }
    return;
  }
  const sources = new Set(view.accounts.map((p) => p.source));
  const who = view.person ?? view.query;
  let out = `${who}: ${view.accounts.length} account(s) in ${sources.size} source(s), as of run ${run.id} (${run.startedAt})\n\n`;
  const w = { maxWidth: opts.maxWidth };
  out += table(
    ["SOURCE", "SCOPE", "NAME", "KIND", "STATUS", "ACCESS", "MFA", "LAST ACTIVE"],
    view.accounts.map((p) => [p.source, scope(p), p.name, p.kind, p.status, p.accessLevel, p.mfa, activityText(p.lastActive)]),
    w,
  );
  const grants = view.accounts.flatMap((p) => p.grants.map((g) => [p.source, scope(p), p.name, g.privilege, g.level, g.via, day(g.since)]));
  out += `\nGrants (${grants.length})\n`;
  if (grants.length > 0) out += table(["SOURCE", "SCOPE", "ACCOUNT", "PRIVILEGE", "LEVEL", "VIA", "SINCE"], grants, w);
  const creds = view.accounts.flatMap((p) => p.credentials.map((c) => [p.source, scope(p), p.name, c.kind, c.name ?? shortId(c.id), c.status, day(c.createdAt), activityText(c.lastUsed), day(c.expiresAt)]));
  out += `\nCredentials (${creds.length})\n`;
  if (creds.length > 0) out += table(["SOURCE", "SCOPE", "ACCOUNT", "KIND", "NAME", "STATUS", "CREATED", "LAST USED", "EXPIRES"], creds, w);
  sink.write(out);
}

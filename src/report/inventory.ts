// `whohas inventory`: the access inventory an auditor asks for, as text, JSON (stable, documented) or CSV.
import type { Activity } from "../model.js";
import type { PrincipalView, RunRow } from "../store/reader.js";
import { csvLine } from "./csv.js";
import type { Sink } from "./output.js";
import { day, TextTable } from "./text.js";

export type InventoryFormat = "text" | "json" | "csv";

/** "2026-01-31", "never", or "unknown": unknown is never shown as never. */
export function activityText(a: Activity): string {
  if (!a.known) return "unknown";
  return a.at ? day(a.at) : "never";
}

function credentialSummary(p: PrincipalView): string {
  return p.credentials
    .map((c) => `${c.kind}:${c.name ?? shortId(c.id)}(${c.status}, used ${activityText(c.lastUsed)}${c.expiresAt ? `, expires ${day(c.expiresAt)}` : ""})`)
    .join("; ");
}

/** Credential ids such as AWS access key ids are not secret, but reports show only their tail. */
export function shortId(id: string): string {
  return id.length > 8 ? `…${id.slice(-4)}` : id;
}

export function writeInventory(sink: Sink, run: RunRow, principals: Iterable<PrincipalView>, format: InventoryFormat): number {
  let n = 0;
  if (format === "json") {
    sink.write(`{"schema":"whohas.inventory/v1","run":${JSON.stringify({ id: run.id, startedAt: run.startedAt, status: run.status })},"principals":[`);
    for (const p of principals) {
      sink.write((n++ === 0 ? "\n" : ",\n") + JSON.stringify(p));
    }
    sink.write("\n]}\n");
    return n;
  }
  if (format === "csv") {
    sink.write(
      csvLine(["source", "scope", "id", "kind", "name", "email", "status", "access_level", "roles", "mfa", "created_at", "last_active", "last_active_known", "credentials"]),
    );
    for (const p of principals) {
      n++;
      sink.write(
        csvLine([
          p.source,
          p.scope,
          p.id,
          p.kind,
          p.name,
          p.email,
          p.status,
          p.accessLevel,
          p.grants.map((g) => `${g.privilege}:${g.level}`),
          p.mfa,
          p.createdAt,
          p.lastActive.at,
          p.lastActive.known,
          credentialSummary(p),
        ]),
      );
    }
    return n;
  }
  const rows = new TextTable(["SOURCE", "NAME", "KIND", "STATUS", "ACCESS", "MFA", "LAST ACTIVE", "ROLES", "CREDS"]);
  for (const p of principals) {
    n++;
    rows.add([
      p.source,
      p.name,
      p.kind,
      p.status,
      p.accessLevel,
      p.mfa,
      activityText(p.lastActive),
      p.grants.map((g) => g.privilege).join(", ") || "-",
      String(p.credentials.length),
    ]);
  }
  sink.write(`Inventory at run ${run.id} (${run.startedAt}, ${run.status}): ${n} principals\n\n`);
  rows.write((t) => sink.write(t));
  return n;
}

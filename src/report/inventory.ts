// `whohas inventory`: the access inventory an auditor asks for, as text, JSON (stable, documented) or CSV.
import type { AccessLevel, Activity } from "../model.js";
import { grantsAtOrAbove, principalSortKey, scopeKey, scopeText } from "../query/principals.js";
import type { PrincipalView, RunRow } from "../views.js";
import { csvLine } from "./csv.js";
import type { Sink } from "./output.js";
import { day, TextTable, type TextTableOptions } from "./text.js";

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

// Some providers key a credential by its creation time; that tail ("…000Z") tells a reviewer nothing.
const TIMESTAMP_TAIL = /\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * A credential as a reviewer reads it: its name, else the tail of its id, and when it was created
 * ("access_key …7QXA created 2025-03-01"), so two keys of one user can be told apart.
 */
export function credentialText(c: { kind: string; id: string; name: string | null; createdAt: string | null }): string {
  const which = c.name ?? (TIMESTAMP_TAIL.test(c.id) ? "" : shortId(c.id));
  return [c.kind, which, c.createdAt ? `created ${day(c.createdAt)}` : ""].filter(Boolean).join(" ");
}

/** A credential row of the diff (the store's columns) as a reviewer reads it. */
export const credentialOf = (x: { id: string; row: Record<string, unknown> }) =>
  credentialText({ kind: String(x.row.kind ?? "credential"), id: x.id, name: (x.row.name as string | null) ?? null, createdAt: (x.row.created_at as string | null) ?? null });

/** A text column of the inventory: its header and how a principal fills it. */
interface Column {
  name: string;
  cell(p: PrincipalView, ctx: ColumnContext): string;
}

interface ColumnContext {
  labels: Map<string, string>;
  minLevel?: Exclude<AccessLevel, "none">;
}

export const INVENTORY_COLUMNS: readonly Column[] = [
  { name: "SOURCE", cell: (p) => p.source },
  { name: "SCOPE", cell: (p, c) => scopeText({ scope: p.scope, label: c.labels.get(scopeKey(p)) }) },
  { name: "NAME", cell: (p) => p.name },
  { name: "DISPLAY NAME", cell: (p) => p.displayName ?? "-" },
  { name: "EMAIL", cell: (p) => p.email ?? "-" },
  { name: "KIND", cell: (p) => p.kind },
  { name: "STATUS", cell: (p) => p.status },
  { name: "ACCESS", cell: (p) => p.accessLevel },
  { name: "MFA", cell: (p) => p.mfa },
  { name: "LAST ACTIVE", cell: (p) => activityText(p.lastActive) },
  { name: "CREATED", cell: (p) => day(p.createdAt) },
  { name: "VIA", cell: (p, c) => grantsAtOrAbove(p, c.minLevel).map((g) => `${g.privilege} (${g.level}${g.via === "direct" ? "" : `, ${g.via}`})`).join(", ") || "-" },
  { name: "ROLES", cell: (p) => p.grants.map((g) => g.privilege).join(", ") || "-" },
  { name: "CREDS", cell: (p) => String(p.credentials.length) },
  { name: "ID", cell: (p) => p.id },
];

/** What `inventory` and `who` show without --columns; --wide shows every column. */
export const INVENTORY_DEFAULT_COLUMNS = ["SOURCE", "SCOPE", "NAME", "KIND", "STATUS", "ACCESS", "MFA", "LAST ACTIVE", "ROLES", "CREDS"];
export const WHO_DEFAULT_COLUMNS = ["SOURCE", "SCOPE", "NAME", "KIND", "STATUS", "ACCESS", "MFA", "LAST ACTIVE", "VIA"];

export interface InventoryTextOptions {
  /** Column names (INVENTORY_COLUMNS), in order; default INVENTORY_DEFAULT_COLUMNS. */
  columns?: string[];
  /** Fit the table in this width (see TextTable). */
  maxWidth?: number;
  /** Scope labels by `source/scope` (reader.scopeLabels). */
  labels?: Map<string, string>;
  /** `who --level`: the VIA column shows the grants at or above it. */
  minLevel?: Exclude<AccessLevel, "none">;
  /** What the heading calls the listing ("Inventory" by default). */
  title?: string;
  /** Where the text table keeps its rows past a threshold (see TextTable): a million rows are not held to be sorted. */
  spill?: TextTableOptions["spill"];
}

export function writeInventory(sink: Sink, run: RunRow, principals: Iterable<PrincipalView>, format: InventoryFormat, opts: InventoryTextOptions = {}): number {
  const labels = opts.labels ?? new Map<string, string>();
  let n = 0;
  if (format === "json") {
    sink.write(`{"schema":"whohas.inventory/v1","run":${JSON.stringify({ id: run.id, startedAt: run.startedAt, status: run.status })},"principals":[`);
    for (const p of principals) {
      const label = labels.get(scopeKey(p));
      sink.write((n++ === 0 ? "\n" : ",\n") + JSON.stringify(label === undefined ? p : { ...p, scopeLabel: label }));
    }
    sink.write("\n]}\n");
    return n;
  }
  if (format === "csv") {
    sink.write(
      csvLine(["source", "scope", "id", "kind", "name", "email", "status", "access_level", "roles", "mfa", "created_at", "last_active", "last_active_known", "credentials", "scope_label"]),
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
          labels.get(scopeKey(p)) ?? "",
        ]),
      );
    }
    return n;
  }
  const names = opts.columns ?? INVENTORY_DEFAULT_COLUMNS;
  const columns = names.map((name) => INVENTORY_COLUMNS.find((c) => c.name === name)!);
  const ctx: ColumnContext = { labels, minLevel: opts.minLevel };
  const rows = new TextTable(names, { maxWidth: opts.maxWidth, spill: opts.spill });
  try {
    for (const p of principals) {
      n++;
      rows.add(
        columns.map((c) => c.cell(p, ctx)),
        principalSortKey(p),
      );
    }
    sink.write(`${opts.title ?? "Inventory"} at run ${run.id} (${run.startedAt}, ${run.status}): ${n} ${n === 1 ? "principal" : "principals"}\n\n`);
    if (n > 0) rows.write((t) => sink.write(t));
  } finally {
    rows.close();
  }
  return n;
}

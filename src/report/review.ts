// The access review's rows, shared by every format: one row per grant (CSV, XLSX) for the review workflow,
// where a reviewer decides each grant on its own line, and the reviewer's empty columns.
import type { CredentialView, GrantView, PrincipalView } from "../views.js";
import { activityText, credentialText } from "./inventory.js";
import { scopeNamer, type Report } from "./report.js";

/** What a reviewer decides for each grant; the XLSX export offers exactly these in a drop-down. */
export const DECISIONS = ["Keep", "Revoke", "Modify"] as const;

/** Left empty for the reviewer, in every listing of the access review. */
export const REVIEWER_HEADER = ["Reviewer", "Decision", "Comment"] as const;

export interface GrantReviewRow {
  source: string;
  /** The scope as a person names it ("prod (222222222222)"). */
  scope: string;
  scopeId: string;
  principal: string;
  principalId: string;
  kind: string;
  email: string;
  status: string;
  mfa: string;
  lastActive: string;
  /** Empty for an account that holds no grant: it still gets one row, since the account itself is reviewed. */
  privilege: string;
  level: string;
  /** "direct", or how it is held: "group: admins", "inherited". */
  via: string;
  credentials: string;
}

/** The CSV header, in the order grantCells writes them (snake_case like every CSV whohas writes). */
export const GRANT_CSV_HEADER = [
  "source",
  "scope",
  "scope_id",
  "principal",
  "principal_id",
  "kind",
  "email",
  "status",
  "mfa",
  "last_active",
  "privilege",
  "level",
  "via",
  "credentials",
  "reviewer",
  "decision",
  "comment",
] as const;

/** The same columns for people (the XLSX sheet, the HTML): headers a reviewer reads. */
export const GRANT_TITLES = ["Source", "Scope", "Scope id", "Principal", "Principal id", "Kind", "Email", "Status", "MFA", "Last active", "Privilege", "Level", "Via", "Credentials", ...REVIEWER_HEADER];

export function grantCells(row: GrantReviewRow): string[] {
  return [row.source, row.scope, row.scopeId, row.principal, row.principalId, row.kind, row.email, row.status, row.mfa, row.lastActive, row.privilege, row.level, row.via, row.credentials, "", "", ""];
}

/** Group names a connector recorded for a grant held through a group or team, when it did. */
function groupNames(g: GrantView): string[] {
  const a = g.attributes;
  if (!a) return [];
  const out: string[] = [];
  for (const key of ["groups", "groupName", "team_name"]) {
    const v = a[key];
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) out.push(...v);
  }
  return out;
}

export function viaText(g: GrantView): string {
  if (g.via === "direct") return "direct";
  const groups = groupNames(g);
  return groups.length > 0 ? `${g.via}: ${groups.join(", ")}` : g.via;
}

export function credentialsText(creds: CredentialView[]): string {
  return creds.map((c) => `${credentialText(c)}, used ${activityText(c.lastUsed)}`).join("; ");
}

/** Every grant of the report's inventory, a row each, in the inventory's order; nothing when it has none (a changes report). */
export function* grantReviewRows(r: Report): Generator<GrantReviewRow> {
  const scopeName = scopeNamer(r);
  for (const p of r.eachPrincipal?.() ?? []) {
    const base = principalCells(p, scopeName(p));
    if (p.grants.length === 0) yield { ...base, privilege: "", level: p.accessLevel, via: "" };
    for (const g of p.grants) yield { ...base, privilege: g.privilege, level: g.level, via: viaText(g) };
  }
}

function principalCells(p: PrincipalView, scope: string): Omit<GrantReviewRow, "privilege" | "level" | "via"> {
  return {
    source: p.source,
    scope,
    scopeId: p.scope,
    principal: p.name,
    principalId: p.id,
    kind: p.kind,
    email: p.email ?? "",
    status: p.status,
    mfa: p.mfa,
    lastActive: activityText(p.lastActive),
    credentials: credentialsText(p.credentials),
  };
}

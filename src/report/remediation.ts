// Remediation in reports: notices pending, actions taken since the previous report's run (for an access review:
// what was remediated in its period) and actions that failed. Rows shared by the text, Markdown and HTML renderers.
import type { Db } from "../store/db.js";
import { listActions, listPending } from "../store/actions.js";

export interface RemediationRow {
  id: string;
  planId: string;
  type: string;
  status: string;
  subject: string;
  findingId: string;
  approver: string | null;
  at: string;
  answer: string | null;
}

export interface RemediationSection {
  /** Actions since this time (the previous run's start); null: since the beginning. */
  since: string | null;
  /** Findings an entry will act on: in their grace period or after their notice. */
  pending: { entry: string; subject: string; firstSeen: string; notifiedAt: string | null; notifiedTo: string | null }[];
  taken: RemediationRow[];
  failed: RemediationRow[];
}

function row(a: ReturnType<typeof listActions>[number]): RemediationRow {
  const subject = `${a.source}/${a.scope}/${a.principalName}${a.credentialName ? `/${a.credentialName}` : a.grantPrivilege ? `/${a.grantPrivilege}` : ""}`;
  return { id: a.id, planId: a.planId, type: a.type, status: a.status, subject, findingId: a.findingId, approver: a.status === "undone" ? a.undoneBy : a.approver, at: a.updatedAt, answer: a.answer };
}

/** Null when the store has no remediation at all (no entry ever planned). */
export function remediationSection(db: Db, since: string | null): RemediationSection | null {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'actions'").get()) return null;
  if (!db.prepare("SELECT 1 FROM plans LIMIT 1").get()) return null;
  const filter = since ? { since } : {};
  return {
    since,
    pending: listPending(db, "pending").map((p) => ({ entry: p.entry, subject: p.subject, firstSeen: p.firstSeen, notifiedAt: p.notifiedAt, notifiedTo: p.notifiedTo })),
    taken: listActions(db, { ...filter, status: ["done", "applied", "undone"] }).map(row),
    failed: listActions(db, { ...filter, status: ["failed", "unknown"] }).map(row),
  };
}

export const REMEDIATION_HEADER = ["When", "Status", "Action", "Subject", "Approved by", "Answer", "Action id"];
export const PENDING_HEADER = ["Entry", "Subject", "Seen since", "Notice sent", "To"];

export function remediationRows(rows: readonly RemediationRow[]): string[][] {
  return rows.map((r) => [r.at, r.status, r.type, r.subject, r.approver ?? "", r.answer ?? "", r.id]);
}

export function pendingRows(s: RemediationSection): string[][] {
  return s.pending.map((p) => [p.entry, p.subject, p.firstSeen.slice(0, 10), p.notifiedAt?.slice(0, 10) ?? "not yet", p.notifiedTo ?? ""]);
}

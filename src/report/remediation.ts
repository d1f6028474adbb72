// Remediation in reports: notices pending, actions taken since the previous report's run (for an access review:
// what was remediated in its period) and actions that failed. Rows shared by the text, Markdown and HTML renderers.

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

export const REMEDIATION_HEADER = ["When", "Status", "Action", "Subject", "Approved by", "Answer", "Action id"];
export const PENDING_HEADER = ["Entry", "Subject", "Seen since", "Notice sent", "To"];

export function remediationRows(rows: readonly RemediationRow[]): string[][] {
  return rows.map((r) => [r.at, r.status, r.type, r.subject, r.approver ?? "", r.answer ?? "", r.id]);
}

export function pendingRows(s: RemediationSection): string[][] {
  return s.pending.map((p) => [p.entry, p.subject, p.firstSeen.slice(0, 10), p.notifiedAt?.slice(0, 10) ?? "not yet", p.notifiedTo ?? ""]);
}

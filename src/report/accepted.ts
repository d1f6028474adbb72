// Accepted risks (findings a [[suppress]] entry hides until its date) as table rows, shared by the text,
// Markdown and HTML renderers: every format lists them, not only a count.
import type { Report } from "./report.js";

export const ACCEPTED_RISK_HEADER = ["Rule", "Severity", "Subject", "Reason", "Until", "Added by"];

export function acceptedRiskRows(r: Pick<Report, "suppressed">): string[][] {
  return r.suppressed.map((a) => [a.rule, a.severity, a.subject, a.reason, a.until, a.addedBy ?? "not recorded"]);
}

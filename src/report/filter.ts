// `report --severity/--rule/--source/--scope/--new-only/--search`: the report narrowed to the findings asked
// about. buildReport applies it while it counts, so the headline and the subject line tell the truth about
// the filtered report; the filter itself is recorded in it (JSON `filter`).
import type { Severity } from "../vocabulary.js";
import type { Report } from "./report.js";

export interface FindingFilter {
  severities?: Severity[];
  rules?: string[];
  sources?: string[];
  /** `source/scope` keys. */
  scopes?: Set<string>;
  newOnly?: boolean;
  /** Case-insensitive, in the rule, subject and detail. */
  search?: string;
}

export function isEmptyFilter(f: FindingFilter): boolean {
  return !f.severities && !f.rules && !f.sources && !f.scopes && !f.newOnly && !f.search;
}

export function findingMatches(f: FindingFilter, x: { severity: Severity; rule: string; source: string; scope: string; subject: string; detail?: string; new?: boolean }): boolean {
  if (f.severities && !f.severities.includes(x.severity)) return false;
  if (f.rules && !f.rules.includes(x.rule)) return false;
  if (f.sources && !f.sources.includes(x.source)) return false;
  if (f.scopes && !f.scopes.has(`${x.source}/${x.scope}`)) return false;
  if (f.newOnly && !x.new) return false;
  if (f.search) {
    const q = f.search.toLowerCase();
    if (![x.rule, x.subject, x.detail ?? ""].some((h) => h.toLowerCase().includes(q))) return false;
  }
  return true;
}

/** The filter as the JSON report records it. */
export function recordedFilter(f: FindingFilter): NonNullable<Report["filter"]> {
  return {
    ...(f.severities ? { severities: f.severities } : {}),
    ...(f.rules ? { rules: f.rules } : {}),
    ...(f.sources ? { sources: f.sources } : {}),
    ...(f.scopes ? { scopes: [...f.scopes] } : {}),
    ...(f.newOnly ? { newOnly: true } : {}),
    ...(f.search ? { search: f.search } : {}),
  };
}

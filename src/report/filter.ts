// `report --severity/--rule/--source/--scope/--new-only/--search`: the report narrowed to the findings asked
// about. Counts are recomputed from what is left, so the headline and the subject line tell the truth about
// the filtered report; the filter itself is recorded in it (JSON `filter`).
import { SEVERITIES, type Severity } from "../vocabulary.js";
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

function matches(f: FindingFilter, x: { severity: Severity; rule: string; source: string; scope: string; subject: string; detail?: string; new?: boolean }): boolean {
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

export function filterReport(r: Report, f: FindingFilter): Report {
  if (isEmptyFilter(f)) return r;
  const findings = r.findings.filter((x) => matches(f, x));
  // Accepted risks were not new or old: --new-only keeps none of them.
  const suppressed = r.suppressed.filter((x) => matches({ ...f, newOnly: false }, x) && !f.newOnly);
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((x) => x.severity === s).length])) as Record<Severity, number>;
  const inScope = (x: { source: string; scope: string }) => (!f.sources || f.sources.includes(x.source)) && (!f.scopes || f.scopes.has(`${x.source}/${x.scope}`));
  const inventory = r.inventory?.filter(inScope);
  const roles = r.roles?.filter(inScope);
  return {
    ...r,
    findings,
    suppressed,
    counts: { ...r.counts, findings: bySeverity, newFindings: findings.filter((x) => x.new).length, suppressed: suppressed.length },
    ...(inventory ? { inventory } : {}),
    ...(roles ? { roles } : {}),
    filter: {
      ...(f.severities ? { severities: f.severities } : {}),
      ...(f.rules ? { rules: f.rules } : {}),
      ...(f.sources ? { sources: f.sources } : {}),
      ...(f.scopes ? { scopes: [...f.scopes] } : {}),
      ...(f.newOnly ? { newOnly: true } : {}),
      ...(f.search ? { search: f.search } : {}),
    },
  };
}

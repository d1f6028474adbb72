// Findings grouped (by rule, by source and scope) with their counts per severity: a reviewer reads
// "orphaned-access: 3 (2 critical)" before the rows, and the HTML report folds each group.
import type { Finding } from "../rules/evaluate.js";
import { SEVERITIES, type Severity } from "../vocabulary.js";

export interface FindingGroup {
  key: string;
  findings: Finding[];
  bySeverity: Record<Severity, number>;
}

const rank = (g: FindingGroup) => SEVERITIES.map((s) => g.bySeverity[s]);

/** Groups in order of their most severe findings (then size, then name); each group keeps the findings' order. */
export function groupFindings(findings: readonly Finding[], keyOf: (f: Finding) => string): FindingGroup[] {
  const groups = new Map<string, FindingGroup>();
  for (const f of findings) {
    const key = keyOf(f);
    let g = groups.get(key);
    if (!g) {
      g = { key, findings: [], bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number> };
      groups.set(key, g);
    }
    g.findings.push(f);
    g.bySeverity[f.severity]++;
  }
  return [...groups.values()].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return rb[i]! - ra[i]!;
    return b.findings.length - a.findings.length || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  });
}

/** "2 critical, 1 high": the severities a group has, most severe first. */
export function severityCounts(bySeverity: Record<Severity, number>): string {
  return SEVERITIES.filter((s) => bySeverity[s] > 0)
    .map((s) => `${bySeverity[s]} ${s}`)
    .join(", ");
}

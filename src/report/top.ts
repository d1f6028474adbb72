// The top of each rule: text, Markdown and HTML list at most N findings per rule (report --top, [report] top)
// and say, for each rule cut short, how many were shown and where the full list is. JSON and CSV always have
// every finding; a report written to a file gets a companion X.findings.csv with all of them.
import { basename, dirname, extname, join } from "node:path";
import type { Report } from "./report.js";

/** `/var/lib/whohas/reports/run-42-vs-41.html` → `…/run-42-vs-41.findings.csv`. */
export function companionPath(reportPath: string): string {
  const ext = extname(reportPath);
  return join(dirname(reportPath), `${basename(reportPath, ext)}.findings.csv`);
}

/** Where the reader finds every finding: the companion file by its name, else how to ask for them. */
export function fullListText(companion: string | undefined): string {
  return companion ? `full list in ${basename(companion)}` : "every one with --all, or with --format csv";
}

export interface RuleNotes {
  /** Index in `report.findings` → notes to show after that finding (its rule's last shown one). */
  after: Map<number, string[]>;
  /** Rules with findings of which none is shown (top 0). */
  unlisted: string[];
  /** Any rule cut short. */
  truncated: boolean;
}

/** "new-admin: 20 of 3,412 shown; full list in run-42.findings.csv", placed after each rule's last shown finding. */
export function ruleNotes(report: Report, companion: string | undefined): RuleNotes {
  const last = new Map<string, number>();
  report.findings.forEach((f, i) => last.set(f.rule, i));
  const after = new Map<number, string[]>();
  const unlisted: string[] = [];
  const where = fullListText(companion);
  for (const t of report.tally.rules) {
    if (t.shown >= t.total) continue;
    const text = `${t.rule}: ${t.shown.toLocaleString("en-US")} of ${t.total.toLocaleString("en-US")} shown; ${where}`;
    const i = last.get(t.rule);
    if (i === undefined) unlisted.push(text);
    else after.set(i, [...(after.get(i) ?? []), text]);
  }
  return { after, unlisted, truncated: after.size > 0 || unlisted.length > 0 };
}

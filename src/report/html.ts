// Self-contained HTML report: inline CSS, inline SVG charts, no scripts, no remote images, so it reads the
// same in a browser, an archive and a mail client.
import { SEVERITIES } from "../vocabulary.js";
import { shown } from "../safe-text.js";
import { changeRows } from "./changes.js";
import { activityText } from "./inventory.js";
import { ACCEPTED_RISK_HEADER, acceptedRiskRows } from "./accepted.js";
import { PENDING_HEADER, pendingRows, REMEDIATION_HEADER, remediationRows } from "./remediation.js";
import { findingTotal, headline, scopeNamer, type HistoryPoint, type Report } from "./report.js";
import type { Finding } from "../rules/evaluate.js";
import type { PrincipalView } from "../views.js";
import { groupFindings, severityCounts, type FindingGroup } from "./groups.js";
import { credentialsText, REVIEWER_HEADER, viaText } from "./review.js";
import { scopeText } from "../query/principals.js";
import { fullListText, ruleNotes } from "./top.js";
import { rolesSectionHtml } from "./roles.js";

export const escapeHtml = (v: unknown) =>
  String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
/** Longest value a cell shows; the JSON and CSV reports keep it whole. */
const HTML_FIELD_MAX = 1024;
// Controls and bidi overrides are shown escaped here too: a browser obeys U+202E as readily as a terminal.
const esc = (v: unknown) => escapeHtml(shown(v, HTML_FIELD_MAX));

const SEVERITY_BG: Record<string, string> = { critical: "#7b1fa2", high: "#c62828", medium: "#ef6c00", low: "#1565c0", info: "#616161" };

/** Column widths in percent, for `table-layout: fixed`: the printed page never clips a column, it wraps cells. */
type Widths = readonly number[];

function table(header: readonly string[], rows: unknown[][], raw = false, widths?: Widths, cls?: string): string {
  let out = "";
  writeTable((t) => void (out += t), header, rows, raw, widths, cls);
  return out;
}

/** A table a row at a time from `rows` (a store cursor for the inventory); "None." when it yields none. */
function writeTable(write: (text: string) => void, header: readonly string[], rows: Iterable<unknown[]>, raw = false, widths?: Widths, cls?: string): void {
  const cols = widths ? `<colgroup>${widths.map((w) => `<col style="width:${w}%">`).join("")}</colgroup>` : "";
  let any = false;
  for (const r of rows) {
    if (!any) write(`<table${cls ? ` class="${cls}"` : ""}>${cols}<thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>`);
    any = true;
    write(`<tr>${r.map((c) => `<td>${raw ? String(c) : esc(c)}</td>`).join("")}</tr>`);
  }
  write(any ? "</tbody></table>" : "<p class=muted>None.</p>");
}

/** A small line chart of one series over runs. */
export function sparkline(title: string, points: { label: string; value: number }[], colour: string): string {
  const w = 260;
  const h = 90;
  const pad = 22;
  if (points.length === 0) return "";
  const max = Math.max(1, ...points.map((p) => p.value));
  const x = (i: number) => pad + (points.length === 1 ? (w - 2 * pad) / 2 : (i * (w - 2 * pad)) / (points.length - 1));
  const y = (v: number) => h - pad + 4 - (v / max) * (h - 2 * pad);
  const path = points.map((p, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  const last = points[points.length - 1]!;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}">
<text x="4" y="13" font-size="12" font-family="sans-serif" fill="#333">${esc(title)}: ${last.value}</text>
<line x1="${pad}" y1="${h - pad + 4}" x2="${w - pad}" y2="${h - pad + 4}" stroke="#ccc"/>
<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>
${points.map((p, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="2.5" fill="${colour}"><title>run ${esc(p.label)}: ${p.value}</title></circle>`).join("")}
<text x="${pad}" y="${h - 3}" font-size="10" font-family="sans-serif" fill="#777">run ${esc(points[0]!.label)}</text>
<text x="${w - pad}" y="${h - 3}" font-size="10" font-family="sans-serif" fill="#777" text-anchor="end">run ${esc(last.label)}</text>
</svg>`;
}

function charts(history: HistoryPoint[], currentFindings: number): string {
  if (history.length === 0) return "";
  const series = (pick: (h: HistoryPoint) => number) => history.map((h) => ({ label: String(h.run), value: pick(h) }));
  return `<div class=charts>${[
    sparkline("Active accounts", series((h) => h.accounts), "#1565c0"),
    sparkline("Administrators", series((h) => h.admins), "#c62828"),
    sparkline("Active credentials", series((h) => h.credentials), "#2e7d32"),
    sparkline("Open findings", series((h) => h.findings ?? currentFindings), "#ef6c00"),
  ].join("")}</div>`;
}

/**
 * Screen: readable width, wide tables scroll inside their own box instead of running off the page.
 * Print (the PDF an auditor files): A4 landscape, a page number in the margin, table headers repeated on
 * every page, fixed column widths whose cells wrap (nothing is clipped), rows kept whole, small type.
 */
const STYLE = `
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222;margin:24px auto;max-width:1400px;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:14px;margin:14px 0 6px}
table{border-collapse:collapse;width:100%;font-size:13px;table-layout:fixed}
th,td{border:1px solid #ddd;padding:3px 5px;text-align:left;vertical-align:top;overflow-wrap:anywhere;word-break:break-word}
th{background:#f3f3f3}thead{display:table-header-group}
.badge{color:#fff;border-radius:3px;padding:1px 6px;font-size:12px;white-space:nowrap}
.muted{color:#777}.charts svg{margin:4px 12px 4px 0;border:1px solid #eee}
.scroll{overflow-x:auto}.scroll>table.inventory{min-width:1100px}
table.meta{width:auto;max-width:100%}table.meta th{width:12em}
details{margin:4px 0}summary{cursor:pointer;padding:2px 0}
.sign td{height:34px}
@page{size:A4 landscape;margin:12mm 10mm 14mm 10mm;@bottom-right{content:"Page " counter(page) " of " counter(pages);font-size:8pt;color:#555}@bottom-left{content:"whohas access evidence";font-size:8pt;color:#555}}
@media print{
body{margin:0;max-width:none;padding:0;font-size:9pt}
h1{font-size:15pt}h2{font-size:12pt;break-after:avoid}h3{break-after:avoid}
table{font-size:7.5pt}th,td{padding:2px 3px}
.scroll{overflow:visible}.scroll>table.inventory{min-width:0}
tr{break-inside:avoid}.charts{break-inside:avoid}
summary{list-style:none}.badge{padding:0 3px;font-size:7pt;print-color-adjust:exact;-webkit-print-color-adjust:exact}
}`;

/** The inventory's columns and widths (percent); the last three are the reviewer's, left empty. */
const INVENTORY_HEADER = ["Source", "Scope", "Username", "Email", "Status", "Access", "Roles", "MFA", "Last active", "Credentials", ...REVIEWER_HEADER];
const INVENTORY_WIDTHS: Widths = [6, 9, 9, 11, 5, 5, 14, 5, 6, 12, 6, 6, 6];
const FINDING_WIDTHS: Widths = [8, 11, 11, 18, 32, 20];

export function renderHtml(r: Report, companion?: string): string {
  const parts: string[] = [];
  writeHtml((t) => void parts.push(t), r, companion);
  return parts.join("");
}

/** The HTML report a piece at a time: the inventory's rows are read from the store as they are written. */
export function writeHtml(write: (text: string) => void, r: Report, companion?: string): void {
  const review = r.type === "access-review";
  const title = `whohas ${review ? "access review" : "report"}: run ${r.run.id}`;
  const scopeName = scopeNamer(r);
  const sevBadges = SEVERITIES.map((s) => `<span class=badge style="background:${SEVERITY_BG[s]}">${r.counts.findings[s]} ${s}</span>`).join(" ");
  const coverage = table(
    ["Source", "Scope", "Status", "Data from run", "Data as of", "Quarantined", "Unresolved", "Error"],
    r.coverage.map((s) => [s.source, scopeText(s), s.status, s.dataFromRun ?? "none", s.dataFromAt ?? "never", s.quarantined, s.unresolved, s.error ?? ""]),
    false,
    [10, 18, 8, 8, 15, 8, 8, 25],
  );
  const feeds =
    r.feeds.length > 0
      ? `<h2>Audit-event feeds</h2>${table(["Source", "Scope", "Feed", "Status", "Covered from", "Covered until", "Reason"], r.feeds.map((f) => [f.source, scopeName(f), f.feed, f.status, f.coveredFrom ?? "", f.coveredUntil ?? "", f.reason ?? ""]))}`
      : "";
  let changes = "";
  if (r.diff) {
    const d = r.diff;
    const rows = changeRows(d);
    const windows = d.scopes.filter((s) => s.window);
    changes = `<h2>Changes since run ${d.from.id}</h2>${table(["Change", "Subject", "Detail"], rows, false, [14, 36, 50])}`;
    if (windows.length > 0) changes += table(["Compared across an outage", "Window"], windows.map((s) => [`${s.source}/${scopeName(s)}`, s.window!]));
  }
  write(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"><title>${esc(title)}</title>
<style>${STYLE}</style></head><body>
<h1>${esc(title)}</h1>
${evidenceBlock(r)}
<p><b>${esc(headline(r))}</b></p>
<p>${sevBadges} · ${r.counts.newFindings} new · ${r.counts.suppressed} suppressed</p>
${charts(r.history, findingTotal(r))}
${findingsHtml(r, scopeName, companion)}
<h2>Accepted risks (${r.suppressed.length})</h2>${table(ACCEPTED_RISK_HEADER, acceptedRiskRows(r))}
${r.remediation ? remediationHtml(r.remediation) : ""}
${changes}
<h2>Sources and coverage</h2>${coverage}${feeds}
<h2>Policy in force</h2>${table(["Setting", "Value"], Object.entries(r.policy).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]), false, [30, 70])}
`);
  if (r.eachPrincipal) {
    write(`<h2>Access inventory (${r.inventoryCount ?? 0})</h2><div class=scroll>`);
    writeTable(write, INVENTORY_HEADER, inventoryRows(r.eachPrincipal(), scopeName), false, INVENTORY_WIDTHS, "inventory");
    write("</div>");
  }
  write(`
${r.roles ? rolesSectionHtml(r.roles, esc) : ""}
${review ? signOff(r) : ""}
<h2>Evidence</h2><p>Run ${r.run.id} digest <code>${esc(r.run.digest ?? "none")}</code>${r.previousRun ? `; previous run ${r.previousRun.id} digest <code>${esc(r.previousRun.digest ?? "none")}</code>` : ""}. Verify with <code>whohas verify</code>.</p>
</body></html>
`);
}

function* inventoryRows(principals: Iterable<PrincipalView>, scopeName: (x: { source: string; scope: string }) => string): Generator<string[]> {
  for (const p of principals) {
    yield [
      p.source,
      scopeName(p),
      p.name,
      p.email ?? "",
      p.status,
      p.accessLevel,
      p.grants.map((g) => `${g.privilege} (${g.level}${g.via === "direct" ? "" : `, ${viaText(g)}`})`).join("; "),
      p.mfa,
      activityText(p.lastActive),
      credentialsText(p.credentials),
      "",
      "",
      "",
    ];
  }
}

/** Whose review this is, what produced it, from which settings and data, over which period. */
function evidenceBlock(r: Report): string {
  const e = r.evidence;
  const rows: [string, string][] = [
    ["Organisation", esc(e.organisation ?? "(not set: [report] organisation)")],
    ["Period covered", `${esc(e.periodFrom ?? "the first run")} → ${esc(e.periodTo)}`],
    ["Run", `${r.run.id} (${esc(r.run.status)})${r.previousRun ? `, compared with run ${r.previousRun.id}` : ""}`],
    ["Evidence digest", `<code>${esc(r.run.digest ?? "none")}</code>`],
    ["Tool", `whohas ${esc(e.toolVersion)}`],
    ["Config digest", `<code>${esc(e.configDigest)}</code>`],
    ["Generated", esc(r.generatedAt)],
    ["Sources", r.coverage.map((c) => `${esc(c.source)} / ${esc(scopeText(c))}: ${esc(c.status)}, data as of ${esc(c.dataFromAt ?? "never")}`).join("<br>") || "none"],
  ];
  return `<table class=meta><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join("")}</tbody></table>`;
}

function findingRow(f: Finding, scopeName: (x: { source: string; scope: string }) => string): string[] {
  return [
    `<span class=badge style="background:${SEVERITY_BG[f.severity]}">${esc(f.severity)}</span>${f.new ? " <b>new</b>" : ""}`,
    esc(f.rule),
    `${esc(f.source)} / ${esc(scopeName(f))}`,
    esc(f.subject),
    esc(f.detail) + (f.suppressionExpired ? ` <i>(suppression expired ${esc(f.suppressionExpired.until)}: ${esc(f.suppressionExpired.reason)})</i>` : ""),
    esc(f.controls.join(", ")),
  ];
}

/** Findings folded by rule (each with its rows) and by source (counts per rule); open, so a print shows them. */
function findingsHtml(r: Report, scopeName: (x: { source: string; scope: string }) => string, companion: string | undefined): string {
  const total = findingTotal(r);
  if (total === 0) return "<h2>Findings (0)</h2><p class=muted>None.</p>";
  // The report holds at most `top` findings of each rule: each rule's summary says how many of how many.
  const notes = ruleNotes(r, companion);
  const tally = new Map(r.tally.rules.map((t) => [t.rule, t]));
  const shownOf = (rule: string, n: number) => {
    const t = tally.get(rule);
    return t && t.total > n ? `${n} of ${t.total.toLocaleString("en-US")} shown` : String(n);
  };
  const summary = (label: string, g: FindingGroup, count: string) => `<summary><b>${esc(label)}</b>: ${esc(count)} (${esc(severityCounts(g.bySeverity))})</summary>`;
  const byRule = groupFindings(r.findings, (f) => f.rule)
    .map((g) => `<details open>${summary(g.key, g, shownOf(g.key, g.findings.length))}${table(["Severity", "Rule", "Scope", "Subject", "Detail", "Controls"], g.findings.map((f) => findingRow(f, scopeName)), true, FINDING_WIDTHS)}</details>`)
    .join("\n");
  const unlisted = notes.unlisted.length > 0 ? `<ul class=muted>${notes.unlisted.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : "";
  const bySource = groupFindings(r.findings, (f) => `${f.source} / ${scopeName(f)}`)
    .map((g) => {
      const rules = groupFindings(g.findings, (f) => f.rule).map((x) => [x.key, x.findings.length, severityCounts(x.bySeverity)]);
      return `<details open>${summary(g.key, g, String(g.findings.length))}${table(["Rule", "Findings", "Severities"], rules, false, [40, 15, 45])}</details>`;
    })
    .join("\n");
  const cutNote = notes.truncated ? `<p class=muted>At most ${r.tally.top} finding(s) per rule are listed, new ones first; ${esc(fullListText(companion))}.</p>` : "";
  const sourceNote = notes.truncated ? `<p class=muted>Counts of the listed findings.</p>` : "";
  return `<h2>Findings (${total}; ${r.counts.newFindings} new)</h2>${cutNote}<h3>By rule</h3>${byRule}${unlisted}<h3>By source</h3>${sourceNote}${bySource}`;
}

/** Where the reviewer signs: the review is evidence only once someone accountable has attested it. */
function signOff(r: Report): string {
  const org = r.evidence.organisation ? ` for ${esc(r.evidence.organisation)}` : "";
  return `<h2>Sign-off</h2><p>I have reviewed the access listed above${org}, covering ${esc(r.evidence.periodFrom ?? "the first run")} → ${esc(r.evidence.periodTo)} (run ${r.run.id}, digest <code>${esc(shortDigest(r.run.digest))}</code>), and recorded a decision for each grant.</p>
<table class=sign><colgroup><col style="width:18%"><col style="width:32%"><col style="width:18%"><col style="width:32%"></colgroup><tbody>
<tr><th>Reviewer name</th><td></td><th>Role</th><td></td></tr>
<tr><th>Date</th><td></td><th>Signature</th><td></td></tr>
<tr><th>Approver name</th><td></td><th>Signature</th><td></td></tr>
</tbody></table>`;
}

const shortDigest = (d: string | null) => (d ? d.slice(0, 16) : "none");

function remediationHtml(rem: NonNullable<Report["remediation"]>): string {
  const period = rem.since ? `since ${rem.since}` : "so far";
  return `<h2>Remediation: actions taken ${esc(period)} (${rem.taken.length})</h2>${table(REMEDIATION_HEADER, remediationRows(rem.taken))}
<h2>Remediation: actions failed ${esc(period)} (${rem.failed.length})</h2>${table(REMEDIATION_HEADER, remediationRows(rem.failed))}
<h2>Remediation: pending (${rem.pending.length})</h2>${table(PENDING_HEADER, pendingRows(rem))}`;
}

// Self-contained HTML report: inline CSS, inline SVG charts, no scripts, no remote images, so it reads the
// same in a browser, an archive and a mail client.
import { SEVERITIES } from "../vocabulary.js";
import { shown } from "../safe-text.js";
import { changeRows } from "./changes.js";
import { activityText, shortId } from "./inventory.js";
import { ACCEPTED_RISK_HEADER, acceptedRiskRows } from "./accepted.js";
import { PENDING_HEADER, pendingRows, REMEDIATION_HEADER, remediationRows } from "./remediation.js";
import { headline, type HistoryPoint, type Report } from "./report.js";
import { rolesSectionHtml } from "./roles.js";

export const escapeHtml = (v: unknown) =>
  String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
/** Longest value a cell shows; the JSON and CSV reports keep it whole. */
const HTML_FIELD_MAX = 1024;
// Controls and bidi overrides are shown escaped here too: a browser obeys U+202E as readily as a terminal.
const esc = (v: unknown) => escapeHtml(shown(v, HTML_FIELD_MAX));

const SEVERITY_BG: Record<string, string> = { critical: "#7b1fa2", high: "#c62828", medium: "#ef6c00", low: "#1565c0", info: "#616161" };

function table(header: string[], rows: unknown[][], raw = false): string {
  if (rows.length === 0) return "<p class=muted>None.</p>";
  return `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${raw ? String(c) : esc(c)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
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

export function renderHtml(r: Report): string {
  const title = `whohas ${r.type === "access-review" ? "access review" : "report"}: run ${r.run.id}`;
  const sevBadges = SEVERITIES.map((s) => `<span class=badge style="background:${SEVERITY_BG[s]}">${r.counts.findings[s]} ${s}</span>`).join(" ");
  const findings = table(
    ["Severity", "Rule", "Subject", "Detail", "Controls"],
    r.findings.map((f) => [
      `<span class=badge style="background:${SEVERITY_BG[f.severity]}">${esc(f.severity)}</span>${f.new ? " <b>new</b>" : ""}`,
      esc(f.rule),
      esc(f.subject),
      esc(f.detail) + (f.suppressionExpired ? ` <i>(suppression expired ${esc(f.suppressionExpired.until)}: ${esc(f.suppressionExpired.reason)})</i>` : ""),
      esc(f.controls.join(", ")),
    ]),
    true,
  );
  const coverage = table(
    ["Source", "Scope", "Status", "Data from run", "Quarantined", "Unresolved", "Error"],
    r.coverage.map((s) => [s.source, s.scope, s.status, s.dataFromRun ?? "none", s.quarantined, s.unresolved, s.error ?? ""]),
  );
  const feeds =
    r.feeds.length > 0
      ? `<h2>Audit-event feeds</h2>${table(["Source", "Scope", "Feed", "Status", "Covered from", "Covered until", "Reason"], r.feeds.map((f) => [f.source, f.scope, f.feed, f.status, f.coveredFrom ?? "", f.coveredUntil ?? "", f.reason ?? ""]))}`
      : "";
  let changes = "";
  if (r.diff) {
    const d = r.diff;
    const rows = changeRows(d);
    const windows = d.scopes.filter((s) => s.window);
    changes = `<h2>Changes since run ${d.from.id}</h2>${table(["Change", "Subject", "Detail"], rows)}`;
    if (windows.length > 0) changes += table(["Compared across an outage", "Window"], windows.map((s) => [`${s.source}/${s.scope}`, s.window!]));
  }
  const inventory = r.inventory
    ? `<h2>Access inventory</h2>${table(
        ["Source", "Username", "Email", "Status", "Access", "Roles", "MFA", "Last active", "Credentials (last used)"],
        r.inventory.map((p) => [
          p.source,
          p.name,
          p.email ?? "",
          p.status,
          p.accessLevel,
          p.grants.map((g) => `${g.privilege} (${g.level})`).join(", "),
          p.mfa,
          activityText(p.lastActive),
          p.credentials.map((k) => `${k.kind} ${k.name ?? shortId(k.id)}: ${activityText(k.lastUsed)}`).join("; "),
        ]),
      )}`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"><title>${esc(title)}</title>
<style>
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222;margin:24px;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.badge{color:#fff;border-radius:3px;padding:1px 6px;font-size:12px;white-space:nowrap}
.muted{color:#777}.charts svg{margin:4px 12px 4px 0;border:1px solid #eee}
</style></head><body>
<h1>${esc(title)}</h1>
<p>Run ${r.run.id} started ${esc(r.run.startedAt)} (${esc(r.run.status)})${r.previousRun ? `, compared with run ${r.previousRun.id} (${esc(r.previousRun.startedAt)})` : ""}. Generated ${esc(r.generatedAt)}.</p>
<p><b>${esc(headline(r))}</b></p>
<p>${sevBadges} · ${r.counts.newFindings} new · ${r.counts.suppressed} suppressed</p>
${charts(r.history, r.findings.length)}
<h2>Findings</h2>${findings}
<h2>Accepted risks (${r.suppressed.length})</h2>${table(ACCEPTED_RISK_HEADER, acceptedRiskRows(r))}
${r.remediation ? remediationHtml(r.remediation) : ""}
${changes}
<h2>Coverage</h2>${coverage}${feeds}
<h2>Policy in force</h2>${table(["Setting", "Value"], Object.entries(r.policy).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]))}
${inventory}
${r.roles ? rolesSectionHtml(r.roles, esc) : ""}
<h2>Evidence</h2><p>Run ${r.run.id} digest <code>${esc(r.run.digest ?? "none")}</code>${r.previousRun ? `; previous run ${r.previousRun.id} digest <code>${esc(r.previousRun.digest ?? "none")}</code>` : ""}. Verify with <code>whohas verify</code>.</p>
</body></html>
`;
}

function remediationHtml(rem: NonNullable<Report["remediation"]>): string {
  const period = rem.since ? `since ${rem.since}` : "so far";
  return `<h2>Remediation: actions taken ${esc(period)} (${rem.taken.length})</h2>${table(REMEDIATION_HEADER, remediationRows(rem.taken))}
<h2>Remediation: actions failed ${esc(period)} (${rem.failed.length})</h2>${table(REMEDIATION_HEADER, remediationRows(rem.failed))}
<h2>Remediation: pending (${rem.pending.length})</h2>${table(PENDING_HEADER, pendingRows(rem))}`;
}

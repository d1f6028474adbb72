// The email's body: a summary that fits in any mail client whatever the tenant's size (clients clip an HTML
// body at about 100 KB, and a 5,000-member org's full report is several hundred). Headline counts with the
// most severe first, the top findings, what changed, coverage and accepted risks; everything else is in the
// attached report. Built as lines of (text, html) pairs so the two parts always say the same thing; provider
// text is escaped for each (shown() for the text part, then HTML escaping for the HTML part) and capped.
import type { Finding } from "../rules/evaluate.js";
import type { DiffResult } from "../diff/differ.js";
import { escapeHtml } from "../report/html.js";
import { findingTotal, headline, type Report } from "../report/report.js";
import { shown } from "../safe-text.js";
import { SEVERITIES, severityRank } from "../vocabulary.js";

/** Longest provider value in one summary line: the attachment has the whole of it. */
const VALUE_MAX = 120;
/** Listed items per coverage gap or kind of change; the rest is counted. */
const LIST_MAX = 5;
/** Examples shown of one kind of change. */
const EXAMPLES_PER_KIND = 3;

export interface AttachedReport {
  filename: string;
  bytes: number;
  /** The HTML's own size when the attachment is its gzip. */
  uncompressedBytes?: number;
}

export interface SummaryOptions {
  topFindings: number;
  attached: AttachedReport | null;
  csv?: AttachedReport;
}

type Block = { title: string; lines: string[] };

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
const v = (value: unknown) => shown(value, VALUE_MAX);
export const sizeText = (bytes: number) => (bytes < 1024 ? `${bytes} B` : `${Math.max(1, Math.round(bytes / 1024)).toLocaleString("en-US")} KB`);

/** Critical first, then new before known, then a stable order. */
export function mostSevereFirst(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) => severityRank(b.severity) - severityRank(a.severity) || Number(b.new) - Number(a.new) || a.rule.localeCompare(b.rule) || a.subject.localeCompare(b.subject),
  );
}

/** "2 critical, 5 high, 1 medium": the non-zero severities, most severe first; info is left to the report. */
export function severityCounts(report: Report): string {
  const parts = SEVERITIES.filter((s) => s !== "info" && report.counts.findings[s] > 0).map((s) => `${report.counts.findings[s].toLocaleString("en-US")} ${s}`);
  return parts.length > 0 ? parts.join(", ") : "";
}

function findingsBlock(report: Report, top: number): Block {
  const total = findingTotal(report);
  const shownFindings = mostSevereFirst(report.findings).slice(0, top);
  const lines = shownFindings.map((f) => `${f.severity.toUpperCase()}${f.new ? " (new)" : ""} ${f.rule}: ${v(f.subject)} — ${v(f.detail)}`);
  if (total > shownFindings.length) lines.push(`…and ${plural(total - shownFindings.length, "more finding")} in the attached report.`);
  const title = total === 0 ? "No findings" : total > shownFindings.length ? `Top ${shownFindings.length} of ${plural(total, "finding")} (most severe and new first)` : `Findings (${total.toLocaleString("en-US")})`;
  return { title, lines };
}

function changesBlock(diff: DiffResult | null, counts: Report["counts"]["changes"], previous: Report["previousRun"]): Block | null {
  if (!diff || !counts || !previous) return null;
  const where = (e: { source: string; scope: string }) => v(`${e.source}/${e.scope}`);
  const kinds: [number, string, string, string[]][] = [
    [counts.escalations, "access level raised", "access levels raised", diff.accessLevels.filter((a) => a.direction === "up").map((a) => `${where(a)}: ${v(a.name)}: ${a.before} → ${a.after}`)],
    [counts.principalsAdded, "account added", "accounts added", diff.principals.added.map((p) => `${where(p)}: + ${v(p.name)}`)],
    [counts.principalsRemoved, "account removed", "accounts removed", diff.principals.removed.map((p) => `${where(p)}: - ${v(p.name)}`)],
    [counts.principalsChanged, "account changed", "accounts changed", diff.principals.changed.map((p) => `${where(p)}: ${v(p.name)}: ${v(p.changes.map((c) => c.field).join(", "))}`)],
    [counts.grantsAdded, "grant added", "grants added", diff.grants.added.map((g) => `${where(g)}: + ${v(g.principalName)} ${v(g.name)}`)],
    [counts.grantsRemoved, "grant removed", "grants removed", diff.grants.removed.map((g) => `${where(g)}: - ${v(g.principalName)} ${v(g.name)}`)],
    [counts.credentialsAdded, "credential added", "credentials added", diff.credentials.added.map((c) => `${where(c)}: + ${v(c.row.kind ?? "credential")} of ${v(c.principalName)}`)],
    [counts.credentialsRemoved, "credential removed", "credentials removed", diff.credentials.removed.map((c) => `${where(c)}: - ${v(c.row.kind ?? "credential")} of ${v(c.principalName)}`)],
    [counts.credentialsChanged, "credential changed", "credentials changed", []],
    [counts.reductions, "access level lowered", "access levels lowered", []],
  ];
  const present = kinds.filter(([n]) => n > 0);
  const lines = [present.length > 0 ? present.map(([n, one, many]) => plural(n, one, many)).join(", ") : "No changes in the compared scopes."];
  // The top few of each kind, escalations first: the kinds a reviewer acts on.
  const examples = present.flatMap(([, , , items]) => items.slice(0, EXAMPLES_PER_KIND)).slice(0, LIST_MAX * 2);
  lines.push(...examples.map((e) => `  ${e}`));
  // A scope compared from an earlier run than the previous one (it failed meanwhile): say which window.
  const windows = diff.scopes.filter((s) => s.compared && s.window);
  lines.push(...windows.slice(0, LIST_MAX).map((s) => `  ${where(s)}: ${v(s.window)}`));
  const notCompared = diff.scopes.filter((s) => !s.compared);
  lines.push(...notCompared.slice(0, LIST_MAX).map((s) => `  not compared: ${where(s)}: ${v(s.reason)}`));
  if (notCompared.length > LIST_MAX) lines.push(`  …and ${notCompared.length - LIST_MAX} more scopes not compared`);
  return { title: `What changed since run ${previous.id}`, lines };
}

function coverageBlock(report: Report): Block {
  const by = (status: string) => report.coverage.filter((c) => c.status === status);
  const failed = by("failed");
  const partial = by("partial");
  const notCollected = by("not collected");
  const head = [`${plural(report.coverage.length, "scope")}: ${by("ok").length} ok`, failed.length ? `${failed.length} failed` : "", partial.length ? `${partial.length} partial` : "", notCollected.length ? `${notCollected.length} not collected` : ""];
  const lines = [head.filter(Boolean).join(", ")];
  const list = (rows: typeof failed, say: (c: (typeof failed)[number]) => string) => {
    lines.push(...rows.slice(0, LIST_MAX).map((c) => `  ${say(c)}`));
    if (rows.length > LIST_MAX) lines.push(`  …and ${rows.length - LIST_MAX} more`);
  };
  list(failed, (c) => `failed: ${v(`${c.source}/${c.scope}`)}: ${v(c.error ?? "no error recorded")}${c.dataFromRun ? ` (data from run ${c.dataFromRun})` : ""}`);
  list(partial, (c) => `partial: ${v(`${c.source}/${c.scope}`)}: ${plural(c.quarantined, "record")} quarantined`);
  list(notCollected, (c) => `not collected: ${v(`${c.source}/${c.scope}`)}`);
  if (report.feeds.length > 0) {
    const gaps = report.feeds.filter((f) => f.status !== "ok");
    lines.push(`Audit-event feeds: ${report.feeds.length - gaps.length} of ${report.feeds.length} ok`);
    lines.push(...gaps.slice(0, LIST_MAX).map((f) => `  ${f.status}: ${v(`${f.source}/${f.scope}`)} ${v(f.feed)}${f.reason ? `: ${v(f.reason)}` : ""}`));
    if (gaps.length > LIST_MAX) lines.push(`  …and ${gaps.length - LIST_MAX} more`);
  }
  return { title: "Coverage", lines };
}

function attachmentLine(a: AttachedReport | null, what: string): string {
  if (!a) return "";
  return a.uncompressedBytes !== undefined
    ? `${what} is attached as ${a.filename} (${sizeText(a.bytes)}, gzip-compressed ${sizeText(a.uncompressedBytes)} of HTML).`
    : `${what} is attached as ${a.filename} (${sizeText(a.bytes)}).`;
}

export interface Summary {
  text: string;
  html: string;
}

export function summarize(report: Report, opts: SummaryOptions): Summary {
  const severities = severityCounts(report);
  const intro = [
    `whohas report: run ${report.run.id} (${report.run.startedAt}, ${report.run.status})${report.previousRun ? ` compared with run ${report.previousRun.id}` : ", the first"}`,
    `Findings: ${severities || "none"}${report.counts.findings.info > 0 ? `, ${report.counts.findings.info} info` : ""}; ${report.counts.newFindings.toLocaleString("en-US")} new`,
    `Headline: ${headline(report)}`,
    `Accepted risks: ${report.counts.suppressed.toLocaleString("en-US")} (listed in the attached report)`,
  ];
  if (report.filter) intro.push(`Narrowed by a filter: ${v(JSON.stringify(report.filter))}`);
  const blocks = [findingsBlock(report, opts.topFindings), changesBlock(report.diff, report.counts.changes, report.previousRun), coverageBlock(report)].filter((b): b is Block => b !== null);
  const outro = [attachmentLine(opts.attached, "The full report"), opts.csv ? attachmentLine(opts.csv, "Every finding as CSV") : ""].filter(Boolean);

  const text = [...intro, ...blocks.flatMap((b) => ["", `${b.title}:`, ...b.lines]), "", ...outro, ""].join("\n");
  const h = escapeHtml;
  const htmlBlocks = blocks.map((b) => {
    const items = b.lines.map((l) => (l.startsWith("  ") ? `<li style="margin-left:1.5em">${h(l.trim())}</li>` : `<li>${h(l)}</li>`));
    return `<h3>${h(b.title)}</h3><ul>${items.join("")}</ul>`;
  });
  const html = [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><title>whohas report: run ${report.run.id}</title></head>`,
    `<body style="font-family:sans-serif">`,
    ...intro.map((l, i) => (i === 1 ? `<p><b>${h(l)}</b></p>` : `<p>${h(l)}</p>`)),
    ...htmlBlocks,
    ...outro.map((l) => `<p><b>${h(l)}</b></p>`),
    "</body></html>",
    "",
  ].join("\n");
  return { text, html };
}

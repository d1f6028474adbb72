// Report renderers for text, JSON, CSV and Markdown. HTML lives in html.ts.
import type { Finding } from "../rules/evaluate.js";
import { SEVERITIES } from "../vocabulary.js";
import { csvLine } from "./csv.js";
import { bufferedSink, type Sink } from "./output.js";
import { changeRows } from "./changes.js";
import { writeDiff } from "./diff.js";
import { writeHtml } from "./html.js";
import { ACCEPTED_RISK_HEADER, acceptedRiskRows } from "./accepted.js";
import { PENDING_HEADER, pendingRows, REMEDIATION_HEADER, remediationRows } from "./remediation.js";
import { activityText } from "./inventory.js";
import { findingTotal, headline, scopeNamer, type Report } from "./report.js";
import { credentialsText, GRANT_CSV_HEADER, grantCells, grantReviewRows, REVIEWER_HEADER } from "./review.js";
import { scopeText } from "../query/principals.js";
import { fullListText, ruleNotes } from "./top.js";
import { roleDocument, rolesSectionMarkdown, rolesSectionText, type LabelledRoleSummary } from "./roles.js";
import { markdownText, shown } from "../safe-text.js";
import type { RoleHolder } from "../views.js";
import { paint, table, TextTable, type Color, type TextTableOptions } from "./text.js";

export const REPORT_FORMATS = ["text", "json", "csv", "md", "html"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const SEVERITY_COLOR: Record<string, Color> = { critical: "magenta", high: "red", medium: "yellow", low: "cyan", info: "dim" };

export function renderJson(r: Report): string {
  let out = "";
  for (const chunk of reportJsonChunks(r)) out += chunk;
  return out;
}

/** The JSON report: every finding read from the store as it is written (the report itself holds only the top of each rule). */
export function* reportJsonChunks(r: Report): Generator<string> {
  const { tally: _tally, eachFinding, everyFinding: _every, eachPrincipal, inventoryCount: _count, roles, eachRoleHolders, remediation, filter, ...head } = r;
  // The inventory and the roles keep their places in the document (after the feeds), read as they are written:
  // each role's holders too, which may be half the inventory.
  const doc = { ...head, ...(eachPrincipal ? { inventory: [] } : {}), ...(roles ? { roles: [] } : {}), remediation, filter };
  yield* jsonChunks(doc, {
    findings: eachFinding,
    ...(eachPrincipal ? { inventory: eachPrincipal } : {}),
    ...(roles ? { roles: () => roleDocuments(eachRoleHolders?.() ?? roles.map((role) => [role, role.firstHolders])) } : {}),
  });
}

/** Each role as its document with its holders streamed in their place. */
function* roleDocuments(roles: Iterable<[LabelledRoleSummary, Iterable<RoleHolder>]>): Generator<StreamedJson> {
  for (const [role, holders] of roles) yield new StreamedJson(roleDocument(role), { holders: () => holders });
}

/** An element of a streamed array that has streamed arrays of its own (a role and its holders). */
export class StreamedJson {
  constructor(
    readonly value: object,
    readonly streams: Record<string, () => Iterable<unknown>>,
  ) {}
}

/**
 * JSON.stringify(value, null, 2) + "\n", in pieces: the report's top-level fields and the elements of its
 * arrays one at a time, so the whole document never exists as one string. A key in `streams` is written as
 * an array of what its iterable yields (the value in `value` only fixes its place among the keys).
 */
export function* jsonChunks(value: object, streams: Record<string, () => Iterable<unknown>> = {}): Generator<string> {
  yield* objectChunks(value, streams, "");
  yield "\n";
}

/** One object of jsonChunks at `indent`; an element a stream yields as StreamedJson is written the same way, a level deeper. */
function* objectChunks(value: object, streams: Record<string, () => Iterable<unknown>>, indent: string): Generator<string> {
  const reindent = (json: string, at: string) => json.replace(/\n/g, `\n${at}`);
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== "function");
  if (entries.length === 0) {
    yield "{}";
    return;
  }
  const inner = `${indent}  `;
  const element = `${inner}  `;
  yield "{\n";
  for (let i = 0; i < entries.length; i++) {
    const [key, v] = entries[i]!;
    yield `${inner}${JSON.stringify(key)}: `;
    const stream = Object.hasOwn(streams, key) ? streams[key]! : undefined;
    if (stream) {
      let n = 0;
      for (const el of stream()) {
        yield `${n++ === 0 ? "[\n" : ",\n"}${element}`;
        if (el instanceof StreamedJson) yield* objectChunks(el.value, el.streams, element);
        else yield reindent(el === undefined || typeof el === "function" ? "null" : JSON.stringify(el, null, 2), element);
      }
      yield n === 0 ? "[]" : `\n${inner}]`;
    } else if (Array.isArray(v) && v.length > 0) {
      yield "[\n";
      for (let j = 0; j < v.length; j++) {
        // Array holes and undefined elements become null, as JSON.stringify writes them.
        const el = v[j] === undefined || typeof v[j] === "function" ? "null" : JSON.stringify(v[j], null, 2);
        yield `${element}${reindent(el, element)}${j < v.length - 1 ? "," : ""}\n`;
      }
      yield `${inner}]`;
    } else {
      yield reindent(JSON.stringify(v, null, 2), inner);
    }
    yield i < entries.length - 1 ? ",\n" : "\n";
  }
  yield `${indent}}`;
}

/** One row per finding: open ones (status "open"), then the accepted risks (status "accepted", with reason, until and who). */
export function renderCsv(r: Report): string {
  let out = "";
  for (const line of csvChunks(r)) out += line;
  return out;
}

/**
 * `report --format csv` a row at a time: an access review is one row per grant (the review workflow: each
 * grant gets its own decision); a changes report one row per finding. The mail's findings attachment is
 * always the findings (renderCsv).
 */
export function* reportCsvChunks(r: Report): Generator<string> {
  if (r.type === "access-review") yield* grantCsvChunks(r);
  else yield* csvChunks(r);
}

/** One row per grant of the access review, with empty reviewer, decision and comment columns. */
export function* grantCsvChunks(r: Report): Generator<string> {
  yield csvLine([...GRANT_CSV_HEADER]);
  for (const row of grantReviewRows(r)) yield csvLine(grantCells(row));
}

/** The findings CSV a row at a time, every finding read from the store as it is written. */
export function* csvChunks(r: Report): Generator<string> {
  yield csvLine(["id", "rule", "severity", "new", "source", "scope", "subject", "detail", "controls", "suppression_expired", "status", "accepted_reason", "accepted_until", "accepted_by"]);
  for (const f of r.eachFinding()) {
    yield csvLine([f.id, f.rule, f.severity, f.new, f.source, f.scope, f.subject, f.detail, f.controls, f.suppressionExpired ? `${f.suppressionExpired.until}: ${f.suppressionExpired.reason}` : "", "open", "", "", ""]);
  }
  for (const a of r.suppressed) {
    yield csvLine([a.id, a.rule, a.severity, "", a.source, a.scope, a.subject, "", "", "", "accepted", a.reason, a.until, a.addedBy ?? ""]);
  }
}


function findingLine(f: Finding): string {
  const tags = [f.new ? "NEW" : "", f.suppressionExpired ? `suppression expired ${shown(f.suppressionExpired.until)}` : ""].filter(Boolean).join(", ");
  return `${shown(f.rule)}  ${shown(f.subject)}: ${shown(f.detail)}${tags ? ` [${tags}]` : ""}`;
}

/** A table under a section heading, indented, one push per line: spreading its rows as arguments overflows the stack past ~100,000. */
function indentedTable(lines: string[], header: readonly string[], rows: string[][]): void {
  for (const l of table(header.map((h) => h.toUpperCase()), rows).trimEnd().split("\n")) lines.push(`  ${l}`);
}

export function renderText(r: Report, color: boolean, companion?: string): string {
  return collected((write) => writeText(write, r, color, { companion }));
}

/** A writer's output as one string: the string forms of the reports (mail bodies, small reports, tests). */
function collected(fill: (write: Write) => void): string {
  const parts: string[] = [];
  fill((t) => void parts.push(t));
  return parts.join("");
}

type Write = (text: string) => void;

/** The text report a piece at a time; the inventory table is filled from the store's cursor. */
function writeText(write: Write, r: Report, color: boolean, { companion, spill }: RenderOptions = {}): void {
  const c = (t: string, k: Color) => paint(t, k, color);
  const lines: string[] = [];
  lines.push(c(`whohas report: run ${r.run.id} (${r.run.startedAt}, ${r.run.status})${r.previousRun ? ` compared with run ${r.previousRun.id}` : ""}`, "bold"));
  lines.push(`Headline: ${headline(r)}`);
  const counts = SEVERITIES.map((s) => `${r.counts.findings[s]} ${s}`).join(", ");
  lines.push(`Findings: ${counts}; ${r.counts.newFindings} new; ${r.counts.suppressed} suppressed`);
  const problems = r.coverage.filter((s) => s.status !== "ok");
  if (problems.length > 0) {
    lines.push("", c("Coverage gaps (data shown is from the last successful run of each)", "yellow"));
    for (const s of problems) {
      const held = s.status === "partial" ? `: ${s.quarantined} record(s) quarantined, the rest stored; quarantined records keep their earlier state` : s.error ? `: ${shown(s.error)}` : "";
      lines.push(`  ${shown(`${s.source}/${s.scope}`)}: ${s.status}${held}; data from run ${s.dataFromRun ?? "none"}`);
    }
  }
  // Holders of grants that no listing of the scope returned, also on scopes that ended ok: the count says how
  // many accounts the findings below cannot name fully.
  const unresolved = r.coverage.filter((s) => s.unresolved > 0);
  if (unresolved.length > 0) {
    lines.push("", c("Grant holders no listing returned (shown as kind unknown)", "yellow"));
    for (const s of unresolved) lines.push(`  ${shown(`${s.source}/${s.scope}`)}: ${s.unresolved} unresolved`);
  }
  const feedGaps = r.feeds.filter((f) => f.status !== "ok");
  if (feedGaps.length > 0) {
    lines.push("", c("Audit-event feeds not ok (who made a change there cannot be told)", "yellow"));
    for (const f of feedGaps) lines.push(`  ${shown(`${f.source}/${f.scope}/${f.feed}`)}: ${f.status}${f.reason ? `: ${shown(f.reason)}` : ""}; covered ${f.coveredUntil ? `${f.coveredFrom} – ${f.coveredUntil}` : "nothing yet"}`);
  }
  const notes = ruleNotes(r, companion);
  if (notes.truncated) lines.push(`Listed: at most ${r.tally.top} finding(s) per rule, new ones first; ${fullListText(companion)}`);
  for (const sev of SEVERITIES) {
    if (r.counts.findings[sev] === 0) continue;
    lines.push("", c(`${sev.toUpperCase()} (${r.counts.findings[sev]})`, SEVERITY_COLOR[sev]!));
    r.findings.forEach((f, i) => {
      if (f.severity !== sev) return;
      lines.push(`  ${findingLine(f)}`);
      for (const note of notes.after.get(i) ?? []) lines.push(c(`    … ${note}`, "dim"));
    });
  }
  if (notes.unlisted.length > 0) {
    lines.push("", c("NOT LISTED", "dim"));
    for (const n of notes.unlisted) lines.push(`  ${n}`);
  }
  if (r.suppressed.length > 0) {
    lines.push("", c(`ACCEPTED RISKS (${r.suppressed.length}): hidden by [[suppress]] until their date`, "dim"));
    indentedTable(lines, ACCEPTED_RISK_HEADER, acceptedRiskRows(r));
  }
  const rem = r.remediation;
  if (rem) {
    const period = rem.since ? `since ${rem.since}` : "so far";
    const section = (title: string, header: string[], rows: string[][]) => {
      lines.push("", c(title, "dim"));
      if (rows.length > 0) indentedTable(lines, header, rows);
    };
    section(`REMEDIATION: actions taken ${period} (${rem.taken.length})`, REMEDIATION_HEADER, remediationRows(rem.taken));
    if (rem.failed.length > 0) section(`REMEDIATION: actions failed ${period} (${rem.failed.length})`, REMEDIATION_HEADER, remediationRows(rem.failed));
    if (rem.pending.length > 0) section(`REMEDIATION: pending (grace period or notice) (${rem.pending.length})`, PENDING_HEADER, pendingRows(rem));
  }
  write(lines.join("\n") + "\n");
  if (r.diff) {
    write("\n");
    writeDiff({ write, close: () => {} }, r.diff, "text", color);
  }
  if (r.eachPrincipal) {
    write("\nAccess review inventory\n\n");
    const scopeName = scopeNamer(r);
    // The columns are padded to their widest cell, so every row is added before the first is written.
    const t = new TextTable(["SOURCE", "SCOPE", "NAME", "EMAIL", "STATUS", "ACCESS", "ROLES", "MFA", "LAST ACTIVE", "CREDENTIALS"], { spill });
    try {
      for (const p of r.eachPrincipal()) {
        t.add([p.source, scopeName(p), p.name, p.email ?? "-", p.status, p.accessLevel, p.grants.map((g) => g.privilege).join(", ") || "-", p.mfa, activityText(p.lastActive), credentialsText(p.credentials) || "-"]);
      }
      t.write(write);
    } finally {
      t.close();
    }
  }
  if (r.roles) write(rolesSectionText(r.roles));
  write(`\n${evidenceLines(r).map(([k, v]) => `${k}: ${shown(v)}`).join("\n")}\n`);
}

/** The evidence block as label/value pairs (text and Markdown; the HTML and XLSX lay out the same facts). */
export function evidenceLines(r: Report): [string, string][] {
  const e = r.evidence;
  return [
    ["Organisation", e.organisation ?? "(not set: [report] organisation)"],
    ["Period covered", `${e.periodFrom ?? "the first run"} → ${e.periodTo}`],
    ["Evidence", `run ${r.run.id} digest ${r.run.digest ?? "(none)"}`],
    ["Tool", `whohas ${e.toolVersion}`],
    ["Config digest", e.configDigest],
    ["Generated", r.generatedAt],
  ];
}

const md = (s: unknown) => markdownText(s);

function mdTable(header: string[], rows: unknown[][]): string {
  return mdHead(header) + rows.map(mdRow).join("");
}

const mdHead = (header: string[]) => `| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|\n`;
const mdRow = (row: unknown[]) => `| ${row.map(md).join(" | ")} |\n`;

export function renderMarkdown(r: Report, companion?: string): string {
  return collected((write) => writeMarkdown(write, r, companion));
}

/** The Markdown report a part at a time (a blank line between parts); the inventory's rows are read from the store as they are written. */
function writeMarkdown(write: Write, r: Report, companion?: string): void {
  let first = true;
  const parts = {
    push(text: string) {
      write(first ? text : `\n${text}`);
      first = false;
    },
  };
  parts.push(`# whohas ${r.type === "access-review" ? "access review" : "report"}: run ${r.run.id}\n`);
  parts.push(`Run ${r.run.id} started ${r.run.startedAt} (${r.run.status})${r.previousRun ? `, compared with run ${r.previousRun.id} (${r.previousRun.startedAt})` : ""}. Generated ${r.generatedAt}.\n`);
  parts.push(mdTable(["Evidence", ""], evidenceLines(r)));
  parts.push(`**${headline(r)}**\n`);
  parts.push("## Sources and coverage\n");
  parts.push(
    mdTable(
      ["Source", "Scope", "Status", "Data from run", "Data as of", "Quarantined", "Unresolved", "Error"],
      r.coverage.map((s) => [s.source, scopeText(s), s.status, s.dataFromRun ?? "none", s.dataFromAt ?? "never", s.quarantined, s.unresolved, s.error ?? ""]),
    ),
  );
  if (r.feeds.length > 0) {
    parts.push("## Audit-event feeds\n");
    parts.push(mdTable(["Source", "Scope", "Feed", "Status", "Covered from", "Covered until", "Reason"], r.feeds.map((f) => [f.source, f.scope, f.feed, f.status, f.coveredFrom ?? "", f.coveredUntil ?? "", f.reason ?? ""])));
  }
  parts.push("## Policy in force\n");
  parts.push(mdTable(["Setting", "Value"], Object.entries(r.policy).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v])));
  parts.push(`## Findings (${findingTotal(r)}; ${r.counts.newFindings} new; ${r.counts.suppressed} suppressed)\n`);
  const findingScope = scopeNamer(r);
  const notes = ruleNotes(r, companion);
  if (notes.truncated) parts.push(`At most ${r.tally.top} finding(s) per rule are listed, new ones first; ${md(fullListText(companion))}.\n`);
  parts.push(mdTable(["Severity", "Rule", "Scope", "Subject", "Detail", "Controls", "New"], r.findings.map((f) => [f.severity, f.rule, `${f.source} / ${findingScope(f)}`, f.subject, f.detail + (f.suppressionExpired ? ` (suppression expired ${f.suppressionExpired.until})` : ""), f.controls.join(", "), f.new ? "yes" : ""])));
  const cut = [...[...notes.after.values()].flat(), ...notes.unlisted];
  if (cut.length > 0) parts.push(cut.map((n) => `- ${md(n)}`).join("\n") + "\n");
  parts.push(`## Accepted risks (${r.suppressed.length})\n`);
  parts.push(r.suppressed.length > 0 ? mdTable(ACCEPTED_RISK_HEADER, acceptedRiskRows(r)) : "None: no [[suppress]] entry hides a finding.\n");
  if (r.remediation) {
    const rem = r.remediation;
    const period = rem.since ? `since ${rem.since}` : "so far";
    parts.push(`## Remediation: actions taken ${period} (${rem.taken.length})\n`);
    parts.push(rem.taken.length > 0 ? mdTable(REMEDIATION_HEADER, remediationRows(rem.taken)) : "None.\n");
    parts.push(`## Remediation: actions failed ${period} (${rem.failed.length})\n`);
    parts.push(rem.failed.length > 0 ? mdTable(REMEDIATION_HEADER, remediationRows(rem.failed)) : "None.\n");
    parts.push(`## Remediation: pending (${rem.pending.length})\n`);
    parts.push(rem.pending.length > 0 ? mdTable(PENDING_HEADER, pendingRows(rem)) : "None.\n");
  }
  if (r.diff) {
    const d = r.diff;
    parts.push(`## Changes since run ${d.from.id}\n`);
    const rows = changeRows(d);
    parts.push(rows.length > 0 ? mdTable(["Change", "Subject", "Detail"], rows) : "No changes in the compared scopes.\n");
    const windows = d.scopes.filter((s) => s.window);
    if (windows.length > 0) parts.push(mdTable(["Compared across an outage", "Window"], windows.map((s) => [`${s.source}/${s.scope}`, s.window])));
    const skipped = d.scopes.filter((s) => !s.compared);
    if (skipped.length > 0) parts.push(mdTable(["Not compared", "Reason"], skipped.map((s) => [`${s.source}/${s.scope}`, s.reason])));
  }
  if (r.eachPrincipal) {
    parts.push("## Access inventory\n");
    const scopeName = scopeNamer(r);
    parts.push(mdHead(["Source", "Scope", "Username", "Email", "Status", "Access", "Roles", "MFA", "Last active", "Credentials", ...REVIEWER_HEADER]));
    for (const p of r.eachPrincipal()) {
      write(mdRow([p.source, scopeName(p), p.name, p.email ?? "", p.status, p.accessLevel, p.grants.map((g) => `${g.privilege} (${g.level})`).join(", "), p.mfa, activityText(p.lastActive), credentialsText(p.credentials), "", "", ""]));
    }
    parts.push("## Sign-off\n");
    parts.push(mdTable(["Reviewer name", "Date", "Signature"], [["", "", ""]]));
  }
  if (r.roles) parts.push(rolesSectionMarkdown(r.roles));
  parts.push("## Evidence\n");
  parts.push(`Run ${r.run.id} digest \`${r.run.digest ?? "none"}\`${r.previousRun ? `; previous run ${r.previousRun.id} digest \`${r.previousRun.digest ?? "none"}\`` : ""}. Verify with \`whohas verify\`.\n`);
}


export interface RenderOptions {
  /** The companion file holding every finding (X.findings.csv), named where a rule is cut short. */
  companion?: string;
  /** Where the text inventory's rows go past a table's in-memory share (store/spill openRowSpill); without it they stay in memory. */
  spill?: TextTableOptions["spill"];
}

/** Writes the report to `sink` a piece at a time through a buffer: the inventory and the findings are read from the store as they are written. */
export function writeReport(sink: Sink, report: Report, format: ReportFormat, color = false, opts: RenderOptions = {}): void {
  const out = bufferedSink(sink);
  writeReportTo(out.write, report, format, color, opts);
  out.flush();
}

/** The one dispatch from format to renderer, for the CLI, report files and mail alike: `write` gets the report in pieces. */
export function writeReportTo(write: Write, report: Report, format: ReportFormat, color = false, opts: RenderOptions = {}): void {
  switch (format) {
    case "json":
    case "csv":
      for (const chunk of format === "json" ? reportJsonChunks(report) : reportCsvChunks(report)) write(chunk);
      return;
    case "md":
      return writeMarkdown(write, report, opts.companion);
    case "html":
      return writeHtml(write, report, opts.companion);
    case "text":
      return writeText(write, report, color, opts);
  }
}

/** writeReportTo as one string (a small report, a mail attachment, a test). */
export function renderReport(report: Report, format: ReportFormat, color = false, opts: RenderOptions = {}): string {
  return collected((write) => writeReportTo(write, report, format, color, opts));
}

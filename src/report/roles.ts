// The role catalogue for a reader: every role, policy or group somebody holds, what it permits in the
// provider's own terms, why it has its privilege class, and who holds it. `whohas roles` writes it as text,
// JSON (whohas.roles/v1), CSV or Markdown; the access review carries it as its "Roles held" section (text,
// Markdown and HTML here, JSON as the report's `roles`). Role names, permission lines and holder names come
// from providers and are hostile: each human format escapes them, JSON and CSV keep them exact.
import { scopeText } from "../query/principals.js";
import { markdownText, shown } from "../safe-text.js";
import type { RoleHolder, RoleSummary, RoleView, RunRow } from "../views.js";
import { csvCell, csvLine } from "../csv.js";
import { bufferedSink, type Sink } from "./output.js";
import { CELL_MAX, day, TextTable } from "./text.js";

export type RolesFormat = "text" | "json" | "csv" | "md";

/** A catalogue entry with its scope's label (`prod (222222222222)`) when the provider gave one. */
export type LabelledRole = RoleView & { scopeLabel?: string };
/** The same for the access review's catalogue, which holds each role's first holders only (see RoleSummary). */
export type LabelledRoleSummary = RoleSummary & { scopeLabel?: string };

/** What `whohas roles` writes: the catalogue's summaries, how many principals hold them, and their holders on demand. */
export interface RolesToWrite {
  roles: LabelledRoleSummary[];
  /** Principals (per scope) holding at least one of `roles`: a read of the store when `roles` is filtered, so asked only by the formats that show it. */
  principals(): number;
  /** Each of `roles` with every one of its holders, in their order (see RoleCatalogue.eachRoleHolders). */
  eachRoleHolders(): Iterable<[LabelledRoleSummary, Iterable<RoleHolder>]>;
}

export function withScopeLabels<R extends RoleView | RoleSummary>(roles: R[], labels: Map<string, string>): (R & { scopeLabel?: string })[] {
  return roles.map((r) => {
    const label = labels.get(`${r.source}/${r.scope}`);
    return label === undefined ? r : { ...r, scopeLabel: label };
  });
}

/** A summary as a role whose `holders` are its first holders (the section writers cap holders anyway). */
const firstOnly = ({ holderCount: _n, firstHolders, ...r }: LabelledRoleSummary): LabelledRole => ({ ...r, holders: firstHolders });

/** A summary as the role the JSON writes: every field of a RoleView, its holders in their place (to be streamed), the scope label last. */
export function roleDocument({ holderCount: _n, firstHolders: _first, scopeLabel, ...r }: LabelledRoleSummary): Omit<LabelledRole, "holders"> & { holders: RoleHolder[] } {
  return { ...r, holders: [], scopeLabel };
}

const scopeOf = (r: Pick<LabelledRole, "scope" | "scopeLabel">) => scopeText({ scope: r.scope, label: r.scopeLabel });

/** Names listed before "… and N more": a role held by 5,000 people must not make its row 5,000 names long. */
export const TEXT_HOLDERS_MAX = 5;
/** Permission lines a table cell shows before "… and N more" (`--role` and the JSON show them all). */
export const TEXT_PERMITS_MAX = 3;
/** The access review's caps: a document is read, not scanned, so it shows more than a table cell. */
export const REVIEW_HOLDERS_MAX = 25;
export const REVIEW_PERMITS_MAX = 12;

/**
 * At most `max` items, then "… and N more"; with `width`, fewer when the list would be longer than that (so a
 * capped table cell still ends with the count, not an ellipsis). Items are left raw: each sink escapes the result.
 */
export function capped(items: string[], max: number, separator = ", ", width = Number.POSITIVE_INFINITY, total = items.length): string {
  const more = (n: number) => (n > 0 ? ` … and ${n} more` : "");
  let count = 0;
  let length = 0;
  while (count < Math.min(max, items.length)) {
    const next = length + (count > 0 ? separator.length : 0) + items[count]!.length;
    // Always one item, even a long one: the sink cuts it, but the list is never only a count.
    if (count > 0 && next + more(total - count - 1).length > width) break;
    length = next;
    count++;
  }
  return items.slice(0, count).join(separator) + more(total - count);
}

/** `total`: how many hold the role, when `r.holders` are only the first of them. */
export function holderNames(r: RoleView, max: number, width?: number, total = r.holders.length): string {
  return total === 0 ? "-" : capped(r.holders.map((h) => h.name), max, ", ", width, total);
}

/** What the role permits, as lines; a held privilege without a definition says so instead of looking empty. */
export function permitLines(r: Pick<RoleView, "id" | "permissions">): string[] {
  if (r.id === null) return ["(no definition collected for this privilege: see the provider's console)"];
  return r.permissions.length > 0 ? r.permissions : ["(the definition lists no permissions)"];
}

function cappedLines(lines: string[], max: number, total = lines.length): string[] {
  return total <= max ? lines : [...lines.slice(0, max), `… and ${total - max} more`];
}

// ---- whohas roles -------------------------------------------------------------------------------------------

interface Column {
  name: string;
  cell(r: LabelledRoleSummary): string;
}

export const ROLE_COLUMNS: readonly Column[] = [
  { name: "LEVEL", cell: (r) => r.level },
  { name: "SOURCE", cell: (r) => r.source },
  { name: "SCOPE", cell: scopeOf },
  { name: "ROLE", cell: (r) => r.name },
  { name: "KIND", cell: (r) => r.kind },
  { name: "WHY", cell: (r) => r.reason },
  { name: "HOLDERS", cell: (r) => String(r.holderCount) },
  { name: "HELD BY", cell: (r) => holderNames(firstOnly(r), TEXT_HOLDERS_MAX, CELL_MAX, r.holderCount) },
  { name: "PERMITS", cell: (r) => cappedLines(permitLines(r), TEXT_PERMITS_MAX).join("; ") },
  { name: "PRIVILEGE", cell: (r) => r.privilege },
  { name: "ID", cell: (r) => r.id ?? "-" },
  { name: "SINCE", cell: (r) => day(r.since) },
];

/** What `roles` shows without --columns; --wide shows every column. PERMITS last: the last cell may say the most. */
export const ROLE_DEFAULT_COLUMNS = ["LEVEL", "SOURCE", "SCOPE", "ROLE", "WHY", "HOLDERS", "HELD BY", "PERMITS"];

export interface RolesOutputOptions {
  /** Column names (ROLE_COLUMNS), in order; default ROLE_DEFAULT_COLUMNS. */
  columns?: string[];
  /** Fit the table in this width (see TextTable). */
  maxWidth?: number;
  /** After the table, each role in full: every permission line and every holder with how and where it holds it (`roles --role`), read as it is written. */
  detail?: boolean;
  /** Filters the caller applied, recorded in the JSON. */
  filter?: Record<string, unknown>;
}

const runOf = (run: RunRow) => ({ id: run.id, startedAt: run.startedAt, status: run.status });

export function writeRoles(sink: Sink, run: RunRow, catalogue: RolesToWrite, format: RolesFormat, opts: RolesOutputOptions = {}): void {
  const out = bufferedSink(sink);
  const { roles } = catalogue;
  switch (format) {
    case "json": {
      out.write(`{"schema":"whohas.roles/v1","run":${JSON.stringify(runOf(run))},${opts.filter ? `"filter":${JSON.stringify(opts.filter)},` : ""}"roles":[`);
      let first = true;
      // Each role as JSON.stringify wrote the whole RoleView: its fields, its holders streamed in their place, the scope label last.
      for (const [r, holders] of catalogue.eachRoleHolders()) {
        const { holders: _none, scopeLabel, ...fields } = roleDocument(r);
        out.write(`${first ? "\n" : ",\n"}${JSON.stringify(fields).slice(0, -1)},"holders":[`);
        first = false;
        let n = 0;
        for (const h of holders) out.write((n++ === 0 ? "" : ",") + JSON.stringify(h));
        out.write(`]${scopeLabel === undefined ? "" : `,"scopeLabel":${JSON.stringify(scopeLabel)}`}}`);
      }
      out.write(roles.length > 0 ? "\n]}\n" : "]}\n");
      break;
    }
    case "csv":
      out.write(csvLine(["level", "source", "scope", "scope_label", "name", "kind", "privilege", "role_id", "reason", "permissions", "holder_count", "holders", "holder_ids", "since"]));
      // A row's holder cells are whole strings (whether a cell is quoted depends on all of it): one role's names
      // and ids at a time, never the catalogue's.
      for (const [r, holders] of catalogue.eachRoleHolders()) {
        const names: string[] = [];
        const ids: string[] = [];
        for (const h of holders) {
          names.push(h.name);
          ids.push(h.id);
        }
        out.write(
          csvLine([r.level, r.source, r.scope, r.scopeLabel ?? "", r.name, r.kind, r.privilege, r.id ?? "", r.reason, r.permissions, r.holderCount]).slice(0, -2) +
            `,${csvCell(names)},${csvCell(ids)},${csvCell(r.since ?? "")}\r\n`,
        );
      }
      break;
    case "md":
      out.write(`# Roles held at run ${run.id}\n\nRun ${run.id} started ${run.startedAt} (${run.status}): ${countText(catalogue)}.\n`);
      // The first holders and a count, as the access review's section: a role held by half the directory is a count in a document.
      for (const r of roles) out.write(`\n${roleMarkdown(firstOnly(r), { holders: REVIEW_HOLDERS_MAX, permits: Number.POSITIVE_INFINITY, heading: "##" }, r.holderCount)}`);
      break;
    case "text": {
      const names = opts.columns ?? ROLE_DEFAULT_COLUMNS;
      const columns = names.map((name) => ROLE_COLUMNS.find((c) => c.name === name)!);
      out.write(`Roles held at run ${run.id} (${run.startedAt}, ${run.status}): ${countText(catalogue)}\n\n`);
      if (roles.length > 0) {
        const t = new TextTable(names, { maxWidth: opts.maxWidth });
        for (const r of roles) t.add(columns.map((c) => c.cell(r)));
        t.write((text) => out.write(text));
      }
      if (opts.detail) {
        for (const [r, holders] of catalogue.eachRoleHolders()) {
          out.write(`\n${roleHead(r, Number.POSITIVE_INFINITY, r.holderCount).join("\n")}\n`);
          for (const h of holders) out.write(`    ${holderLine(h)}\n`);
        }
      }
      break;
    }
  }
  out.flush();
}

function countText({ roles, principals }: Pick<RolesToWrite, "roles" | "principals">): string {
  const n = principals();
  return `${roles.length} ${roles.length === 1 ? "role" : "roles"} held by ${n} ${n === 1 ? "principal" : "principals"}`;
}

/** A holder as a line of text: escaped, with its id, how (when not directly) and where it holds the role. */
function holderLine(h: RoleHolder): string {
  return `${shown(h.name)}${h.name !== h.id ? ` (${shown(h.id)})` : ""}${h.via.some((v) => v !== "direct") ? ` via ${h.via.join(", ")}` : ""}${h.grantScopes.length > 0 ? ` on ${shown(h.grantScopes.join(", "))}` : ""}`;
}

/** A role's lines of text before its holders, ending "held by N:". */
function roleHead(r: Omit<LabelledRole, "holders">, permits: number, total: number): string[] {
  return [
    `${shown(r.name)}  [${r.level}]  ${shown(r.source)} / ${shown(scopeOf(r))}`,
    `  kind: ${shown(r.kind)}${r.id !== null ? `; id: ${shown(r.id)}` : ""}${r.since ? `; definition since ${day(r.since)}` : ""}`,
    `  why ${r.level}: ${shown(r.reason)}`,
    "  permits:",
    ...cappedLines(permitLines(r).map((l) => shown(l)), permits).map((l) => `    ${l}`),
    `  held by ${total}:`,
  ];
}

/** One role in full, for a terminal: every line escaped (a name may carry ESC or a CR). `total`: how many hold it (`r.holders` may be the first of them). */
function roleText(r: LabelledRole, caps: { holders: number; permits: number }, total: number): string {
  const lines = [...roleHead(r, caps.permits, total), ...cappedLines(r.holders.map(holderLine), caps.holders, total).map((l) => `    ${l}`)];
  return lines.join("\n") + "\n";
}

const md = (v: unknown) => markdownText(v, 1024);

/** One role as a Markdown block: heading, where and why, the permission lines as a list, then who holds it. */
function roleMarkdown(r: LabelledRole, caps: { holders: number; permits: number; heading: string }, total: number): string {
  const parts = [
    `${caps.heading} ${md(r.name)} (${r.level})\n`,
    `${md(r.source)} · ${md(scopeOf(r))} · ${md(r.kind)}. Why ${r.level}: ${md(r.reason)}.\n`,
    `Permits:\n\n${cappedLines(permitLines(r), caps.permits)
      .map((l) => `- ${md(l)}`)
      .join("\n")}\n`,
    `Held by ${total}: ${total === 0 ? "nobody" : md(holderNames(r, caps.holders, undefined, total))}\n`,
  ];
  return parts.join("\n");
}

// ---- The access review's "Roles held" section -----------------------------------------------------------------

const reviewTitle = (roles: unknown[]) => `Roles held (${roles.length}): what each permits and who holds it`;

/** Each role as a block (a table cell would cut its permissions at the cell's width). */
export function rolesSectionText(roles: LabelledRoleSummary[]): string {
  const head = `\n${reviewTitle(roles)}\n`;
  if (roles.length === 0) return `${head}\nNone.\n`;
  return head + roles.map((r) => `\n${roleText(firstOnly(r), { holders: REVIEW_HOLDERS_MAX, permits: REVIEW_PERMITS_MAX }, r.holderCount)}`).join("");
}

export function rolesSectionMarkdown(roles: LabelledRoleSummary[]): string {
  const head = `## ${reviewTitle(roles)}\n`;
  if (roles.length === 0) return `${head}\nNone.\n`;
  return [head, ...roles.map((r) => roleMarkdown(firstOnly(r), { holders: REVIEW_HOLDERS_MAX, permits: REVIEW_PERMITS_MAX, heading: "###" }, r.holderCount))].join("\n");
}

/**
 * The section as HTML. `esc` is the HTML report's cell escaper (controls shown, markup escaped, capped), passed
 * in so the section escapes exactly as the rest of the report does.
 */
export function rolesSectionHtml(roles: LabelledRoleSummary[], esc: (v: unknown) => string): string {
  const head = `<h2>${esc(reviewTitle(roles))}</h2>`;
  if (roles.length === 0) return `${head}<p class=muted>None.</p>`;
  const rows = roles.map((r) => {
    const permits = `<ul style="margin:0;padding-left:16px">${cappedLines(permitLines(r), REVIEW_PERMITS_MAX)
      .map((l) => `<li>${esc(l)}</li>`)
      .join("")}</ul>`;
    return `<tr><td><b>${esc(r.name)}</b><br><span class=muted>${esc(r.kind)}</span></td><td>${esc(r.level)}<br><span class=muted>${esc(r.reason)}</span></td><td>${esc(r.source)}<br>${esc(scopeOf(r))}</td><td>${permits}</td><td>${r.holderCount}: ${esc(holderNames(firstOnly(r), REVIEW_HOLDERS_MAX, undefined, r.holderCount))}</td></tr>`;
  });
  // The report's tables are fixed-layout and wrap long names (ARNs, SSO role names, GUIDs) anywhere; these widths
  // give the permission lists the room and keep "Held by" on the page on screen and in print.
  const cols = [18, 18, 15, 31, 18].map((w) => `<col style="width:${w}%">`).join("");
  return `${head}<table class=roles><colgroup>${cols}</colgroup><thead><tr><th>Role</th><th>Level (why)</th><th>Source / scope</th><th>Permits</th><th>Held by</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

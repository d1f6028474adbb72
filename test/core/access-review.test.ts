// The access review as evidence: metadata block, scope labels, readable credentials, reviewer columns and
// sign-off, findings grouped by rule and source, hostile names in every new cell, [report] organisation.
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ExcelJS from "exceljs";
import { describe, expect, it } from "vitest";
import { parseCsv } from "../../src/csv.js";
import { GRANT_CSV_HEADER, GRANT_TITLES } from "../../src/report/review.js";
import { writeXlsx } from "../../src/report/xlsx.js";
import { CONNECTORS } from "../../connectors/index.js";
import { parseConfig } from "../../src/config/load.js";
import { renderHtml } from "../../src/report/html.js";
import { credentialText } from "../../src/report/inventory.js";
import { renderMarkdown, renderReport, renderText, writeReportTo } from "../../src/report/render.js";
import { DEV, HOSTILE_NAME, PROD, reviewReport } from "../helpers/review-report.js";
import { configErrorOf } from "../helpers/config-error.js";
import { openRowSpill } from "../../src/store/spill.js";

const FILE = "/etc/whohas/review.toml";
const configError = (text: string): string => configErrorOf(text, FILE);

/** The text of every cell of the first table after `heading`, row by row (tags stripped, entities kept). */
function tableAfter(html: string, heading: string): string[][] {
  const at = html.indexOf(heading);
  expect(at, heading).toBeGreaterThan(-1);
  const t = html.slice(html.indexOf("<table", at), html.indexOf("</table>", at));
  return [...t.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<t[hd]>(.*?)<\/t[hd]>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, "")));
}

describe("[report] organisation", () => {
  it("is carried into the config, trimmed", () => {
    expect(parseConfig(`[store]\npath = "w.db"\n[report]\norganisation = "  Acme Corp "\n`, FILE, CONNECTORS).report.organisation).toBe("Acme Corp");
    expect(parseConfig(`[store]\npath = "w.db"\n`, FILE, CONNECTORS).report.organisation).toBeNull();
  });

  it("rejects an empty name, a control character and an overlong name, naming the key", () => {
    expect(configError(`[store]\npath = "w.db"\n[report]\norganisation = " "\n`)).toMatch(/review\.toml: report\.organisation: expected the organisation's name/);
    expect(configError(`[store]\npath = "w.db"\n[report]\norganisation = "Acme\\nBcc: x@evil"\n`)).toMatch(/report\.organisation: expected one line of text without control characters/);
    expect(configError(`[store]\npath = "w.db"\n[report]\norganisation = "${"x".repeat(201)}"\n`)).toMatch(/report\.organisation: expected at most 200 characters/);
    expect(configError(`[store]\npath = "w.db"\n[report]\norganisation = 5\n`)).toMatch(/report\.organisation/);
  });

  it("config digest: same settings give the same digest whatever the layout; another setting another digest", () => {
    const a = parseConfig(`[store]\npath = "w.db"\n[report]\norganisation = "Acme"\nhistory = 4\n`, FILE, CONNECTORS).digest;
    const b = parseConfig(`# comment\n[report]\nhistory = 4\norganisation = 'Acme'\n\n[store]\npath="w.db"\n`, FILE, CONNECTORS).digest;
    const c = parseConfig(`[store]\npath = "w.db"\n[report]\norganisation = "Acme"\nhistory = 5\n`, FILE, CONNECTORS).digest;
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });
});

describe("credential identifiers", () => {
  it("name, else the id's tail, with the created date; a timestamp tail is not shown as the identifier", () => {
    expect(credentialText({ kind: "access_key", id: "AKIAIOSFODNN7EXAMPLE", name: null, createdAt: "2025-03-01T08:00:00.000Z" })).toBe("access_key …MPLE created 2025-03-01");
    expect(credentialText({ kind: "pat", id: "123456789", name: "deploy", createdAt: null })).toBe("pat deploy");
    expect(credentialText({ kind: "password", id: "u1/password/2025-01-01T00:00:00.000Z", name: null, createdAt: "2025-01-01T00:00:00.000Z" })).toBe("password created 2025-01-01");
  });
});

describe("HTML access review", () => {
  const report = reviewReport({ organisation: "Acme <Corp>" });
  const html = renderHtml(report);

  it("has the metadata block: organisation, period, tool version, config digest, evidence digest, sources with freshness", () => {
    const meta = Object.fromEntries(tableAfter(html, "<h1>").map(([k, v]) => [k, v]));
    expect(meta["Organisation"]).toBe("Acme &lt;Corp&gt;");
    expect(meta["Period covered"]).toBe("2026-01-24T00:00:00.000Z → 2026-01-31T00:00:00.000Z");
    expect(meta["Tool"]).toBe("whohas 0.1.0");
    expect(meta["Config digest"]).toBe(report.evidence.configDigest);
    expect(meta["Evidence digest"]).toBe("a".repeat(64));
    expect(meta["Sources"]).toContain(`aws / prod (${PROD}): ok, data as of 2026-01-31T00:00:00.000Z`);
    expect(meta["Sources"]).toContain(`aws / dev (${DEV}): failed, data as of 2026-01-24T00:00:00.000Z`);
  });

  it("inventory: a scope column with labels tells the two OrganizationAccountAccessRole apart; reviewer columns are empty", () => {
    const rows = tableAfter(html, "Access inventory");
    expect(rows[0]).toEqual(["Source", "Scope", "Username", "Email", "Status", "Access", "Roles", "MFA", "Last active", "Credentials", "Reviewer", "Decision", "Comment"]);
    const roles = rows.filter((r) => r[2] === "OrganizationAccountAccessRole");
    expect(roles.map((r) => r[1])).toEqual([`prod (${PROD})`, `dev (${DEV})`]);
    for (const r of rows.slice(1)) expect(r.slice(10)).toEqual(["", "", ""]);
    const mallory = rows.find((r) => r[3] === "mallory@example.com")!;
    expect(mallory[9]).toBe("access_key …MPLE created 2025-03-01, used never; password created 2025-01-01, used 2026-01-29");
    expect(mallory[6]).toContain("PowerUserAccess (write, group: developers)");
    expect(html).toContain("<table class=\"inventory\"><colgroup>");
  });

  it("escapes hostile names in every new cell and shows their controls", () => {
    expect(html).not.toContain("<img src=x");
    expect(html).not.toMatch(/[\u202e\u001b]/);
    expect(html).toContain("=HYPERLINK(&quot;http://evil.example&quot;,&quot;x&quot;)&lt;img src=x onerror=alert(1)&gt;\\u202eevil\\x1b[2J");
    expect(html).not.toMatch(/<script/i);
  });

  it("groups findings by rule and by source with counts, folded in <details>", () => {
    const summaries = [...html.matchAll(/<summary><b>(.*?)<\/b>: (.*?)<\/summary>/g)].map((m) => `${m[1]}: ${m[2]}`);
    expect(summaries).toEqual([
      "mfa-disabled: 1 (1 critical)",
      "orphaned-access: 1 (1 critical)",
      "risky-admin: 2 (2 high)",
      `aws / prod (${PROD}): 2 (1 critical, 1 high)`,
      "gh / acme: 1 (1 critical)",
      `aws / dev (${DEV}): 1 (1 high)`,
    ]);
    expect(html.match(/<details open>/g)).toHaveLength(6);
  });

  it("prints landscape with repeated headers, page numbers, fixed widths that wrap; a sign-off block", () => {
    expect(html).toMatch(/@page\{size:A4 landscape;/);
    expect(html).toMatch(/@bottom-right\{content:"Page " counter\(page\)/);
    expect(html).toContain("thead{display:table-header-group}");
    expect(html).toMatch(/table\{[^}]*table-layout:fixed/);
    expect(html).toMatch(/word-break:break-word/);
    expect(tableAfter(html, "<h2>Sign-off</h2>").map((r) => r[0])).toEqual(["Reviewer name", "Date", "Approver name"]);
    expect(html).toMatch(/I have reviewed the access listed above for Acme &lt;Corp&gt;, covering 2026-01-24/);
  });

  it("a changes report has no inventory, reviewer columns or sign-off", () => {
    const changes = renderHtml({ ...reviewReport(), type: "changes", eachPrincipal: undefined, inventoryCount: undefined });
    expect(changes).not.toContain("Sign-off");
    expect(changes).not.toContain("Access inventory");
    expect(changes).toContain("(not set: [report] organisation)");
  });
});

describe("text and Markdown access review", () => {
  const report = reviewReport({ organisation: "Acme" });

  it("text: scope labels in the inventory, the evidence lines, controls shown not obeyed", () => {
    const text = renderText(report, false);
    expect(text).toMatch(/^SOURCE +SCOPE +NAME /m);
    expect(text).toMatch(new RegExp(`^aws +dev \\(${DEV}\\) +OrganizationAccountAccessRole `, "m"));
    expect(text).toContain("Organisation: Acme\n");
    expect(text).toContain(`Config digest: ${report.evidence.configDigest}\n`);
    expect(text).not.toMatch(/[\u202e\u001b]/);
  });

  it("Markdown: evidence table, scope and reviewer columns, sign-off", () => {
    const md = renderMarkdown(report);
    expect(md).toContain("| Organisation | Acme |");
    expect(md).toContain("| Source | Scope | Username | Email | Status | Access | Roles | MFA | Last active | Credentials | Reviewer | Decision | Comment |");
    expect(md).toContain(`| aws | prod \\(${PROD}\\) | OrganizationAccountAccessRole |`);
    expect(md).toContain("## Sign-off");
    expect(md).not.toMatch(/[^\\]<img/); // Markdown shows it as \<img
  });
});

describe("access review CSV: one row per grant", () => {
  it("has every grant (an account without grants once), reviewer columns empty, formula prefixes guarded", () => {
    const csv = renderReport(reviewReport(), "csv");
    const rows = parseCsv(csv).map((r) => r.fields);
    expect(rows[0]).toEqual([...GRANT_CSV_HEADER]);
    expect(rows[0]).toEqual(expect.arrayContaining(["source", "scope", "principal", "kind", "email", "status", "mfa", "last_active", "privilege", "level", "via", "reviewer", "decision", "comment"]));
    // 2 roles × 1 grant + mallory's 2 grants + octocat without grants
    expect(rows).toHaveLength(1 + 5);
    const col = (name: string) => GRANT_CSV_HEADER.indexOf(name as (typeof GRANT_CSV_HEADER)[number]);
    expect(rows.filter((r) => r[col("principal")] === "OrganizationAccountAccessRole").map((r) => r[col("scope")])).toEqual([`prod (${PROD})`, `dev (${DEV})`]);
    const mallory = rows.filter((r) => r[col("email")] === "mallory@example.com");
    expect(mallory.map((r) => [r[col("privilege")], r[col("level")], r[col("via")]])).toEqual([
      ["PowerUserAccess", "write", "group: developers"],
      [`'-2+3 ${HOSTILE_NAME}`, "read", "direct"],
    ]);
    expect(mallory[0]![col("principal")]).toBe(`'${HOSTILE_NAME}`); // exact value behind the formula guard
    const octocat = rows.find((r) => r[col("principal")] === "octocat")!;
    expect([octocat[col("privilege")], octocat[col("level")]]).toEqual(["", "none"]);
    for (const r of rows.slice(1)) expect(r.slice(-3)).toEqual(["", "", ""]);
  });

  it("a changes report's CSV stays one row per finding", () => {
    const csv = renderReport({ ...reviewReport(), type: "changes", eachPrincipal: undefined, inventoryCount: undefined }, "csv");
    expect(csv.split("\r\n")[0]).toMatch(/^id,rule,severity,new,/);
  });
});

describe("access review XLSX", () => {
  it("a value longer than a cell holds is cut to Excel's 32,767 characters with an ellipsis, never inside a surrogate pair", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "whohas-xlsx-")), "long.xlsx");
    // The emoji's high surrogate sits exactly where a plain cut at 32,766 characters would end.
    const name = `${"o".repeat(32_765)}\u{1F600}tail`;
    const report = reviewReport();
    [...report.eachPrincipal!()][0]!.name = name; // the same objects on every call
    await writeXlsx(report, createWriteStream(path));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path);
    const principalCol = GRANT_TITLES.indexOf("Principal") + 1;
    let shown = "";
    wb.getWorksheet("Access")!.eachRow((row) => {
      const v = String(row.getCell(principalCol).value);
      if (v.startsWith("ooo")) shown = v;
    });
    expect(shown).toBe(`${"o".repeat(32_765)}…`);
    expect(shown.length).toBeLessThanOrEqual(32_767);
  });

  it("Summary, Access (one row per grant, Decision drop-down, frozen header, autofilter), Findings; hostile values exact, never formulas", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "whohas-xlsx-")), "review.xlsx");
    const report = reviewReport({ organisation: "=Acme" });
    const written = await writeXlsx(report, createWriteStream(path));
    expect(written).toEqual({ grants: 5, findings: 4 });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path);
    expect(wb.worksheets.map((w) => w.name)).toEqual(["Summary", "Access", "Findings"]);

    const summary = wb.getWorksheet("Summary")!;
    const rows: string[] = [];
    summary.eachRow((row) => rows.push(`${String(row.getCell(1).value)} | ${String(row.getCell(2).value)}`));
    expect(rows).toContain("Organisation | =Acme");
    expect(rows).toContain(`Config digest | ${report.evidence.configDigest}`);
    expect(rows).toContain(`aws | prod (${PROD})`);
    expect(rows).toContain(`aws | dev (${DEV})`);

    const access = wb.getWorksheet("Access")!;
    expect(access.rowCount).toBe(1 + 5);
    const header = (access.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual(GRANT_TITLES);
    expect(access.views[0]).toMatchObject({ state: "frozen", ySplit: 1 });
    expect(access.autoFilter).toBeTruthy();
    const decision = GRANT_TITLES.indexOf("Decision") + 1;
    for (let r = 2; r <= access.rowCount; r++) {
      expect(access.getRow(r).getCell(decision).dataValidation).toMatchObject({ type: "list", formulae: ['"Keep,Revoke,Modify"'] });
    }
    let hostileCells = 0;
    access.eachRow((row) =>
      row.eachCell((c) => {
        expect(c.type).toBe(ExcelJS.ValueType.String); // never a formula, whatever the first character
        expect(c.formula).toBeUndefined();
        if (String(c.value).includes("HYPERLINK")) hostileCells++;
      }),
    );
    expect(hostileCells).toBe(3); // the principal on each of its two grant rows, and its hostile grant name
    const principalCol = GRANT_TITLES.indexOf("Principal") + 1;
    // Exact, but for the control characters XML cannot carry, which are shown escaped.
    expect(access.getRow(4).getCell(principalCol).value).toBe(HOSTILE_NAME.replace("\u202E", "\\u202e").replace("\u001b", "\\x1b"));
    expect(access.getRow(5).getCell(GRANT_TITLES.indexOf("Privilege") + 1).value).toBe(`-2+3 ${HOSTILE_NAME.replace("\u202E", "\\u202e").replace("\u001b", "\\x1b")}`);

    const findings = wb.getWorksheet("Findings")!;
    expect(findings.rowCount).toBe(1 + 4);
    expect(findings.getRow(2).getCell(4).value).toBe(`prod (${PROD})`);
  });
});

describe("access review XLSX past Excel's row limit", () => {
  it("goes on in Access 2, Access 3 (and Findings 2), each sheet with its header, drop-down and frozen row, no row lost or repeated", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "whohas-xlsx-")), "split.xlsx");
    // A limit of 3 rows a sheet (header and two) stands for Excel's 1,048,576.
    const written = await writeXlsx(reviewReport(), createWriteStream(path), { maxRows: 3 });
    expect(written).toEqual({ grants: 5, findings: 4 });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path);
    expect(wb.worksheets.map((w) => `${w.name}:${w.rowCount}`)).toEqual(["Summary:" + wb.getWorksheet("Summary")!.rowCount, "Access:3", "Access 2:3", "Access 3:2", "Findings:3", "Findings 2:3"]);
    const decision = GRANT_TITLES.indexOf("Decision") + 1;
    const principalCol = GRANT_TITLES.indexOf("Principal") + 1;
    const privilegeCol = GRANT_TITLES.indexOf("Privilege") + 1;
    const split: string[] = [];
    for (const name of ["Access", "Access 2", "Access 3"]) {
      const sheet = wb.getWorksheet(name)!;
      expect((sheet.getRow(1).values as unknown[]).slice(1)).toEqual(GRANT_TITLES);
      expect(sheet.views[0]).toMatchObject({ state: "frozen", ySplit: 1 });
      for (let r = 2; r <= sheet.rowCount; r++) {
        expect(sheet.getRow(r).getCell(decision).dataValidation).toMatchObject({ type: "list" });
        split.push(`${String(sheet.getRow(r).getCell(principalCol).value)}|${String(sheet.getRow(r).getCell(privilegeCol).value)}`);
      }
    }
    // The same rows, in the same order, as the workbook written on one sheet.
    const whole = join(mkdtempSync(join(tmpdir(), "whohas-xlsx-")), "whole.xlsx");
    await writeXlsx(reviewReport(), createWriteStream(whole));
    const one = new ExcelJS.Workbook();
    await one.xlsx.readFile(whole);
    const rows: string[] = [];
    one.getWorksheet("Access")!.eachRow((row, i) => void (i > 1 && rows.push(`${String(row.getCell(principalCol).value)}|${String(row.getCell(privilegeCol).value)}`)));
    expect(split).toEqual(rows);
  });
});

describe("the access review reads its inventory as it writes it", () => {
  // A renderer that gathered the inventory first would read the last principal before writing the first.
  it.each(["json", "csv", "html", "md"] as const)("%s: the first principal's row is written before the last principal is read", (format) => {
    const report = reviewReport({ filler: 3 });
    const principals = [...report.eachPrincipal!()];
    // Only the first principal's row carries this address.
    principals[0] = { ...principals[0]!, email: "first.row@example.com" };
    const events: string[] = [];
    let calls = 0;
    report.eachPrincipal = function* () {
      calls++;
      for (const [i, p] of principals.entries()) {
        events.push(`read ${i}`);
        yield p;
      }
    };
    writeReportTo((text) => void (text.includes("first.row@example.com") ? events.push("wrote first") : undefined), report, format);
    expect(calls).toBe(1);
    expect(events).toContain(`read ${principals.length - 1}`);
    expect(events.indexOf("wrote first")).toBeGreaterThan(-1);
    expect(events.indexOf("wrote first")).toBeLessThan(events.indexOf(`read ${principals.length - 1}`));
  });
});

describe("the text access review's inventory table", () => {
  it("moves its rows out of memory into the spill it is given past `after` rows, and writes the same report", () => {
    const report = reviewReport({ filler: 6 });
    let opened = 0;
    const spill = { open: () => (opened++, openRowSpill()), after: 3 };
    const parts: string[] = [];
    writeReportTo((t) => void parts.push(t), report, "text", false, { spill });
    expect(opened).toBe(1);
    expect(parts.join("")).toBe(renderText(report, false));
  });
});

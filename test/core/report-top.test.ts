// Reports of a large run in bounded memory: text, Markdown and HTML list the top N findings per rule and
// name the companion X.findings.csv that has every one; JSON and CSV stream every finding from the store,
// the same document a report holding every finding renders.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { parseConfig, type Config } from "../../src/config/load.js";
import { findingsPolicy } from "../../src/rules/stored.js";
import { writeReportFiles } from "../../src/daemon/report-files.js";
import { composeEmail } from "../../src/daemon/mail.js";
import { renderReport, writeReport } from "../../src/report/render.js";
import { buildReport } from "../../src/build-report.js";
import { findingTotal } from "../../src/report/report.js";
import { openStore, type Db } from "../../src/store/db.js";
import { FindingSetWriter } from "../../src/store/findings.js";
import { RunWriter } from "../../src/store/writer.js";
import { whohas } from "../helpers/cli.js";

const RULES = [
  ["unused-credential", "medium"],
  ["dormant-account", "low"],
  ["admin-without-mfa", "high"],
] as const;
const PER_RULE = [30_000, 15_000, 5_000];
const TOTAL = PER_RULE.reduce((a, b) => a + b, 0);

function config(dir: string, extra = ""): Config {
  return parseConfig(`[store]\npath = "${join(dir, "s.db")}"\n[report]\ndir = "${join(dir, "reports")}"\nformats = ["html", "text", "json"]\n${extra}[[sources]]\nid = "app"\ntype = "file"\npath = "app.csv"\n`, join(dir, "whohas.toml"), CONNECTORS);
}

/** One small run whose stored finding set holds 50,000 findings (as the rules would have written them). */
function bigRun(dir: string, cfg: Config): Db {
  const db = openStore(cfg.store.path);
  const r = RunWriter.begin(db);
  const w = r.openScope("app", "file", "main");
  w.write({ principals: [{ id: "p", kind: "human", name: "p", status: "active", mfa: "enabled", createdAt: "2020-01-01T00:00:00.000Z" }] });
  w.end();
  r.finish();
  const set = FindingSetWriter.begin(db, r.runId, 0, findingsPolicy(cfg));
  RULES.forEach(([rule, severity], k) => {
    for (let i = 0; i < PER_RULE[k]!; i++) {
      const subject = `app/main/user-${String(i).padStart(6, "0")}`;
      set.add({ id: `${rule}:${i}`, rule, severity, source: "app", scope: "main", subject, principalId: `u${i}`, credentialId: null, detail: `finding ${i}` }, true, true);
    }
  });
  set.finish();
  return db;
}

describe("reports of a 50,000-finding run", () => {
  const dir = mkdtempSync(join(tmpdir(), "whohas-top-"));
  const cfg = config(dir);
  const db = bigRun(dir, cfg);

  it("hold the top N of each rule and count every finding", () => {
    const report = buildReport(db, cfg, { top: 5 });
    expect(report.findings).toHaveLength(5 * RULES.length);
    expect(findingTotal(report)).toBe(TOTAL);
    expect(report.counts.findings).toMatchObject({ high: 5_000, medium: 30_000, low: 15_000 });
    expect(report.tally.rules.map((t) => [t.rule, t.total, t.shown])).toEqual([
      ["admin-without-mfa", 5_000, 5],
      ["unused-credential", 30_000, 5],
      ["dormant-account", 15_000, 5],
    ]);
    // The top of each rule is the start of the report's order.
    expect(report.findings.filter((f) => f.rule === "dormant-account").map((f) => f.subject)).toEqual([0, 1, 2, 3, 4].map((i) => `app/main/user-00000${i}`));
    let streamed = 0;
    for (const _ of report.eachFinding()) streamed++;
    expect(streamed).toBe(TOTAL);
  });

  it("the JSON streamed by a top-5 report is the document a report holding every finding renders", () => {
    const top = buildReport(db, cfg, { top: 5 });
    const all = buildReport(db, cfg, { top: null });
    expect(all.findings).toHaveLength(TOTAL);
    const { tally: _t, ...doc } = { ...all, generatedAt: top.generatedAt };
    const writes: string[] = [];
    writeReport({ write: (t) => void writes.push(t), close: () => {} }, top, "json");
    expect(writes.length).toBeGreaterThan(1); // written in chunks, not one string
    expect(writes.join("")).toBe(JSON.stringify(doc, null, 2) + "\n");
  });

  it("text, Markdown and HTML say per rule how many are shown and name the companion file", () => {
    const report = buildReport(db, cfg, { top: 5 });
    const text = renderReport(report, "text", false, { companion: "/x/run-1.findings.csv" });
    expect(text).toContain("unused-credential: 5 of 30,000 shown; full list in run-1.findings.csv");
    expect(text).toContain("MEDIUM (30000)");
    expect(text.split("\n").filter((l) => l.startsWith("  dormant-account "))).toHaveLength(5);
    const md = renderReport(report, "md", false, {});
    expect(md).toContain("dormant-account\\: 5 of 15,000 shown; every one with --all, or with --format csv"); // ":" escaped for Markdown
    const html = renderReport(report, "html", false, { companion: "/x/run-1.findings.csv" });
    expect(html).toContain("<b>admin-without-mfa</b>: 5 of 5,000 shown");
    expect(html).toContain("full list in run-1.findings.csv");
  });

  it("report files: the companion CSV holds all 50,000 findings, 0600; the JSON file all of them too", () => {
    const report = buildReport(db, cfg, { top: cfg.report.top });
    const written = writeReportFiles(cfg.report, report);
    const companion = join(cfg.report.dir, "run-1.findings.csv");
    expect(written).toContain(companion);
    const lines = readFileSync(companion, "utf8").trimEnd().split("\r\n");
    expect(lines).toHaveLength(TOTAL + 1);
    expect(statSync(companion).mode & 0o777).toBe(0o600);
    const html = readFileSync(join(cfg.report.dir, "run-1.html"), "utf8");
    expect(html).toContain(`<b>unused-credential</b>: ${cfg.report.top} of 30,000 shown`);
    expect(html).toContain("full list in run-1.findings.csv");
    expect((JSON.parse(readFileSync(join(cfg.report.dir, "run-1.json"), "utf8")) as { findings: unknown[] }).findings).toHaveLength(TOTAL);
  });

  it("the email body lists the [report] top and counts the rest", async () => {
    const c = config(mkdtempSync(join(tmpdir(), "whohas-top-")), "top = 3\n");
    expect(c.report.top).toBe(3);
    const report = buildReport(db, c, { top: c.report.top });
    const email = await composeEmail({ subject: "whohas", attach_csv: false, max_body_kb: 100, top_findings: c.report.top }, report);
    email.dispose();
    expect(email.text).toContain(`Top 3 of ${TOTAL.toLocaleString("en-US")} findings`);
    expect(email.text.split("\n").filter((l) => / (unused-credential|dormant-account|admin-without-mfa): /.test(l))).toHaveLength(3);
  });

  it("report --top / --all on the CLI; --out writes the companion", () => {
    db.pragma("wal_checkpoint(TRUNCATE)");
    const toml = join(dir, "cli.toml");
    writeFileSync(toml, `[store]\npath = "${join(dir, "s.db")}"\n[[sources]]\nid = "app"\ntype = "file"\npath = "app.csv"\n`);
    const out = join(dir, "r.txt");
    const r = whohas(["report", "--config", toml, "--top", "2", "--out", out]);
    expect(r.code).toBe(0);
    const text = readFileSync(out, "utf8");
    expect(text.split("\n").filter((l) => l.startsWith("  unused-credential "))).toHaveLength(2);
    expect(text).toContain("unused-credential: 2 of 30,000 shown; full list in r.findings.csv");
    expect(readFileSync(join(dir, "r.findings.csv"), "utf8").trimEnd().split("\r\n")).toHaveLength(TOTAL + 1);
    const bad = whohas(["report", "--config", toml, "--top", "2", "--all"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--top and --all");
  });
});

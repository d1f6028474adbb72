// Reports end to end through the CLI: JSON validated against the published schema, self-contained HTML
// (screenshotted in headless Chromium when the machine has it), Markdown/CSV, --fail-on, and verify.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { Database } from "../../src/store/sqlite.js";
import { beforeAll, describe, expect, it } from "vitest";
import { whohas } from "../helpers/cli.js";

const HEADER = "username,email,status,mfa,role,access_level,created_at,last_active,credential_id,credential_kind,credential_created_at,credential_last_used";
const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

describe("whohas report", () => {
  const dir = mkdtempSync(join(tmpdir(), "whohas-report-"));
  const config = join(dir, "whohas.toml");
  const hr = join(dir, "hr.csv");
  const app = join(dir, "app.csv");

  beforeAll(() => {
    writeFileSync(
      config,
      `[store]\npath = "w.db"\n[[sources]]\nid = "hr"\ntype = "file"\npath = "${hr}"\nsystem = "hr"\n[[sources]]\nid = "app"\ntype = "file"\npath = "${app}"\nsystem = "app"\n[identity]\nproviders = ["hr"]\n`,
    );
    writeFileSync(hr, `${HEADER}\nada,ada@example.com,active,enabled,staff,read,${day(900)},${day(1)},,,,\ngrace,grace@example.com,active,enabled,staff,read,${day(900)},${day(1)},,,,\n`);
    writeFileSync(app, `${HEADER}\nada,ada@example.com,active,enabled,user,read,${day(900)},${day(2)},k1,access_key,${day(300)},${day(200)}\ngrace,grace@example.com,active,enabled,user,read,${day(900)},${day(1)},,,,\n`);
    expect(whohas(["collect", "--config", config]).code).toBe(0);
    // grace leaves (disabled in hr) but keeps app access and becomes its admin; ada's MFA goes off.
    writeFileSync(hr, `${HEADER}\nada,ada@example.com,active,enabled,staff,read,${day(900)},${day(1)},,,,\ngrace,grace@example.com,disabled,enabled,staff,read,${day(900)},${day(1)},,,,\n`);
    writeFileSync(app, `${HEADER}\nada,ada@example.com,active,disabled,user,read,${day(900)},${day(2)},k1,access_key,${day(300)},${day(200)}\ngrace,grace@example.com,active,disabled,admin,admin,${day(900)},${day(1)},,,,\n`);
    expect(whohas(["collect", "--config", config]).code).toBe(0);
  });

  it("JSON validates against docs/schema/report.schema.json and carries the findings with controls", () => {
    const r = whohas(["report", "--config", config, "--format", "json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const schema = JSON.parse(readFileSync(new URL("../../docs/schema/report.schema.json", import.meta.url), "utf8"));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    const rules = report.findings.map((f: { rule: string; subject: string }) => `${f.rule} ${f.subject}`);
    expect(rules).toEqual(expect.arrayContaining(["orphaned-access app/app/grace", "new-admin app/app/grace", "mfa-disabled app/app/ada", "unused-credential app/app/ada/access_key k1"]));
    expect(report.findings[0].severity).toBe("critical"); // grace: orphaned with admin access
    expect(report.findings.find((f: { rule: string }) => f.rule === "orphaned-access").controls).toContain("SOC2 CC6.2");
    expect(report.run.digest).toMatch(/^[0-9a-f]{64}$/);
    // A schema that would accept anything proves nothing: a broken report must fail it.
    expect(validate({ ...report, findings: [{ ...report.findings[0], severity: "urgent" }] })).toBe(false);
  });

  it("HTML is self-contained (no scripts, no remote resources), 0600, and renders in headless Chromium", () => {
    const out = join(dir, "report.html");
    const r = whohas(["report", "--config", config, "--format", "html", "--out", out, "--type", "access-review"]);
    expect(r.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const html = readFileSync(out, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<script|src="https?:|href="https?:|url\(/i);
    expect(html).toContain("Access inventory");
    const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
    if (!chromium) return; // .ci/run installs Debian's chromium; a developer machine may not have it
    const png = join(dir, "report.png");
    spawnSync(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${mkdtempSync(join(tmpdir(), "chr-"))}`, "--window-size=1200,1600", `--screenshot=${png}`, `file://${out}`], { timeout: 60_000 });
    expect(existsSync(png)).toBe(true);
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe("PNG");
    expect(bytes.length).toBeGreaterThan(20_000); // a blank page compresses to a few kB
  });

  it("Markdown and CSV carry the findings; --fail-on exits 3 only at or above the threshold", () => {
    const md = whohas(["report", "--config", config, "--format", "md"]);
    expect(md.stdout).toMatch(/^# whohas report: run 2/);
    expect(md.stdout).toMatch(/\| critical \| orphaned-access \| app \/ app \| app\/app\/grace \|/);
    const csv = whohas(["report", "--config", config, "--format", "csv"]).stdout.split("\r\n");
    expect(csv[0]).toBe("id,rule,severity,new,source,scope,subject,detail,controls,suppression_expired,status,accepted_reason,accepted_until,accepted_by");
    expect(csv.some((l) => l.startsWith("orphaned-access:app/app/grace,orphaned-access,critical,true"))).toBe(true);
    expect(whohas(["report", "--config", config, "--fail-on", "critical"]).code).toBe(3);
    expect(whohas(["diff", "--config", config, "--fail-on", "high"]).code).toBe(3);
    expect(whohas(["report", "--config", config, "--run", "1", "--fail-on", "critical"]).code).toBe(0);
    expect(whohas(["report", "--config", config, "--fail-on", "urgent"]).code).toBe(2);
  });

  it("diff --fail-on counts only open findings: suppressions in force hide theirs, expired ones do not; --strict agrees", () => {
    // The run's findings: orphaned-access grace critical; admin-without-mfa, mfa-disabled, new-admin high; medium and low below.
    const withSuppress = (name: string, entries: [string, string, string][]) => {
      const path = join(dir, name);
      const rules = entries.map(([rule, subject, until]) => `[[suppress]]\nrule = "${rule}"\nsubject = "${subject}"\nreason = "accepted"\nuntil = "${until}"\n`);
      writeFileSync(path, `${readFileSync(config, "utf8")}${rules.join("")}`);
      return path;
    };
    const critical = withSuppress("critical.toml", [["orphaned-access", "app/app/grace", "2999-01-01"]]);
    const expired = withSuppress("expired.toml", [["orphaned-access", "app/app/grace", "2000-01-01"]]);
    const high = withSuppress("high.toml", [
      ["orphaned-access", "*", "2999-01-01"],
      ["admin-without-mfa", "*", "2999-01-01"],
      ["mfa-disabled", "*", "2999-01-01"],
      ["new-admin", "*", "2999-01-01"],
    ]);
    const code = (cfg: string, failOn: string, strict = false) => whohas(["diff", "--config", cfg, "--fail-on", failOn, ...(strict ? ["--strict"] : [])]).code;
    expect(code(config, "critical")).toBe(3);
    expect(code(critical, "critical")).toBe(0);
    expect(code(critical, "high")).toBe(3);
    expect(code(expired, "critical")).toBe(3);
    expect(code(high, "high")).toBe(0);
    expect(code(high, "medium")).toBe(3);
    expect(code(high, "high", true)).toBe(0);
    expect(code(critical, "critical", true)).toBe(0);
    expect(code(expired, "critical", true)).toBe(3);
  });

  it("--type access-review is honoured by csv (one row per grant) and xlsx (a 0600 file; without --out exit 2)", () => {
    const csv = whohas(["report", "--config", config, "--type", "access-review", "--format", "csv"]);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.split("\r\n").filter(Boolean);
    expect(lines[0]).toBe("source,scope,scope_id,principal,principal_id,kind,email,status,mfa,last_active,privilege,level,via,credentials,reviewer,decision,comment");
    expect(lines.filter((l) => l.startsWith("app,app,app,grace,"))).toHaveLength(1);
    const noOut = whohas(["report", "--config", config, "--type", "access-review", "--format", "xlsx"]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--format xlsx: .*--out PATH/);
    const out = join(dir, "review.xlsx");
    expect(whohas(["report", "--config", config, "--type", "access-review", "--format", "xlsx", "--out", out]).code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out).subarray(0, 2).toString()).toBe("PK"); // a zip container, read back in access-review.test.ts
  });

  it("verify passes on an untouched store and names the first run whose data was altered", () => {
    expect(whohas(["verify", "--config", config]).stdout).toMatch(/^ok: 2 run\(s\) verified/);
    const db = new Database(join(dir, "w.db"));
    db.prepare("UPDATE principals SET status = 'active' WHERE name = 'grace' AND status = 'disabled'").run();
    db.close();
    const r = whohas(["verify", "--config", config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAILED at run 2: its stored data no longer matches its digest \(1 earlier run\(s\) verified\)/);
  });
});

describe("report without runs", () => {
  it("says what to do", () => {
    const dir = mkdtempSync(join(tmpdir(), "whohas-report-empty-"));
    writeFileSync(join(dir, "w.toml"), `[[sources]]\nid = "a"\ntype = "file"\npath = "a.csv"\n`);
    const r = whohas(["report", "--config", join(dir, "w.toml")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not exist yet: run "whohas collect" first/);
  });
});


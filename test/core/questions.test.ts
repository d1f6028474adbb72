// Questions as commands (who, person, inventory and report filters), accepted risks in every report format,
// suppression warnings, WHOHAS_CONFIG and the starter config: the built CLI against file sources.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import { beforeAll, describe, expect, it } from "vitest";
import { whohas } from "../helpers/cli.js";

const HEADER = "username,email,status,mfa,role,access_level,last_active,credential_id,credential_kind,credential_last_used";
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

describe("questions as commands", () => {
  const dir = mkdtempSync(join(tmpdir(), "whohas-questions-"));
  const config = join(dir, "whohas.toml");
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => whohas([...args, "--config", config], { env });

  beforeAll(() => {
    writeFileSync(
      join(dir, "erp.csv"),
      `${HEADER}\nada,ada@example.com,active,enabled,admin,admin,2026-11-20,k1,access_key,2026-11-20\n` +
        `grace,grace.hopper@example.com,active,disabled,sysadmin,admin,2026-11-19,,,\n` +
        `carol,carol@example.com,suspended,enabled,viewer,read,,,,\n`,
    );
    writeFileSync(join(dir, "git.csv"), `${HEADER}\nghopper,,active,disabled,owner,admin,2026-11-18,t1,pat,2026-11-18\nada-l,ada@example.com,active,enabled,dev,write,2026-11-18,,,\n`);
    writeFileSync(
      config,
      `[store]\npath = "w.db"\n[identity]\naliases = { "git:ghopper" = "grace.hopper@example.com" }\n` +
        `[[sources]]\nid = "erp"\ntype = "file"\npath = "${join(dir, "erp.csv")}"\nsystem = "erp"\n` +
        `[[sources]]\nid = "git"\ntype = "file"\npath = "${join(dir, "git.csv")}"\nsystem = "git"\n` +
        // Hides a finding, with who accepted it; expires soon.
        `[[suppress]]\nrule = "too-few-admins"\nsubject = "git/*"\nreason = "one owner by design"\nuntil = "${inDays(5)}"\nadded_by = "ciso@example.com"\n` +
        // Matches nothing.
        `[[suppress]]\nrule = "risky-admin"\nsubject = "nowhere/*"\nreason = "typo"\nuntil = "${inDays(400)}"\n`,
    );
    expect(run(["collect"]).code).toBe(0);
  });

  it("who answers 'active admins without MFA' in every format, sorted, with the grants that give the access", () => {
    const text = run(["who", "--level", "admin", "--mfa", "disabled", "--status", "active"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Access at or above admin at run 1 .*: 2 principals/);
    const rows = text.stdout.split("\n").filter((l) => /^(erp|git) /.test(l));
    expect(rows.map((l) => l.split(/\s+/)[2])).toEqual(["grace", "ghopper"]);
    expect(text.stdout).toMatch(/ghopper .* owner \(admin\)/);

    const json = JSON.parse(run(["who", "--level", "admin", "--mfa", "disabled", "-f", "json"]).stdout);
    expect(json.principals.map((p: { name: string }) => p.name).sort()).toEqual(["ghopper", "grace"]);
    const csv = run(["who", "--level", "write", "--source", "git", "-f", "csv"]).stdout.trim().split("\r\n");
    expect(csv).toHaveLength(3);
    expect(csv[0]).toMatch(/^source,scope,id,kind,name/);

    // --level is "at or above": write includes admin; the suspended reader is not there.
    const writers = JSON.parse(run(["who", "--level", "write", "-f", "json"]).stdout).principals.map((p: { name: string }) => p.name).sort();
    expect(writers).toEqual(["ada", "ada-l", "ghopper", "grace"]);
    const scoped = JSON.parse(run(["inventory", "--scope", "git", "--search", "GHOP", "-f", "json"]).stdout).principals;
    expect(scoped.map((p: { name: string }) => p.name)).toEqual(["ghopper"]);
  });

  it("person finds one person everywhere by email, by the name before the @, and through an alias", () => {
    const byEmail = JSON.parse(run(["person", "grace.hopper@example.com", "-f", "json"]).stdout);
    expect(byEmail.schema).toBe("whohas.person/v1");
    expect(byEmail.accounts.map((p: { source: string; name: string }) => `${p.source}:${p.name}`).sort()).toEqual(["erp:grace", "git:ghopper"]);
    const byName = run(["person", "grace.hopper"]);
    expect(byName.code).toBe(0);
    expect(byName.stdout).toMatch(/^grace\.hopper@example\.com: 2 account\(s\) in 2 source\(s\)/);
    expect(byName.stdout).toMatch(/Grants \(2\)/);
    expect(byName.stdout).toMatch(/Credentials \(1\)[\s\S]*pat +t1/);
    const byAlias = JSON.parse(run(["person", "git:ghopper", "-f", "json"]).stdout);
    expect(byAlias.person).toBe("grace.hopper@example.com");
    const csv = run(["person", "ada@example.com", "-f", "csv"]).stdout.trim().split("\r\n");
    expect(csv.filter((l) => l.startsWith("account,"))).toHaveLength(2);
    expect(csv.filter((l) => l.startsWith("credential,"))).toHaveLength(1);
    const none = run(["person", "nobody@example.com"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no account matches "nobody@example.com"/);
  });

  it.each([
    [["inventory", "-k", "robot"], /argument 'robot' is invalid\. Allowed choices are human, service, root, bot, guest, external, unknown/],
    [["inventory", "-s", "nope"], /--source: unknown source "nope"; expected one of erp, git/],
    [["inventory", "--scope", "nope"], /--scope: unknown scope "nope"; .*one of erp\/erp, git\/git/],
    [["who", "--level", "owner"], /Allowed choices are admin, privileged, write, read/],
    [["who", "--mfa", "maybe"], /Allowed choices are enabled, disabled, not_applicable, unknown/],
    [["who", "--status", "gone"], /Allowed choices are active, suspended, disabled, invited, archived, unknown/],
    [["who", "--columns", "name,shoe-size"], /--columns: unknown column "shoe-size"; expected .*last-active/],
    [["report", "--severity", "urgent"], /Allowed choices are critical, high, medium, low, info/],
    [["report", "--rule", "no-such-rule"], /Allowed choices are orphaned-access, new-admin/],
    [["report", "--source", "nope"], /--source: unknown source "nope"; expected one of erp, git/],
    [["report", "--scope", "nope"], /--scope: unknown scope "nope"/],
    [["person", " "], /person: expected an email/],
  ])("bad value %j exits 2 naming the valid values", (args, expected) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(expected);
    expect(r.stdout).toBe("");
  });

  it("report filters narrow the findings and recompute the counts", () => {
    const all = JSON.parse(run(["report", "-f", "json"]).stdout);
    expect(all.filter).toBeUndefined();
    const mfa = JSON.parse(run(["report", "-f", "json", "--rule", "admin-without-mfa"]).stdout);
    expect(mfa.findings.length).toBeGreaterThan(0);
    expect(mfa.findings.every((f: { rule: string }) => f.rule === "admin-without-mfa")).toBe(true);
    expect(mfa.filter).toEqual({ rules: ["admin-without-mfa"] });
    const total = Object.values(mfa.counts.findings as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(total).toBe(mfa.findings.length);
    const git = JSON.parse(run(["report", "-f", "json", "--source", "git", "--severity", "high", "critical"]).stdout);
    expect(git.findings.every((f: { source: string; severity: string }) => f.source === "git" && ["high", "critical"].includes(f.severity))).toBe(true);
    const search = JSON.parse(run(["report", "-f", "json", "--search", "GHOPPER"]).stdout);
    expect(search.findings.length).toBeGreaterThan(0);
    expect(search.findings.every((f: { subject: string; detail: string }) => /ghopper/i.test(f.subject + f.detail))).toBe(true);
    // The first run has no previous one: nothing is new.
    expect(JSON.parse(run(["report", "-f", "json", "--new-only"]).stdout).findings).toEqual([]);
  });

  it("accepted risks are listed in every format with reason, date and who; stale suppressions are warned about", () => {
    const json = run(["report", "-f", "json"]);
    const report = JSON.parse(json.stdout);
    expect(report.suppressed).toEqual([expect.objectContaining({ rule: "too-few-admins", subject: "git/git", reason: "one owner by design", until: inDays(5), addedBy: "ciso@example.com", severity: "low" })]);
    expect(json.stderr).toMatch(/warning: .*suppress\[0\] \(too-few-admins "git\/\*"\) expires on .* \(in [45] day\(s\)\)/);
    expect(json.stderr).toMatch(/warning: .*suppress\[1\] \(risky-admin "nowhere\/\*"\) matches no finding of run 1/);
    for (const format of ["text", "md", "html"]) {
      const out = run(["report", "-f", format]).stdout;
      expect(out, format).toMatch(/accepted risks \(1\)/i);
      expect(out, format).toContain("one owner by design");
      expect(out, format).toContain("ciso@example.com");
    }
    const csv = run(["report", "-f", "csv"]).stdout.trim().split("\r\n");
    expect(csv[0]).toMatch(/,status,accepted_reason,accepted_until,accepted_by$/);
    expect(csv.find((l) => l.includes(",accepted,"))).toMatch(/too-few-admins.*,accepted,one owner by design,\d{4}-\d\d-\d\d,ciso@example\.com$/);

    const check = run(["check-config"]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^warning: suppress\[1\] \(risky-admin "nowhere\/\*"\) matches no finding of run 1$/m);
    expect(check.stdout).toMatch(/^warning: suppress\[0\] .* expires on/m);
  });

  it("WHOHAS_CONFIG names the config when --config is not given", () => {
    const r = whohas(["who", "--level", "admin", "-f", "json"], { env: { WHOHAS_CONFIG: config } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).principals.length).toBe(3);
    const missing = whohas(["runs"], { env: { WHOHAS_CONFIG: join(dir, "missing.toml") } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing\.toml: config file not found \(from WHOHAS_CONFIG\)/);
  });

  it("init writes a starter config whose examples are all commented out", () => {
    const target = join(dir, "starter.toml");
    expect(whohas(["init", target]).code).toBe(0);
    const parsed = parse(readFileSync(target, "utf8")) as Record<string, unknown>;
    expect(parsed.suppress).toBeUndefined();
    expect(parsed.identity).toBeUndefined();
    expect((parsed.sources as { enabled?: boolean }[]).every((s) => s.enabled === false)).toBe(true);
  });
});

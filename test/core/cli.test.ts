import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Database } from "../../src/store/sqlite.js";
import { whohas } from "../helpers/cli.js";

const HEADER = "username,email,status,mfa,role,access_level,last_active,credential_id,credential_kind,credential_last_used";

describe("whohas CLI end to end", () => {
  const dir = mkdtempSync(join(tmpdir(), "whohas-cli-"));
  const csv = join(dir, "erp.csv");
  const hr = join(dir, "hr.json");
  const config = join(dir, "whohas.toml");

  beforeAll(() => {
    writeFileSync(csv, `${HEADER}\nada,ada@example.com,active,enabled,admin,admin,2026-11-20,k1,access_key,2026-11-20\nbob,bob@example.com,active,disabled,clerk,write,2026-11-19,,,\ncarol,carol@example.com,active,enabled,viewer,read,,,,\n`);
    writeFileSync(hr, JSON.stringify([{ username: "ada", email: "ada@example.com" }]));
    writeFileSync(
      config,
      `[store]\npath = "store/w.db"\n[[sources]]\nid = "erp"\ntype = "file"\npath = "${csv}"\nsystem = "erp"\n[[sources]]\nid = "hr"\ntype = "file"\npath = "${hr}"\nsystem = "hr"\n`,
    );
  });

  it("--version states package.json's version, whoever started it (npm sets npm_package_version for its own package)", () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    const r = whohas(["--version"], { env: { npm_package_version: "9.9.9-not-whohas" } });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it("init writes a 0600 starter config and refuses to overwrite", () => {
    const target = join(dir, "starter.toml");
    expect(whohas(["init", target]).code).toBe(0);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(whohas(["check-config", "--config", target]).code).toBe(0);
    const again = whohas(["init", target]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });

  it("check-config prints the sources; a broken config exits 2 naming file and key", () => {
    const ok = whohas(["check-config", "--config", config]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/erp \(file\)/);
    const bad = join(dir, "bad.toml");
    writeFileSync(bad, `[[sources]]\nid = "erp"\ntype = "file"\npath = "x.csv"\nformat = "xls"\n`);
    const r = whohas(["check-config", "--config", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.toml: sources\[0\]\.format/);
    expect(whohas(["check-config", "--config", join(dir, "missing.toml")]).code).toBe(2);
    const unresolved = join(dir, "unresolved.toml");
    writeFileSync(unresolved, `[[sources]]\nid = "gh"\ntype = "github"\norgs = ["acme"]\ntoken = "env:WHOHAS_TEST_UNSET"\n[[sources]]\nid = "gh-off"\ntype = "github"\nenabled = false\norgs = ["acme"]\ntoken = "env:WHOHAS_TEST_UNSET"\n`);
    const u = whohas(["check-config", "--config", unresolved]);
    expect(u.code).toBe(2);
    expect(u.stdout.split("\n")[0]).toBe(`${unresolved}: 1 secret reference(s) do not resolve`);
    expect(u.stdout).toContain("token = env:WHOHAS_TEST_UNSET (not checked: source disabled)");
    expect(u.stderr).toMatch(/sources\.gh\.token: environment variable WHOHAS_TEST_UNSET/);
  });

  it("collects, lists runs, prints the inventory, and diffs two runs", () => {
    const first = whohas(["collect", "--config", config]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/erp\s+erp\s+ok\s+3\s+1\s+3/);
    expect(statSync(join(dir, "store/w.db")).mode & 0o777).toBe(0o600);

    // bob is promoted, carol leaves, a new key replaces k1; the hr file breaks.
    writeFileSync(csv, `${HEADER}\nada,ada@example.com,active,enabled,admin,admin,2026-11-21,k2,access_key,never\nbob,bob@example.com,active,disabled,clerk:write;admin:admin,write,2026-11-19,,,\n`);
    writeFileSync(hr, "[{");
    const second = whohas(["collect", "--config", config, "--format", "json"]);
    expect(second.code).toBe(1);
    const summary = JSON.parse(second.stdout);
    expect(summary.status).toBe("partial");
    expect(summary.scopes.map((s: { scope: string; status: string }) => `${s.scope}:${s.status}`)).toEqual(["erp:ok", "hr:failed"]);

    const runs = JSON.parse(whohas(["runs", "--config", config, "--format", "json"]).stdout);
    expect(runs.runs.map((r: { id: number; status: string }) => `${r.id}:${r.status}`)).toEqual(["2:partial", "1:ok"]);

    const inv = JSON.parse(whohas(["inventory", "--config", config, "--format", "json", "--source", "erp"]).stdout);
    expect(inv.schema).toBe("whohas.inventory/v1");
    const bob = inv.principals.find((p: { name: string }) => p.name === "bob");
    expect(bob).toMatchObject({ accessLevel: "admin", mfa: "disabled", source: "erp" });
    expect(inv.principals.find((p: { name: string }) => p.name === "ada").credentials[0].lastUsed).toEqual({ at: null, known: true, signal: "export" });

    // The failed hr source keeps its state: ada is still there at run 2, and the diff does not call her removed.
    const all = JSON.parse(whohas(["inventory", "--config", config, "--format", "json"]).stdout);
    expect(all.principals.filter((p: { source: string }) => p.source === "hr")).toHaveLength(1);
    const diff = JSON.parse(whohas(["diff", "--config", config, "--format", "json"]).stdout);
    expect(diff.schema).toBe("whohas.diff/v1");
    expect(diff.principals.removed.map((p: { source: string; name: string }) => `${p.source}:${p.name}`)).toEqual(["erp:carol"]);
    expect(diff.scopes.find((s: { source: string }) => s.source === "hr")).toMatchObject({ compared: false, reason: expect.stringMatching(/failed in run 2: .*hr\.json: not valid JSON/) });
    expect(diff.accessLevels).toEqual([expect.objectContaining({ name: "bob", before: "write", after: "admin", direction: "up" })]);
    expect(diff.credentials.added.map((c: { id: string }) => c.id)).toEqual(["k2"]);
    expect(diff.credentials.removed.map((c: { id: string }) => c.id)).toEqual(["k1"]);

    const text = whohas(["diff", "1", "2", "--config", config]);
    expect(text.code).toBe(0);
    expect(text.stdout.indexOf("Access level raised")).toBeLessThan(text.stdout.indexOf("Accounts removed"));
    const csvOut = join(dir, "inv.csv");
    expect(whohas(["inventory", "--config", config, "--format", "csv", "--out", csvOut]).code).toBe(0);
    expect(readFileSync(csvOut, "utf8").split("\r\n")[0]).toMatch(/^source,scope,id,kind,name,email/);
    expect(statSync(csvOut).mode & 0o777).toBe(0o600);
  });

  it.each([
    [["diff", "x", "2"], /FROM: expected a run id/],
    [["diff", "7", "9"], /run 7 does not exist/],
    [["inventory", "--run", "0"], /--run: expected a run id/],
    [["inventory", "--format", "xml"], /Allowed choices are text, json, csv/],
    [["inventory", "--out", "/nonexistent-dir/x.json"], /--out \/nonexistent-dir\/x\.json: cannot write \(ENOENT\)/],
    [["collect", "--source", "nope"], /unknown source nope/],
  ])("bad input %j exits 2 with a clear message", (args, expected) => {
    const r = whohas([...args, "--config", config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(expected);
  });

  it("collect stores each run's findings, so a report reads them and its history evaluates no run again", () => {
    const db = new Database(join(dir, "store/w.db"), { readonly: true });
    const sets = () => db.prepare("SELECT run_id AS run, basis FROM finding_sets WHERE digest IS NOT NULL ORDER BY run_id, basis").all() as { run: number; basis: number }[];
    try {
      // Run 1 against nothing, run 2 against run 1: what a report of each compares.
      expect(sets()).toEqual([
        { run: 1, basis: 0 },
        { run: 2, basis: 1 },
      ]);
      const before = sets().length;
      const r = whohas(["report", "--config", config, "--format", "json", "--history", "8"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).history.map((h: { run: number }) => h.run)).toEqual([1, 2]);
      expect(sets()).toHaveLength(before);
    } finally {
      db.close();
    }
  });

  it("refuses a second collect while one holds the lock, and takes over a stale lock", () => {
    const lockPath = join(dir, "store/w.db.lock");
    writeFileSync(lockPath, String(process.pid), { mode: 0o600 });
    const r = whohas(["collect", "--config", config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`collect already running (pid ${process.pid})`);
    writeFileSync(lockPath, "999999999", { mode: 0o600 });
    expect(whohas(["collect", "--config", config, "--source", "erp"]).code).toBe(0);
  });

  it("prune keeps the newest runs", () => {
    const r = whohas(["prune", "--keep", "1", "--config", config]);
    expect(r.code).toBe(0);
    const runs = JSON.parse(whohas(["runs", "--config", config, "--format", "json"]).stdout);
    expect(runs.runs).toHaveLength(1);
  });
});

describe("whohas demo", () => {
  const cwd = mkdtempSync(join(tmpdir(), "whohas-demo-cwd-"));

  it("runs two collects against the simulators, prints the headline findings, the diff and what to try next, and keeps its folder", () => {
    const r = whohas(["demo"], { cwd, timeoutMs: 300_000 });
    expect(r.stderr).toMatch(/collect #2/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Findings of run 2: \d+ orphaned accounts?, \d+ new admins?/m);
    expect(r.stdout).toMatch(/Left the company, still has access \(\d+\):\n +(HIGH|CRITICAL) +demo-[\w-]+\/.*grace\.hopper/);
    expect(r.stdout).toMatch(/New administrators \(\d+\):/);
    expect(r.stdout).toMatch(/Access level raised/);
    // The demo's tenants hold one record that cannot be stored and one grant on a principal nobody lists.
    expect(r.stdout).toMatch(/quarantined {2}demo-google-workspace\/my_customer principals \d+: displayName is a number, expected a string/);
    expect(r.stdout).toMatch(/unresolved {3}demo-google-workspace\/my_customer 100000000000000000999 \(the provider says: user\) holds admin/);
    // The groups holding roles, left out of the list, are counted so the list adds up to the run's UNRESOLVED.
    expect(r.stdout).toMatch(/ {2}and \d+ groups? holding roles \(groups are not collected as accounts/);
    expect(r.stdout).toMatch(/demo-google-workspace +my_customer +partial /);
    expect(r.stdout).toContain("The HTML report: whohas-demo/report.html");
    expect(r.stdout).toContain("npx whohas person --config whohas-demo/whohas.toml grace.hopper@example.com");
    expect(statSync(join(cwd, "whohas-demo", "report.html")).mode & 0o777).toBe(0o600);
    // The commands it suggests work on what it kept.
    const person = whohas(["person", "--config", "whohas-demo/whohas.toml", "grace.hopper@example.com", "-f", "json"], { cwd });
    expect(person.code).toBe(0);
    expect(JSON.parse(person.stdout).accounts.length).toBeGreaterThan(2);
  }, 600_000);

  // One run for three behaviours (each demo run is two collects of every simulator, the costliest thing in
  // this tier): it reuses the folder the first run kept, prints one JSON document, and --clean removes it.
  it("runs again in the same folder, -f json is one JSON document on stdout, and --clean removes its folder", () => {
    expect(existsSync(join(cwd, "whohas-demo", "whohas.toml"))).toBe(true);
    const r = whohas(["demo", "--format", "json", "--clean"], { cwd, timeoutMs: 300_000 });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schema).toBe("whohas.demo/v1");
    expect(doc.kept).toBe(false);
    expect(doc.runs).toEqual([1, 2]);
    expect(doc.findings.some((f: { rule: string }) => f.rule === "orphaned-access")).toBe(true);
    const diff = doc.diff;
    expect(diff.scopes.every((s: { compared: boolean }) => s.compared)).toBe(true);
    expect(diff.accessLevels.filter((a: { direction: string }) => a.direction === "up").length).toBeGreaterThan(0);
    expect(diff.principals.removed.length).toBeGreaterThan(0);
    expect(diff.credentials.added.length).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/demo-google-workspace +my_customer +partial /);
    expect(r.stderr).toMatch(/the demo's folder .* is removed \(--clean\)/);
    expect(existsSync(join(cwd, "whohas-demo"))).toBe(false);
  }, 600_000);

  it("refuses a folder it did not make, and leaves it as it was", () => {
    const other = join(cwd, "other");
    mkdirSync(other);
    writeFileSync(join(other, "notes.txt"), "mine");
    const r = whohas(["demo", "--dir", other], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/other exists and was not made by "whohas demo"/);
    expect(readFileSync(join(other, "notes.txt"), "utf8")).toBe("mine");
  });
});

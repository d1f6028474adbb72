// File modes and TLS. Under a umask of 000 (so only modes whohas sets itself count), the database, its WAL
// and SHM and the lock file (watched while a collect runs), report and inventory files, the daemon's
// report files and `init`'s config are all 0600. TLS verification is never turned off in shipped code
// (a scan of src/ and connectors/), and a server whose certificate is not trusted is refused by the
// GitHub connector and by the mailer (the Entra ID connector's own tests show the same for it).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGithubConnector } from "../../connectors/github/index.js";
import { startGithubSimulator, type GithubSimulator } from "../../connectors/github/simulator.js";
import { generateTenant } from "../../connectors/github/tenant.js";
import { startGoogleSimulator, type GoogleSimulator } from "../../connectors/google-workspace/simulator.js";
import { startSmtp, SMTP_PASSWORD, SMTP_USER, type SmtpServer } from "../daemon/helpers.js";
import { drain, testContext } from "../helpers/collect.js";
import { runCli } from "./cli-process.js";
import { githubOptions } from "../../connectors/github/options.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8).padStart(3, "0");

let dir: string;
let google: GoogleSimulator;
let config: string;
let db: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "whohas-perms-"));
  // Slow enough (latency × pages) that the run's files can be watched while it holds them.
  google = await startGoogleSimulator({ seed: 5, users: 3000, latencyMs: 25 });
  const key = join(dir, "key.json");
  writeFileSync(key, google.tenant.keyFile(), { mode: 0o600 });
  db = join(dir, "store", "whohas.db");
  config = join(dir, "whohas.toml");
  writeFileSync(
    config,
    `[store]\npath = ${JSON.stringify(db)}\n\n[report]\nformats = ["html", "json", "csv"]\n\n[[sources]]\nid = "gws"\ntype = "google-workspace"\nsubject = "admin@${google.tenant.domain}"\n` +
      `credentials = ${JSON.stringify(`file:${key}`)}\nroot_url = ${JSON.stringify(google.rootUrl)}\ntoken_url = ${JSON.stringify(google.tokenUrl)}\npage_size = 100\n`,
    { mode: 0o600 },
  );
});

afterAll(async () => {
  await google?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("file modes, under umask 000", () => {
  it("database, WAL, SHM and lock file are 0600 while a collect runs and after", async () => {
    const seen = new Map<string, Set<string>>();
    const watch = setInterval(() => {
      for (const suffix of ["", "-wal", "-shm", ".lock"]) {
        try {
          const m = mode(db + suffix);
          if (!seen.has(suffix)) seen.set(suffix, new Set());
          seen.get(suffix)!.add(m);
        } catch {
          // not there (yet, or any more)
        }
      }
    }, 3);
    const r = await runCli(["collect", "--config", config], { umask: 0o000 });
    clearInterval(watch);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.fromEntries([...seen].map(([k, v]) => [`whohas.db${k}`, [...v]]))).toEqual({
      "whohas.db": ["600"],
      "whohas.db-wal": ["600"],
      "whohas.db-shm": ["600"],
      "whohas.db.lock": ["600"],
    });
    expect(mode(db)).toBe("600");
    // The store's directory, created by whohas, is private too.
    expect(mode(join(dir, "store"))).toBe("700");
  });

  // Six CLI processes in a row: a generous limit, so a loaded machine does not fail it (the limit is no assertion).
  it("report, diff and inventory files are 0600, also when --out names an existing world-readable file", async () => {
    expect((await runCli(["collect", "--config", config], { umask: 0o000 })).code).toBe(0);
    const existing = join(dir, "was-world-readable.html");
    writeFileSync(existing, "old", { mode: 0o644 });
    const outs: [string[], string][] = [
      [["report", "--format", "html", "--out", existing], existing],
      [["report", "--format", "json", "--out", join(dir, "report.json")], join(dir, "report.json")],
      [["report", "--type", "access-review", "--format", "csv", "--out", join(dir, "review.csv")], join(dir, "review.csv")],
      [["diff", "--format", "json", "--out", join(dir, "diff.json")], join(dir, "diff.json")],
      [["inventory", "--format", "csv", "--out", join(dir, "inventory.csv")], join(dir, "inventory.csv")],
    ];
    for (const [args, file] of outs) {
      const r = await runCli([...args, "--config", config], { umask: 0o000 });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      expect([file, mode(file)]).toEqual([file, "600"]);
    }
    expect(readFileSync(existing, "utf8")).not.toBe("old");
  }, 240_000);

  it("the daemon's report files are 0600; init writes its config 0600", async () => {
    const once = await runCli(["daemon", "--once", "--config", config, "--quiet"], { umask: 0o000 });
    expect(once.code, once.stderr + once.stdout).toBe(0);
    const reports = join(dir, "store", "reports");
    const files = readdirSync(reports);
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) expect([f, mode(join(reports, f))]).toEqual([f, "600"]);
    const target = join(dir, "init", "whohas.toml");
    rmSync(join(dir, "init"), { recursive: true, force: true });
    (await import("node:fs")).mkdirSync(join(dir, "init"));
    const init = await runCli(["init", target], { umask: 0o000 });
    expect(init.code, init.stderr).toBe(0);
    expect(mode(target)).toBe("600");
  });
});

describe("TLS verification", () => {
  it("is never turned off in shipped code (src/, connectors/; simulators included)", () => {
    const patterns: [string, RegExp][] = [
      ["rejectUnauthorized: false", /rejectUnauthorized\s*:\s*(false|0)\b/],
      ["NODE_TLS_REJECT_UNAUTHORIZED", /NODE_TLS_REJECT_UNAUTHORIZED/],
      ["a checkServerIdentity override", /checkServerIdentity\s*[:=]/],
      ["strictSSL: false", /strictSSL\s*:\s*false/],
      ["an insecure flag", /\binsecure(SkipVerify|TLS)?\s*:\s*true/i],
      ["ignoreTLS / requireTLS: false", /ignoreTLS\s*:\s*true|requireTLS\s*:\s*false/],
    ];
    const files: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.ts$/.test(name)) files.push(p);
      }
    };
    walk(join(ROOT, "src"));
    walk(join(ROOT, "connectors"));
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) => {
      const text = readFileSync(f, "utf8");
      return patterns.filter(([, re]) => re.test(text)).map(([what]) => `${relative(ROOT, f)}: ${what}`);
    });
    expect(found).toEqual([]);
  });

  describe("a server whose certificate is not trusted is refused", () => {
    let gh: GithubSimulator;
    let smtp: SmtpServer;
    beforeAll(async () => {
      gh = await startGithubSimulator({ tenant: generateTenant({ seed: 3, orgs: [{ login: "acme", members: 5, repos: 1 }] }), tls: true });
      smtp = await startSmtp(dir);
    });
    afterAll(async () => {
      await gh?.close();
      await smtp?.close();
    });

    it("by the GitHub connector", async () => {
      const token = gh.issuePat(gh.tenant.users.values().next().value!.login);
      const opts = githubOptions.parse({ orgs: ["acme"], base_url: gh.baseUrl, token: "env:WHOHAS_TLS_GH", request_timeout_seconds: 5 });
      // Millisecond retry backoff: a certificate failure is retried like any network error, which is beside the point here.
      const { scopes } = await drain(createGithubConnector("gh", opts, { retryBaseMs: 1 }), testContext("gh", { WHOHAS_TLS_GH: token }));
      expect(scopes.get("acme")).toMatchObject({ status: "failed", error: expect.stringMatching(/certificate|self.signed|UNABLE_TO_VERIFY/i) });
      expect(gh.sim.requestCount).toBe(0);
    });

    it("by the mailer", async () => {
      const mailConfig = join(dir, "mail-tls.toml");
      writeFileSync(
        mailConfig,
        readFileSync(config, "utf8") +
          `
[email]
host = "127.0.0.1"
port = ${smtp.port}
user = ${JSON.stringify(SMTP_USER)}
password = "env:WHOHAS_TLS_SMTP"
from = "whohas@example.com"
to = ["sec@example.com"]
retries = 0
`,
        { mode: 0o600 },
      );
      const sent = await runCli(["report", "--send", "--config", mailConfig], { env: { WHOHAS_TLS_SMTP: SMTP_PASSWORD } });
      expect(sent.code).not.toBe(0);
      expect(sent.stderr + sent.stdout).toMatch(/certificate|self.signed|UNABLE_TO_VERIFY/i);
      expect(smtp.mails).toHaveLength(0);
    });
  });
});

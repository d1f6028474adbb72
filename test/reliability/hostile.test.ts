// Hostile names end to end: an export (JSON with a byte order mark) whose account names carry terminal
// escapes, CR, LF, NUL, bidi overrides, HTML, Markdown links, Slack markup and a 3 MB name, collected through
// the file connector and the real store; then every sink a person reads is checked on the exact bytes it
// receives: the terminal (collect summary, diff, inventory, report, runs, status), Markdown, the Slack payload,
// the report files and both parts of the email. Machine formats (JSON, CSV) must keep the exact values.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig, type Config } from "../../src/config/load.js";
import { deliverAlerts, deliverEmail, deliverFiles } from "../../src/daemon/deliver.js";
import { buildReport } from "../../src/build-report.js";
import { openStore } from "../../src/store/db.js";
import { recordingLog, SMTP_PASSWORD, SMTP_USER, startSmtp, startWebhookReceiver, type SmtpServer, type WebhookReceiver } from "../daemon/helpers.js";
import { runCli } from "./cli-process.js";

const HUGE = 3 * 1024 * 1024;
/** Hostile account names and what a terminal must show instead. */
const HOSTILE: { name: string; shown: string }[] = [
  { name: "esc\u001b[2Jclear", shown: "esc\\x1b[2Jclear" },
  { name: "osc\u001b]0;pwned-title\u0007", shown: "osc\\x1b]0;pwned-title\\x07" },
  { name: "overwritten\rtrusted-user", shown: "overwritten\\rtrusted-user" },
  { name: "forged\nCRITICAL (9)", shown: "forged\\nCRITICAL (9)" },
  { name: "nul\u0000byte", shown: "nul\\x00byte" },
  { name: "admin\u202egnp.exe", shown: "admin\\u202egnp.exe" },
  { name: "<script>alert(1)</script>", shown: "<script>alert(1)</script>" },
  { name: "[clickme](https://evil.example)", shown: "[clickme](https://evil.example)" },
  { name: "<img src=x onerror=alert(1)>", shown: "<img src=x onerror=alert(1)>" },
  { name: "<!channel> eve", shown: "<!channel> eve" },
  { name: "=HYPERLINK(\"https://evil.example\")", shown: "=HYPERLINK(\"https://evil.example\")" },
  { name: "h" + "x".repeat(HUGE), shown: "hxxxxxxxxx" },
];
/** What a terminal (or a bidi-aware viewer) would obey rather than show; \n is the only line break allowed. */
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const LIMIT = 256 * 1024;

function expectSafeText(what: string, text: string, names = HOSTILE) {
  expect(ACTIVE.exec(text)?.[0], `${what}: a raw control character`).toBeUndefined();
  expect(text.split("\n").filter((l) => /^\s*CRITICAL \(9\)/.test(l)), `${what}: a forged line`).toEqual([]);
  expect(text.length, `${what}: output size`).toBeLessThan(LIMIT);
  for (const h of names) expect(text, `${what}: ${h.shown.slice(0, 30)}`).toContain(h.shown);
}

function expectSafeMarkdown(what: string, md: string) {
  expect(ACTIVE.exec(md)?.[0], what).toBeUndefined();
  // No raw HTML, no live link, no autolinked URL: every < [ ] ( ) : of a value is backslash-escaped.
  expect(md).not.toMatch(/(^|[^\\])<(script|img|!channel)/);
  expect(md).not.toMatch(/\]\(https?:/);
  expect(md).not.toMatch(/(^|[^\\])https?:\/\//m);
  expect(md).toContain("\\[clickme\\]\\(https\\://evil.example\\)");
  expect(md).toContain("\\<img src=x onerror=alert\\(1\\)\\>");
  expect(md).toContain("esc\\\\x1b\\[2Jclear");
  // Every table row is one line: it starts and ends with a pipe.
  for (const line of md.split("\n").filter((l) => l.startsWith("|"))) expect(line.endsWith("|"), line.slice(0, 80)).toBe(true);
  expect(md.length).toBeLessThan(LIMIT);
}

describe("hostile names through every sink", () => {
  const dir = mkdtempSync(join(tmpdir(), "whohas-hostile-"));
  const exportPath = join(dir, "app.json");
  const badPath = join(dir, "bad.csv");
  const configPath = join(dir, "whohas.toml");
  const env = { ...process.env, WHOHAS_TEST_SMTP_PASSWORD: SMTP_PASSWORD };
  let smtp: SmtpServer;
  let hook: WebhookReceiver;
  let config: Config;
  const out: Record<string, string> = {};
  const log = recordingLog();

  const account = (username: string, admin: boolean) => ({ username, access_level: admin ? "admin" : "read", roles: [{ name: admin ? "owner" : "viewer", level: admin ? "admin" : "read" }], mfa: "enabled" });
  const writeExport = (accounts: object[]) => writeFileSync(exportPath, "\ufeff" + JSON.stringify(accounts, null, 1));
  const cli = async (...args: string[]) => {
    const r = await runCli([...args, "--config", configPath]);
    expect(r.stderr, `${args.join(" ")}: stderr`).not.toMatch(/at .*\.js:\d+/); // no stack trace
    return r;
  };

  beforeAll(async () => {
    smtp = await startSmtp(dir);
    hook = await startWebhookReceiver();
    writeFileSync(
      configPath,
      `[store]\npath = "store/w.db"\n[[sources]]\nid = "app"\ntype = "file"\npath = "${exportPath}"\nsystem = "app"\n` +
        `[[sources]]\nid = "bad"\ntype = "file"\npath = "${badPath}"\nsystem = "bad"\n` +
        `[report]\nformats = ["text", "md", "html", "json", "csv"]\n` +
        `[email]\nhost = "127.0.0.1"\nport = ${smtp.port}\nuser = "${SMTP_USER}"\npassword = "env:WHOHAS_TEST_SMTP_PASSWORD"\nca = "${smtp.caFile}"\nfrom = "whohas@example.com"\nto = ["secops@example.com"]\nsend = "always"\nretries = 0\n` +
        `[[alerts]]\nname = "slack"\nurl = "${hook.url}"\nformat = "slack"\nmin_severity = "info"\nretries = 0\n`,
      { mode: 0o600 },
    );
    writeExport([account("ada", true)]);
    // A header cell with an OSC sequence and a newline: its error reaches runs, status and the summary.
    writeFileSync(badPath, `username,"\u001b]0;owned\u0007\nforged"\nada,x\n`);
    expect((await cli("collect")).code).toBe(1);
    writeExport([account("ada", true), ...HOSTILE.map((h) => account(h.name, true))]);
    const collected = await cli("collect");
    out.collect = collected.stdout;
    config = loadConfig(configPath, CONNECTORS);
    const db = openStore(config.store.path);
    try {
      const report = buildReport(db, config, { run: 2, type: "changes", history: 8 });
      expect(deliverFiles(db, config, report, { log }).status).toBe("ok");
      expect((await deliverAlerts(db, config, report, { log, env })).map((d) => d.status)).toEqual(["ok"]);
      expect((await deliverEmail(db, { ...config }, { run: 2, report, force: true }, { log, env })).status).toBe("ok");
    } finally {
      db.close();
    }
    out.diff = (await cli("diff")).stdout;
    out.inventory = (await cli("inventory")).stdout;
    out.report = (await cli("report")).stdout;
    out.review = (await cli("report", "--type", "access-review")).stdout;
    out.md = (await cli("report", "--type", "access-review", "--format", "md")).stdout;
    out.runs = (await cli("runs")).stdout;
    out.status = (await cli("status")).stdout;
  }, 240_000);
  afterAll(async () => {
    await smtp?.close();
    await hook?.close();
  });

  it("the terminal: every control shown escaped, no forged line, a 3 MB name capped", () => {
    expectSafeText("diff", out.diff!);
    expectSafeText("inventory", out.inventory!);
    expectSafeText("report", out.report!);
    expectSafeText("access review", out.review!);
    // Exactly what the reader sees for two of them (the table pads the SOURCE, SCOPE and NAME columns).
    expect(out.inventory).toMatch(/^app +app +osc\\x1b\]0;pwned-title\\x07 +human +active +admin /m);
    expect(out.diff).toContain("app/app: + overwritten\\rtrusted-user (human, active)");
    expect(out.report).toContain("new-admin  app/app/forged\\nCRITICAL (9): ");
    // The 3 MB name is shown as its first characters and an ellipsis.
    expect(out.inventory).toMatch(/hx{70,}… /);
    expect(out.inventory!.length).toBeLessThan(8 * 1024);
  });

  it("errors quoting hostile input: the collect summary, runs and status show them escaped", () => {
    const error = "unknown column(s) \\x1b]0;owned\\x07\\nforged";
    for (const [what, text] of Object.entries({ collect: out.collect!, runs: out.runs!, status: out.status! })) {
      expect(ACTIVE.exec(text)?.[0], what).toBeUndefined();
      expect(text, what).toContain(error);
      expect(text.split("\n").filter((l) => l.startsWith("forged")), what).toEqual([]);
    }
  });

  it("Markdown: no raw HTML, no link, no split row", () => {
    expectSafeMarkdown("report --format md", out.md!);
  });

  it("Slack: one line per finding, markup escaped", () => {
    expect(hook.requests).toHaveLength(1);
    const text = (JSON.parse(hook.requests[0]!.body) as { text: string }).text;
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^whohas: \d+ new findings in run 2 /);
    // 12 new admins; 20 lines at most, then a pointer to the report.
    expect(lines.slice(1).every((l) => l.startsWith("• ") || l.startsWith("…and "))).toBe(true);
    expect(lines.length).toBeLessThanOrEqual(22);
    expect(ACTIVE.exec(text)?.[0]).toBeUndefined();
    expect(text).not.toContain("<!channel>");
    expect(text).toContain("&lt;!channel&gt; eve");
    expect(text).toContain("forged\\nCRITICAL (9)");
    expect(text.length).toBeLessThan(LIMIT);
  });

  it("report files: text and Markdown as safe as the terminal, HTML escaped under a CSP, JSON and CSV exact", () => {
    const files = readdirSync(config.report.dir).sort();
    expect(files).toEqual(["run-2-vs-1.csv", "run-2-vs-1.findings.csv", "run-2-vs-1.html", "run-2-vs-1.json", "run-2-vs-1.md", "run-2-vs-1.txt"]);
    const read = (ext: string) => readFileSync(join(config.report.dir, `run-2-vs-1.${ext}`), "utf8");
    expectSafeText("report file .txt", read("txt"));
    expectSafeMarkdown("report file .md", read("md"));
    const html = read("html");
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    expect(html).not.toMatch(/<script|<img|onerror=alert\(1\)>/);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(ACTIVE.exec(html.replace(/\n/g, ""))?.[0]).toBeUndefined();
    expect(html.length).toBeLessThan(LIMIT);
    // Machine formats: the exact values.
    const json = JSON.parse(read("json")) as { findings: { rule: string; subject: string }[] };
    const subjects = new Set(json.findings.filter((f) => f.rule === "new-admin").map((f) => f.subject));
    for (const h of HOSTILE) expect(subjects.has(`app/app/${h.name}`), h.shown.slice(0, 30)).toBe(true);
    // (includes, not toContain: a failure must not print the 3 MB name)
    const csv = read("csv");
    expect(csv.includes("new-admin:app/app/osc\u001b]0;pwned-title\u0007,")).toBe(true);
    expect(csv.includes('"new-admin:app/app/forged\nCRITICAL (9)"')).toBe(true);
    expect(csv.includes(`new-admin:app/app/h${"x".repeat(HUGE)},`)).toBe(true);
  });

  it("CSV inventory: exact values, a formula-looking name defused", async () => {
    const csv = (await cli("inventory", "--format", "csv")).stdout;
    expect(csv.includes(`,"'=HYPERLINK(""https://evil.example"")",`)).toBe(true);
    expect(csv.includes(",admin\u202egnp.exe,")).toBe(true);
    expect(csv.includes(',"overwritten\rtrusted-user",')).toBe(true);
    expect(csv.includes(",nul\u0000byte,")).toBe(true);
  });

  it("the email: text part as safe as the terminal, HTML escaped", () => {
    expect(smtp.mails).toHaveLength(1);
    const { parsed } = smtp.mails[0]!;
    expectSafeText("email text", String(parsed.text));
    const html = String(parsed.html);
    expect(html).not.toMatch(/<script|<img/);
    expect(html).toContain("&lt;!channel&gt; eve");
  });

  it("JSON inventory keeps every name exactly, the 3 MB one included", async () => {
    const r = await cli("inventory", "--format", "json");
    const names = new Set((JSON.parse(r.stdout) as { principals: { name: string }[] }).principals.map((p) => p.name));
    for (const h of HOSTILE) expect(names.has(h.name), h.shown.slice(0, 30)).toBe(true);
  });
});

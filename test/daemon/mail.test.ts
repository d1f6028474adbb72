// The nightly email end to end: real collects of file sources, the daemon's cycle, nodemailer talking to a
// loopback smtp-server that offers STARTTLS and requires AUTH; the received message parsed with mailparser.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig, type Config } from "../../src/config/load.js";
import { runCycle } from "../../src/daemon/cycle.js";
import { recentDeliveries } from "../../src/store/deliveries.js";
import { openStore } from "../../src/store/db.js";
import { Fixture, recordingLog, SMTP_PASSWORD, SMTP_USER, startSmtp, type SmtpServer } from "./helpers.js";

const emailSection = (port: number, caFile: string, extra = "", retry = "retries = 2\nretry_delay_seconds = 30") => `
[email]
host = "127.0.0.1"
port = ${port}
user = "${SMTP_USER}"
password = "env:WHOHAS_TEST_SMTP_PASSWORD"
ca = "${caFile}"
from = "whohas <whohas@example.com>"
to = ["secops@example.com", "audit@example.com"]
subject = "whohas · acme"
${retry}
${extra}
`;

const env = { ...process.env, WHOHAS_TEST_SMTP_PASSWORD: SMTP_PASSWORD };

/** Backoff waits are recorded, not slept: the delays are asserted instead of waited for. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

function deliveries(config: Config) {
  const db = openStore(config.store.path, { readonly: true });
  try {
    return recentDeliveries(db, 100);
  } finally {
    db.close();
  }
}

describe("nightly email", () => {
  let smtp: SmtpServer;
  let fx: Fixture;
  let config: Config;
  const log = recordingLog();
  const clock = recordingSleep();
  const cycle = (c: Config = config) => runCycle(c, { log, env, signal: new AbortController().signal, email: true, sleep: clock.sleep });

  beforeAll(async () => {
    fx = new Fixture();
    smtp = await startSmtp(fx.dir);
    fx.writeConfig(emailSection(smtp.port, smtp.caFile));
    config = loadConfig(fx.config, CONNECTORS);
  });
  afterAll(async () => {
    await smtp?.close();
  });

  it("sends the first report as a baseline, over STARTTLS with AUTH", async () => {
    const r = await cycle();
    expect(r.status).toBe("ok");
    expect(smtp.mails).toHaveLength(1);
    const m = smtp.mails[0]!;
    expect(m.secure).toBe(true);
    expect(m.user).toBe(SMTP_USER);
    expect(m.envelopeTo).toEqual(["secops@example.com", "audit@example.com"]);
    // Only low findings (too few admins, one that cannot be assessed): the severity counts, no headline words.
    expect(m.parsed.subject).toBe("whohas · acme: 2 low · run 1");
    // Machine mail (RFC 3834): no vacation responder or ticket system answers it.
    expect(m.parsed.headers.get("auto-submitted")).toBe("auto-generated");
    expect(m.parsed.headers.get("x-auto-response-suppress")).toBe("All");
    expect(r.deliveries.map((d) => `${d.channel}:${d.status}`)).toEqual(["file:ok", "email:ok"]);
  });

  it("after the changes: subject with the most severe counts first, a summary in text and HTML, the report and CSV attached", async () => {
    fx.mutate();
    const r = await cycle();
    expect(smtp.mails).toHaveLength(2);
    const { parsed } = smtp.mails[1]!;
    // bob and dave became admins, carol left HR but is active in the ERP, ada turned MFA off and dave has none.
    expect(parsed.subject).toBe(`whohas · acme: 6 high, 1 low — 1 orphaned account, 2 new admins, 3 MFA problems · run ${r.runId}`);
    expect(parsed.from?.text).toBe('"whohas" <whohas@example.com>');

    expect(parsed.text).toContain(`whohas report: run ${r.runId}`);
    expect(parsed.text).toContain("Findings: 6 high, 1 low, 1 info; 6 new");
    expect(parsed.text).toMatch(/^HIGH \(new\) new-admin: erp\/erp\/bob — /m);
    expect(parsed.text).toMatch(/^HIGH \(new\) orphaned-access: erp\/erp\/carol — /m);
    // Most severe first: every high finding is listed before the low ones.
    const listed = [...parsed.text!.matchAll(/^(HIGH|MEDIUM|LOW|INFO)\b/gm)].map((x) => x[1]);
    expect(listed.join(" ")).toBe("HIGH HIGH HIGH HIGH HIGH HIGH LOW INFO");
    expect(parsed.text).toMatch(/What changed since run \d+:\n.*access levels? raised/);

    const html = String(parsed.html);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("erp/erp/dave");
    // Nothing a mail client would fetch, in the body or the attached report.
    expect(html).not.toMatch(/<img|src=|url\(|<link|<script/i);

    expect(parsed.attachments.map((a) => a.filename)).toEqual([`whohas-report-run-${r.runId}.html`, `whohas-findings-run-${r.runId}.csv`]);
    const report = parsed.attachments[0]!.content.toString("utf8");
    expect(parsed.attachments[0]!.contentType).toBe("text/html");
    expect(report).toMatch(/^<!doctype html>/);
    expect(report).toContain("<svg");
    expect(report).not.toMatch(/<img|src=|url\(|<link|<script/i);
    expect(parsed.text).toContain(`The full report is attached as whohas-report-run-${r.runId}.html (`);
    const csv = parsed.attachments[1]!;
    expect(csv.filename).toBe(`whohas-findings-run-${r.runId}.csv`);
    expect(csv.contentType).toBe("text/csv");
    const rows = csv.content.toString("utf8").trim().split(/\r?\n/);
    expect(rows[0]).toMatch(/^id,rule,severity,new,/);
    const rules = rows.slice(1).map((l) => l.split(",")[1]).sort();
    expect(rules).toEqual(["admin-without-mfa", "admin-without-mfa", "cannot-assess", "mfa-disabled", "new-admin", "new-admin", "orphaned-access", "too-few-admins"]);

    const email = r.deliveries.find((d) => d.channel === "email")!;
    expect(email).toMatchObject({ status: "ok", attempts: 1, sinceRun: r.runId - 1, detail: parsed.subject });
  });

  it('send = "changes": a run where nothing changed sends nothing; "always" sends anyway', async () => {
    const r = await cycle();
    expect(smtp.mails).toHaveLength(2);
    expect(r.deliveries.find((d) => d.channel === "email")).toMatchObject({ status: "skipped", detail: "nothing changed" });

    fx.writeConfig(emailSection(smtp.port, smtp.caFile, 'send = "always"\nattach_csv = false'));
    const always = await cycle(loadConfig(fx.config, CONNECTORS));
    expect(smtp.mails).toHaveLength(3);
    expect(smtp.mails[2]!.parsed.attachments.map((a) => a.contentType)).toEqual(["text/html"]);
    expect(always.deliveries.find((d) => d.channel === "email")).toMatchObject({ status: "ok" });
    fx.writeConfig(emailSection(smtp.port, smtp.caFile));
  });

  it("SMTP refusing: retried with backoff, logged, recorded, and the report file is still written (0600)", async () => {
    const before = smtp.mails.length;
    const waitsBefore = clock.waits.length;
    // A change (bob suspended in HR), and the relay refuses every attempt (1 + retries = 3).
    smtp.failNext(3);
    writeHr(fx, "ada,ada@example.com,active\nbob,bob@example.com,suspended\ncarol,carol@example.com,disabled\ndave,dave@example.com,active\n");
    const failed = await cycle();
    const email = failed.deliveries.find((d) => d.channel === "email")!;
    expect(email).toMatchObject({ status: "failed", attempts: 3 });
    expect(email.error).toMatch(/451/);
    expect(smtp.mails).toHaveLength(before);
    const waits = clock.waits.slice(waitsBefore);
    expect(waits).toHaveLength(2);
    // Full-jitter exponential backoff from 30 s: [15, 30] s, then [30, 60] s.
    expect(waits[0]).toBeGreaterThanOrEqual(15_000);
    expect(waits[0]).toBeLessThanOrEqual(30_000);
    expect(waits[1]).toBeGreaterThanOrEqual(30_000);
    expect(waits[1]).toBeLessThanOrEqual(60_000);
    expect(log.lines.filter((l) => l.msg === "email failed; retrying" && l.channel === "email").length).toBeGreaterThanOrEqual(2);
    expect(log.lines.some((l) => l.msg === "email failed" && l.run === failed.runId && l.attempts === 3)).toBe(true);

    const file = join(config.report.dir, `run-${failed.runId}-vs-${failed.runId - 1}.html`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(config.report.dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, "utf8")).toContain("bob");
    expect(deliveries(config).find((d) => d.runId === failed.runId && d.channel === "email")).toMatchObject({ status: "failed", attempts: 3 });
  });

  it("the next email covers everything since the last one that went out", async () => {
    const lastSent = deliveries(config).find((d) => d.channel === "email" && d.status === "ok")!.runId;
    writeErp(fx, "erin,erin@example.com,active,enabled,admin,admin");
    const r = await cycle();
    const email = r.deliveries.find((d) => d.channel === "email")!;
    expect(email).toMatchObject({ status: "ok", sinceRun: lastSent });
    const m = smtp.mails.at(-1)!;
    expect(m.parsed.text).toContain(`compared with run ${lastSent}`);
    // bob's suspension from the run whose email failed is in this one.
    expect(m.parsed.text).toMatch(/bob/);
    expect(m.parsed.subject).toMatch(/^whohas · acme: .*1 new admin\b/);
    // The since-last-email report is on disk under its own name, next to the run's own report.
    expect(readdirSync(config.report.dir)).toEqual(expect.arrayContaining([`run-${r.runId}-vs-${r.runId - 1}.html`, `run-${r.runId}-vs-${lastSent}.html`]));
  });

  it("a collect where every source failed is emailed too, saying so", async () => {
    const before = smtp.mails.length;
    const erp = readFileSync(fx.erp, "utf8");
    const hr = readFileSync(fx.hr, "utf8");
    writeFileSync(fx.erp, 'username\n"unterminated\n');
    writeFileSync(fx.hr, 'username\n"unterminated\n');
    try {
      const r = await cycle();
      expect(r.status).toBe("failed");
      expect(smtp.mails).toHaveLength(before + 1);
      const m = smtp.mails.at(-1)!.parsed;
      expect(m.subject).toMatch(/^whohas · acme: collect failed \(2 scopes failed\); /);
      expect(m.text).toContain("Coverage:\n2 scopes: 0 ok, 2 failed");
      expect(m.text).toMatch(/^  failed: erp\/erp: source erp: .*unterminated quoted field/m);
    } finally {
      writeFileSync(fx.erp, erp);
      writeFileSync(fx.hr, hr);
    }
  });

  it("a relay that is down: connection refused is retried too", async () => {
    const down = new Fixture(emailSection(1, smtp.caFile, "", "retries = 1\nretry_delay_seconds = 0.01"));
    const r = await runCycle(loadConfig(down.config, CONNECTORS), { log, env, signal: new AbortController().signal, email: true });
    expect(r.status).toBe("ok");
    const email = r.deliveries.find((d) => d.channel === "email")!;
    expect(email).toMatchObject({ status: "failed", attempts: 2 });
    expect(email.error).toMatch(/ECONNREFUSED|ESOCKET|ECONNECTION/);
    expect(readdirSync(loadConfig(down.config, CONNECTORS).report.dir).sort()).toEqual([`run-${r.runId}.findings.csv`, `run-${r.runId}.html`]);
  });

  it("a wrong password is not retried, and no password reaches logs, the store, reports or mail", async () => {
    const wrong = { ...process.env, WHOHAS_TEST_SMTP_PASSWORD: "not-the-right-password-123" };
    const r = await runCycle(config, { log, env: wrong, signal: new AbortController().signal, email: true, sleep: clock.sleep });
    // Nothing changed since the last email, so force one through the "always" setting.
    expect(r.deliveries.find((d) => d.channel === "email")?.status).toBe("skipped");
    fx.writeConfig(emailSection(smtp.port, smtp.caFile, 'send = "always"'));
    const r2 = await runCycle(loadConfig(fx.config, CONNECTORS), { log, env: wrong, signal: new AbortController().signal, email: true, sleep: clock.sleep });
    const email = r2.deliveries.find((d) => d.channel === "email")!;
    expect(email).toMatchObject({ status: "failed", attempts: 1 });
    expect(email.error).toMatch(/EAUTH/);

    for (const secret of [SMTP_PASSWORD, "not-the-right-password-123"]) {
      expect(log.text()).not.toContain(secret);
      expect(readFileSync(config.store.path).includes(secret)).toBe(false);
      for (const f of readdirSync(config.report.dir)) expect(readFileSync(join(config.report.dir, f), "utf8")).not.toContain(secret);
      for (const m of smtp.mails) expect(m.raw).not.toContain(secret);
    }
  });
});

function writeHr(fx: Fixture, rows: string): void {
  writeFileSync(fx.hr, `username,email,status\n${rows}`);
}

function writeErp(fx: Fixture, extraRow: string): void {
  writeFileSync(fx.erp, `${readFileSync(fx.erp, "utf8")}${extraRow},${new Date().toISOString().slice(0, 10)},,,\n`);
}

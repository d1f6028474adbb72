// The email of a 5,000-member org (issue 14: a 1.8 MB message with a 648 KB HTML body that mail clients clip,
// a subject without the critical findings). Two real collects of file sources, the daemon's cycle with the
// access-review report, nodemailer to the loopback smtp-server; the received message parsed with mailparser.
import { writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../../src/config/load.js";
import { runCycle } from "../../src/daemon/cycle.js";
import { parseCsv } from "../../src/csv.js";
import { findingTotal } from "../../src/report/report.js";
import { Fixture, recordingLog, SMTP_PASSWORD, SMTP_USER, startSmtp, type ReceivedMail, type SmtpServer } from "../daemon/helpers.js";

const MEMBERS = 5_000;
/** Members who become admins without MFA in the second run; the first LEAVERS of them also leave in HR. */
const NEW_ADMINS = 300;
const LEAVERS = 40;
/** Members not seen for 200 days (in both runs: a last activity never moves back). */
const DORMANT = 1_500;
/** A member whose name tries to add a header through the subject or a body line. */
const HOSTILE = "mallory\r\nBcc: loot@evil.example\r\nSubject: all clear";

const HEADER = "username,email,status,mfa,role,access_level,last_active,credential_id,credential_kind,credential_last_used";
const day = (ago: number) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);
const name = (i: number) => (i === 7 ? HOSTILE : `member${String(i).padStart(4, "0")}`);
const csvCell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

function erp(changed: boolean): string {
  const rows = [HEADER, `root,root@example.com,active,enabled,admin,admin,${day(0)},,,`, `ops,ops@example.com,active,enabled,admin,admin,${day(0)},,,`];
  for (let i = 0; i < MEMBERS; i++) {
    const admin = changed && i < NEW_ADMINS;
    const lastActive = i >= NEW_ADMINS && i < NEW_ADMINS + DORMANT ? day(200) : day(0);
    rows.push([csvCell(name(i)), `m${i}@example.com`, "active", admin ? "disabled" : "enabled", admin ? "admin" : "viewer", admin ? "admin" : "read", lastActive, "", "", ""].join(","));
  }
  return `${rows.join("\n")}\n`;
}

function hr(changed: boolean): string {
  const rows = ["username,email,status", "root,root@example.com,active", "ops,ops@example.com,active"];
  for (let i = 0; i < MEMBERS; i++) rows.push(`${csvCell(name(i))},m${i}@example.com,${changed && i < LEAVERS ? "disabled" : "active"}`);
  return `${rows.join("\n")}\n`;
}

describe("the email of a 5,000-member org", () => {
  let smtp: SmtpServer;
  let mail: ReceivedMail;
  let findings: number;
  let runId: number;

  beforeAll(async () => {
    const fx = new Fixture();
    smtp = await startSmtp(fx.dir);
    fx.writeConfig(
      `[report]\ntype = "access-review"\n[email]\nhost = "127.0.0.1"\nport = ${smtp.port}\nuser = "${SMTP_USER}"\npassword = "env:WHOHAS_TEST_SMTP_PASSWORD"\nca = "${smtp.caFile}"\nfrom = "whohas@example.com"\nto = ["secops@example.com"]\nsubject = "whohas · acme"\nretries = 0\n`,
    );
    const config = loadConfig(fx.config, CONNECTORS);
    const opts = { log: recordingLog(), env: { ...process.env, WHOHAS_TEST_SMTP_PASSWORD: SMTP_PASSWORD }, signal: new AbortController().signal, email: true };
    writeFileSync(fx.erp, erp(false));
    writeFileSync(fx.hr, hr(false));
    await runCycle(config, opts);
    writeFileSync(fx.erp, erp(true));
    writeFileSync(fx.hr, hr(true));
    const r = await runCycle(config, opts);
    expect(r.status).toBe("ok");
    expect(r.deliveries.find((d) => d.channel === "email")).toMatchObject({ status: "ok" });
    expect(smtp.mails).toHaveLength(2);
    mail = smtp.mails[1]!;
    findings = findingTotal(r.report!); // report.findings holds the top of each rule
    runId = r.runId;
  }, 120_000);
  afterAll(async () => {
    await smtp?.close();
  });

  it("has a summary body well under 100 KB in text and HTML, listing the top 20 findings, critical first", () => {
    const { text, html } = { text: String(mail.parsed.text), html: String(mail.parsed.html) };
    expect(findings).toBeGreaterThan(2_000);
    expect(Buffer.byteLength(text) + Buffer.byteLength(html)).toBeLessThan(100 * 1024);
    expect(text).toMatch(/^Findings: 40 critical, \d[\d,]* high, /m);
    const listed = [...text.matchAll(/^(CRITICAL|HIGH|MEDIUM|LOW|INFO)\b/gm)].map((m) => m[1]);
    expect(listed).toHaveLength(20);
    expect(listed.every((s) => s === "CRITICAL")).toBe(true);
    expect(text).toContain(`Top 20 of ${findings.toLocaleString("en-US")} findings (most severe and new first)`);
    expect(text).toContain(`…and ${(findings - 20).toLocaleString("en-US")} more findings in the attached report.`);
    expect(text).toMatch(/What changed since run \d+:\n300 access levels raised, /);
    expect(text).toContain("Coverage:\n2 scopes: 2 ok");
    expect(text).toMatch(/^Accepted risks: 0 /m);
  });

  it("attaches the full report gzip-compressed and says so; it parses and holds every member", () => {
    const files = mail.parsed.attachments.map((a) => `${a.filename} ${a.contentType}`);
    expect(files).toEqual([`whohas-report-run-${runId}.html.gz application/gzip`, `whohas-findings-run-${runId}.csv.gz application/gzip`]);
    const report = gunzipSync(mail.parsed.attachments[0]!.content).toString("utf8");
    expect(report).toMatch(/^<!doctype html>/);
    expect(report.trimEnd()).toMatch(/<\/html>$/);
    for (const i of [0, 1234, MEMBERS - 1]) expect(report.includes(`>${name(i)}<`), name(i)).toBe(true);
    expect(String(mail.parsed.text)).toMatch(new RegExp(`The full report is attached as whohas-report-run-${runId}\\.html\\.gz \\([\\d,]+ KB, gzip-compressed [\\d,]+ KB of HTML\\)\\.`));

    const rows = parseCsv(gunzipSync(mail.parsed.attachments[1]!.content).toString("utf8"));
    expect(rows.length - 1).toBe(findings);
  });

  it("names the most severe counts first in the subject, and no provider name reaches a header", () => {
    const subject = mail.parsed.subject!;
    expect(subject).toMatch(new RegExp(`^whohas · acme: 40 critical, [\\d,]+ high, [\\d,]+ medium, [\\d,]+ low — 40 orphaned accounts, 300 new admins, .* · run ${runId}$`));
    const headerBlock = mail.raw.slice(0, mail.raw.search(/\r?\n\r?\n/));
    expect(headerBlock).not.toMatch(/loot@evil|all clear|mallory/i);
    expect(mail.envelopeTo).toEqual(["secops@example.com"]);
    expect(mail.parsed.headers.get("auto-submitted")).toBe("auto-generated");
    expect(mail.parsed.headers.get("x-auto-response-suppress")).toBe("All");
    // In the body, the name is shown with its line breaks escaped.
    expect(String(mail.parsed.text)).not.toMatch(/^Bcc:|^Subject: all clear/m);
  });
});

// The daemon's CLI surface, run as child processes against a loopback SMTP server: `status` (the health
// check), `report --send`, and what `check-config` says about the daemon's sections.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Fixture, SMTP_PASSWORD, SMTP_USER, startSmtp, whohasAsync, type SmtpServer } from "./helpers.js";

const env = { WHOHAS_TEST_SMTP_PASSWORD: SMTP_PASSWORD };

const section = (port: number, caFile: string) => `
[schedule]
collect = "15 3 * * *"
timezone = "Europe/Paris"
[email]
host = "127.0.0.1"
port = ${port}
user = "${SMTP_USER}"
password = "env:WHOHAS_TEST_SMTP_PASSWORD"
ca = "${caFile}"
from = "whohas@example.com"
to = ["secops@example.com"]
subject = "whohas · acme"
retries = 1
retry_delay_seconds = 0.01
`;

describe("whohas status", () => {
  let smtp: SmtpServer;
  let fx: Fixture;
  beforeAll(async () => {
    fx = new Fixture();
    smtp = await startSmtp(fx.dir);
    fx.writeConfig(section(smtp.port, smtp.caFile));
  });
  afterAll(async () => {
    await smtp?.close();
  });

  it("before anything ran: a problem, exit 1", async () => {
    const r = await whohasAsync(["status", "--config", fx.config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`no store yet at ${fx.db}`);
    expect(r.stdout).toMatch(/schedule: collect "15 3 \* \* \*" \(next 20\d\d-\d\d-\d\dT0[12]:15:00\.000Z\), report after each collect in Europe\/Paris/);
  });

  it("after good runs: runs, sources, deliveries, healthy, exit 0", async () => {
    expect((await whohasAsync(["daemon", "--once", "--config", fx.config], env)).code).toBe(0);
    fx.mutate();
    expect((await whohasAsync(["daemon", "--once", "--config", fx.config], env)).code).toBe(0);
    expect(smtp.mails).toHaveLength(2);

    const r = await whohasAsync(["status", "--config", fx.config]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\n2 +\S+ +\S+ +ok +once/);
    expect(r.stdout).toMatch(/\nerp +2 +ok +1 +4 +1 +\d+ min ago/);
    expect(r.stdout).toMatch(/\n2 +email +secops@example\.com +ok +1 .*whohas · acme: 6 high, 1 low — 1 orphaned account, 2 new admins, 3 MFA problems · run 2\n/);
    expect(r.stdout).toMatch(/\n2 +file +\S+reports +ok +1 .*run-2-vs-1\.html/);
    expect(r.stdout.trimEnd().endsWith("healthy")).toBe(true);

    const j = await whohasAsync(["status", "--config", fx.config, "--format", "json"]);
    const s = JSON.parse(j.stdout);
    expect(s.schema).toBe("whohas.status/v1");
    expect(s.problems).toEqual([]);
    expect(s.sources.map((x: { source: string; status: string }) => `${x.source}:${x.status}`)).toEqual(["erp:ok", "hr:ok"]);
    expect(s.deliveries[0]).toMatchObject({ runId: 2, channel: "email", status: "ok", sinceRun: 1 });
  });

  it("a failed email and a stale source are problems (exit 1); a later success clears the email one", async () => {
    smtp.failNext(2); // the first attempt and its one retry
    const once = await whohasAsync(["daemon", "--once", "--config", fx.config, "--verbose"], env);
    // Nothing changed since the last email, so nothing was even tried: still healthy.
    expect(once.code).toBe(0);
    expect((await whohasAsync(["status", "--config", fx.config])).code).toBe(0);

    const today = new Date().toISOString().slice(0, 10);
    const { writeFileSync, readFileSync } = await import("node:fs");
    writeFileSync(fx.erp, `${readFileSync(fx.erp, "utf8")}erin,erin@example.com,active,enabled,admin,admin,${today},,,\n`);
    const failed = await whohasAsync(["daemon", "--once", "--config", fx.config], env);
    expect(failed.code).toBe(1);
    const r = await whohasAsync(["status", "--config", fx.config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/PROBLEMS\n {2}email secops@example\.com failed for run 4 after 2 attempts: .*451/);

    const stale = await whohasAsync(["status", "--config", fx.config, "--max-age", "0.00001"]);
    expect(stale.stdout).toMatch(/erp: last successful collect \d+\.\d h ago \(limit 0\.00001 h\)/);

    writeFileSync(fx.erp, `${readFileSync(fx.erp, "utf8")}fred,fred@example.com,active,enabled,admin,admin,${today},,,\n`);
    expect((await whohasAsync(["daemon", "--once", "--config", fx.config], env)).code).toBe(0);
    const healed = await whohasAsync(["status", "--config", fx.config, "--format", "json"]);
    expect(healed.code).toBe(0);
    // Run 3's email was skipped (nothing changed since run 2), run 4's failed: the email after the failed one
    // starts where the failed one did, so runs 4 and 5 go out together.
    const emails = JSON.parse(healed.stdout).deliveries.filter((d: { channel: string }) => d.channel === "email");
    expect(emails.slice(0, 3).map((d: { runId: number; status: string; sinceRun: number | null }) => [d.runId, d.status, d.sinceRun])).toEqual([
      [5, "ok", 3],
      [4, "failed", 3],
      [3, "skipped", 2],
    ]);
  });
});

describe("whohas report --send", () => {
  let smtp: SmtpServer;
  let fx: Fixture;
  beforeAll(async () => {
    fx = new Fixture();
    smtp = await startSmtp(fx.dir);
    fx.writeConfig(section(smtp.port, smtp.caFile));
    expect((await whohasAsync(["collect", "--config", fx.config])).code).toBe(0);
    fx.mutate();
    expect((await whohasAsync(["collect", "--config", fx.config])).code).toBe(0);
  });
  afterAll(async () => {
    await smtp?.close();
  });

  it("sends the report now, whatever [email] send says, and writes it to [report] dir", async () => {
    const r = await whohasAsync(["report", "--send", "--config", fx.config], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const subject = "whohas · acme: 6 high, 1 low — 1 orphaned account, 2 new admins, 3 MFA problems · run 2";
    expect(r.stdout).toBe(`sent "${subject}" to secops@example.com; written to ${join(fx.dir, "store", "reports")}: run-2-vs-1.findings.csv, run-2-vs-1.html\n`);
    expect(smtp.mails.map((m) => m.parsed.subject)).toEqual([subject]);
    // Sent again on demand, although nothing changed since.
    expect((await whohasAsync(["report", "--send", "--config", fx.config], env)).code).toBe(0);
    expect(smtp.mails).toHaveLength(2);
  });

  it("mail down: exit 1 naming the recipients and the error; the file is written anyway", async () => {
    const down = new Fixture(section(1, smtp.caFile));
    expect((await whohasAsync(["collect", "--config", down.config])).code).toBe(0);
    const r = await whohasAsync(["report", "--send", "--config", down.config], env);
    expect(r.code).toBe(1);
    // The retry is logged (JSON, stderr) before the error line.
    expect(r.stderr).toMatch(/"msg":"email failed; retrying"/);
    expect(r.stderr).toMatch(/\nwhohas: email to secops@example\.com failed after 2 attempt\(s\): .*(ECONNREFUSED|ECONNECTION|ESOCKET).*; written to .*: run-1\.findings\.csv, run-1\.html\n$/);
    expect(readdirSync(join(down.dir, "store", "reports")).sort()).toEqual(["run-1.findings.csv", "run-1.html"]);
  });

  it("without an [email] section: a usage error (exit 2)", async () => {
    const plain = new Fixture();
    const r = await whohasAsync(["report", "--send", "--config", plain.config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`whohas: --send: ${plain.config} has no [email] section (see config.example.toml)\n`);
  });

  it("check-config lists the daemon's sections and checks their secret references", async () => {
    const ok = await whohasAsync(["check-config", "--config", fx.config], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('schedule: collect "15 3 * * *", report after each collect');
    expect(ok.stdout).toContain("email: 127.0.0.1 to secops@example.com (changes)");
    expect(ok.stdout).toContain("email.password = env:WHOHAS_TEST_SMTP_PASSWORD (resolves)");
    const bad = await whohasAsync(["check-config", "--config", fx.config], { WHOHAS_TEST_SMTP_PASSWORD: "" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("email.password: environment variable WHOHAS_TEST_SMTP_PASSWORD");
    expect(bad.stdout + bad.stderr).not.toContain(SMTP_PASSWORD);
  });
});

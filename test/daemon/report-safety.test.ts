// Report files and deliveries under attack or failure: a symlink planted where the next report goes, loose
// or foreign report and store directories, a report that cannot be rendered, a report too large for email.
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig, type Config } from "../../src/config/load.js";
import { runCycle } from "../../src/daemon/cycle.js";
import { deliverEmail, deliverFiles } from "../../src/daemon/deliver.js";
import { recentDeliveries } from "../../src/store/deliveries.js";
import { composeEmail, type Email } from "../../src/daemon/mail.js";
import { reportFileName, writeReportFiles } from "../../src/daemon/report-files.js";
import type { Report } from "../../src/report/report.js";
import { openStore } from "../../src/store/db.js";
import { Fixture, recordingLog, SMTP_PASSWORD, SMTP_USER, startSmtp, whohasAsync } from "./helpers.js";

const isRoot = process.getuid?.() === 0;

/** A report whose inventory throws when read: any renderer that touches it fails, as a renderer bug would. */
function unrenderable(report: Report): Report {
  return {
    ...report,
    eachPrincipal: () => {
      throw new RangeError("Invalid string length");
    },
  };
}

const attachmentPath = (a: Email["attachments"][number]) => ("path" in a ? a.path : "");

describe("report files and deliveries", () => {
  let fx: Fixture;
  let config: Config;
  let report: Report;
  const log = recordingLog();

  beforeAll(async () => {
    fx = new Fixture('[report]\nformats = ["html", "text", "json"]\n');
    config = loadConfig(fx.config, CONNECTORS);
    await runCycle(config, { log, signal: new AbortController().signal, email: false });
    fx.mutate();
    const r = await runCycle(config, { log, signal: new AbortController().signal, email: false });
    report = r.report!;
    expect(r.deliveries.map((d) => `${d.channel}:${d.status}`)).toEqual(["file:ok"]);
  });

  it("replaces a planted symlink instead of writing through it: the victim is untouched", () => {
    const victim = join(fx.dir, "victim.txt");
    writeFileSync(victim, "precious\n", { mode: 0o644 });
    const path = join(config.report.dir, reportFileName(report, "html"));
    const again = { ...report, run: { ...report.run, id: report.run.id + 100 } };
    const planted = join(config.report.dir, reportFileName(again, "html"));
    symlinkSync(victim, planted);
    writeReportFiles(config.report, again);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(statSync(victim).mode & 0o777).toBe(0o644);
    const st = lstatSync(planted);
    expect(st.isSymbolicLink()).toBe(false);
    expect(st.mode & 0o777).toBe(0o600);
    expect(readFileSync(planted, "utf8")).toMatch(/^<!doctype html>/);
    expect(existsSync(path)).toBe(true);
    // No temporary file is left behind.
    expect(readdirSync(config.report.dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("refuses a group- or world-writable report directory, naming it; the refusal is a recorded failed delivery", () => {
    const loose = join(fx.dir, "loose-reports");
    mkdirSync(loose);
    chmodSync(loose, 0o777);
    const db = openStore(config.store.path);
    try {
      const d = deliverFiles(db, { ...config, report: { ...config.report, dir: loose } }, report, { log });
      expect(d.status).toBe("failed");
      expect(d.error).toBe(`report directory ${loose} is group- or world-writable (mode 0777): anyone who can write there could plant a link that whohas would write through; run "chmod go-w ${loose}" or choose another directory`);
      expect(readdirSync(loose)).toEqual([]);
      expect(recentDeliveries(db, 1)[0]).toMatchObject({ channel: "file", status: "failed", error: d.error });
    } finally {
      db.close();
    }
  });

  it.runIf(isRoot)("refuses a report directory owned by another user", () => {
    const foreign = join(fx.dir, "foreign-reports");
    mkdirSync(foreign, { mode: 0o700 });
    chownSync(foreign, 4242, 4242);
    expect(() => writeReportFiles({ ...config.report, dir: foreign }, report)).toThrow(`report directory ${foreign} is owned by uid 4242, not by this user (uid 0)`);
  });

  it("creates a missing report directory 0700 whatever the umask", () => {
    const fresh = join(fx.dir, "new", "reports");
    const old = process.umask(0);
    try {
      writeReportFiles({ ...config.report, dir: fresh }, report);
    } finally {
      process.umask(old);
    }
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(fresh)) expect(statSync(join(fresh, name)).mode & 0o777).toBe(0o600);
  });

  it("applies the same rule to the store's directory", () => {
    const dir = join(fx.dir, "loose-store");
    mkdirSync(dir);
    chmodSync(dir, 0o775);
    expect(() => openStore(join(dir, "w.db"))).toThrow(`store directory ${dir} is group- or world-writable (mode 0775)`);
    expect(existsSync(join(dir, "w.db"))).toBe(false);
  });

  it("a report that cannot be rendered fails its file and email deliveries, recorded, without throwing or leaving empty files", async () => {
    const bad = unrenderable(report);
    const dir = join(fx.dir, "bad-reports");
    expect(() => writeReportFiles({ ...config.report, dir }, bad)).toThrow(/^report files of run \d+ not written: html: Invalid string length; text: Invalid string length; json: Invalid string length$/);
    expect(readdirSync(dir)).toEqual([]);
    const db = openStore(config.store.path);
    try {
      const email = { host: "127.0.0.1", port: 9, secure: false, starttls: true, from: "w@example.com", to: ["a@example.com"], subject: "whohas", send: "always", attach_csv: true, max_body_kb: 100, retries: 0, retry_delay_seconds: 1, timeout_seconds: 1 } as NonNullable<Config["email"]>;
      const d = await deliverEmail(db, { ...config, email }, { run: report.run.id, report: bad, force: true }, { log });
      expect(d).toMatchObject({ channel: "email", status: "failed", attempts: 0, detail: "the report could not be built", error: "Invalid string length" });
      expect(recentDeliveries(db, 1)[0]).toMatchObject({ channel: "email", status: "failed", error: "Invalid string length" });
    } finally {
      db.close();
    }
  });

  it("the body is a summary within max_body_kb; the full report is attached, gzip-compressed when larger than that", async () => {
    const tmpDir = join(fx.dir, "mail-tmp");
    mkdirSync(tmpDir, { mode: 0o700 });
    const small = await composeEmail({ subject: "whohas", attach_csv: true, max_body_kb: 100 }, report, { tmpDir });
    const big = await composeEmail({ subject: "whohas", attach_csv: true, max_body_kb: 3 }, report, { tmpDir });
    try {
      const html = `whohas-report-run-${report.run.id}.html`;
      const csv = `whohas-findings-run-${report.run.id}.csv`;
      expect(small.attachments.map((a) => `${a.filename} ${a.contentType}`)).toEqual([`${html} text/html; charset=utf-8`, `${csv} text/csv; charset=utf-8`]);
      expect(small.html).toMatch(/^<!doctype html>/);
      expect(small.text).toMatch(/^whohas report: run \d+ .*\nFindings: 6 high, 1 low, 1 info; 6 new\nHeadline: 1 orphaned account, 2 new admins, 3 MFA problems\n/);
      expect(small.text).toContain(`The full report is attached as ${html} (`);

      // A bound smaller than the report: compressed attachments, fewer findings listed, the body still within it.
      expect(big.attachments.map((a) => `${a.filename} ${a.contentType}`)).toEqual([`${html}.gz application/gzip`, `${csv} text/csv; charset=utf-8`]);
      expect(gunzipSync(readFileSync(attachmentPath(big.attachments[0]!))).toString("utf8")).toBe(readFileSync(attachmentPath(small.attachments[0]!), "utf8"));
      expect(big.text).toMatch(new RegExp(`The full report is attached as ${html.replace(/\./g, "\\.")}\\.gz \\(\\d+ KB, gzip-compressed \\d+ KB of HTML\\)\\.\\n`));
      expect(big.html).toContain(`attached as ${html}.gz`);
      expect(Buffer.byteLength(big.text) + Buffer.byteLength(big.html)).toBeLessThanOrEqual(3 * 1024);
      expect(big.text).toMatch(/…and \d+ more findings? in the attached report\./);
    } finally {
      small.dispose();
      big.dispose();
    }
    expect(readdirSync(tmpDir)).toEqual([]);
  });
});

describe("daemon --once with a 3 MB account name and the access-review report", () => {
  it("writes every report file whole, sends the email and exits 0 without a stack trace", async () => {
    const fx = new Fixture();
    const smtp = await startSmtp(fx.dir);
    try {
      fx.writeConfig(
        `[report]\ntype = "access-review"\nformats = ["text", "html", "md"]\n[email]\nhost = "127.0.0.1"\nport = ${smtp.port}\nuser = "${SMTP_USER}"\npassword = "env:WHOHAS_TEST_SMTP_PASSWORD"\nca = "${smtp.caFile}"\nfrom = "whohas@example.com"\nto = ["secops@example.com"]\nretries = 0\n`,
      );
      const today = new Date().toISOString().slice(0, 10);
      writeFileSync(fx.erp, `username,email,status,mfa,role,access_level,last_active,credential_id,credential_kind,credential_last_used\n${"m".repeat(3 * 1024 * 1024)},,active,enabled,admin,admin,${today},,,\n`);
      const r = await whohasAsync(["daemon", "--once", "--quiet", "--config", fx.config], { WHOHAS_TEST_SMTP_PASSWORD: SMTP_PASSWORD });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const dir = join(fx.dir, "store", "reports");
      const files = readdirSync(dir).sort();
      expect(files).toEqual(["run-1.findings.csv", "run-1.html", "run-1.md", "run-1.txt"]); // the companion holds every finding
      for (const name of files) {
        const size = statSync(join(dir, name)).size;
        expect(size, name).toBeGreaterThan(500);
        expect(size, name).toBeLessThan(256 * 1024);
      }
      expect(readFileSync(join(dir, "run-1.txt"), "utf8")).toMatch(/Access review inventory\n\nSOURCE +SCOPE +NAME +/);
      expect(smtp.mails).toHaveLength(1);
    } finally {
      await smtp.close();
    }
  });
});

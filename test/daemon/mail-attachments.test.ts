// The report email's attachments are rendered to files in a private temporary directory, not held as strings
// (issue #17: at a million principals the HTML is hundreds of megabytes). The files carry the same bytes the
// in-memory rendering did, are private while they exist, are reused by every retry, and are gone after the send
// however it ended: sent, refused after every retry, aborted, or the report failing to render.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig, type Config } from "../../src/config/load.js";
import { runCycle } from "../../src/daemon/cycle.js";
import { deliverEmail } from "../../src/daemon/deliver.js";
import { composeEmail, type Email } from "../../src/daemon/mail.js";
import { renderHtml } from "../../src/report/html.js";
import { renderCsv } from "../../src/report/render.js";
import type { Report } from "../../src/report/report.js";
import { openStore } from "../../src/store/db.js";
import { HOSTILE_NAME, reviewReport } from "../helpers/review-report.js";
import { Fixture, recordingLog, SMTP_PASSWORD, SMTP_USER, startSmtp, type SmtpServer } from "./helpers.js";

const attachmentPath = (a: Email["attachments"][number]): string => {
  if (!("path" in a)) throw new Error(`${a.filename} is not a file attachment`);
  return a.path;
};

const mode = (path: string) => statSync(path).mode & 0o777;

describe("report email attachments as private temporary files", () => {
  let fx: Fixture;
  let tmpDir: string;
  let review: Report;

  beforeAll(() => {
    fx = new Fixture();
    tmpDir = mkdtempSync(join(fx.dir, "tmp-"));
    // Enough principals that the review's HTML is well over a 4 KB bound.
    review = reviewReport({ filler: 50 });
  });

  it("the HTML and CSV files hold the bytes of the in-memory rendering; over the bound, the .gz is gzip of those bytes", async () => {
    const html = renderHtml(review);
    const csv = renderCsv(review);
    const plain = await composeEmail({ subject: "whohas", attach_csv: true, max_body_kb: 1024 }, review, { tmpDir });
    const zipped = await composeEmail({ subject: "whohas", attach_csv: true, max_body_kb: 4 }, review, { tmpDir });
    try {
      expect(plain.attachments.map((a) => a.filename)).toEqual([`whohas-report-run-${review.run.id}.html`, `whohas-findings-run-${review.run.id}.csv`]);
      expect(readFileSync(attachmentPath(plain.attachments[0]!), "utf8")).toBe(html);
      expect(readFileSync(attachmentPath(plain.attachments[1]!), "utf8")).toBe(csv);
      expect(plain.text).toContain(`attached as whohas-report-run-${review.run.id}.html (${Math.round(Buffer.byteLength(html) / 1024)} KB)`);

      expect(zipped.attachments.map((a) => `${a.filename} ${a.contentType}`)).toEqual([`whohas-report-run-${review.run.id}.html.gz application/gzip`, `whohas-findings-run-${review.run.id}.csv text/csv; charset=utf-8`]);
      const gz = readFileSync(attachmentPath(zipped.attachments[0]!));
      expect(gunzipSync(gz).toString("utf8")).toBe(html);
      // The stream's gzip is byte for byte gzipSync's, so the sizes the summary states are the ones it stated before.
      expect(gz.equals(gzipSync(html))).toBe(true);
      const kb = (n: number) => Math.max(1, Math.round(n / 1024)).toLocaleString("en-US");
      expect(zipped.text).toContain(`.html.gz (${kb(gz.length)} KB, gzip-compressed ${kb(Buffer.byteLength(html))} KB of HTML)`);
      // Only the files nodemailer is given remain: the plain HTML the .gz was made from is removed.
      expect(readdirSync(zipped.dir).sort()).toEqual([`whohas-findings-run-${review.run.id}.csv`, `whohas-report-run-${review.run.id}.html.gz`]);
    } finally {
      plain.dispose();
      zipped.dispose();
    }
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it("an access-review email carries the review, its names escaped; the directory is 0700 and its files 0600 while they exist", async () => {
    const email = await composeEmail({ subject: "whohas", attach_csv: true, max_body_kb: 1024 }, review, { tmpDir });
    try {
      expect(mode(email.dir)).toBe(0o700);
      expect(readdirSync(email.dir).map((f) => mode(join(email.dir, f)))).toEqual([0o600, 0o600]);
      const attached = readFileSync(attachmentPath(email.attachments[0]!), "utf8");
      expect(attached).toContain(`whohas access review: run ${review.run.id}`);
      expect(attached).toContain("OrganizationAccountAccessRole");
      expect(attached).toContain("Reviewer");
      expect(attached).not.toContain(HOSTILE_NAME);
      expect(attached).not.toContain("<img src=x");
    } finally {
      email.dispose();
    }
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it("a report that fails to render leaves nothing behind", async () => {
    const bad: Report = {
      ...review,
      eachPrincipal: () => {
        throw new RangeError("Invalid string length");
      },
    };
    await expect(composeEmail({ subject: "whohas", attach_csv: true, max_body_kb: 4 }, bad, { tmpDir })).rejects.toThrow("Invalid string length");
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it("a composition aborted while it runs (the daemon stopping) leaves nothing behind", async () => {
    const controller = new AbortController();
    // Aborted while the HTML is being written: the gzip that follows is where the signal is heard.
    const stopping: Report = {
      ...review,
      eachPrincipal: () => {
        controller.abort();
        return review.eachPrincipal!();
      },
    };
    await expect(composeEmail({ subject: "whohas", attach_csv: true, max_body_kb: 4 }, stopping, { tmpDir, signal: controller.signal })).rejects.toThrow(/abort/i);
    expect(readdirSync(tmpDir)).toEqual([]);
  });
});

describe("deliverEmail removes the attachment files however the send ends", () => {
  let fx: Fixture;
  let smtp: SmtpServer;
  let config: Config;
  let tmpDir: string;
  const log = recordingLog();
  const env = { ...process.env, WHOHAS_TEST_SMTP_PASSWORD: SMTP_PASSWORD };
  const savedTmp = process.env.TMPDIR;

  beforeAll(async () => {
    fx = new Fixture();
    smtp = await startSmtp(fx.dir);
    fx.writeConfig(
      `[report]\ntype = "access-review"\n[email]\nhost = "127.0.0.1"\nport = ${smtp.port}\nuser = "${SMTP_USER}"\npassword = "env:WHOHAS_TEST_SMTP_PASSWORD"\nca = "${smtp.caFile}"\nfrom = "whohas@example.com"\nto = ["secops@example.com"]\nmax_body_kb = 10\nretries = 2\nretry_delay_seconds = 1\n`,
    );
    config = loadConfig(fx.config, CONNECTORS);
    await runCycle(config, { log, env, signal: new AbortController().signal, email: false });
    // What an operator would set: the email's temporary directory goes under TMPDIR (os.tmpdir()).
    tmpDir = join(fx.dir, "tmp");
    mkdirSync(tmpDir, { mode: 0o700 });
    process.env.TMPDIR = tmpDir;
  });
  afterAll(async () => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    await smtp?.close();
  });

  /** Each wait between attempts looks at the attachment files as they are then. */
  function watchingSleep(onWait?: () => void) {
    const seen: { name: string; ino: number; mtimeMs: number; mode: number; dirMode: number }[][] = [];
    const sleep = async () => {
      const [dir, ...others] = readdirSync(tmpDir);
      expect(others).toEqual([]);
      const full = join(tmpDir, dir!);
      seen.push(readdirSync(full).sort().map((name) => ({ name, ino: statSync(join(full, name)).ino, mtimeMs: statSync(join(full, name)).mtimeMs, mode: mode(join(full, name)), dirMode: mode(full) })));
      onWait?.();
    };
    return { seen, sleep };
  }

  const deliver = (opts: { sleep: () => Promise<void>; signal?: AbortSignal }) => {
    const db = openStore(config.store.path);
    return deliverEmail(db, config, { force: true }, { log, env, ...opts }).finally(() => db.close());
  };

  it("sent at once: the review arrives gzip-compressed and the files are gone", async () => {
    const before = smtp.mails.length;
    const d = await deliver({ sleep: async () => {} });
    expect(d).toMatchObject({ status: "ok", attempts: 1 });
    const mail = smtp.mails[before]!.parsed;
    expect(mail.attachments.map((a) => `${a.filename} ${a.contentType}`)).toEqual([`whohas-report-run-1.html.gz application/gzip`, `whohas-findings-run-1.csv text/csv`]);
    const html = gunzipSync(mail.attachments[0]!.content).toString("utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("whohas access review: run 1");
    expect(html).toContain("carol@example.com");
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it("retried: every attempt sends the same files, not a new rendering; gone after the send", async () => {
    const before = smtp.mails.length;
    smtp.failNext(2);
    const watch = watchingSleep();
    const d = await deliver({ sleep: watch.sleep });
    expect(d).toMatchObject({ status: "ok", attempts: 3 });
    expect(watch.seen).toHaveLength(2);
    expect(watch.seen[0]!.map((f) => f.name)).toEqual(["whohas-findings-run-1.csv", "whohas-report-run-1.html.gz"]);
    expect(watch.seen[1]).toEqual(watch.seen[0]);
    expect(watch.seen[0]!.every((f) => f.mode === 0o600 && f.dirMode === 0o700)).toBe(true);
    expect(smtp.mails[before]!.parsed.attachments.map((a) => a.filename)).toEqual(["whohas-report-run-1.html.gz", "whohas-findings-run-1.csv"]);
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it("refused on every attempt: failed, recorded, and the files are gone", async () => {
    const before = smtp.mails.length;
    smtp.failNext(3);
    const watch = watchingSleep();
    const d = await deliver({ sleep: watch.sleep });
    expect(d).toMatchObject({ status: "failed", attempts: 3 });
    expect(d.error).toMatch(/451/);
    expect(watch.seen).toHaveLength(2);
    expect(smtp.mails).toHaveLength(before);
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it("aborted between attempts (the daemon stopping): the files are gone", async () => {
    smtp.failNext(3);
    const controller = new AbortController();
    const watch = watchingSleep(() => controller.abort());
    const sleep = async () => {
      await watch.sleep();
      throw new Error("aborted");
    };
    const d = await deliver({ sleep, signal: controller.signal });
    expect(d).toMatchObject({ status: "failed", attempts: 1 });
    expect(watch.seen).toHaveLength(1);
    expect(readdirSync(tmpDir)).toEqual([]);
    smtp.failNext(0);
  });
});

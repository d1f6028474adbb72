// The report as an email: subject with the most severe counts first, a summary body in text and HTML that fits
// any mail client, the full HTML report attached (self-contained: inline CSS and SVG, no remote images) and
// the findings as CSV. Sent over SMTP with
// nodemailer, TLS required unless configured otherwise, retried with backoff.
import { chmodSync, constants, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import nodemailer, { type NodemailerError } from "nodemailer";
import type { Logger } from "../connector.js";
import type { EmailSettings } from "../config/schema.js";
import { resolveSecret } from "../secrets.js";
import { Redactor } from "../redact.js";
import { ensurePrivateDir } from "../private-files.js";
import { writeHtml } from "../report/html.js";
import { atomicFileSink, writeAtomic, writeChunksAtomic } from "../report/output.js";
import { csvChunks } from "../report/render.js";
import { findingTotal, headline, type Report } from "../report/report.js";
import { DEFAULT_TOP_FINDINGS } from "../config/schema.js";
import { severityCounts, summarize, type AttachedReport } from "./mail-summary.js";
import { headerLine } from "../safe-text.js";
import { DeliveryError, PermanentError, withRetry } from "./retry.js";

export interface Email {
  subject: string;
  text: string;
  html: string;
  /** Added to AUTOMATED_HEADERS, which every email whohas sends carries. */
  headers?: Record<string, string>;
  /** `path`: a file nodemailer streams from, read again on each attempt (the report attachments). */
  attachments: ({ filename: string; contentType: string } & ({ content: string | Buffer } | { path: string }))[];
}

/** A report email whose attachments are files in a private temporary directory: `dispose` removes them, and must follow the last send. */
export interface ComposedEmail extends Email {
  /** The private directory the attachments are in (0700, files 0600). */
  readonly dir: string;
  dispose(): void;
}

/**
 * Every email whohas sends (reports, alerts, notices) is machine mail: RFC 3834's Auto-Submitted keeps vacation responders and ticket systems from
 * answering it, and X-Auto-Response-Suppress asks Exchange for the same.
 */
export const AUTOMATED_HEADERS: Readonly<Record<string, string>> = { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All" };

/**
 * "whohas · acme: 2 critical, 5 high — 1 orphaned account, 2 new admins · run 42": the most severe counts first,
 * then the headline. Only counts and whohas's own words: no provider name ever reaches a header. The configured
 * prefix is one line by the schema; controls are dropped here too so no caller can fold a header.
 */
export function emailSubject(settings: Pick<EmailSettings, "subject">, report: Report): string {
  const failed = report.coverage.filter((c) => c.status === "failed").length;
  const quarantined = report.coverage.reduce((n, c) => n + c.quarantined, 0);
  const why = [failed > 0 ? `${failed} scope${failed === 1 ? "" : "s"} failed` : "", quarantined > 0 ? `${quarantined} record${quarantined === 1 ? "" : "s"} quarantined` : ""].filter(Boolean).join(", ");
  const status = report.run.status === "ok" ? "" : `collect ${report.run.status}${why ? ` (${why})` : ""}; `;
  const severities = severityCounts(report);
  const words = headline(report);
  // The headline names only some rules: "2 low — no findings" would contradict itself.
  const counts = !severities ? words : findingTotal(report) > 0 && words !== "no findings" ? `${severities} — ${words}` : severities;
  return headerLine(`${settings.subject}: ${status}${counts} · run ${report.run.id}`);
}

/** A file over this is attached gzip-compressed: a report compresses about tenfold, and relays cap message size. */
const attachmentLimit = (settings: Pick<EmailSettings, "max_body_kb">) => settings.max_body_kb * 1024;

type Attached = { attachment: Email["attachments"][number]; info: AttachedReport };

/**
 * The attachment rendered to a file in `dir` a chunk at a time by `fill` (the renderer the report files use), its
 * bytes counted as they are written; over `limit`, gzipped by stream into `<filename>.gz` and the plain file removed.
 * A report at a million principals is hundreds of megabytes of HTML: it never exists as one string or buffer.
 */
async function attach(dir: string, filename: string, fill: (path: string) => number, contentType: string, limit: number, signal?: AbortSignal): Promise<Attached> {
  const path = join(dir, filename);
  const bytes = fill(path);
  if (bytes <= limit) return { attachment: { filename, path, contentType }, info: { filename, bytes } };
  const gzName = `${filename}.gz`;
  const gzPath = join(dir, gzName);
  // Created like every other private file (O_EXCL, O_NOFOLLOW, 0600) and written as the gzip stream produces it.
  const file = atomicFileSink(gzPath);
  let zipped = 0;
  try {
    await pipeline(
      createReadStream(path, { fd: openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW) }),
      createGzip(),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          file.write(chunk);
          zipped += chunk.length;
        }
      },
      { signal },
    );
  } catch (err) {
    file.abort();
    throw err;
  }
  file.commit();
  unlinkSync(path);
  return { attachment: { filename: gzName, path: gzPath, contentType: "application/gzip" }, info: { filename: gzName, bytes: zipped, uncompressedBytes: bytes } };
}

/** A directory of our own under the system's temporary directory (TMPDIR; the unit's PrivateTmp under systemd). */
function privateTempDir(parent: string): string {
  const dir = mkdtempSync(join(parent, "whohas-mail-"));
  // mkdtemp creates it 0700 less the umask, and a new random name cannot be a link someone planted; exactly 0700.
  chmodSync(dir, 0o700);
  ensurePrivateDir(dir, "mail attachment directory");
  return dir;
}

export interface ComposeOptions {
  /** Aborts the gzip of a large attachment; the temporary files are removed. */
  signal?: AbortSignal;
  /** Where the private temporary directory is made; default the system's (os.tmpdir()). */
  tmpDir?: string;
}

/**
 * Always a summary body (headline counts, the top findings, what changed, coverage, accepted risks) that stays
 * within `max_body_kb` whatever the tenant's size, with the full HTML report attached (gzip-compressed when it
 * is larger than that bound) and the findings as CSV. Should the summary itself not fit (a tiny bound and many
 * long lines), fewer findings are listed until it does. The attachments are rendered to files in a private
 * temporary directory, which the caller removes with `dispose()` once the email is sent or given up on (a
 * failure here removes it before throwing). Call it while the report's store is open.
 */
export async function composeEmail(
  settings: Pick<EmailSettings, "subject" | "attach_csv" | "max_body_kb"> & Partial<Pick<EmailSettings, "top_findings">>,
  report: Report,
  opts: ComposeOptions = {},
): Promise<ComposedEmail> {
  opts.signal?.throwIfAborted();
  const subject = emailSubject(settings, report);
  const limit = attachmentLimit(settings);
  const dir = privateTempDir(opts.tmpDir ?? tmpdir());
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    const attachments: Email["attachments"] = [];
    // The same renderers as the report files; no companion CSV is named: the findings CSV is attached beside it.
    const full = await attach(dir, `whohas-report-run-${report.run.id}.html`, (path) => writeAtomic(path, (write) => writeHtml(write, report)), "text/html; charset=utf-8", limit, opts.signal);
    attachments.push(full.attachment);
    let csv: AttachedReport | undefined;
    if (settings.attach_csv) {
      const a = await attach(dir, `whohas-findings-run-${report.run.id}.csv`, (path) => writeChunksAtomic(path, csvChunks(report)), "text/csv; charset=utf-8", limit, opts.signal);
      attachments.push(a.attachment);
      csv = a.info;
    }
    let top = settings.top_findings ?? DEFAULT_TOP_FINDINGS;
    for (;;) {
      const body = summarize(report, { topFindings: top, attached: full.info, csv });
      if (top === 0 || Buffer.byteLength(body.text) + Buffer.byteLength(body.html) <= limit) {
        return { subject, text: body.text, html: body.html, attachments, dir, dispose };
      }
      top = Math.floor(top / 2);
    }
  } catch (err) {
    dispose();
    throw err;
  }
}

/** For send = "changes": anything a reader of yesterday's email does not know yet. */
export function somethingChanged(report: Report): boolean {
  const changes = report.counts.changes;
  const changed = changes !== null && Object.values(changes).some((n) => n > 0);
  // The first report has nothing to compare with: all of it is news.
  return report.previousRun === null || changed || report.counts.newFindings > 0 || report.run.status !== "ok" || report.coverage.some((c) => c.status === "failed");
}

export interface SendOptions {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  log: Logger;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface Sent {
  messageId: string;
  accepted: string[];
  attempts: number;
}

/** Errors another attempt cannot fix: a refused login, a refused recipient, a certificate we do not trust. */
function isPermanent(err: NodemailerError): boolean {
  return err.permanent === true || ["EAUTH", "ENOAUTH", "ETLS", "ECONFIG", "EENVELOPE", "EMAXRECIPIENTS"].includes(err.code ?? "");
}

export async function sendEmail(settings: EmailSettings, email: Email, opts: SendOptions): Promise<Sent> {
  const redactor = new Redactor();
  let pass: string | undefined;
  if (settings.password) {
    pass = await resolveSecret(settings.password, "email.password", opts.env);
    redactor.add(pass);
  }
  let ca: Buffer | undefined;
  if (settings.ca) {
    try {
      ca = readFileSync(settings.ca);
    } catch (err) {
      throw new DeliveryError(`email.ca: cannot read ${settings.ca} (${(err as NodeJS.ErrnoException).code ?? "error"})`, 0);
    }
  }
  const timeout = Math.round(settings.timeout_seconds * 1000);
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port ?? (settings.secure ? 465 : 587),
    secure: settings.secure,
    requireTLS: !settings.secure && settings.starttls,
    ignoreTLS: !settings.secure && !settings.starttls,
    ...(settings.user ? { auth: { user: settings.user, pass } } : {}),
    tls: { minVersion: "TLSv1.2", ...(ca ? { ca } : {}) },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    logger: false,
  });
  try {
    const { value, attempts } = await withRetry(
      async () => {
        try {
          const { subject, text, html, attachments } = email;
          // The same attachments every attempt: a file attachment is opened and streamed again, never re-rendered.
          return await transport.sendMail({ from: settings.from, to: settings.to, subject, text, html, attachments, headers: { ...AUTOMATED_HEADERS, ...email.headers }, signal: opts.signal });
        } catch (err) {
          const e = err as NodemailerError;
          const message = redactor.redact(`${e.code ? `${e.code}: ` : ""}${e.message}`);
          throw isPermanent(e) ? new PermanentError(message) : new Error(message);
        }
      },
      {
        retries: settings.retries,
        baseDelayMs: settings.retry_delay_seconds * 1000,
        signal: opts.signal,
        sleep: opts.sleep,
        onRetry: (err, attempt, delayMs) => opts.log.warn({ channel: "email", attempt, retryInMs: delayMs, error: err.message }, "email failed; retrying"),
      },
    );
    return { messageId: value.messageId, accepted: value.accepted.map(String), attempts };
  } finally {
    transport.close();
  }
}

// The report as an email: subject with the most severe counts first, a summary body in text and HTML that fits
// any mail client, the full HTML report attached (self-contained: inline CSS and SVG, no remote images) and
// the findings as CSV. Sent over SMTP with
// nodemailer, TLS required unless configured otherwise, retried with backoff.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import nodemailer, { type NodemailerError } from "nodemailer";
import type { Logger } from "../connector.js";
import type { EmailSettings } from "../config/schema.js";
import { resolveSecret } from "../secrets.js";
import { Redactor } from "../redact.js";
import { renderHtml } from "../report/html.js";
import { renderCsv } from "../report/render.js";
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
  attachments: { filename: string; content: string | Buffer; contentType: string }[];
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

function attach(filename: string, content: string, contentType: string, limit: number): { attachment: Email["attachments"][number]; info: AttachedReport } {
  const bytes = Buffer.byteLength(content);
  if (bytes <= limit) return { attachment: { filename, content, contentType }, info: { filename, bytes } };
  const zipped = gzipSync(content);
  return { attachment: { filename: `${filename}.gz`, content: zipped, contentType: "application/gzip" }, info: { filename: `${filename}.gz`, bytes: zipped.length, uncompressedBytes: bytes } };
}

/**
 * Always a summary body (headline counts, the top findings, what changed, coverage, accepted risks) that stays
 * within `max_body_kb` whatever the tenant's size, with the full HTML report attached (gzip-compressed when it
 * is larger than that bound) and the findings as CSV. Should the summary itself not fit (a tiny bound and many
 * long lines), fewer findings are listed until it does.
 */
export function composeEmail(settings: Pick<EmailSettings, "subject" | "attach_csv" | "max_body_kb"> & Partial<Pick<EmailSettings, "top_findings">>, report: Report): Email {
  const subject = emailSubject(settings, report);
  const limit = attachmentLimit(settings);
  const attachments: Email["attachments"] = [];
  const full = attach(`whohas-report-run-${report.run.id}.html`, renderHtml(report), "text/html; charset=utf-8", limit);
  attachments.push(full.attachment);
  let csv: AttachedReport | undefined;
  if (settings.attach_csv) {
    const a = attach(`whohas-findings-run-${report.run.id}.csv`, renderCsv(report), "text/csv; charset=utf-8", limit);
    attachments.push(a.attachment);
    csv = a.info;
  }
  let top = settings.top_findings ?? DEFAULT_TOP_FINDINGS;
  for (;;) {
    const body = summarize(report, { topFindings: top, attached: full.info, csv });
    if (top === 0 || Buffer.byteLength(body.text) + Buffer.byteLength(body.html) <= limit) {
      return { subject, text: body.text, html: body.html, attachments };
    }
    top = Math.floor(top / 2);
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
          return await transport.sendMail({ from: settings.from, to: settings.to, ...email, headers: { ...AUTOMATED_HEADERS, ...email.headers }, signal: opts.signal });
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

// The report as an email: subject with the headline counts, text and HTML parts (the HTML report is
// self-contained: inline CSS and SVG, no remote images), findings as a CSV attachment. Sent over SMTP with
// nodemailer, TLS required unless configured otherwise, retried with backoff.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import nodemailer, { type NodemailerError } from "nodemailer";
import type { Logger } from "../connector.js";
import type { EmailSettings } from "../config/schema.js";
import { resolveSecret } from "../secrets.js";
import { Redactor } from "../redact.js";
import { SEVERITIES } from "../vocabulary.js";
import { escapeHtml, renderHtml } from "../report/html.js";
import { renderCsv, renderText } from "../report/render.js";
import { headline, type Report } from "../report/report.js";
import { DeliveryError, PermanentError, withRetry } from "./retry.js";

export interface Email {
  subject: string;
  text: string;
  html: string;
  attachments: { filename: string; content: string | Buffer; contentType: string }[];
}

export function emailSubject(settings: Pick<EmailSettings, "subject">, report: Report): string {
  const failed = report.coverage.filter((c) => c.status === "failed").length;
  const quarantined = report.coverage.reduce((n, c) => n + c.quarantined, 0);
  const why = [failed > 0 ? `${failed} scope${failed === 1 ? "" : "s"} failed` : "", quarantined > 0 ? `${quarantined} record${quarantined === 1 ? "" : "s"} quarantined` : ""].filter(Boolean).join(", ");
  const status = report.run.status === "ok" ? "" : `collect ${report.run.status}${why ? ` (${why})` : ""}; `;
  return `${settings.subject}: ${status}${headline(report)}`;
}

const kb = (bytes: number) => Math.max(1, Math.round(bytes / 1024));

/**
 * Text and HTML parts with the report, the findings as CSV. A report larger than `max_body_kb` (an access
 * review of a big tenant, or one enormous field) would be refused or clipped by mail systems: it goes as a
 * gzip-compressed HTML attachment instead, under a summary that says so; a CSV over the bound is compressed too.
 */
export function composeEmail(settings: Pick<EmailSettings, "subject" | "attach_csv" | "max_body_kb">, report: Report): Email {
  const subject = emailSubject(settings, report);
  const limit = settings.max_body_kb * 1024;
  const attachments: Email["attachments"] = [];
  if (settings.attach_csv) {
    const filename = `whohas-findings-run-${report.run.id}.csv`;
    const csv = renderCsv(report);
    attachments.push(
      Buffer.byteLength(csv) > limit
        ? { filename: `${filename}.gz`, content: gzipSync(csv), contentType: "application/gzip" }
        : { filename, content: csv, contentType: "text/csv; charset=utf-8" },
    );
  }
  const text = renderText(report, false);
  const html = renderHtml(report);
  const size = Buffer.byteLength(text) + Buffer.byteLength(html);
  if (size <= limit) return { subject, text, html, attachments };
  const filename = `whohas-report-run-${report.run.id}.html.gz`;
  const zipped = gzipSync(html);
  attachments.unshift({ filename, content: zipped, contentType: "application/gzip" });
  const note = `The full report (${kb(size)} KB) is larger than this email may be (${settings.max_body_kb} KB, email.max_body_kb): it is attached as ${filename} (${kb(zipped.length)} KB, gzip-compressed HTML).`;
  const summary = [
    `whohas report: run ${report.run.id} (${report.run.startedAt}, ${report.run.status})${report.previousRun ? ` compared with run ${report.previousRun.id}` : ""}`,
    `Headline: ${headline(report)}`,
    `Findings: ${SEVERITIES.map((s) => `${report.counts.findings[s]} ${s}`).join(", ")}; ${report.counts.newFindings} new; ${report.counts.suppressed} suppressed`,
  ];
  return {
    subject,
    text: [...summary, "", note, ""].join("\n"),
    html: `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>whohas report: run ${report.run.id}</title></head><body>${summary.map((l) => `<p>${escapeHtml(l)}</p>`).join("")}<p><b>${escapeHtml(note)}</b></p></body></html>\n`,
    attachments,
  };
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
          return await transport.sendMail({ from: settings.from, to: settings.to, ...email, signal: opts.signal });
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

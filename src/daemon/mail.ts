// The report as an email: subject with the headline counts, text and HTML parts (the HTML report is
// self-contained: inline CSS and SVG, no remote images), findings as a CSV attachment. Sent over SMTP with
// nodemailer, TLS required unless configured otherwise, retried with backoff.
import { readFileSync } from "node:fs";
import nodemailer, { type NodemailerError } from "nodemailer";
import type { Logger } from "../connector.js";
import type { EmailSettings } from "../config/schema.js";
import { resolveSecret } from "../secrets.js";
import { Redactor } from "../redact.js";
import { renderHtml } from "../report/html.js";
import { renderCsv, renderText } from "../report/render.js";
import { headline, type Report } from "../report/report.js";
import { DeliveryError, PermanentError, withRetry } from "./retry.js";

export interface Email {
  subject: string;
  text: string;
  html: string;
  attachments: { filename: string; content: string; contentType: string }[];
}

export function emailSubject(settings: Pick<EmailSettings, "subject">, report: Report): string {
  const failed = report.coverage.filter((c) => c.status === "failed").length;
  const status = report.run.status === "ok" ? "" : `collect ${report.run.status}${failed > 0 ? ` (${failed} scope${failed === 1 ? "" : "s"} failed)` : ""}; `;
  return `${settings.subject}: ${status}${headline(report)}`;
}

export function composeEmail(settings: Pick<EmailSettings, "subject" | "attach_csv">, report: Report): Email {
  return {
    subject: emailSubject(settings, report),
    text: renderText(report, false),
    html: renderHtml(report),
    attachments: settings.attach_csv ? [{ filename: `whohas-findings-run-${report.run.id}.csv`, content: renderCsv(report), contentType: "text/csv; charset=utf-8" }] : [],
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

// Real-time alerts: after each run, the run's *new* findings of the chosen rules at or above a severity go
// to a webhook, as Slack-compatible {"text"} or the whohas.alert/v1 document, signed with HMAC-SHA256.
// A state finding (an orphaned account) alerts once, when it appears, not on every run after.
import { createHmac } from "node:crypto";
import type { Logger } from "../connector.js";
import type { AlertSettings } from "../config/schema.js";
import { resolveSecret } from "../secrets.js";
import type { Finding } from "../rules/evaluate.js";
import { SEVERITIES } from "../vocabulary.js";
import { RETRYABLE_STATUS } from "../http-policy.js";
import { Redactor } from "../redact.js";
import { headline, type Report } from "../report/report.js";
import { slackText } from "../safe-text.js";
import { PermanentError, withRetry } from "./retry.js";

export const SIGNATURE_HEADER = "x-whohas-signature";
export const TIMESTAMP_HEADER = "x-whohas-timestamp";

export function alertFindings(alert: Pick<AlertSettings, "min_severity" | "rules">, report: Report): Finding[] {
  const limit = SEVERITIES.indexOf(alert.min_severity);
  // From the store, not report.findings (which may hold only the top of each rule): every new one alerts.
  const out: Finding[] = [];
  for (const f of report.eachFinding()) if (f.new && (alert.rules as readonly string[]).includes(f.rule) && SEVERITIES.indexOf(f.severity) <= limit) out.push(f);
  return out;
}

const SLACK_LINES = 20;

export function alertBody(alert: Pick<AlertSettings, "format">, report: Report, findings: Finding[]): string {
  if (alert.format === "slack") {
    const lines = findings.slice(0, SLACK_LINES).map((f) => `• *${f.severity}* ${slackText(f.rule)}: ${slackText(f.subject)}: ${slackText(f.detail)}`);
    if (findings.length > SLACK_LINES) lines.push(`…and ${findings.length - SLACK_LINES} more (see the report of run ${report.run.id})`);
    const title = `whohas: ${findings.length} new finding${findings.length === 1 ? "" : "s"} in run ${report.run.id} (${slackText(headline(report))})`;
    return JSON.stringify({ text: [title, ...lines].join("\n") });
  }
  return JSON.stringify({
    schema: "whohas.alert/v1",
    run: report.run,
    previousRun: report.previousRun,
    headline: headline(report),
    findings: findings.map((f) => ({ id: f.id, rule: f.rule, severity: f.severity, title: f.title, source: f.source, scope: f.scope, subject: f.subject, detail: f.detail, controls: f.controls })),
  });
}

/** Hex HMAC-SHA256 of "<timestamp>.<body>": the timestamp is signed too, so a captured alert cannot be replayed later as new. */
export function signature(secret: string, timestamp: string, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

export interface PostOptions {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  log: Logger;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export async function postAlert(alert: AlertSettings, body: string, opts: PostOptions): Promise<{ attempts: number; status: number }> {
  const redactor = new Redactor();
  // Slack's webhook URL is its credential: it may be a secret reference and never appears in errors.
  const url = /^(env:|file:)/.test(alert.url) ? await resolveSecret(alert.url, `alerts.${alert.name}.url`, opts.env) : alert.url;
  redactor.add(url);
  const key = alert.secret ? await resolveSecret(alert.secret, `alerts.${alert.name}.secret`, opts.env) : undefined;
  if (key) redactor.add(key);
  const { value, attempts } = await withRetry(
    async () => {
      const timestamp = String(Math.floor((opts.now ?? Date.now)() / 1000));
      const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "whohas", [TIMESTAMP_HEADER]: timestamp };
      if (key) headers[SIGNATURE_HEADER] = `sha256=${signature(key, timestamp, body)}`;
      const signals = [AbortSignal.timeout(alert.timeout_seconds * 1000), ...(opts.signal ? [opts.signal] : [])];
      let res: Response;
      try {
        res = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.any(signals), redirect: "error" });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(redactor.redact(`${(err as Error).name === "TimeoutError" ? "timed out" : (err as Error).message}${cause?.code ? ` (${cause.code})` : ""}`));
      }
      // The body is not read into errors: a receiver may echo the request.
      await res.body?.cancel();
      if (res.ok) return res.status;
      const message = `HTTP ${res.status}`;
      throw RETRYABLE_STATUS.has(res.status) ? new Error(message) : new PermanentError(message);
    },
    {
      retries: alert.retries,
      baseDelayMs: alert.retry_delay_seconds * 1000,
      signal: opts.signal,
      sleep: opts.sleep,
      onRetry: (err, attempt, delayMs) => opts.log.warn({ channel: "webhook", alert: alert.name, attempt, retryInMs: delayMs, error: err.message }, "alert failed; retrying"),
    },
  );
  return { attempts, status: value };
}

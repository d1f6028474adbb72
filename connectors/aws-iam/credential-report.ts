// Getting an IAM credential report without asking AWS to rebuild it more often than it will: reuse
// a report younger than the configured age, otherwise generate and poll until it is COMPLETE.
import { GenerateCredentialReportCommand, GetCredentialReportCommand, type IAMClient } from "@aws-sdk/client-iam";
import { backoffDelay, sleep } from "../../src/http-policy.js";
import { awsErrorCode, describeAwsError } from "./client.js";

export interface ReportFetchOptions {
  /** A report at most this old is used as is (AWS rebuilds at most every 4 hours anyway). */
  maxAgeMs: number;
  /** How long to wait for a generation to complete before giving up. */
  waitMs: number;
  pollBaseMs: number;
  pollMaxMs: number;
  signal?: AbortSignal;
  now?: () => number;
}

export interface FetchedReport {
  csv: string;
  generatedAt: string;
  /** We asked AWS to generate it in this run. */
  generatedNow: boolean;
  /** Older than maxAge, used because a fresh one could not be had (LimitExceeded / timeout). */
  stale: boolean;
  /** GenerateCredentialReport calls made (the first included). */
  generateCalls: number;
}

export class CredentialReportError extends Error {
  override name = "CredentialReportError";
}

const NOT_PRESENT = new Set(["ReportNotPresent", "CredentialReportNotPresentException", "ReportExpired", "CredentialReportExpiredException"]);
const IN_PROGRESS = new Set(["ReportInProgress", "CredentialReportNotReadyException"]);
const LIMITED = new Set(["LimitExceeded", "LimitExceededException", "ReportGenerationLimitExceeded", "ReportGenerationLimitExceededException"]);

async function getReport(iam: IAMClient, signal?: AbortSignal): Promise<{ csv: string; generatedAt: string }> {
  const out = await iam.send(new GetCredentialReportCommand({}), { abortSignal: signal });
  if (!out.Content) throw new CredentialReportError("GetCredentialReport returned no Content");
  if (out.ReportFormat && out.ReportFormat !== "text/csv") throw new CredentialReportError(`unexpected credential report format ${out.ReportFormat}`);
  // The SDK has already base64-decoded the blob.
  const csv = Buffer.from(out.Content).toString("utf8");
  return { csv, generatedAt: (out.GeneratedTime ?? new Date(0)).toISOString() };
}

export async function fetchCredentialReport(iam: IAMClient, opts: ReportFetchOptions): Promise<FetchedReport> {
  const now = opts.now ?? Date.now;
  let existing: { csv: string; generatedAt: string } | undefined;
  try {
    existing = await getReport(iam, opts.signal);
    if (now() - Date.parse(existing.generatedAt) <= opts.maxAgeMs) return { ...existing, generatedNow: false, stale: false, generateCalls: 0 };
  } catch (err) {
    const code = awsErrorCode(err);
    if (!code || (!NOT_PRESENT.has(code) && !IN_PROGRESS.has(code))) throw new CredentialReportError(`iam:GetCredentialReport failed: ${describeAwsError(err)}`);
  }

  const deadline = now() + opts.waitMs;
  let calls = 0;
  let lastState = "unknown";
  for (let attempt = 1; ; attempt++) {
    let state: string;
    try {
      calls++;
      const out = await iam.send(new GenerateCredentialReportCommand({}), { abortSignal: opts.signal });
      state = out.State ?? "unknown";
    } catch (err) {
      const code = awsErrorCode(err);
      if (code && LIMITED.has(code) && existing) return { ...existing, generatedNow: false, stale: true, generateCalls: calls };
      throw new CredentialReportError(`iam:GenerateCredentialReport failed: ${describeAwsError(err)}`);
    }
    lastState = state;
    if (state === "COMPLETE") {
      try {
        const report = await getReport(iam, opts.signal);
        return { ...report, generatedNow: true, stale: false, generateCalls: calls };
      } catch (err) {
        // COMPLETE can race with a GetCredentialReport that still sees the build: keep polling.
        if (!IN_PROGRESS.has(awsErrorCode(err) ?? "")) throw new CredentialReportError(`iam:GetCredentialReport failed: ${describeAwsError(err)}`);
      }
    }
    const remaining = deadline - now();
    if (remaining <= 0) {
      if (existing) return { ...existing, generatedNow: false, stale: true, generateCalls: calls };
      throw new CredentialReportError(`credential report still ${lastState} after ${Math.round(opts.waitMs / 1000)} s (${calls} GenerateCredentialReport calls)`);
    }
    const delay = backoffDelay(attempt, { maxAttempts: Infinity, baseDelayMs: opts.pollBaseMs, maxDelayMs: opts.pollMaxMs, timeoutMs: 0 });
    await sleep(Math.min(delay, remaining), opts.signal);
  }
}

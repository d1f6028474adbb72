// SDK wiring: the AWS clients with adaptive retry, per-attempt request counting, endpoints for
// VPC endpoints / sovereign partitions / the simulator, and the credential chain with role hops.
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { IAMClient, type IAMClientConfig } from "@aws-sdk/client-iam";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { isRedirect, originOf, RedirectRefusedError } from "../../src/http-policy.js";
import type { RequestRateLimiter } from "./request-rate.js";

// The SDK warns once per process on Node < 22 that future releases will need a newer Node; a CLI
// should not print that at every user. An explicit setting by the user wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export type Credentials = NonNullable<IAMClientConfig["credentials"]>;
export interface CredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type CredentialProvider = () => Promise<CredentialIdentity>;
type RetryStrategy = NonNullable<IAMClientConfig["retryStrategy"]>;

export interface SdkTuning {
  /**
   * A retry strategy instance per client in place of the SDK's default adaptive one. Tests pass an
   * AdaptiveRetryStrategy with millisecond backoff; production leaves it unset.
   */
  retryStrategy?: (maxAttempts: number) => RetryStrategy;
}

export interface ClientSettings {
  region: string;
  endpoints: { iam?: string; sts?: string; organizations?: string; cloudtrail?: string };
  maxAttempts: number;
  requestTimeoutMs: number;
  tuning?: SdkTuning;
  /**
   * Given each client's destroy() as it is created: the connector hands it to the engine (ctx.defer), so the
   * keep-alive sockets of every client die with the collect that made them.
   */
  release?: (destroy: () => void) => void;
}

/** Called once per HTTP attempt (retries included), so the counts match what AWS sees. */
export type RequestCounter = () => void;

function commonConfig(settings: ClientSettings, credentials: Credentials | CredentialProvider) {
  return {
    region: settings.region,
    credentials: credentials as Credentials,
    maxAttempts: settings.maxAttempts,
    // Adaptive mode adds a client-side rate limiter that slows down after throttling, which is what
    // IAM's low per-account limits call for. No retry of ours is stacked on top.
    retryMode: "adaptive",
    ...(settings.tuning?.retryStrategy ? { retryStrategy: settings.tuning.retryStrategy(settings.maxAttempts) } : {}),
    // Without throwOnRequestTimeout the handler only logs when requestTimeout passes and keeps waiting:
    // a server that never answers would hold the run forever.
    requestHandler: { requestTimeout: settings.requestTimeoutMs, throwOnRequestTimeout: true, connectionTimeout: Math.min(settings.requestTimeoutMs, 10_000) },
    customUserAgent: "whohas",
  };
}

interface WithStack {
  middlewareStack: { add(mw: unknown, options: Record<string, unknown>): void };
}

/**
 * finalizeRequest runs inside the retry middleware (which sits at the top of that step), so this
 * sees every attempt, not every logical call.
 */
function countAttempts<C extends WithStack & { destroy(): void }>(client: C, count: RequestCounter, settings: ClientSettings): C {
  settings.release?.(() => client.destroy());
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      count();
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "whohasRequestCounter", override: true },
  );
  return refuseRedirects(client);
}

interface RawResponse {
  response?: { statusCode?: number; headers?: Record<string, string | undefined>; body?: { destroy?: () => void } };
}

/**
 * The SDK's node-http-handler never follows a redirect (so no SigV4 header or session token goes
 * anywhere else), but its deserializer reports one as "Unknown: Unknown (HTTP 307)". AWS APIs do not
 * redirect: name it, with the origin it pointed to, so a redirecting endpoint or proxy is visible.
 * Runs inside the deserializer, on the raw answer.
 */
function refuseRedirects<C extends WithStack>(client: C): C {
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      const out = (await next(args)) as RawResponse;
      const status = out.response?.statusCode;
      if (status === undefined || !isRedirect(status)) return out;
      // The body is never read: release the socket.
      out.response?.body?.destroy?.();
      const location = out.response?.headers?.location;
      throw new RedirectRefusedError(status, `AWS APIs do not redirect; this one pointed to ${location ? (originOf(location) ?? "a relative or unparseable URL") : "no Location"}`);
    },
    { step: "deserialize", priority: "low", name: "whohasRefuseRedirects", override: true },
  );
  return client;
}

export function iamClient(settings: ClientSettings, credentials: Credentials | CredentialProvider, count: RequestCounter): IAMClient {
  return countAttempts(new IAMClient({ ...commonConfig(settings, credentials), ...(settings.endpoints.iam ? { endpoint: settings.endpoints.iam } : {}) }), count, settings);
}

export function stsClient(settings: ClientSettings, credentials: Credentials | CredentialProvider, count: RequestCounter): STSClient {
  return countAttempts(new STSClient({ ...commonConfig(settings, credentials), ...(settings.endpoints.sts ? { endpoint: settings.endpoints.sts } : {}) }), count, settings);
}

export function organizationsClient(settings: ClientSettings, credentials: Credentials | CredentialProvider, count: RequestCounter): OrganizationsClient {
  return countAttempts(
    new OrganizationsClient({ ...commonConfig(settings, credentials), ...(settings.endpoints.organizations ? { endpoint: settings.endpoints.organizations } : {}) }),
    count,
    settings,
  );
}

/**
 * CloudTrail is regional: one client per account and Region. Every attempt (retries included) waits for the
 * limiter first, so the per-account-and-Region quota holds for retries too.
 */
export function cloudTrailClient(
  settings: ClientSettings,
  region: string,
  credentials: Credentials | CredentialProvider,
  count: RequestCounter,
  limiter: RequestRateLimiter,
  signal: AbortSignal,
): CloudTrailClient {
  const client = countAttempts(
    new CloudTrailClient({ ...commonConfig({ ...settings, region }, credentials), ...(settings.endpoints.cloudtrail ? { endpoint: settings.endpoints.cloudtrail } : {}) }),
    count,
    settings,
  );
  (client as unknown as WithStack).middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      const release = await limiter.acquire(signal);
      try {
        return await next(args);
      } finally {
        release();
      }
    },
    // Below the request counter (same step, lower priority runs later): a request waits, then is counted and sent.
    { step: "finalizeRequest", priority: "low", name: "whohasRequestRate", override: true },
  );
  return client;
}

/** Static keys from secret references, or the SDK default chain (env, profile, SSO, container / instance role). */
export function baseCredentials(staticKeys: CredentialIdentity | undefined, profile: string | undefined): CredentialProvider {
  if (staticKeys) return async () => staticKeys;
  const chain = fromNodeProviderChain(profile ? { profile } : {});
  return () => chain();
}

export interface AssumeRoleParams {
  roleArn: string;
  externalId?: string;
  sessionName: string;
  /** Role chaining caps sessions at one hour; the provider renews before expiry. */
  durationSeconds?: number;
}

const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * Credentials of an assumed role, shared by every client of one account and renewed five minutes
 * before they expire. Errors are not cached: the next caller tries again.
 */
export function assumeRoleProvider(sts: STSClient, params: AssumeRoleParams, signal?: AbortSignal): CredentialProvider {
  let current: CredentialIdentity | undefined;
  let pending: Promise<CredentialIdentity> | undefined;
  return () => {
    if (current && (!current.expiration || current.expiration.getTime() - Date.now() > RENEW_BEFORE_MS)) return Promise.resolve(current);
    pending ??= (async () => {
      try {
        const out = await sts.send(
          new AssumeRoleCommand({
            RoleArn: params.roleArn,
            RoleSessionName: params.sessionName,
            DurationSeconds: params.durationSeconds ?? 3600,
            ...(params.externalId ? { ExternalId: params.externalId } : {}),
          }),
          { abortSignal: signal },
        );
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`sts:AssumeRole ${params.roleArn} returned no credentials`);
        current = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
        return current;
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };
}

/** AWS's error code (e.g. "AccessDenied", "Throttling") and message, never anything from the request. */
const TRANSPORT_CODE = /^(ECONNRESET|ECONNREFUSED|ECONNABORTED|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_|ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;
const CREDENTIAL_CODE = new Set([
  "CredentialsProviderError",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "ExpiredToken",
  "ExpiredTokenException",
  "UnrecognizedClientException",
  "InvalidAccessKeyId",
  "AuthFailure",
  "AccessDenied",
  "AccessDeniedException",
]);

/** A failure below HTTP — reset, refused, timed out, TLS — where AWS never answered: not a credentials problem. */
export function isTransportError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  if (e.$metadata?.httpStatusCode !== undefined) return false;
  return e.name === "TimeoutError" || e.name === "RequestTimeout" || TRANSPORT_CODE.test(e.code ?? "") || TRANSPORT_CODE.test(e.name);
}

/** AWS refused the credentials themselves (or none could be found): the one case worth "are AWS credentials configured?". */
export function isCredentialError(err: unknown): boolean {
  return err instanceof Error && CREDENTIAL_CODE.has(awsErrorCode(err) ?? "");
}

export function describeAwsError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (isTransportError(err)) {
    const code = (err as Error & { code?: string }).code;
    return `network error${code ? ` (${code})` : err.name === "TimeoutError" ? " (timed out)" : ""}: ${firstParagraph(err.message)}`;
  }
  const e = err as Error & { Code?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  const code = e.Code ?? e.name;
  const status = e.$metadata?.httpStatusCode;
  const attempts = e.$metadata?.attempts;
  const extra = [status ? `HTTP ${status}` : null, attempts && attempts > 1 ? `after ${attempts} attempts` : null].filter(Boolean).join(", ");
  return `${code}: ${firstParagraph(e.message)}${extra ? ` (${extra})` : ""}`;
}

/**
 * Some AWS services append the canonical request to SignatureDoesNotMatch messages, and with it the
 * x-amz-security-token header: only the first paragraph of a message is ever repeated.
 */
function firstParagraph(message: string): string {
  const first = message.split(/\r?\n\s*\r?\n/)[0] ?? "";
  return first.length > 500 ? `${first.slice(0, 500)}…` : first;
}

export function awsErrorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  return (err as Error & { Code?: string }).Code ?? err.name;
}

export const DEFAULT_REGION: Record<string, string> = { aws: "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1" };

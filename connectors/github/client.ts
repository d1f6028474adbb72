// SDK wiring: one Octokit per org with GitHub's throttling plugin for rate limits and our retry of
// server errors, App or token auth, every HTTP request (token exchanges, redirects and retries
// included) counted where it leaves the process and kept on the configured origin.
import { createAppAuth } from "@octokit/auth-app";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import type { Logger } from "../../src/connector.js";
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  ForeignOriginError,
  originGuardedFetch,
  RedirectRefusedError,
  sleep as policySleep,
} from "../../src/http-policy.js";

export const GithubOctokit = Octokit.plugin(throttling);
export type GithubClient = InstanceType<typeof GithubOctokit>;

export const DEFAULT_BASE_URL = "https://api.github.com";

export type GithubAuth =
  | { kind: "token"; token: string }
  /** Without an installation id only app-level routes (JWT) work, e.g. GET /orgs/{org}/installation. */
  | { kind: "app"; appId: string | number; privateKey: string; installationId?: number };

/** Seams for tests: a clock for rate-limit waits and a shorter retry base. Production uses the defaults. */
export interface ClientDeps {
  /** Waits out rate limits; the default honours the abort signal. Tests pass a clock that records and skips. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Base of the shared full-jitter backoff between retries of 5xx answers and network failures. */
  retryBaseMs: number;
  fetch: typeof globalThis.fetch;
}

export const DEFAULT_DEPS: ClientDeps = {
  sleep: (ms, signal) => policySleep(ms, signal),
  retryBaseMs: DEFAULT_RETRY_POLICY.baseDelayMs,
  fetch: (...args) => globalThis.fetch(...args),
};

export interface ClientConfig {
  baseUrl: string;
  auth: GithubAuth;
  signal: AbortSignal;
  /** Called once per HTTP request actually sent. */
  onRequest: () => void;
  /** Called with every response's headers (rate-limit bookkeeping, server detection). */
  onResponse?: (headers: Headers) => void;
  log: Logger;
  /** For log lines: which org / scope this client serves. */
  label: string;
  timeoutMs: number;
  /** Longest rate-limit wait accepted; a longer one fails the request instead of stalling the run. */
  maxRateLimitWaitMs: number;
  /** Epoch ms of the collect's deadline: a rate-limit wait that would end after it fails at once instead. */
  deadlineAt?: number;
  userAgent?: string;
}

/** Primary-limit waits go until x-ratelimit-reset, so one retry normally suffices; two covers a reset race. */
const PRIMARY_RETRIES = 2;
/** Secondary limits: GitHub asks for growing waits while they persist. */
const SECONDARY_RETRIES = 4;

export function createClient(cfg: ClientConfig, deps: ClientDeps = DEFAULT_DEPS): GithubClient {
  const origin = new URL(cfg.baseUrl).origin;
  // Each hop of a redirect is a request of its own: counted, and refused before it leaves the origin.
  const sendOne = (url: string, init?: RequestInit) => {
    cfg.onRequest();
    return deps.fetch(url, init);
  };
  const guardedFetch = originGuardedFetch(sendOne, { allowed: [origin], what: "a GitHub request URL" });
  const countingFetch: typeof globalThis.fetch = async (input, init) => {
    const timeout = AbortSignal.timeout(cfg.timeoutMs);
    const signal = AbortSignal.any([cfg.signal, timeout, ...(init?.signal ? [init.signal] : [])]);
    const url = input instanceof Request ? input.url : input;
    const res = await guardedFetch(url, { ...init, signal });
    cfg.onResponse?.(res.headers);
    // 300, 305, 306: @octokit/request would read the body of an answer that is no answer as data.
    if (res.status >= 300 && res.status < 400 && res.status !== 304) {
      await res.body?.cancel().catch(() => undefined);
      throw new RedirectRefusedError(res.status, "not an answer GitHub gives to these requests");
    }
    // Read the whole body here: a connection cut mid-body then fails this request (and is retried)
    // instead of reaching @octokit/request, which turns an unreadable JSON body into "" (an empty page).
    const body = await res.arrayBuffer();
    // @octokit/request turns a success body that is not JSON into a string, and an empty one into an
    // empty list: a proxy's page or a mangled answer would read as "no members". Fail the attempt instead.
    if (res.status >= 200 && res.status < 300 && res.status !== 204 && res.status !== 205 && !isJson(body)) {
      throw new Error(`HTTP ${res.status} answer is not JSON (${body.byteLength} bytes${res.headers.get("content-type") ? ` of ${res.headers.get("content-type")}` : ""})`);
    }
    const copy = new Response(res.status === 204 || res.status === 304 ? null : body, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
    // The pagination plugin reads response.url (namespaced lists such as /installations); keep it.
    Object.defineProperty(copy, "url", { value: res.url });
    return copy;
  };

  const waitFor = async (kind: "primary" | "secondary", retryAfterSeconds: number, method: string, url: string, attempt: number) => {
    const max = kind === "primary" ? PRIMARY_RETRIES : SECONDARY_RETRIES;
    // Secondary limits without a retry-after get the plugin's 60 s; persistent ones back off exponentially.
    const waitMs = retryAfterSeconds * 1000 * (kind === "secondary" ? 2 ** attempt : 1);
    const pastDeadline = cfg.deadlineAt !== undefined && Date.now() + waitMs > cfg.deadlineAt;
    if (attempt >= max || waitMs > cfg.maxRateLimitWaitMs || pastDeadline || cfg.signal.aborted) {
      const why = pastDeadline ? "the limit resets after this collect's deadline" : undefined;
      cfg.log.warn({ scope: cfg.label, method, url, kind, waitSeconds: waitMs / 1000, attempt, ...(why ? { why } : {}) }, "GitHub rate limit: giving up");
      return false;
    }
    cfg.log.warn({ scope: cfg.label, method, url, kind, waitSeconds: waitMs / 1000, attempt }, "GitHub rate limit: waiting");
    await deps.sleep(waitMs, cfg.signal);
    return true;
  };

  const common = {
    baseUrl: cfg.baseUrl,
    userAgent: cfg.userAgent ?? "whohas-github-connector",
    request: { fetch: countingFetch },
    log: {
      debug: () => {},
      info: () => {},
      warn: (msg: string) => cfg.log.warn({ scope: cfg.label }, String(msg)),
      // Octokit's request log reports every non-2xx answer here, expected 404s and requests aborted by
      // shutdown included; the connector reports the failures that matter (scope errors, coverage).
      error: (msg: string) => cfg.log.debug({ scope: cfg.label }, String(msg)),
    },
    throttle: {
      id: cfg.label,
      // The handlers below do the waiting (abortable, on an injectable clock); the plugin then retries at once.
      retryAfterBaseValue: 0,
      onRateLimit: (after: number, o: { method: string; url: string }, _k: unknown, n: number) => waitFor("primary", after, o.method, o.url, n),
      onSecondaryRateLimit: (after: number, o: { method: string; url: string }, _k: unknown, n: number) =>
        waitFor("secondary", after, o.method, o.url, n),
    },
  };

  const client =
    cfg.auth.kind === "token"
      ? new GithubOctokit({ ...common, auth: cfg.auth.token })
      : new GithubOctokit({
          ...common,
          authStrategy: createAppAuth,
          auth: {
            appId: cfg.auth.appId,
            privateKey: cfg.auth.privateKey,
            ...(cfg.auth.installationId !== undefined ? { installationId: cfg.auth.installationId } : {}),
          },
        });
  retryServerErrors(client, cfg, deps);
  return client;
}

/**
 * Retries 5xx answers and failures below HTTP (reset, timeout, cut or non-JSON body) with the shared
 * backoff. Never a 4xx (rate limits are the throttling plugin's, inside this loop), never a request
 * the collect aborted, never a refused redirect or foreign URL: trying those again cannot help.
 * (@octokit/plugin-retry retried every status it was not told about, and an aborted request as a "500".)
 */
function retryServerErrors(client: GithubClient, cfg: ClientConfig, deps: ClientDeps): void {
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: deps.retryBaseMs };
  client.hook.wrap("request", async (request, options) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(options);
      } catch (err) {
        if (attempt >= policy.maxAttempts || !isRetryable(err, cfg.signal)) throw err;
        const delayMs = backoffDelay(attempt, policy);
        cfg.log.warn({ scope: cfg.label, method: options.method, url: String(options.url), attempt, delayMs, reason: describeError(err).message }, "GitHub: retrying");
        await policySleep(delayMs, cfg.signal);
      }
    }
  });
}

function isRetryable(err: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return false;
  const e = err as { status?: unknown; response?: { status?: number }; cause?: unknown; name?: string };
  if (isPolicyRefusal(err) || isPolicyRefusal(e?.cause) || e?.name === "AbortError") return false;
  if (typeof e?.status !== "number") return false;
  // No response: @octokit/request labels every failure below HTTP 500.
  if (!e.response) return true;
  return e.response.status !== undefined && e.response.status >= 500;
}

function isPolicyRefusal(err: unknown): err is ForeignOriginError | RedirectRefusedError {
  return err instanceof ForeignOriginError || err instanceof RedirectRefusedError;
}

function isJson(body: ArrayBuffer): boolean {
  try {
    JSON.parse(new TextDecoder().decode(body));
    return true;
  } catch {
    return false;
  }
}

export interface DescribedError {
  status: number | null;
  message: string;
  /** Retrying later may help (5xx, network, rate limit); a 4xx other than rate limiting will not. */
  transient: boolean;
}

/** Provider status and message for scope errors and logs. Never includes request headers (tokens live there). */
export function describeError(err: unknown): DescribedError {
  const e = err as {
    status?: number;
    message?: string;
    name?: string;
    response?: { data?: unknown; headers?: Record<string, string | undefined> };
    request?: { method?: string; url?: string };
  };
  if (e?.name === "AbortError") return { status: null, message: "aborted", transient: false };
  // A refused follow-up: named, never with the URL (a hostile one is the provider's text).
  const refusal = isPolicyRefusal(err) ? err : isPolicyRefusal((err as { cause?: unknown })?.cause) ? (err as { cause: Error }).cause : undefined;
  if (refusal) return { status: null, message: `${refusal.name}: ${refusal.message}`, transient: false };
  // Without an HTTP status it did not come from GitHub (octokit reports network failures as 500).
  if (typeof e?.status !== "number") return { status: null, message: e?.message ?? String(err), transient: false };
  const where = e?.request?.method && e.request.url ? `${e.request.method} ${redactUrl(e.request.url)} → ` : "";
  // No response at all: @octokit/request labels connection failures and timeouts 500.
  if (!e.response) return { status: null, message: `${where}network error: ${e.message ?? String(err)}`, transient: true };
  const status = e.status;
  const data = e?.response?.data as { message?: string } | undefined;
  const providerMessage = typeof data?.message === "string" ? data.message : (e?.message ?? String(err));
  const requestId = e?.response?.headers?.["x-github-request-id"];
  const rate = e?.response?.headers?.["x-ratelimit-remaining"] === "0" || /rate limit/i.test(providerMessage);
  const message = `${where}${status}: ${providerMessage}${requestId ? ` (x-github-request-id ${requestId})` : ""}`;
  return { status, message, transient: status >= 500 || status === 429 || rate };
}

function redactUrl(url: string): string {
  // Query strings here carry filters and cursors only, but strip anything credential-shaped defensively.
  return url.replace(/([?&](access_token|client_secret|token)=)[^&]*/gi, "$1[REDACTED]");
}

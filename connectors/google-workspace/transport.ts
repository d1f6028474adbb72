// Hooks on a google-auth-library client's gaxios transporter — the one place every request of that client
// passes, token exchanges included: redirect of the hard-coded token URL, request counting per attempt,
// abort + per-attempt timeout, pacing under the per-user quota, and the retry policy. Retries are gaxios'
// own retry loop, driven by our decision (Google's retryable reasons) and timing (src/http-policy), so
// exactly one retry mechanism runs.
import { gaxios } from "google-auth-library";
import type { Logger } from "../../src/connector.js";
import {
  backoffDelay,
  ForeignOriginError,
  isRedirect,
  MAX_REDIRECTS,
  parseRetryAfter,
  RedirectRefusedError,
  redirectHop,
  sleep,
  type RetryPolicy,
} from "../../src/http-policy.js";
import { googleErrorInfo, isRetryable } from "./errors.js";

/** google-auth-library signs this audience and posts here; it cannot be configured. */
export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";

export interface TransportHooks {
  scope: string;
  countRequest(scope: string): void;
  signal: AbortSignal;
  log: Logger;
  policy: RetryPolicy;
  /** Where the JWT-bearer exchange goes instead of Google's endpoint (simulator, private endpoint). */
  tokenUrl?: string;
  /** Paces API requests (token exchanges are not paced). */
  gate?: RateGate;
  /**
   * The collect's own fetch (src/collect-fetch.ts), so its connections close with the collect. Required: left
   * to itself gaxios uses node-fetch, which, handed a signal that has already fired (our per-attempt timeout,
   * while gaxios imports node-fetch on first use and another source holds the event loop), destroys the
   * stream of a POST's body that no one listens to: an uncatchable AbortError ends the process (node-fetch#1801).
   */
  fetch: typeof globalThis.fetch;
  /**
   * Methods retried on throttling, server errors and lost connections; default GET and POST (the collector's
   * reads and the token exchange). The remediator adds its writes, each idempotent or answered 404/409 when repeated.
   */
  retryMethods?: readonly string[];
}

interface HasTransporter {
  transporter: gaxios.Gaxios;
}

export function instrumentTransport(client: HasTransporter, hooks: TransportHooks): void {
  const { policy, signal, log, scope } = hooks;

  const shouldRetry = (err: gaxios.GaxiosError): boolean => {
    if (signal.aborted) return false;
    if (err.cause instanceof ForeignOriginError || err.cause instanceof RedirectRefusedError) return false;
    const cfg = err.config.retryConfig ?? {};
    if ((cfg.currentRetryAttempt ?? 0) >= (cfg.retry ?? 0)) return false;
    return isRetryable(googleErrorInfo(err));
  };

  const retryBackoff = async (err: gaxios.GaxiosError): Promise<void> => {
    const attempt = err.config.retryConfig?.currentRetryAttempt ?? 1;
    const retryAfter = parseRetryAfter(err.response?.headers?.get?.("retry-after"));
    const delayMs = Math.min(policy.maxDelayMs, retryAfter ?? backoffDelay(attempt, policy));
    const info = googleErrorInfo(err);
    log.warn(
      { scope, status: info.status ?? null, reason: info.reason ?? info.code ?? null, attempt, delayMs, retryAfter: retryAfter !== undefined },
      "google-workspace: retrying after a retryable error",
    );
    await sleep(delayMs, signal);
  };

  client.transporter.interceptors.request.add({
    resolved: async (opts) => {
      const url = opts.url instanceof URL ? opts.url : new URL(String(opts.url));
      const isTokenExchange = `${url.origin}${url.pathname}` === GOOGLE_TOKEN_URL;
      if (isTokenExchange && hooks.tokenUrl) opts.url = new URL(hooks.tokenUrl);
      opts.fetchImplementation = hooks.fetch as unknown as typeof opts.fetchImplementation;
      opts.retry = true;
      opts.retryConfig = {
        ...opts.retryConfig,
        retry: policy.maxAttempts - 1,
        noResponseRetries: policy.maxAttempts - 1,
        // The collector's requests are reads, and the token POST is safe to repeat.
        httpMethodsToRetry: [...(hooks.retryMethods ?? ["GET", "POST"])],
        shouldRetry,
        retryBackoff,
      };
      const inner = opts.adapter;
      opts.adapter = async <T>(
        o: gaxios.GaxiosOptionsPrepared,
        next: (o: gaxios.GaxiosOptionsPrepared) => gaxios.GaxiosPromise<T>,
      ): gaxios.GaxiosPromise<T> => {
        if (!isTokenExchange && hooks.gate) await hooks.gate.take(signal);
        // An aborted collect sends nothing more (and counts nothing it did not send).
        signal.throwIfAborted();
        // The adapter runs once per attempt: this is the real count of requests sent.
        hooks.countRequest(scope);
        const timeout = AbortSignal.timeout(policy.timeoutMs);
        const attempt = { ...o, signal: AbortSignal.any(o.signal ? [signal, timeout, o.signal] : [signal, timeout]) };
        let res: Awaited<gaxios.GaxiosPromise<T>>;
        try {
          res = await sendOnOrigin(attempt, (a) => (inner ? inner<T>(a, next) : next(a)), () => hooks.countRequest(scope));
        } catch (err) {
          if (timeout.aborted && !signal.aborted) {
            throw Object.assign(new Error(`no response within ${policy.timeoutMs} ms`), { code: "ETIMEDOUT" });
          }
          throw err;
        }
        // gaxios hands back a body that does not parse as JSON as a string: a proxy's HTML page or a cut
        // body would then read as a page without users. Fail the attempt instead (retried like a lost connection).
        if (res.status >= 200 && res.status < 300 && res.status !== 204 && typeof res.data === "string") {
          throw Object.assign(new Error(`HTTP ${res.status} answer is not JSON (${res.data.length} characters${res.headers?.get?.("content-type") ? ` of ${res.headers.get("content-type")}` : ""})`), { code: "EBADRESPONSE" });
        }
        return res;
      };
      return opts;
    },
  });
}

/**
 * Sends with redirects followed by hand, only on the origin of the request that got them: whichever
 * fetch gaxios uses follows on its own — node-fetch keeps Authorization on a redirect to the same host on
 * another port, and both it and undici re-send a POST body (the signed JWT assertion) on 307/308.
 * `countHop` is called for every extra request.
 */
async function sendOnOrigin<T>(
  first: gaxios.GaxiosOptionsPrepared,
  send: (o: gaxios.GaxiosOptionsPrepared) => gaxios.GaxiosPromise<T>,
  countHop: () => void,
): gaxios.GaxiosPromise<T> {
  let o: gaxios.GaxiosOptionsPrepared = { ...first, redirect: "manual" };
  for (let hop = 0; ; hop++) {
    const res = await send(o);
    if (!isRedirect(res.status)) return res;
    if (hop >= MAX_REDIRECTS) throw new RedirectRefusedError(res.status, `more than ${MAX_REDIRECTS} redirects`);
    const next = redirectHop(o.url, o.method ?? "GET", res.status, res.headers.get("location"));
    o.signal?.throwIfAborted();
    countHop();
    o = { ...o, url: next.url, method: next.method, ...(next.dropBody ? { body: undefined, data: undefined } : {}) };
  }
}

/**
 * Token bucket: `perMinute` sustained with bursts of `burst`. Directory API quotas are per impersonated
 * user per minute, so pacing ourselves beats collecting 403 userRateLimitExceeded and backing off.
 */
export class RateGate {
  private tokens: number;
  private last = Date.now();

  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perMinute) / 60_000);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.tokens) * 60_000) / this.perMinute), signal);
    }
  }
}

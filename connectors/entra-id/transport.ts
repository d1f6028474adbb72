// The one HTTP path under both MSAL and the Graph client: an undici Agent that trusts the system CAs
// plus an optional extra bundle (TLS-inspecting proxies), the shared retry policy, and request counting.
// Every byte to Entra or Graph goes through `exchange`, so counts and retries cannot drift apart.
import { readFile } from "node:fs/promises";
import { createSecureContext, rootCertificates } from "node:tls";
import { Agent, fetch as undiciFetch } from "undici";
import {
  backoffDelay,
  ForeignOriginError,
  originGuardedFetch,
  parseRetryAfter,
  RedirectRefusedError,
  RETRYABLE_STATUS,
  sleep,
  type RetryPolicy,
} from "../../src/http-policy.js";

/** Graph asks for up to a few minutes after heavy throttling; longer than this is not worth holding a run for. */
export const MAX_RETRY_AFTER_MS = 300_000;

export interface Exchange {
  status: number;
  headers: Headers;
  body: Buffer;
}

export interface ExchangeRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string;
}

/** A failure below HTTP (connection reset, TLS, timeout, cut body): worth retrying, and its cause is kept. */
export class TransportError extends Error {
  override name = "TransportError";
}

export interface TransportOptions {
  dispatcher: Agent;
  /**
   * The only origins requests may go to (the authority's and Graph's). MSAL follows URLs from the
   * authority's metadata and Graph follows nextLinks: a hostile answer naming another host gets nothing.
   */
  origins: readonly string[];
  policy: RetryPolicy;
  signal: AbortSignal;
  /** Called once per request actually sent, retries included. */
  onRequest: () => void;
  onRetry?: (info: { url: string; attempt: number; delayMs: number; reason: string }) => void;
}

/**
 * Reads `ca_file` and returns the full trust list to give the Agent: Node's bundled roots, whatever
 * NODE_EXTRA_CA_CERTS already adds for this process, and the file. Verification stays on; the file only adds trust.
 */
export async function trustList(caFile: string | undefined): Promise<string[] | undefined> {
  if (!caFile) return undefined;
  let pem: string;
  try {
    pem = await readFile(caFile, "utf8");
  } catch (err) {
    throw new Error(`ca_file: cannot read ${caFile}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`ca_file: ${caFile} holds no PEM certificate`);
  const extra: string[] = [];
  const envFile = process.env.NODE_EXTRA_CA_CERTS;
  if (envFile) extra.push(await readFile(envFile, "utf8").catch(() => ""));
  return [...rootCertificates, ...extra.filter(Boolean), pem];
}

export function createAgent(ca: string[] | undefined): Agent {
  // One secure context for every connection: handing `ca` to each tls.connect re-parses ~150 root
  // certificates per connection, which costs more than the request itself.
  const connect = ca ? { secureContext: createSecureContext({ ca }) } : {};
  // undici drops a connection when the server's Keep-Alive hint minus this threshold (default 2 s) is
  // not positive, so a server hinting "timeout=1" would cost a TLS handshake per request. A reset on a
  // reused socket is retried like any transport error.
  return new Agent({ connect, keepAliveTimeout: 10_000, keepAliveMaxTimeout: 30_000, keepAliveTimeoutThreshold: 500 });
}

/** Why a failed exchange should be tried again, or null when it should not. */
function retryReason(ex: Exchange): string | null {
  return RETRYABLE_STATUS.has(ex.status) ? `HTTP ${ex.status}` : null;
}

export class Transport {
  private readonly fetch: ReturnType<typeof guardedUndiciFetch>;

  constructor(private readonly opts: TransportOptions) {
    this.fetch = guardedUndiciFetch(opts);
  }

  get signal(): AbortSignal {
    return this.opts.signal;
  }

  /** One request, no retry: the body is read in full here so a cut-off body is a transport error, not a JSON error later. */
  async once(url: string, req: ExchangeRequest): Promise<Exchange> {
    const { signal, policy, dispatcher } = this.opts;
    signal.throwIfAborted();
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    try {
      const res = await this.fetch(url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        dispatcher,
        signal: AbortSignal.any([signal, timeout]),
      });
      const body = Buffer.from(await res.arrayBuffer());
      return { status: res.status, headers: res.headers as unknown as Headers, body };
    } catch (err) {
      if (signal.aborted) throw signal.reason ?? err;
      // Refused before anything was sent: not a network failure, and trying again cannot help.
      if (err instanceof ForeignOriginError || err instanceof RedirectRefusedError) throw err;
      if (timeout.aborted) throw new TransportError(`no response within ${policy.timeoutMs} ms`);
      throw new TransportError(describeNetworkError(err));
    }
  }

  /**
   * Sends with the shared policy: transport errors and 429/5xx are retried, Retry-After is honoured
   * (it wins over our backoff), everything else is returned to the caller as is.
   */
  async exchange(url: string, req: ExchangeRequest): Promise<Exchange> {
    const { policy, signal } = this.opts;
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let delayMs: number;
      try {
        const ex = await this.once(url, req);
        const why = retryReason(ex);
        if (why === null || attempt >= policy.maxAttempts) return ex;
        reason = why;
        const retryAfter = parseRetryAfter(ex.headers.get("retry-after"));
        if (retryAfter !== undefined && retryAfter > MAX_RETRY_AFTER_MS) return ex;
        delayMs = retryAfter ?? backoffDelay(attempt, policy);
      } catch (err) {
        if (!(err instanceof TransportError) || attempt >= policy.maxAttempts) throw err;
        reason = err.message;
        delayMs = backoffDelay(attempt, policy);
      }
      this.opts.onRetry?.({ url, attempt, delayMs, reason });
      await sleep(delayMs, signal);
    }
  }
}

/** undici's fetch, counted per request sent (each redirect hop too) and kept on the allowed origins. */
function guardedUndiciFetch(opts: TransportOptions) {
  const sendOne = (url: string, init?: Parameters<typeof undiciFetch>[1]) => {
    opts.onRequest();
    return undiciFetch(url, init);
  };
  return originGuardedFetch(sendOne, { allowed: opts.origins, what: "a request URL" });
}

/** undici hides the useful part (ECONNRESET, certificate errors) in `cause`. */
export function describeNetworkError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause;
  if (cause?.code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(cause.code)) {
    return `${cause.code}: ${cause.message} (behind a TLS-inspecting proxy? point ca_file at its CA bundle)`;
  }
  if (cause?.code && cause.message) return `${cause.code}: ${cause.message}`;
  if (cause?.message) return cause.message;
  return e.message ?? String(err);
}

// The one HTTP path to a SCIM service: bearer token on every request and only to the configured origin,
// the shared retry policy (429 and 5xx retried, Retry-After honoured), a timeout per attempt, every
// attempt counted, and SCIM error bodies turned into messages that name the request and the server's words.
import type { Logger } from "../../src/connector.js";
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  ForeignOriginError,
  originGuardedFetch,
  parseRetryAfter,
  RedirectRefusedError,
  RETRYABLE_STATUS,
  sleep,
  type RetryPolicy,
} from "../../src/http-policy.js";
import { SCIM_MEDIA_TYPE, type ScimError } from "./wire.js";

/** Same-origin redirects followed per request; a SCIM API has no reason for chains. */
const MAX_REDIRECTS = 3;
/** Server-supplied text kept in an error message. */
const MAX_DETAIL = 300;

export interface ClientDeps {
  fetch: typeof globalThis.fetch;
  /** Waits between attempts; tests record the waits instead of sleeping them. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  policy: RetryPolicy;
}

export const DEFAULT_DEPS: ClientDeps = {
  fetch: (...args) => globalThis.fetch(...args),
  sleep: (ms, signal) => sleep(ms, signal),
  policy: DEFAULT_RETRY_POLICY,
};

export interface ClientConfig {
  /** Service root without trailing slash, e.g. https://api.example.com/scim/v2. */
  root: string;
  token: string;
  signal: AbortSignal;
  timeoutMs: number;
  /** A Retry-After longer than this fails the request instead of holding the run. */
  maxRetryAfterMs: number;
  /** Called once per HTTP request actually sent (retries and redirects included). */
  onRequest(): void;
  log: Logger;
}

/** An answer from the server that is not the resource asked for. */
export class ScimRequestError extends Error {
  override name = "ScimRequestError";
  constructor(
    message: string,
    /** HTTP status, or null when no answer came (network, timeout). */
    readonly status: number | null,
    readonly scimType?: string,
  ) {
    super(message);
  }
}

export class ScimClient {
  /** Every attempt counted where it leaves; redirects followed only on the configured origin. */
  private readonly fetch: (url: string | URL, init?: RequestInit) => Promise<Response>;

  constructor(
    private readonly cfg: ClientConfig,
    private readonly deps: ClientDeps = DEFAULT_DEPS,
  ) {
    const counted = (url: string, init?: RequestInit) => {
      cfg.onRequest();
      return deps.fetch(url, init);
    };
    this.fetch = originGuardedFetch(counted, { allowed: [new URL(cfg.root).origin], maxRedirects: MAX_REDIRECTS });
  }

  /** GET `${root}/${path}?query` as JSON, with retries. */
  async get<T>(path: string, query: Record<string, string | number> = {}): Promise<T> {
    const url = new URL(`${this.cfg.root}/${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    const what = `GET /${path}${url.search}`;
    const { policy } = this.deps;
    for (let attempt = 1; ; attempt++) {
      let delayMs: number;
      let reason: string;
      try {
        const res = await this.send(url, what);
        if (res.status >= 200 && res.status < 300) return parseJson<T>(res, what);
        if (!RETRYABLE_STATUS.has(res.status) || attempt >= policy.maxAttempts) throw errorOf(res, what);
        const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
        if (retryAfter !== undefined && retryAfter > this.cfg.maxRetryAfterMs) {
          throw new ScimRequestError(`${errorOf(res, what).message}; asked to wait ${Math.ceil(retryAfter / 1000)} s, longer than max_retry_after_seconds`, res.status);
        }
        delayMs = retryAfter ?? backoffDelay(attempt, policy);
        reason = `HTTP ${res.status}${retryAfter !== undefined ? ` (Retry-After ${Math.ceil(retryAfter / 1000)} s)` : ""}`;
      } catch (err) {
        if (!(err instanceof TransportError) || attempt >= policy.maxAttempts) throw err;
        delayMs = backoffDelay(attempt, policy);
        reason = err.message;
      }
      this.cfg.log.warn({ request: what, attempt, delayMs, reason }, "scim: retrying");
      await this.deps.sleep(delayMs, this.cfg.signal);
    }
  }

  /** One attempt; the body is read in full here so a cut body is a transport error, not bad JSON later. */
  private async send(url: URL, what: string): Promise<Answer> {
    this.cfg.signal.throwIfAborted();
    const timeout = AbortSignal.timeout(this.cfg.timeoutMs);
    try {
      const res = await this.fetch(url, {
        method: "GET",
        headers: { authorization: `Bearer ${this.cfg.token}`, accept: `${SCIM_MEDIA_TYPE}, application/json;q=0.9` },
        signal: AbortSignal.any([this.cfg.signal, timeout]),
      });
      return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
    } catch (err) {
      if (err instanceof ForeignOriginError || err instanceof RedirectRefusedError) throw new ScimRequestError(`${what} → ${err.name}: ${err.message}`, null);
      if (this.cfg.signal.aborted) throw this.cfg.signal.reason ?? err;
      if (timeout.aborted) throw new TransportError(`${what}: no answer within ${this.cfg.timeoutMs / 1000} s`);
      throw new TransportError(`${what}: ${networkReason(err)}`);
    }
  }
}

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** A failure below HTTP: worth retrying. */
class TransportError extends Error {
  override name = "TransportError";
}

function parseJson<T>(res: Answer, what: string): T {
  try {
    return JSON.parse(res.body.toString("utf8")) as T;
  } catch {
    // A login page or a proxy's answer with status 200 must not read as an empty directory.
    const type = res.headers.get("content-type");
    throw new ScimRequestError(`${what} → ${res.status} answer is not JSON (${res.body.length} bytes${type ? ` of ${clip(type, 80)}` : ""})`, res.status);
  }
}

/** `GET /Users?… → 401 Unauthorized: SCIM error invalidToken: "detail"`, from a SCIM error body when there is one. */
function errorOf(res: Answer, what: string): ScimRequestError {
  let err: ScimError | undefined;
  try {
    const parsed = JSON.parse(res.body.toString("utf8")) as unknown;
    if (parsed && typeof parsed === "object") err = parsed as ScimError;
  } catch {
    // not JSON: the status says it all
  }
  const scimType = typeof err?.scimType === "string" ? err.scimType : undefined;
  const detail = typeof err?.detail === "string" ? err.detail : undefined;
  const parts = [`${what} → ${res.status}${STATUS_TEXT[res.status] ? ` ${STATUS_TEXT[res.status]}` : ""}`];
  if (scimType || detail) parts.push(`SCIM error${scimType ? ` ${clip(scimType, 60)}` : ""}${detail ? `: ${JSON.stringify(clip(detail, MAX_DETAIL))}` : ""}`);
  return new ScimRequestError(parts.join(": "), res.status, scimType);
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** undici hides the useful part (ECONNRESET, certificate errors) in `cause`. */
function networkReason(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  if (e.cause?.code && e.cause.message) return `${e.cause.code}: ${e.cause.message}`;
  return e.cause?.message ?? e.message ?? String(err);
}

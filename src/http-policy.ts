// The one retry/backoff policy for provider requests, used where an SDK does not bring its own
// and to configure the SDKs that do, so every connector waits the same way.

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-request timeout. */
  timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 30_000,
  timeoutMs: 60_000,
};

/** Full-jitter exponential backoff (attempt counts from 1). */
export function backoffDelay(attempt: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Retry-After is either delta-seconds or an HTTP date; returns milliseconds, or undefined when absent/unparseable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

// ---- Same origin ----
// Credentials (tokens, signed assertions, client secrets, SigV4 headers) are only ever sent to the origin
// they were configured for. Every follow-up request a provider asks for — a next-page link, an HTTP
// redirect — is checked here before anything is sent, by every connector, with the same rules.

/** A follow-up request (next link, redirect) that would leave the configured origin. Nothing was sent to it. */
export class ForeignOriginError extends Error {
  override name = "ForeignOriginError";
  /** As Node's errors carry one; SDKs that wrap errors (gaxios) keep a cause's `code`. */
  readonly code = "ForeignOriginError";
  constructor(
    /** What asked for the request, e.g. `Link rel="next"`, `HTTP 302 redirect`. */
    readonly what: string,
    /** The origin(s) allowed. */
    readonly expected: string,
    /** The origin asked for (never the full URL: its path and query are the provider's, and may be anything). */
    readonly foreign: string,
  ) {
    super(`${what} points to ${foreign}, outside ${expected}: refused, nothing was sent there (credentials never leave the configured origin)`);
  }
}

/** A redirect that was not followed: no Location, too many hops, or a client whose provider never redirects. */
export class RedirectRefusedError extends Error {
  override name = "RedirectRefusedError";
  readonly code = "RedirectRefusedError";
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`HTTP ${status} redirect not followed: ${detail}`);
  }
}

/** `scheme://host[:port]` of a URL, or null when it does not parse as an absolute http(s) URL. */
export function originOf(url: string | URL): string | null {
  try {
    const u = url instanceof URL ? url : new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * The absolute URL of `url` (relative ones resolve against `base`) when its origin is one of `allowed`;
 * otherwise throws ForeignOriginError naming `what`. Origins compare exactly: scheme, host and port.
 */
export function requireOrigin(url: string | URL, allowed: string | readonly string[], what: string, base?: string | URL): URL {
  const origins = (typeof allowed === "string" ? [allowed] : allowed).map((o) => originOf(o) ?? o);
  let resolved: URL | null = null;
  try {
    resolved = new URL(url, base);
  } catch {
    resolved = null;
  }
  const origin = resolved ? originOf(resolved) : null;
  if (resolved && origin && origins.includes(origin)) return resolved;
  throw new ForeignOriginError(what, origins.length === 1 ? origins[0]! : `{${origins.join(", ")}}`, origin ?? "an unparseable URL");
}

const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
export const MAX_REDIRECTS = 5;

export function isRedirect(status: number): boolean {
  return REDIRECT_STATUS.has(status);
}

export interface RedirectHop {
  url: URL;
  method: string;
  /** 303, and 301/302 after a POST, turn the request into a GET without a body (as fetch does). */
  dropBody: boolean;
}

/**
 * The next hop of a redirect answer, only ever on the origin of the request that got it; throws
 * ForeignOriginError for any other origin and RedirectRefusedError without a usable Location.
 */
export function redirectHop(from: string | URL, method: string, status: number, location: string | null | undefined): RedirectHop {
  if (!location) throw new RedirectRefusedError(status, "no Location header");
  const origin = originOf(from);
  if (!origin) throw new RedirectRefusedError(status, "the request URL has no origin");
  const url = requireOrigin(location, origin, `HTTP ${status} redirect`, from);
  const toGet = status === 303 ? method !== "GET" && method !== "HEAD" : (status === 301 || status === 302) && method === "POST";
  return { url, method: toGet ? "GET" : method, dropBody: toGet };
}

/** What originGuardedFetch needs of a fetch implementation (the global one, undici's, a test's). */
export interface GuardableInit {
  method?: string;
  body?: unknown;
  headers?: unknown;
  redirect?: string;
}
export interface GuardableResponse {
  status: number;
  headers: { get(name: string): string | null };
  body?: { cancel(): Promise<void> } | null;
}
export type GuardableFetch<I extends GuardableInit, R extends GuardableResponse> = (url: string, init?: I) => Promise<R>;

export interface OriginGuardOptions {
  /** Origins a request may start on; omitted, any first request is allowed (the client chose its URL). */
  allowed?: readonly string[];
  /** What the first request is, for the error (e.g. `Link rel="next"`). */
  what?: string;
  maxRedirects?: number;
}

/**
 * Wraps a fetch: a first request outside `allowed` is refused before it is sent, redirects are
 * followed by hand (`redirect: "manual"`) and only on the origin of the request that got them, so no
 * header or body (tokens, assertions, client secrets) ever reaches another origin. Never returns a
 * 301/302/303/307/308 answer: an SDK would otherwise read the redirect's body as the data.
 */
export function originGuardedFetch<I extends GuardableInit, R extends GuardableResponse>(
  fetch: GuardableFetch<I, R>,
  opts: OriginGuardOptions = {},
): (url: string | URL, init?: I) => Promise<R> {
  const max = opts.maxRedirects ?? MAX_REDIRECTS;
  return async (input, init) => {
    let url = input instanceof URL ? input : new URL(input);
    if (opts.allowed) url = requireOrigin(url, opts.allowed, opts.what ?? "request");
    let current = { ...init, redirect: "manual" } as I;
    for (let hop = 0; ; hop++) {
      const res = await fetch(url.href, current);
      if (!isRedirect(res.status)) return res;
      // The redirect's own body is never read: free the connection.
      await res.body?.cancel().catch(() => undefined);
      if (hop >= max) throw new RedirectRefusedError(res.status, `more than ${max} redirects`);
      const next = redirectHop(url, current.method ?? "GET", res.status, res.headers.get("location"));
      url = next.url;
      current = { ...current, method: next.method, ...(next.dropBody ? { body: undefined, headers: withoutBodyHeaders(current.headers) } : {}) } as I;
    }
  };
}

function withoutBodyHeaders(headers: unknown): unknown {
  if (!headers || typeof headers !== "object") return headers;
  const drop = (k: string) => /^content-(type|length|encoding|language|location)$/i.test(k);
  if (typeof (headers as Headers).forEach === "function" && !Array.isArray(headers)) {
    const out: Record<string, string> = {};
    (headers as Headers).forEach((v, k) => {
      if (!drop(k)) out[k] = v;
    });
    return out;
  }
  if (Array.isArray(headers)) return (headers as [string, string][]).filter(([k]) => !drop(k));
  return Object.fromEntries(Object.entries(headers as Record<string, string>).filter(([k]) => !drop(k)));
}

// SDK wiring: msal-node for the client-credentials token, @microsoft/microsoft-graph-client for Graph,
// both sending through our Transport (trust list, retry policy, request counting). The SDKs run
// unmodified; only their documented extension points are used (MSAL `system.networkClient`, Graph
// `middleware` chain and `customHosts`).
import { ConfidentialClientApplication, LogLevel, type Configuration, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from "@azure/msal-node";
import {
  AuthenticationHandler,
  Client,
  GraphError,
  TelemetryHandler,
  type Context,
  type GraphRequest,
  type Middleware,
} from "@microsoft/microsoft-graph-client";
import type { Logger } from "../../src/connector.js";
import { ForeignOriginError, RedirectRefusedError, requireOrigin } from "../../src/http-policy.js";
import { TransportError, type Exchange, type Transport } from "./transport.js";

// ---- MSAL ----

/** MSAL's network module over our Transport; remembers the last low-level failure because MSAL replaces it with a generic "network_error". */
class MsalNetwork implements INetworkModule {
  lastFailure: string | undefined;

  constructor(private readonly transport: Transport) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("GET", url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("POST", url, options);
  }

  private async send<T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    let ex: Exchange;
    try {
      ex = await this.transport.exchange(url, { method, headers: options?.headers, body: options?.body });
    } catch (err) {
      if (err instanceof TransportError) this.lastFailure = `${method} ${stripQuery(url)}: ${err.message}`;
      // MSAL reports any network failure as a generic network_error: keep the refusal's name and reason.
      if (err instanceof ForeignOriginError || err instanceof RedirectRefusedError) this.lastFailure = `${err.name}: ${err.message}`;
      throw err;
    }
    let body: T;
    try {
      body = JSON.parse(ex.body.toString("utf8")) as T;
    } catch {
      this.lastFailure = `${method} ${stripQuery(url)}: HTTP ${ex.status} with a body that is not JSON`;
      throw new TransportError(this.lastFailure);
    }
    if (ex.status >= 400) {
      const b = body as { error?: unknown; error_description?: unknown };
      const aadsts = typeof b?.error_description === "string" ? /AADSTS\d+:.*?\.(?=\s|$)/.exec(b.error_description)?.[0] : undefined;
      this.lastFailure = `${method} ${stripQuery(url)}: HTTP ${ex.status}${typeof b?.error === "string" ? ` ${b.error}` : ""}${aadsts ? `: ${aadsts}` : ""}`;
    }
    const headers: Record<string, string> = {};
    ex.headers.forEach((v, k) => (headers[k] = v));
    return { headers, body, status: ex.status };
  }
}

function stripQuery(url: string): string {
  const i = url.indexOf("?");
  return i < 0 ? url : url.slice(0, i);
}

export type ClientCredential =
  | { kind: "secret"; secret: string }
  | { kind: "certificate"; privateKey: string; thumbprintSha256?: string; thumbprintSha1?: string };

export interface TokenSourceOptions {
  authority: string;
  /** Set for authorities MSAL has no built-in metadata for (custom hosts, the simulator). */
  knownAuthorityHost?: string;
  clientId: string;
  credential: ClientCredential;
  /** e.g. https://graph.microsoft.com/.default */
  scope: string;
  transport: Transport;
  log: Logger;
}

export class AuthError extends Error {
  override name = "AuthError";
}

/** Client-credentials tokens from MSAL's in-memory cache; renewed by MSAL before expiry, or on demand after a 401. */
export class TokenSource {
  private readonly cca: ConfidentialClientApplication;
  private readonly network: MsalNetwork;
  private inflight: Promise<string> | undefined;
  private replacing: Promise<string> | undefined;
  private latest: string | undefined;
  /** The tenant GUID from the token's `tid` claim: tenant_id may be configured as a domain name. */
  tenantGuid: string | null = null;
  /** Tokens fetched from the token endpoint (not served from MSAL's cache). */
  acquisitions = 0;

  constructor(private readonly opts: TokenSourceOptions) {
    this.network = new MsalNetwork(opts.transport);
    const c = opts.credential;
    const config: Configuration = {
      auth: {
        clientId: opts.clientId,
        authority: opts.authority,
        knownAuthorities: opts.knownAuthorityHost ? [opts.knownAuthorityHost] : undefined,
        ...(c.kind === "secret"
          ? { clientSecret: c.secret }
          : {
              clientCertificate: {
                privateKey: c.privateKey,
                ...(c.thumbprintSha256 ? { thumbprintSha256: c.thumbprintSha256 } : { thumbprint: c.thumbprintSha1 }),
              },
            }),
      },
      system: {
        networkClient: this.network,
        loggerOptions: {
          logLevel: LogLevel.Warning,
          piiLoggingEnabled: false,
          // MSAL warns on every client-credentials token ("No client info in response"): only its errors deserve a warning.
          loggerCallback: (level, message) => {
            if (level === LogLevel.Error) opts.log.warn({ component: "msal" }, message);
            else opts.log.debug({ component: "msal" }, message);
          },
        },
      },
    };
    this.cca = new ConfidentialClientApplication(config);
  }

  get(): Promise<string> {
    if (this.inflight) return this.inflight;
    const p = this.acquire(false).finally(() => {
      if (this.inflight === p) this.inflight = undefined;
    });
    this.inflight = p;
    return p;
  }

  /**
   * A fresh token after Graph rejected `rejected`. Requests in flight together all fail together:
   * they share one refresh, and a token already replaced is not replaced again.
   */
  async replace(rejected: string): Promise<string> {
    if (this.latest && this.latest !== rejected) return this.latest;
    this.replacing ??= this.acquire(true).finally(() => {
      this.replacing = undefined;
    });
    return this.replacing;
  }

  private async acquire(forceRefresh: boolean): Promise<string> {
    let token: string | undefined;
    try {
      const result = await this.cca.acquireTokenByClientCredential({ scopes: [this.opts.scope], skipCache: forceRefresh });
      token = result?.accessToken;
      if (result && !result.fromCache) this.acquisitions++;
    } catch (err) {
      if (this.opts.transport.signal.aborted) throw this.opts.transport.signal.reason ?? err;
      throw new AuthError(describeMsalError(err, this.network.lastFailure));
    }
    if (!token) throw new AuthError("token request returned no access token");
    this.latest = token;
    this.tenantGuid ??= tenantFromToken(token);
    return token;
  }
}

function describeMsalError(err: unknown, lastFailure: string | undefined): string {
  const e = err as { errorCode?: string; errorMessage?: string; message?: string };
  const raw = (e.errorCode ? e.errorMessage || e.message || "" : (e.message ?? String(err))).replace(/\s+/g, " ").trim();
  // MSAL wraps Entra's error_description in its own framing; keep the AADSTS sentence and the ids support asks for.
  const aadsts = /(AADSTS\d+:.*?)(?= Trace ID:| - Correlation ID:| - Trace ID:|$)/.exec(raw)?.[1]?.trim();
  const trace = /Trace ID: ([0-9a-f-]{36})/i.exec(raw)?.[1];
  const correlation = /Correlation ID: ([0-9a-f-]{36})/i.exec(raw)?.[1];
  const ids = [trace && `trace ID ${trace}`, correlation && `correlation ID ${correlation}`].filter(Boolean).join(", ");
  const detail = aadsts ? `${aadsts}${ids ? ` (${ids})` : ""}` : raw;
  const text = e.errorCode ? `${e.errorCode}: ${detail}` : detail;
  // MSAL folds TLS and connection failures into network_error / endpoints_resolution_error; say what really happened.
  const generic = /^(network_error|endpoints_resolution_error|token_parsing_error|untrusted_authority)\b/.test(text);
  return generic && lastFailure ? `${text} (${lastFailure})` : text;
}

/** Reads `tid` from the access token without verifying it: it came straight from the token endpoint over TLS. */
export function tenantFromToken(token: string): string | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { tid?: unknown };
    return typeof claims.tid === "string" ? claims.tid.toLowerCase() : null;
  } catch {
    return null;
  }
}

// ---- Graph ----

function headerRecord(h: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (h instanceof Headers) h.forEach((v, k) => (out[k] = v));
  else if (Array.isArray(h)) for (const [k, v] of h as [string, string][]) out[k] = v;
  else Object.assign(out, h as Record<string, string>);
  return out;
}

function setAuthorization(headers: Record<string, string>, token: string): void {
  for (const k of Object.keys(headers)) if (k.toLowerCase() === "authorization") delete headers[k];
  headers.Authorization = `Bearer ${token}`;
}

/**
 * The last link of the Graph middleware chain: sends through the Transport (so retries use the shared
 * policy once, instead of stacking the SDK's RetryHandler on top) and turns one 401 into a token refresh.
 */
class TransportHandler implements Middleware {
  constructor(
    private readonly transport: Transport,
    private readonly tokens: TokenSource,
  ) {}

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === "string" ? context.request : context.request.url;
    const method = context.options?.method ?? "GET";
    const headers = headerRecord(context.options?.headers);
    const body = typeof context.options?.body === "string" ? context.options.body : undefined;
    let ex = await this.transport.exchange(url, { method, headers, body });
    if (ex.status === 401) {
      // Entra can end a token before MSAL's clock does (revocation, key roll): one fresh token, one more try.
      const sent = Object.entries(headers).find(([k]) => k.toLowerCase() === "authorization")?.[1] ?? "";
      setAuthorization(headers, await this.tokens.replace(sent.replace(/^Bearer /, "")));
      ex = await this.transport.exchange(url, { method, headers, body });
    }
    const nullBody = ex.status === 204 || ex.status === 205 || ex.status === 304;
    context.response = new Response(nullBody ? null : ex.body, { status: ex.status, headers: ex.headers });
  }

  setNext(): void {
    // terminal handler
  }
}

export interface GraphOptions {
  /** e.g. https://graph.microsoft.com (no version). */
  baseUrl: string;
  transport: Transport;
  tokens: TokenSource;
}

export function createGraphClient(opts: GraphOptions): Client {
  const auth = new AuthenticationHandler({ getAccessToken: () => opts.tokens.get() });
  const telemetry = new TelemetryHandler();
  const terminal = new TransportHandler(opts.transport, opts.tokens);
  auth.setNext(telemetry);
  telemetry.setNext(terminal);
  return Client.initWithMiddleware({
    baseUrl: opts.baseUrl,
    defaultVersion: "v1.0",
    // The Graph client only attaches the token to its own hosts and these; sovereign hosts are built in.
    customHosts: new Set([new URL(opts.baseUrl).hostname]),
    middleware: auth,
  });
}

export class GraphCallError extends Error {
  override name = "GraphCallError";
  constructor(
    readonly endpoint: string,
    readonly status: number,
    readonly code: string,
    readonly graphMessage: string,
    readonly requestId?: string,
    readonly method = "GET",
  ) {
    super(
      `${method} ${endpoint}: ${status > 0 ? `HTTP ${status} ` : ""}${code}: ${graphMessage}${requestId ? ` (request-id ${requestId})` : ""}`,
    );
  }
}

interface CollectionPage<T> {
  value?: T[];
  "@odata.nextLink"?: string;
}

/**
 * Pages of a Graph collection, following @odata.nextLink exactly as given. The next page is requested
 * while the caller handles the current one, so at most two pages are held at a time.
 */
export async function* pages<T>(
  client: Client,
  endpoint: string,
  first: (c: Client) => GraphRequest,
  opts: { origin: string; signal: AbortSignal },
): AsyncGenerator<T[]> {
  const get = async (req: GraphRequest): Promise<CollectionPage<T>> => {
    try {
      return (await req.get()) as CollectionPage<T>;
    } catch (err) {
      if (opts.signal.aborted) throw opts.signal.reason ?? err;
      throw toCallError(endpoint, err);
    }
  };
  let pending: Promise<CollectionPage<T>> | undefined = get(first(client));
  const followed = new Set<string>();
  try {
    while (pending) {
      const page: CollectionPage<T> = await pending;
      pending = undefined;
      // A proxy's HTML page or a JSON body of another shape must not read as an empty (or last) page.
      const raw: unknown = page;
      if (typeof raw !== "object" || raw === null || !Array.isArray(page.value)) {
        throw new GraphCallError(endpoint, 0, "MalformedResponse", `the answer is not a Graph collection (${typeof raw === "string" ? `${raw.length} characters of text` : "no value array"})`);
      }
      // Objects without an id pass on: the mappers quarantine them (mapEach) and the rest of the page is stored.
      const next = page["@odata.nextLink"];
      if (next) {
        // Never send the token somewhere Graph did not come from (the Transport refuses it too).
        try {
          requireOrigin(next, opts.origin, "@odata.nextLink");
        } catch (err) {
          throw new GraphCallError(endpoint, 0, "ForeignOriginError", (err as Error).message);
        }
        // A nextLink already followed would read the same pages again, forever.
        if (followed.has(next)) throw new GraphCallError(endpoint, 0, "PaginationLoop", `@odata.nextLink of page ${followed.size + 2} repeats one already followed`);
        followed.add(next);
        pending = get(client.api(next));
      }
      yield page.value;
    }
  } finally {
    // A consumer that stops early must not leave a rejected prefetch unhandled.
    pending?.catch(() => undefined);
  }
}

export function toCallError(endpoint: string, err: unknown, method = "GET"): Error {
  if (err instanceof GraphCallError) return err;
  if (err instanceof GraphError) {
    const status = err.statusCode ?? -1;
    const code = err.code || (status > 0 ? "HttpError" : "NetworkError");
    const message = (err.message || String(err.body ?? "")).replace(/\s+/g, " ").trim();
    return new GraphCallError(endpoint, status, code, message, err.requestId || undefined, method);
  }
  if (err instanceof AuthError) return err;
  return new GraphCallError(endpoint, -1, (err as Error).name || "Error", (err as Error).message ?? String(err), undefined, method);
}

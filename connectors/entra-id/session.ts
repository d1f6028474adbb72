// One signed-in Graph session for a source: the guarded transport, the MSAL token, the Graph client and a
// pager bound to Graph's origin. The collector and the audit-log reader both start here, so they share one
// trust list, one retry policy and one origin guard.
import type { Logger } from "../../src/connector.js";
import { DEFAULT_RETRY_POLICY } from "../../src/http-policy.js";
import { AuthError, createGraphClient, pages, TokenSource } from "./client.js";
import { loadCredential, type LoadedCredential } from "./credential.js";
import { endpoints, type Endpoints, type EntraOptions } from "./options.js";
import { createAgent, Transport, trustList } from "./transport.js";
import type { GraphRequest, Client } from "@microsoft/microsoft-graph-client";

export interface SessionContext {
  readonly signal: AbortSignal;
  readonly log: Logger;
  countRequest(scope: string, n?: number): void;
  resolveSecret(ref: string, key: string): Promise<string>;
  defer(release: () => unknown): void;
}

export interface GraphSession {
  readonly ep: Endpoints;
  readonly graph: Client;
  readonly tokens: TokenSource;
  readonly credential: LoadedCredential;
  /** Pages of a Graph collection; nextLinks must stay on Graph's origin. */
  list<T>(endpoint: string, first: (c: Client) => GraphRequest): AsyncGenerator<T[]>;
  close(): Promise<void>;
}

/**
 * Opens the session and fetches the first token, so a bad credential fails here with the authority named.
 * The agent is also handed to `ctx.defer`: a hung request must not keep its sockets past the run.
 */
export async function openGraphSession(sourceId: string, o: EntraOptions, ctx: SessionContext, scope: string): Promise<GraphSession> {
  const ep = endpoints(o);
  const agent = createAgent(await trustList(o.ca_file));
  ctx.defer(() => agent.destroy());
  try {
    const transport = new Transport({
      dispatcher: agent,
      origins: [new URL(ep.authority).origin, ep.graphOrigin],
      policy: { ...DEFAULT_RETRY_POLICY, maxAttempts: o.max_retries + 1, timeoutMs: o.request_timeout_ms },
      signal: ctx.signal,
      onRequest: () => ctx.countRequest(scope),
      onRetry: (r) =>
        ctx.log.warn(
          { source: sourceId, scope, url: r.url.split("?")[0], attempt: r.attempt, delayMs: r.delayMs, reason: r.reason },
          "retrying request",
        ),
    });
    const credential = await loadCredential(o, ctx);
    const tokens = new TokenSource({
      authority: ep.authority,
      knownAuthorityHost: ep.knownAuthorityHost,
      clientId: o.client_id,
      credential: credential.credential,
      scope: ep.scope,
      transport,
      log: ctx.log,
    });
    try {
      await tokens.get();
    } catch (err) {
      if (err instanceof AuthError) throw new Error(`token request to ${ep.authority} failed: ${err.message}`);
      throw err;
    }
    const graph = createGraphClient({ baseUrl: ep.graphBaseUrl, transport, tokens });
    return {
      ep,
      graph,
      tokens,
      credential,
      list: <T>(endpoint: string, first: (c: Client) => GraphRequest) => pages<T>(graph, endpoint, first, { origin: ep.graphOrigin, signal: ctx.signal }),
      close: () => agent.close().catch(() => undefined),
    };
  } catch (err) {
    await agent.close().catch(() => undefined);
    throw err;
  }
}

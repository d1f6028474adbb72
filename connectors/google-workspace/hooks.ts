// The transport hooks of one scope's Google clients, from the source's options and the run's context.
import type { Logger } from "../../src/connector.js";
import { DEFAULT_RETRY_POLICY } from "../../src/http-policy.js";
import type { GoogleWorkspaceOptions } from "./options.js";
import type { RateGate, TransportHooks } from "./transport.js";

export interface HookContext {
  readonly signal: AbortSignal;
  readonly log: Logger;
  countRequest(scope: string, n?: number): void;
}

export function hooksFor(scope: string, opts: GoogleWorkspaceOptions, ctx: HookContext, http: typeof globalThis.fetch, gate?: RateGate): TransportHooks {
  return {
    fetch: http,
    scope,
    countRequest: (s) => ctx.countRequest(s),
    signal: ctx.signal,
    log: ctx.log,
    policy: { ...DEFAULT_RETRY_POLICY, timeoutMs: opts.request_timeout_ms },
    tokenUrl: opts.token_url,
    gate,
  };
}

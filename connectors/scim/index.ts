// `type = "scim"`: any application that serves SCIM 2.0 (RFC 7643/7644) — Slack, Zoom, Atlassian and many
// more. One service root is one scope: its users are the app's accounts, its groups, roles and
// entitlements their grants. An app reached over SCIM is not a system of record for people: its accounts
// are checked against the identity providers (orphaned access), never the other way round.
import { collectFetch } from "../../src/collect-fetch.js";
import { defineConnector, type CollectContext, type CollectEvent, type Connector } from "../../src/connector.js";
import { globMatcher } from "../../src/glob.js";
import type { Attributes } from "../../src/model.js";
import { DEFAULT_DEPS, ScimClient, type ClientDeps } from "./client.js";
import { collectScope, type ScopeResult } from "./collect.js";
import { scopeOf, serviceRoot, type ScimOptions } from "./options.js";

export type { ScimOptions } from "./options.js";

export function createScimConnector(sourceId: string, opts: ScimOptions, deps: Partial<ClientDeps> = {}): Connector {
  const root = serviceRoot(opts);
  const scope = scopeOf(opts);
  const label = opts.label ?? `SCIM ${scope}`;
  const settings = {
    scope,
    isAdminGroup: globMatcher(opts.admin_groups),
    isAdminRole: globMatcher(opts.admin_roles),
    pageSize: opts.page_size,
    concurrency: opts.concurrency,
  };
  return {
    type: "scim",
    async *collect(ctx: CollectContext): AsyncIterable<CollectEvent> {
      yield { type: "scope-start", scope, label };
      const fail = (why: string): CollectEvent => ({ type: "scope-failed", scope, error: `source ${sourceId}, SCIM service ${scope}: ${why}` });
      let token: string;
      try {
        token = await ctx.resolveSecret(opts.token, "token");
      } catch (err) {
        yield fail((err as Error).message);
        return;
      }
      const client = new ScimClient(
        {
          root,
          token,
          signal: ctx.signal,
          timeoutMs: opts.request_timeout_seconds * 1000,
          maxRetryAfterMs: opts.max_retry_after_seconds * 1000,
          onRequest: () => ctx.countRequest(scope),
          log: { debug: (o, m) => ctx.log.debug({ scope, ...o }, m), info: (o, m) => ctx.log.info({ scope, ...o }, m), warn: (o, m) => ctx.log.warn({ scope, ...o }, m), error: (o, m) => ctx.log.error({ scope, ...o }, m) },
        },
        // Connections live as long as this collect, unless a test brought its own fetch.
        { ...DEFAULT_DEPS, fetch: collectFetch(ctx), ...deps },
      );
      const meta: Attributes = { api: root };
      const result: ScopeResult = { meta, preserve: [] };
      try {
        for await (const batch of collectScope(client, settings, ctx, result)) yield { type: "records", scope, ...batch };
      } catch (err) {
        yield fail(ctx.signal.aborted ? "aborted" : ((err as Error).message ?? String(err)));
        return;
      }
      yield { type: "scope-end", scope, meta, ...(result.preserve.length ? { preserve: result.preserve } : {}) };
    },
  };
}

export const scimConnector = defineConnector<ScimOptions>({
  create: (sourceId, opts) => createScimConnector(sourceId, opts),
  async demo(dir) {
    const { startScimDemo } = await import("./demo.js");
    return startScimDemo(dir);
  },
});

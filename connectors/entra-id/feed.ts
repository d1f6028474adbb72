// The Entra audit-log reader: `directory` (/auditLogs/directoryAudits) and `signin` (/auditLogs/signIns)
// for the source's one tenant, through the same MSAL + Graph session as the collector. Graph offers only a
// time filter on these logs, so each read asks for everything at or after `since` (the engine's last covered
// time minus its overlap) and the engine drops what it already has by id. The cursor returned is the newest
// event time seen, kept for the record; Graph's own skiptokens are followed within a read but never stored,
// as they expire.
import type { Client, GraphRequest } from "@microsoft/microsoft-graph-client";
import type { AuditEvent, EventFeedReader, FeedContext, FeedEvent, FeedRequest } from "../../src/events/contract.js";
import { mapDirectoryAudit, mapSignIn, type GraphDirectoryAudit, type GraphSignIn } from "./audit-map.js";
import { GraphCallError } from "./client.js";
import type { EntraOptions } from "./options.js";
import { openGraphSession, type GraphSession } from "./session.js";

/** Graph's page ceiling for the audit logs (its default page size too). */
export const AUDIT_PAGE_MAX = 1000;

/** The code Graph answers sign-in log reads with in a tenant without Entra ID P1/P2 (and in B2C tenants). */
export const NON_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";

interface FeedSpec {
  path: string;
  /** The property `$filter … ge` applies to. */
  timeField: string;
  /** Graph's item (checked to have an id by the pager) → event; throws when it cannot be placed in time. */
  map(item: unknown): AuditEvent;
}

const FEEDS = new Map<string, FeedSpec>([
  ["directory", { path: "/auditLogs/directoryAudits", timeField: "activityDateTime", map: (a) => mapDirectoryAudit(a as GraphDirectoryAudit) }],
  ["signin", { path: "/auditLogs/signIns", timeField: "createdDateTime", map: (s) => mapSignIn(s as GraphSignIn) }],
]);

export const ENTRA_FEEDS: readonly string[] = [...FEEDS.keys()];

/** Graph's date literal in $filter: ISO 8601 UTC, unquoted, to the millisecond (a read resumes exactly where the last ended). */
export function filterTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`since: ${JSON.stringify(iso)} is not an ISO 8601 time`);
  return new Date(t).toISOString();
}

function isNonPremium(err: unknown): err is GraphCallError {
  return err instanceof GraphCallError && (err.status === 403 || err.status === 400) && err.code === NON_PREMIUM;
}

export function entraFeedReader(sourceId: string, o: EntraOptions): EventFeedReader {
  const scope = o.tenant_id.toLowerCase();
  const label = `entra-id source "${sourceId}", tenant ${o.tenant_id}`;
  return {
    feeds: ENTRA_FEEDS,
    async *read(ctx: FeedContext, requests: readonly FeedRequest[]): AsyncGenerator<FeedEvent> {
      const mine = requests.filter((r) => r.scope === scope && FEEDS.has(r.feed));
      for (const r of requests) {
        if (mine.includes(r)) continue;
        yield { type: "feed-start", scope: r.scope, feed: r.feed };
        const why = r.scope !== scope ? `this source reads tenant scope ${JSON.stringify(scope)} only` : `feeds are ${ENTRA_FEEDS.join(", ")}`;
        yield { type: "feed-failed", scope: r.scope, feed: r.feed, error: `${label}: no feed ${JSON.stringify(r.feed)} in scope ${JSON.stringify(r.scope)} (${why})` };
      }
      if (mine.length === 0) return;
      let session: GraphSession;
      try {
        session = await openGraphSession(sourceId, o, ctx, scope);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        for (const r of mine) {
          yield { type: "feed-start", scope, feed: r.feed };
          yield { type: "feed-failed", scope, feed: r.feed, error: `${label}: ${(err as Error).message ?? String(err)}` };
        }
        return;
      }
      try {
        // One failing feed must not end the others: each reads on its own and reports its own end.
        for (const r of mine) yield* readFeed(session, FEEDS.get(r.feed)!, r, ctx, label);
      } finally {
        await session.close();
      }
    },
  };
}

async function* readFeed(session: GraphSession, spec: FeedSpec, req: FeedRequest, ctx: FeedContext, label: string): AsyncGenerator<FeedEvent> {
  const { scope, feed } = req;
  yield { type: "feed-start", scope, feed };
  // What this read can vouch for: events logged before it started (later ones are the next poll's).
  const startedAt = new Date().toISOString();
  let newest = req.cursor && !Number.isNaN(Date.parse(req.cursor)) ? new Date(req.cursor).toISOString() : null;
  try {
    const filter = `${spec.timeField} ge ${filterTime(req.since)}`;
    const first = (c: Client): GraphRequest => c.api(spec.path).filter(filter).top(AUDIT_PAGE_MAX);
    for await (const page of session.list<unknown>(spec.path, first)) {
      const events: AuditEvent[] = [];
      for (const item of page) {
        try {
          events.push(spec.map(item));
        } catch (err) {
          // An entry without a usable time cannot be placed in any window; say so rather than drop it silently.
          ctx.log.warn({ scope, feed, id: (item as { id?: unknown }).id ?? null, reason: (err as Error).message }, "audit entry skipped");
        }
      }
      for (const e of events) if (newest === null || e.at > newest) newest = e.at;
      if (events.length > 0) yield { type: "events", scope, feed, events, cursor: newest ?? startedAt };
    }
    yield { type: "feed-end", scope, feed, coveredUntil: startedAt };
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    if (isNonPremium(err)) {
      yield {
        type: "feed-unavailable",
        scope,
        feed,
        reason: `${spec.path} needs Microsoft Entra ID P1 or P2 in this tenant (Graph answered ${err.code}): sign-ins cannot be assessed`,
      };
      return;
    }
    yield { type: "feed-failed", scope, feed, error: `${label}: ${(err as Error).message ?? String(err)}` };
  }
}

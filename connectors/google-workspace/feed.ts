// The Google Workspace audit reader: Reports API activities.list for the `admin`, `login` and `token`
// applications of the source's customer, through @googleapis/admin's reports_v1 client on the same
// instrumented auth as the collector. Its token asks for admin.reports.audit.readonly only, so the
// collector's token (and its delegation) is unchanged when no feed runs. The API filters by time only:
// each read asks for everything at or after `since` and the engine drops what it has by id.
import { admin, type admin_reports_v1 } from "@googleapis/admin";
import { collectFetch } from "../../src/collect-fetch.js";
import type { AuditEvent, EventFeedReader, FeedContext, FeedEvent, FeedRequest } from "../../src/events/contract.js";
import { mapActivity } from "./audit-map.js";
import { createAuth } from "./auth.js";
import { loopGuard } from "./client.js";
import { describeGoogleError, type DelegationContext } from "./errors.js";
import { hooksFor } from "./hooks.js";
import { REPORTS_SCOPE, type GoogleWorkspaceOptions } from "./options.js";
import { RateGate } from "./transport.js";

export const GOOGLE_FEEDS: readonly string[] = ["admin", "login", "token"];

/** activities.list's largest page. */
export const ACTIVITIES_PAGE_MAX = 1000;

export function googleFeedReader(sourceId: string, opts: GoogleWorkspaceOptions): EventFeedReader {
  const scope = opts.customer;
  const label = `source ${sourceId}: Google Workspace customer ${opts.customer}`;
  return {
    feeds: GOOGLE_FEEDS,
    async *read(ctx: FeedContext, requests: readonly FeedRequest[]): AsyncGenerator<FeedEvent> {
      const mine = requests.filter((r) => r.scope === scope && GOOGLE_FEEDS.includes(r.feed));
      for (const r of requests) {
        if (mine.includes(r)) continue;
        yield { type: "feed-start", scope: r.scope, feed: r.feed };
        yield { type: "feed-failed", scope: r.scope, feed: r.feed, error: `${label}: no feed ${JSON.stringify(r.feed)} in scope ${JSON.stringify(r.scope)} (feeds: ${GOOGLE_FEEDS.join(", ")} in scope ${JSON.stringify(scope)})` };
      }
      if (mine.length === 0) return;
      const delegation: DelegationContext = { subject: opts.subject, scopes: [REPORTS_SCOPE], customer: opts.customer };
      let reports: admin_reports_v1.Admin;
      try {
        const keyJson = opts.credentials ? await ctx.resolveSecret(opts.credentials, "credentials") : undefined;
        const gate = new RateGate(opts.requests_per_minute, Math.max(1, Math.floor(opts.requests_per_minute / 20)));
        const auth = await createAuth(
          { keyJson, serviceAccount: opts.service_account, subject: opts.subject, scopes: [REPORTS_SCOPE], iamCredentialsRoot: opts.iam_credentials_url },
          hooksFor(scope, opts, ctx, collectFetch(ctx), gate),
        );
        delegation.clientId = auth.clientId;
        // googleapis-common pins its own google-auth-library copy; the client is the same at runtime.
        const options: admin_reports_v1.Options = { version: "reports_v1", auth: auth.client as unknown as admin_reports_v1.Options["auth"] };
        if (opts.root_url) options.rootUrl = opts.root_url;
        reports = admin(options);
      } catch (err) {
        if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
        for (const r of mine) {
          yield { type: "feed-start", scope, feed: r.feed };
          yield { type: "feed-failed", scope, feed: r.feed, error: `${label}: ${describeGoogleError("Reports API credentials", err, delegation)}` };
        }
        return;
      }
      // One failing feed must not end the others: each reads on its own and reports its own end.
      for (const r of mine) yield* readApplication(reports, r, opts, ctx, label, delegation);
    },
  };
}

async function* readApplication(
  reports: admin_reports_v1.Admin,
  req: FeedRequest,
  opts: GoogleWorkspaceOptions,
  ctx: FeedContext,
  label: string,
  delegation: DelegationContext,
): AsyncGenerator<FeedEvent> {
  const { scope, feed } = req;
  yield { type: "feed-start", scope, feed };
  const startedAt = new Date().toISOString();
  let newest = req.cursor && !Number.isNaN(Date.parse(req.cursor)) ? new Date(req.cursor).toISOString() : null;
  try {
    const since = Date.parse(req.since);
    if (Number.isNaN(since)) throw new Error(`since: ${JSON.stringify(req.since)} is not an ISO 8601 time`);
    const next = loopGuard();
    let pageToken: string | undefined;
    do {
      const res = await reports.activities.list({
        userKey: "all",
        applicationName: feed,
        startTime: new Date(since).toISOString(),
        maxResults: ACTIVITIES_PAGE_MAX,
        pageToken,
        ...(opts.customer !== "my_customer" ? { customerId: opts.customer } : {}),
      });
      const data: unknown = res.data;
      if (typeof data !== "object" || data === null || (res.data.items !== undefined && !Array.isArray(res.data.items))) {
        throw new Error("the answer is not a Reports API activity list");
      }
      const events: AuditEvent[] = [];
      for (const activity of res.data.items ?? []) {
        try {
          events.push(...mapActivity(activity));
        } catch (err) {
          ctx.log.warn({ scope, feed, reason: (err as Error).message }, "activity skipped");
        }
      }
      for (const e of events) if (newest === null || e.at > newest) newest = e.at;
      if (events.length > 0) yield { type: "events", scope, feed, events, cursor: newest ?? startedAt };
      pageToken = next(res.data.nextPageToken);
    } while (pageToken);
    yield { type: "feed-end", scope, feed, coveredUntil: startedAt };
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
    yield { type: "feed-failed", scope, feed, error: `${label}: ${describeGoogleError(`activities.list (${feed})`, err, delegation)}` };
  }
}

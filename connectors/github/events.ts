// The github audit-event feed "audit-log": the organization audit log of every configured org, through the
// same credentials as the collector and the same reader as its last-activity signal (audit-log.ts). It exists
// on Enterprise Cloud and Enterprise Server only; elsewhere the feed is unavailable ("cannot assess"), never
// "nothing happened".
import { collectFetch } from "../../src/collect-fetch.js";
import type { AuditEvent, EventFeedReader, FeedContext, FeedEvent, FeedRequest } from "../../src/events/contract.js";
import { afterCursor, auditLogPages, mapAuditLogEvent, unavailableReason } from "./audit-log.js";
import { DEFAULT_BASE_URL, DEFAULT_DEPS, describeError, type ClientDeps, type GithubClient } from "./client.js";
import { clientMaker, orgClient, resolveGithubSecret, type GithubSecret } from "./connect.js";
import type { GithubOptions } from "./options.js";
import type { GhAuditLogEvent } from "./wire.js";

export const GITHUB_FEEDS = ["audit-log"] as const;

/** Logins looked up (GET /users/{login}) per read to give actors and targets their stored ids; the rest keep the login. */
export const MAX_LOGIN_LOOKUPS = 200;

export interface GithubEventDeps extends ClientDeps {
  now: () => Date;
}

/** Login → node_id (the id whohas stores users under), looked up once per read; unknown logins stay names. */
class LoginResolver {
  private readonly known = new Map<string, string | null>();
  private lookups = 0;

  constructor(
    private readonly client: GithubClient,
    private readonly log: FeedContext["log"],
  ) {}

  async prepare(entries: readonly GhAuditLogEvent[]): Promise<void> {
    const wanted = new Set<string>();
    for (const e of entries) for (const login of [e.actor, e.user]) if (typeof login === "string" && login !== "" && !this.known.has(login.toLowerCase())) wanted.add(login);
    for (const login of wanted) {
      if (this.lookups >= MAX_LOGIN_LOOKUPS) return;
      this.lookups++;
      try {
        const { data } = await this.client.request("GET /users/{username}", { username: login });
        this.known.set(login.toLowerCase(), typeof data.node_id === "string" && data.node_id !== "" ? data.node_id : null);
      } catch (err) {
        const d = describeError(err);
        // A deleted or renamed account: the login is all there is.
        if (d.status !== 404) this.log.warn({ error: d.message }, "github events: a login could not be resolved; the event keeps the login only");
        this.known.set(login.toLowerCase(), null);
      }
    }
  }

  resolve = (login: string): string | undefined => this.known.get(login.toLowerCase()) ?? undefined;
}

export function createGithubEventReader(sourceId: string, opts: GithubOptions, deps: Partial<GithubEventDeps> = {}): EventFeedReader {
  const d: GithubEventDeps = { ...DEFAULT_DEPS, now: () => new Date(), ...deps };
  const baseUrl = (opts.base_url ?? DEFAULT_BASE_URL).replace(/\/+$/, "");

  async function* readOrg(ctx: FeedContext, client: GithubClient, req: FeedRequest): AsyncGenerator<FeedEvent> {
    const { scope, feed } = req;
    const sinceMs = Date.parse(req.since);
    if (Number.isNaN(sinceMs)) throw new Error(`since ${JSON.stringify(req.since)} is not a time`);
    const until = new Date(Math.floor(d.now().getTime() / 1000) * 1000).toISOString();
    const logins = new LoginResolver(client, ctx.log);
    let first = true;
    try {
      for await (const page of auditLogPages(client, scope, { since: new Date(sinceMs), include: "all" })) {
        first = false;
        await logins.prepare(page.items);
        const events: AuditEvent[] = [];
        for (const entry of page.items) {
          try {
            events.push(mapAuditLogEvent(entry, logins.resolve));
          } catch (err) {
            ctx.log.warn({ source: sourceId, org: scope, error: (err as Error).message }, "github events: an audit-log entry could not be read; skipped");
          }
        }
        // The `after` cursor of the next page is where this read stands; the last page's position is the read's end.
        if (events.length > 0) yield { type: "events", scope, feed, events, cursor: afterCursor(page.next) ?? until };
      }
    } catch (err) {
      const reason = first ? unavailableReason(err) : undefined;
      if (reason) {
        yield { type: "feed-unavailable", scope, feed, reason };
        return;
      }
      throw err;
    }
    yield { type: "feed-end", scope, feed, coveredUntil: until };
  }

  return {
    feeds: GITHUB_FEEDS,
    async *read(ctx: FeedContext, requests: readonly FeedRequest[]): AsyncIterable<FeedEvent> {
      const clientDeps: ClientDeps = d.fetch === DEFAULT_DEPS.fetch ? { ...d, fetch: collectFetch(ctx) } : d;
      const clientFor = clientMaker(sourceId, opts, baseUrl, ctx, clientDeps);
      let secret: GithubSecret | undefined;
      let secretError: string | undefined;
      // GitHub asks for serial requests: one org and feed after the other.
      for (const req of requests) {
        const { scope, feed } = req;
        yield { type: "feed-start", scope, feed };
        if (!(GITHUB_FEEDS as readonly string[]).includes(feed)) {
          yield { type: "feed-failed", scope, feed, error: `github has no feed "${feed}" (feeds: ${GITHUB_FEEDS.join(", ")})` };
          continue;
        }
        if (scope.startsWith("instance:")) {
          yield { type: "feed-unavailable", scope, feed, reason: "the audit log is per organization; the Enterprise Server instance scope has none" };
          continue;
        }
        if (!opts.orgs.some((o) => o.toLowerCase() === scope.toLowerCase())) {
          yield { type: "feed-failed", scope, feed, error: `org ${JSON.stringify(scope)} is not one of this source's orgs` };
          continue;
        }
        try {
          if (!secret && !secretError) {
            try {
              secret = await resolveGithubSecret(opts, (ref, key) => ctx.resolveSecret(ref, key));
            } catch (err) {
              secretError = (err as Error).message;
            }
          }
          if (!secret) throw new Error(secretError);
          const client = await orgClient(opts, secret, clientFor, scope);
          yield* readOrg(ctx, client, req);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          yield { type: "feed-failed", scope, feed, error: `source ${sourceId}, github org "${scope}", feed ${feed}: ${describeError(err).message}` };
        }
      }
    },
  };
}

// The aws-iam audit-event feeds: CloudTrail LookupEvents in every account the collector reads, through the
// same credentials (the caller's, or the member role). Feed "iam": event source iam.amazonaws.com, recorded in
// the partition's main Region. Feed "signin": ConsoleLogin (success and failure) in the configured Regions.
// LookupEvents answers newest first, 50 events a page, 90 days back, 2 requests per second per account and
// Region: a limiter per (account, Region) keeps under that quota instead of retrying into it.
import { LookupEventsCommand, type LookupAttribute, type LookupEventsCommandOutput } from "@aws-sdk/client-cloudtrail";
import { paginateListRoles, paginateListUsers } from "@aws-sdk/client-iam";
import pLimit from "p-limit";
import type { AuditEvent, EventFeedReader, FeedContext, FeedEvent, FeedRequest } from "../../src/events/contract.js";
import { AccountError, accountCredentials } from "./account.js";
import { baseCredentials, cloudTrailClient, DEFAULT_REGION, describeAwsError, iamClient, type ClientSettings, type CredentialProvider, type SdkTuning } from "./client.js";
import { resolveCaller, staticKeysOf, type Caller } from "./caller.js";
import type { AwsIamOptions } from "./options.js";
import { EventQueue } from "./queue.js";
import { LOOKUP_EVENTS_RATE, sharedLimiter, type RequestRate, type RequestRateLimiter } from "./request-rate.js";
import { mapTrailEvent, namesToResolve, type LookedUpEvent, type NameIndex } from "./trail-map.js";

export const AWS_FEEDS = ["iam", "signin"] as const;
export type AwsFeed = (typeof AWS_FEEDS)[number];

/** LookupEvents' largest page. */
export const LOOKUP_PAGE_SIZE = 50;
/** How far back LookupEvents reaches. */
export const LOOKUP_HISTORY_DAYS = 90;
const DAY_MS = 86_400_000;

export interface AwsEventTuning extends SdkTuning {
  /** The quota the limiter keeps to (tests scale the window down together with the simulator's). */
  cloudTrailRate?: RequestRate;
  now?: () => number;
}

const ATTRIBUTES: Record<AwsFeed, LookupAttribute> = {
  iam: { AttributeKey: "EventSource", AttributeValue: "iam.amazonaws.com" },
  signin: { AttributeKey: "EventName", AttributeValue: "ConsoleLogin" },
};

function isAwsFeed(feed: string): feed is AwsFeed {
  return (AWS_FEEDS as readonly string[]).includes(feed);
}

/** Everything one read shares across its requests: the caller, per-account credentials, clients and limiters. */
class ReadSession {
  private caller: Promise<Caller> | undefined;
  private readonly credentials = new Map<string, Promise<CredentialProvider>>();
  private readonly names = new Map<string, Promise<NameIndexData>>();

  constructor(
    private readonly opts: AwsIamOptions,
    private readonly settings: ClientSettings,
    private readonly tuning: AwsEventTuning,
    private readonly ctx: FeedContext,
  ) {}

  /** Who the source's credentials are; the requests it takes are charged to the first account that needed it. */
  private callerOf(chargeTo: string): Promise<Caller> {
    this.caller ??= (async () => {
      const keys = await staticKeysOf(this.opts, (ref, key) => this.ctx.resolveSecret(ref, key));
      return resolveCaller(this.opts, this.settings, baseCredentials(keys, this.opts.profile), () => this.ctx.countRequest(chargeTo), this.ctx.signal, this.opts.role_session_name);
    })();
    return this.caller;
  }

  credentialsFor(account: string): Promise<CredentialProvider> {
    let p = this.credentials.get(account);
    if (!p) {
      p = (async () => {
        const caller = await this.callerOf(account);
        const { credentials } = await accountCredentials(account, {
          settings: this.settings,
          partition: this.opts.partition,
          callerAccount: caller.callerAccount,
          callerCredentials: caller.callerCredentials,
          memberRoleName: this.opts.member_role_name,
          memberExternalId: this.opts.member_external_id,
          sessionName: this.opts.role_session_name,
          signal: this.ctx.signal,
          count: () => this.ctx.countRequest(account),
        });
        return credentials;
      })();
      this.credentials.set(account, p);
    }
    return p;
  }

  /**
   * The limiter of this account and Region: shared with every other read in the process against the same
   * CloudTrail endpoint, because the quota counts them all.
   */
  limiter(account: string, region: string): RequestRateLimiter {
    const endpoint = this.opts.endpoints?.cloudtrail ?? `aws:${this.opts.partition}`;
    return sharedLimiter(`${endpoint}|${account}|${region}`, this.tuning.cloudTrailRate ?? LOOKUP_EVENTS_RATE);
  }

  /**
   * User and role names → stored ids, loaded once per account and only when a page names a user or role
   * without its id (ListUsers / ListRoles, 1000 a page). Without it, targets carry the name alone.
   */
  nameIndex(account: string, credentials: CredentialProvider): Promise<NameIndexData> {
    let p = this.names.get(account);
    if (!p) {
      p = (async () => {
        const iam = iamClient(this.settings, credentials, () => this.ctx.countRequest(account));
        const data: NameIndexData = { users: new Map(), roles: new Map() };
        try {
          for await (const page of paginateListUsers({ client: iam, pageSize: 1000 }, {})) for (const u of page.Users ?? []) if (u.UserName && u.UserId) data.users.set(u.UserName, u.UserId);
          for await (const page of paginateListRoles({ client: iam, pageSize: 1000 }, {})) for (const r of page.Roles ?? []) if (r.RoleName && r.RoleId) data.roles.set(r.RoleName, r.RoleId);
        } catch (err) {
          if (this.ctx.signal.aborted) throw err;
          this.ctx.log.warn({ account, error: describeAwsError(err) }, "aws-iam events: users and roles could not be listed; event targets carry names only");
        }
        return data;
      })();
      this.names.set(account, p);
    }
    return p;
  }
}

interface NameIndexData {
  users: Map<string, string>;
  roles: Map<string, string>;
}

const NO_NAMES: NameIndex = { user: () => undefined, role: () => undefined };

export function createAwsIamEventReader(sourceId: string, opts: AwsIamOptions, tuning: AwsEventTuning = {}): EventFeedReader {
  const now = tuning.now ?? Date.now;
  // IAM is global and records its events in the partition's main Region.
  const mainRegion = DEFAULT_REGION[opts.partition]!;
  const regionsOf = (feed: AwsFeed) => (feed === "iam" ? [mainRegion] : (opts.signin_regions ?? [mainRegion]));

  async function* readOne(session: ReadSession, ctx: FeedContext, settings: ClientSettings, req: FeedRequest & { feed: AwsFeed }): AsyncGenerator<FeedEvent> {
    const { scope, feed } = req;
    const endMs = now();
    const sinceMs = Date.parse(req.since);
    if (Number.isNaN(sinceMs)) throw new AccountError(`since ${JSON.stringify(req.since)} is not a time`);
    // LookupEvents has 90 days; asking for more is refused (InvalidTimeRangeException).
    const startMs = Math.max(sinceMs, endMs - LOOKUP_HISTORY_DAYS * DAY_MS);
    const until = new Date(Math.floor(endMs / 1000) * 1000);
    const cursor = until.toISOString();
    const credentials = await session.credentialsFor(scope);
    let names: NameIndex = NO_NAMES;
    for (const region of regionsOf(feed)) {
      const client = cloudTrailClient({ ...settings, region }, region, credentials, () => ctx.countRequest(scope), session.limiter(scope, region), ctx.signal);
      let token: string | undefined;
      const followed = new Set<string>();
      do {
        let page: LookupEventsCommandOutput;
        try {
          page = await client.send(
            new LookupEventsCommand({
              LookupAttributes: [ATTRIBUTES[feed]],
              // CloudTrail's times are whole seconds: round the start down so nothing at its second is missed.
              StartTime: new Date(Math.floor(startMs / 1000) * 1000),
              EndTime: until,
              MaxResults: LOOKUP_PAGE_SIZE,
              ...(token ? { NextToken: token } : {}),
            }),
            { abortSignal: ctx.signal },
          );
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          throw new AccountError(`cloudtrail:LookupEvents in ${region} failed: ${describeAwsError(err)}`);
        }
        if (!Array.isArray(page.Events)) throw new AccountError(`cloudtrail:LookupEvents in ${region}: the answer has no Events list (HTTP ${page.$metadata.httpStatusCode ?? "?"})`);
        const items = page.Events as LookedUpEvent[];
        const wanted = namesToResolve(items);
        if (names === NO_NAMES && (wanted.users || wanted.roles)) {
          const data = await session.nameIndex(scope, credentials);
          names = { user: (n) => data.users.get(n), role: (n) => data.roles.get(n) };
        }
        const events: AuditEvent[] = [];
        for (const item of items) {
          try {
            events.push(mapTrailEvent(item, { accountId: scope, partition: opts.partition, names }));
          } catch (err) {
            // One odd record must not stop the feed; it is named (never its content) so it can be looked up.
            ctx.log.warn({ source: sourceId, account: scope, feed, region, error: (err as Error).message }, "aws-iam events: a CloudTrail record could not be read; skipped");
          }
        }
        if (events.length > 0) yield { type: "events", scope, feed, events, cursor };
        token = page.NextToken;
        if (token !== undefined && followed.has(token)) throw new AccountError(`cloudtrail:LookupEvents in ${region}: a NextToken repeats an earlier page's (pagination loop)`);
        if (token !== undefined) followed.add(token);
      } while (token);
    }
    yield { type: "feed-end", scope, feed, coveredUntil: cursor };
  }

  return {
    feeds: AWS_FEEDS,
    async *read(outer: FeedContext, requests: readonly FeedRequest[]): AsyncIterable<FeedEvent> {
      // Stopped early by the consumer: the workers still talking to AWS stop too.
      const stop = new AbortController();
      const signal = AbortSignal.any([outer.signal, stop.signal]);
      const ctx: FeedContext = {
        sourceId: outer.sourceId,
        signal,
        ...(outer.deadlineAt !== undefined ? { deadlineAt: outer.deadlineAt } : {}),
        log: outer.log,
        countRequest: (scope, n) => outer.countRequest(scope, n),
        resolveSecret: (ref, key) => outer.resolveSecret(ref, key),
        defer: (release) => outer.defer(release),
      };
      const settings: ClientSettings = {
        region: opts.region ?? mainRegion,
        endpoints: opts.endpoints ?? {},
        maxAttempts: opts.max_attempts,
        requestTimeoutMs: opts.request_timeout_ms,
        tuning,
        release: (destroy) => ctx.defer(destroy),
      };
      const session = new ReadSession(opts, settings, tuning, ctx);
      const queue = new EventQueue<FeedEvent>(8);
      // Accounts run side by side (each has its own quota); the feeds of one account one after the other.
      const byScope = new Map<string, FeedRequest[]>();
      for (const r of requests) byScope.set(r.scope, [...(byScope.get(r.scope) ?? []), r]);
      const limit = pLimit(opts.concurrency);
      const runScope = async (list: FeedRequest[]) => {
        for (const req of list) {
          if (ctx.signal.aborted) return;
          const { scope, feed } = req;
          await queue.push({ type: "feed-start", scope, feed });
          if (!isAwsFeed(feed)) {
            await queue.push({ type: "feed-failed", scope, feed, error: `aws-iam has no feed "${feed}" (feeds: ${AWS_FEEDS.join(", ")})` });
            continue;
          }
          if (!/^\d{12}$/.test(scope)) {
            await queue.push({ type: "feed-failed", scope, feed, error: `scope ${JSON.stringify(scope)} is not an AWS account id` });
            continue;
          }
          try {
            for await (const ev of readOne(session, ctx, settings, { ...req, feed })) await queue.push(ev);
          } catch (err) {
            if (ctx.signal.aborted) return;
            const message = err instanceof AccountError ? err.message : err instanceof Error ? err.message : String(err);
            await queue.push({ type: "feed-failed", scope, feed, error: `source ${sourceId}, account ${scope}, feed ${feed}: ${message}` });
          }
        }
      };
      void Promise.all([...byScope.values()].map((list) => limit(() => runScope(list)))).then(
        () => queue.close(),
        (err: unknown) => queue.fail(err),
      );
      try {
        for await (const ev of queue) yield ev;
      } finally {
        stop.abort();
        queue.close();
      }
      if (outer.signal.aborted) throw outer.signal.reason ?? new Error("aborted");
    },
  };
}

// The audit-event contract: what a connector's event feed reader yields, and what the engine gives it.
// The engine (src/events/) owns cursors, the overlap window, de-duplication, storage and feed health;
// a reader only turns the provider's audit log into AuditEvents, page by page. Nothing here names a provider.
import type { Attributes } from "../model.js";
import type { Logger } from "../connector.js";

/** whohas's normalized action vocabulary; the provider's own event name is kept beside it. */
export const EVENT_ACTIONS = [
  "account.create",
  "account.delete",
  "account.disable",
  "account.enable",
  "account.update",
  "grant.add",
  "grant.remove",
  "credential.create",
  "credential.delete",
  "credential.disable",
  "credential.enable",
  "mfa.enable",
  "mfa.disable",
  "signin.success",
  "signin.failure",
  "other",
] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];

export const ACTOR_KINDS = ["person", "app", "service", "provider", "unknown"] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export const EVENT_OUTCOMES = ["success", "failure", "unknown"] as const;
export type EventOutcome = (typeof EVENT_OUTCOMES)[number];

export interface AuditEvent {
  /** The provider's own event id; with (source, scope, feed) the de-duplication key. */
  id: string;
  /** When it happened, ISO 8601 UTC. */
  at: string;
  action: EventAction;
  /** The provider's event name, exactly: "AttachUserPolicy", "Add member to role", "GRANT_ADMIN_PRIVILEGE", "org.add_member". */
  providerAction: string;
  outcome: EventOutcome;
  /** Who did it. `id` is the provider's stable id where it gives one (so it can be joined to stored principals). */
  actor: { id?: string | null; name?: string | null; kind: ActorKind };
  /**
   * What it was done to, in the ids whohas stores: `principalId` as the connector stores principals,
   * `privilege` as it stores grants, `credentialId` as it stores credentials. Unknown parts are left out.
   */
  target?: { principalId?: string | null; name?: string | null; privilege?: string | null; credentialId?: string | null };
  ip?: string | null;
  userAgent?: string | null;
  /** Provider detail worth keeping (errorCode, riskLevel, mfaUsed, modified properties); never a secret. */
  details?: Attributes;
}

/** What a reader yields while it reads one (scope, feed). */
export type FeedEvent =
  | { type: "feed-start"; scope: string; feed: string }
  /**
   * A page of events and the cursor that follows it. The engine stores the events and the cursor in one
   * transaction, so a crash between pages neither skips nor doubles an event.
   */
  | { type: "events"; scope: string; feed: string; events: AuditEvent[]; cursor: string }
  /** The feed was read up to `coveredUntil` (ISO): "nothing happened" is a claim about this window only. */
  | { type: "feed-end"; scope: string; feed: string; coveredUntil: string }
  /** The provider does not offer this feed here (licence, plan, product): "cannot assess", never "no events". */
  | { type: "feed-unavailable"; scope: string; feed: string; reason: string }
  | { type: "feed-failed"; scope: string; feed: string; error: string };

export interface FeedRequest {
  scope: string;
  feed: string;
  /** The cursor the reader last returned for this (scope, feed), or null on the first poll. */
  cursor: string | null;
  /**
   * Read events at or after this instant (ISO): the last covered time minus the overlap window for the
   * provider's delivery lag, or the configured look-back on the first poll. Readers whose provider offers
   * only a time filter use this; readers with a real cursor may prefer `cursor`. Duplicates are dropped by id.
   */
  since: string;
}

export interface FeedContext {
  readonly sourceId: string;
  readonly signal: AbortSignal;
  /** Epoch ms at which `signal` aborts for the poll's deadline (as CollectContext.deadlineAt). */
  readonly deadlineAt?: number;
  readonly log: Logger;
  countRequest(scope: string, n?: number): void;
  resolveSecret(ref: string, key: string): Promise<string>;
  defer(release: () => unknown): void;
}

export interface EventFeedReader {
  /** Feed names this reader offers, e.g. ["iam", "signin"]; each is read per scope. */
  readonly feeds: readonly string[];
  /** Reads what is new in each requested (scope, feed); one failing feed must not end the others. */
  read(ctx: FeedContext, requests: readonly FeedRequest[]): AsyncIterable<FeedEvent>;
}

/** Documentation of a feed, cheap enough for the descriptor: permissions, costs, retention. */
export interface FeedDoc {
  feed: string;
  description: string;
  /** The extra permission / scope / licence the feed needs, in the provider's own terms. */
  permissions: string;
  /** How far back the provider keeps events, e.g. "90 days". */
  retention: string;
  /** The feed records sign-ins only (no changes): its coverage never vouches that a change was logged. */
  signInsOnly?: boolean;
}

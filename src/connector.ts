// The connector contract: what a provider folder under connectors/ implements, and what the
// collect engine gives it. Nothing here names a provider.
import type { z } from "zod";
import type { Attributes, Credential, Grant, Principal, RoleDefinition } from "./model.js";
import type { QuarantineNote, RecordTable } from "./store/validate.js";
import type { EventFeedReader, FeedDoc } from "./events/contract.js";
import type { ActionDoc, Remediator } from "./remediate/contract.js";

/**
 * A connector reports per *scope* (an AWS account, an Entra tenant, a Google customer, a GitHub org).
 * Each scope starts, delivers records in batches, and ends ok or failed. A failed scope keeps its
 * previously stored state untouched: a provider outage never looks like removed accounts.
 */
export type CollectEvent =
  | { type: "scope-start"; scope: string; label?: string }
  | {
      type: "records";
      scope: string;
      principals?: Principal[];
      credentials?: Credential[];
      grants?: Grant[];
      /** What the privileges of these (or earlier) grants permit: one definition per privilege held. */
      roles?: RoleDefinition[];
    }
  /** A record that could not be mapped, in the order of the other events (for connectors that queue events). */
  | { type: "quarantine"; scope: string; note: QuarantineNote }
  | { type: "scope-end"; scope: string; meta?: Attributes; preserve?: PreserveSelector[] }
  | { type: "scope-failed"; scope: string; error: string };

/**
 * A family of records the connector could not read this run although the scope as a whole succeeded
 * (a listing refused for this token, a feature the org does not have). Stored versions matching it are kept
 * as they were instead of being closed as removed. All given fields must match.
 */
export interface PreserveSelector {
  table: "principals" | "credentials" | "grants" | "roles";
  /** Principal, credential or role kind. */
  kind?: string;
  /** Principal or credential status. */
  status?: string;
  idPrefix?: string;
  /** Grants only. */
  privilegePrefix?: string;
  /** Grants only: direct, group, inherited, eligible. */
  via?: string;
  /** Why, for the scope's meta and the logs. */
  reason: string;
}

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CollectContext {
  /** Configured source id, e.g. "aws-prod". */
  readonly sourceId: string;
  readonly signal: AbortSignal;
  /**
   * Epoch ms at which `signal` aborts for the source's deadline. A connector told to wait longer than that (a
   * rate limit resetting in an hour) gives up at once with the reason, instead of sleeping into the timeout.
   */
  readonly deadlineAt?: number;
  readonly log: Logger;
  /** Count provider requests (including retries) against a scope; stored with the scope's run. */
  countRequest(scope: string, n?: number): void;
  /**
   * Resolve a secret reference (`env:NAME` / `file:/path`) named by its config key, e.g. "client_secret".
   * Errors name the key and the reference, never the value.
   */
  resolveSecret(ref: string, key: string): Promise<string>;
  /**
   * Registers what to release when this source's collect ends, however it ends (done, failed, timed out,
   * aborted): SDK clients (`destroy()`), HTTP agents (`close()`). The engine runs them, newest first, so a
   * connector that creates a client per collect cannot leave its sockets open.
   */
  defer(release: () => unknown): void;
  /**
   * A record that could not be mapped: the engine notes it (never the record) and keeps the record's stored
   * version; the scope ends "partial". Connectors normally go through `mapEach`.
   */
  quarantine(scope: string, note: QuarantineNote): void;
}

/** What a connector knows of a provider item it could not map; unknown parts are left out. */
export type ItemIdentity = Omit<QuarantineNote, "table" | "reason">;

/**
 * Maps provider items one at a time. An item whose mapping throws is quarantined in `scope` and the others are
 * returned: one odd record never takes its scope down. `identify` says what is known of an item without
 * mapping it (the id the record would be stored under, its holder, its kind); without it the whole family of
 * records is kept as stored. A map returning null or undefined skips the item on purpose.
 */
export function mapEach<T, R>(
  ctx: Pick<CollectContext, "quarantine">,
  scope: string,
  table: RecordTable,
  items: Iterable<T>,
  map: (item: T) => R | null | undefined,
  identify?: (item: T) => ItemIdentity,
): R[] {
  const out: R[] = [];
  for (const item of items) {
    let r: R | null | undefined;
    try {
      r = map(item);
    } catch (err) {
      let known: ItemIdentity = {};
      try {
        known = identify?.(item) ?? {};
      } catch {
        // An item that cannot even be identified is quarantined as such: its whole family is kept.
      }
      ctx.quarantine(scope, { ...known, table, reason: `could not be mapped: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    if (r !== null && r !== undefined) out.push(r);
  }
  return out;
}

export interface Connector {
  readonly type: string;
  collect(ctx: CollectContext): AsyncIterable<CollectEvent>;
}

/** What a running demo simulator gives `whohas demo`: a source's options and a way to change the tenant. */
export interface DemoSetup {
  /** Options for the `[[sources]]` entry (without id/type/enabled); secret refs may point at files in `dir`. */
  options: Record<string, unknown>;
  /** Environment variables the source needs (e.g. the secret referenced as env:NAME). */
  env?: Record<string, string>;
  /** Change the simulated tenant between the demo's two collects: new admin, removed account, unused key, leaver. */
  mutate(): Promise<void> | void;
  /**
   * The demo's third step (plan → apply → collect → undo): the source's `remediate` block (credentials of its
   * own, never the collector's; env in `env`) and `[[remediate]]` entries for it (their `sources` is filled in).
   */
  remediate?: {
    block: Record<string, unknown>;
    entries: Record<string, unknown>[];
    /** Before the collect after apply: let provider caches catch up (AWS rebuilds its credential report at most every 4 h). */
    refresh?(): void;
  };
  close(): Promise<void>;
}

/**
 * The cheap half of a connector: what config loading, check-config, the rules and the docs need. Importing it
 * must not import the provider's SDK or simulator (a test holds every command but collect/demo to that);
 * `load()` brings in the implementation when a source of this type runs or the demo starts it.
 */
export interface ConnectorDescriptor<Options = unknown> {
  readonly type: string;
  /** One line for `whohas check-config` and docs. */
  readonly description: string;
  /**
   * True for systems of record about people (Entra ID, Google Workspace, HR exports): an account suspended,
   * disabled or gone there means the person left, so their access elsewhere is orphaned.
   */
  readonly identityProvider?: boolean;
  /** Strict zod schema of the source's own keys (everything except id, type, enabled, policy). */
  readonly options: z.ZodType<Options>;
  /** The audit-log feeds the connector can read (see src/events/contract.ts); absent: none. */
  readonly feeds?: readonly FeedDoc[];
  /** The remediation actions it can take, with their extra permissions (see src/remediate/contract.ts). */
  readonly actions?: readonly ActionDoc[];
  /**
   * Option keys that choose the credentials besides secret references (which always count): a profile, a role
   * to assume, an app id. A source's `remediate` block never inherits these or any secret reference from the
   * collector's options, and may not repeat the collector's values for them.
   */
  readonly credentialKeys?: readonly string[];
  load(): Promise<ConnectorImplementation<Options>>;
}

/** The expensive half, in the module `load()` imports: it may import the SDK. */
export interface ConnectorImplementation<Options = unknown> {
  create(sourceId: string, options: Options): Connector;
  /** Starts a loopback simulator seeded for the demo; `dir` is a private temp directory. Import the simulator lazily. */
  demo?(dir: string): Promise<DemoSetup>;
  /** The audit-log reader, built from the same options (and credentials) as the collector. */
  events?(sourceId: string, options: Options): EventFeedReader;
  /**
   * The remediator, built from the source's options with its `remediate` block's credentials merged over
   * them: never the collector's credentials.
   */
  remediator?(sourceId: string, options: Options): Remediator;
}

/** Every connector type whohas knows; built once in connectors/index.ts and passed to whoever needs it. */
export type ConnectorRegistry = readonly ConnectorDescriptor<any>[];

/** Keeps the option type of each descriptor checked while the registry holds descriptors of different types. */
export function describeConnector<O>(descriptor: ConnectorDescriptor<O>): ConnectorDescriptor<O> {
  return descriptor;
}

export function defineConnector<O>(implementation: ConnectorImplementation<O>): ConnectorImplementation<O> {
  return implementation;
}

// The records the store's readers hand out, defined outside the store so that the renderers (src/report)
// can name them without importing a store module: the store fills them, everything else reads them.
import type { ActorKind, EventAction, EventOutcome } from "./events/contract.js";
import type { AccessLevel, Activity, Attributes, CredentialKind, CredentialStatus, GrantVia, MfaState, PrincipalKind, PrincipalStatus, RoleDefinition } from "./model.js";

export interface RunRow {
  id: number;
  startedAt: string;
  finishedAt: string | null;
  status: "running" | "ok" | "partial" | "failed";
  trigger: string;
  error: string | null;
  digest: string | null;
}

export interface ScopeRunRow {
  runId: number;
  sid: number;
  source: string;
  sourceType: string;
  scope: string;
  label: string | null;
  /** "partial": the scope completed but some records were quarantined (its data still counts as of this run). */
  status: "running" | "ok" | "partial" | "failed";
  startedAt: string;
  finishedAt: string | null;
  requests: number;
  principals: number;
  credentials: number;
  grants: number;
  error: string | null;
  meta: Attributes | null;
  /** Records that could not be mapped or stored (see quarantineOf). */
  quarantined: number;
  /** Holders of grants or credentials no listing of the scope returned. */
  unresolved: number;
}

export interface GrantView {
  privilege: string;
  level: Exclude<AccessLevel, "none">;
  scope: string;
  via: GrantVia;
  attributes: Attributes | null;
  /** When this grant (in this form) was first collected: the start of the run its version opened in. */
  since: string | null;
}

export interface CredentialView {
  id: string;
  principalId: string;
  kind: CredentialKind;
  name: string | null;
  status: CredentialStatus;
  createdAt: string | null;
  expiresAt: string | null;
  lastUsed: Activity;
  attributes: Attributes | null;
}

export interface PrincipalView {
  source: string;
  sourceType: string;
  scope: string;
  id: string;
  kind: PrincipalKind;
  name: string;
  email: string | null;
  displayName: string | null;
  status: PrincipalStatus;
  mfa: MfaState;
  createdAt: string | null;
  /** The stronger of what the provider states and what the principal's grants give. */
  accessLevel: AccessLevel;
  lastActive: Activity;
  grants: GrantView[];
  credentials: CredentialView[];
  attributes: Attributes | null;
}

export interface RoleHolder {
  id: string;
  /** The principal's name as of the run, or its id when no principal row holds it. */
  name: string;
  via: GrantVia[];
  /** Where the grants apply (repositories, org units, directory scopes), in order. */
  grantScopes: string[];
}

/** A stored definition (or a held privilege without one) with where it was collected and who holds it. */
export interface RoleView extends Omit<RoleDefinition, "id" | "holderId" | "attributes"> {
  source: string;
  sourceType: string;
  scope: string;
  /** The definition's provider id; null when no definition was collected for the privilege. */
  id: string | null;
  holderId: string | null;
  attributes: Attributes | null;
  /** When this form of the definition was first collected. */
  since: string | null;
  holders: RoleHolder[];
}

/** A catalogue entry without its holder list: how many hold it and the first of them in name order. */
export interface RoleSummary extends Omit<RoleView, "holders"> {
  holderCount: number;
  /** At most the catalogue's `keep` holders, in holder order; all of them when holderCount is no more. */
  firstHolders: RoleHolder[];
}

export type FeedStatus = "polling" | "ok" | "unavailable" | "failed";

export interface FeedStateRow {
  source: string;
  sourceType: string;
  scope: string;
  sid: number;
  feed: string;
  cursor: string | null;
  coveredFrom: string | null;
  coveredUntil: string | null;
  status: FeedStatus;
  reason: string | null;
  rejected: number;
  lastPollAt: string;
  lastOkAt: string | null;
}

export interface StoredEvent {
  source: string;
  sourceType: string;
  scope: string;
  feed: string;
  id: string;
  at: string;
  action: EventAction;
  providerAction: string;
  outcome: EventOutcome;
  actor: { id: string | null; name: string | null; kind: ActorKind };
  target: { principalId: string | null; name: string | null; privilege: string | null; credentialId: string | null };
  ip: string | null;
  userAgent: string | null;
  details: Attributes | null;
}

export interface VersionSpan {
  table: "principals" | "grants" | "credentials";
  id: string;
  fromRun: number;
  fromAt: string;
  toRun: number | null;
  toAt: string | null;
  values: Record<string, unknown>;
}

/**
 * Where a large text table keeps its rows until it writes them (src/store/spill.ts opens one; TextTable, which
 * reads no store, is handed it by the command).
 */
export interface RowSpill {
  add(key: string, row: string): void;
  /** Every row added: by key (JS string order, as `<` compares) with ties in the order added, or all in the order added. */
  rows(order: "key" | "added"): Iterable<string>;
  /** Frees the rows (deletes the temporary database); called once, also when the output failed. */
  close(): void;
}

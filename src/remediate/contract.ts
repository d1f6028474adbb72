// The remediation contract: what a connector's remediator does for one action, and what the engine gives it.
// The engine (src/remediate/) owns plans, policy, approval, staleness, the blast-radius cap, concurrency and
// the actions table; a remediator only reads and changes one target at its provider. Nothing here names a provider.
import type { Attributes, CredentialKind, PrincipalKind } from "../model.js";
import type { Logger } from "../connector.js";

export const ACTION_TYPES = [
  /** AWS access key → Inactive (undo: Active). */
  "deactivate-access-key",
  /** AWS user or role: attach AWSDenyAll (undo: detach). */
  "quarantine-principal",
  /** AWS: remove a user from a group (undo: add back). */
  "remove-group-member",
  /** Entra: accountEnabled=false + revokeSignInSessions; Google: suspend (undo: enable / unsuspend). */
  "disable-account",
  /** Entra directory role assignment, Google admin role assignment (undo: re-create). */
  "remove-role-assignment",
  /** GitHub org member or outside collaborator (undo: re-invite with the same role and teams). */
  "remove-org-member",
  /** GitHub fine-grained PAT's access to the org. Irreversible: needs its own explicit opt-in. */
  "revoke-token",
  /** A system without an API (file): a task for its owner, checked by the next import. */
  "task",
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** What the action is aimed at, in the ids and names whohas stored (the remediator maps them to API calls). */
export interface ActionTarget {
  scope: string;
  principal: { id: string; name: string; kind: PrincipalKind; attributes: Attributes };
  credential?: { id: string; kind: CredentialKind; name?: string | null; attributes: Attributes };
  grant?: { privilege: string; scope: string; attributes: Attributes };
}

export interface ActionRequest {
  type: ActionType;
  target: ActionTarget;
}

/**
 * The target's state at the provider now. `ready`: as planned, the action would change it; `already-done`:
 * nothing to change (apply is idempotent); `changed`: it differs from what the plan was computed from
 * (skip and report); `gone`: it no longer exists.
 */
export interface ObservedState {
  state: "ready" | "already-done" | "changed" | "gone";
  detail: string;
  /**
   * With already-done: what undo would need to restore the state before the action, when the read (and the
   * stored target) tell it. The engine keeps it when it reconciles an action whose write a crash left unknown
   * (apply had read "ready" just before sending): without it that action is done but cannot be undone.
   */
  undo?: Attributes;
}

/** Stores undo data with an action whose write is about to be sent (see Remediator.apply). */
export type RecordUndo = (undo: Attributes) => void;

export interface ApplyResult {
  status: "done" | "already-done";
  /** What undo needs to restore the target exactly (previous role, teams, status); stored with the action. */
  undo: Attributes;
  /** The provider's answer in brief (status code, request id), for the actions table. Never a secret. */
  answer: string;
}

export interface UndoResult {
  status: "done" | "already-done";
  answer: string;
}

export interface RemediationContext {
  readonly sourceId: string;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Counts provider requests (reads and writes), so tests and the closing numbers can hold it to the minimum. */
  countRequest(scope: string, n?: number): void;
  resolveSecret(ref: string, key: string): Promise<string>;
  defer(release: () => unknown): void;
}

export interface Remediator {
  readonly supports: readonly ActionType[];
  /** One read: the target's current state (the re-check before apply; reconciling an action a crash left unknown). */
  inspect(ctx: RemediationContext, request: ActionRequest): Promise<ObservedState>;
  /**
   * One write (or the provider's minimum); throws on a refusal, with the provider's message. A remediator whose
   * undo data cannot be read back after the write (a removed assignment's role and scope, a removed member's
   * role and teams) hands it to `recordUndo` just before sending the write: the engine stores it with the
   * in-flight action, so an action a crash leaves unknown can still be undone once --resume reconciles it.
   */
  apply(ctx: RemediationContext, request: ActionRequest, recordUndo?: RecordUndo): Promise<ApplyResult>;
  undo(ctx: RemediationContext, request: ActionRequest, undo: Attributes): Promise<UndoResult>;
}

/** Documentation of an action, cheap enough for the descriptor: the exact extra permissions it needs. */
export interface ActionDoc {
  type: ActionType;
  description: string;
  /** In the provider's own terms: "iam:UpdateAccessKey", "User.EnableDisableAccount.All", … */
  permissions: readonly string[];
  reversible: boolean;
  undo: string;
}

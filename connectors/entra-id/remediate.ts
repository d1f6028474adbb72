// Remediation in an Entra tenant through Microsoft Graph: disable an account (and revoke its sessions), remove a
// directory role assignment. Same MSAL + Graph client + Transport as the collector, signed in as the app
// registration of the source's `remediate` block (its credentials arrive merged over the source's options).
import type { Client } from "@microsoft/microsoft-graph-client";
import type { Attributes } from "../../src/model.js";
import { RecentReads } from "../../src/remediate/recent-reads.js";
import type {
  ActionRequest,
  ActionType,
  ApplyResult,
  ObservedState,
  RecordUndo,
  RemediationContext,
  Remediator,
  UndoResult,
} from "../../src/remediate/contract.js";
import { GraphCallError, toCallError } from "./client.js";
import type { EntraOptions } from "./options.js";
import { ENTRA_ACTIONS } from "./remediate-actions.js";
import { openGraphSession } from "./session.js";

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Role assignment ids are opaque base64url strings with a suffix ("…-1"). */
const ASSIGNMENT_ID = /^[A-Za-z0-9_-]{1,200}$/;
/** Graph's answer to creating an assignment that already exists. */
const CONFLICT = /conflicting object/i;

interface UserRead {
  id: string;
  accountEnabled: boolean | null;
  userPrincipalName: string | null;
}

interface AssignmentRead {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  directoryScopeId: string;
}

type Read = { kind: "user"; user: UserRead | null } | { kind: "assignment"; assignment: AssignmentRead | null };

/** A target this remediator will not act on, or a state it will not write over; the message says which. */
export class EntraRemediationError extends Error {
  override name = "EntraRemediationError";
}

export function createEntraRemediator(sourceId: string, o: EntraOptions): Remediator {
  const scope = o.tenant_id.toLowerCase();
  // One Graph session per engine context: its connections close with the context (ctx.defer).
  const sessions = new WeakMap<RemediationContext, Promise<Client>>();
  const recent = new RecentReads<Read>();

  const graphFor = (ctx: RemediationContext): Promise<Client> => {
    let s = sessions.get(ctx);
    if (!s) {
      s = openSession(ctx);
      sessions.set(ctx, s);
      // A failed sign-in is not cached: the next action tries again (and reports its own error).
      s.catch(() => sessions.delete(ctx));
    }
    return s;
  };

  // The collector's session: the same trust list, retry policy, origin guard and token check.
  const openSession = async (ctx: RemediationContext): Promise<Client> => (await openGraphSession(sourceId, o, ctx, scope)).graph;

  /** One Graph call; errors become GraphCallError naming the method and path, with the permission that may be missing. */
  const call = async <T>(ctx: RemediationContext, method: "GET" | "PATCH" | "POST" | "DELETE", path: string, run: (c: Client) => Promise<T>): Promise<T> => {
    const graph = await graphFor(ctx);
    try {
      return await run(graph);
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
      throw toCallError(path, err, method);
    }
  };

  const readUser = async (ctx: RemediationContext, id: string): Promise<UserRead | null> => {
    const path = `/users/${encodeURIComponent(id)}`;
    try {
      return await call(ctx, "GET", path, (c) => c.api(path).select(["id", "accountEnabled", "userPrincipalName"]).get() as Promise<UserRead>);
    } catch (err) {
      if (err instanceof GraphCallError && err.status === 404) return null;
      throw err;
    }
  };

  const readAssignment = async (ctx: RemediationContext, id: string): Promise<AssignmentRead | null> => {
    const path = `/roleManagement/directory/roleAssignments/${encodeURIComponent(id)}`;
    try {
      return await call(ctx, "GET", path, (c) => c.api(path).get() as Promise<AssignmentRead>);
    } catch (err) {
      if (err instanceof GraphCallError && err.status === 404) return null;
      throw err;
    }
  };

  const read = async (ctx: RemediationContext, t: Target): Promise<Read> =>
    t.type === "disable-account" ? { kind: "user", user: await readUser(ctx, t.userId) } : { kind: "assignment", assignment: await readAssignment(ctx, t.assignmentId) };

  const inspect = async (ctx: RemediationContext, request: ActionRequest): Promise<ObservedState> => {
    const t = targetOf(request, scope);
    const r = await read(ctx, t);
    recent.put(t.key, r);
    return observe(t, r);
  };

  const apply = async (ctx: RemediationContext, request: ActionRequest, recordUndo?: RecordUndo): Promise<ApplyResult> => {
    const t = targetOf(request, scope);
    const r = recent.take(t.key) ?? (await read(ctx, t));
    const seen = observe(t, r);
    if (seen.state === "changed") throw new EntraRemediationError(`not applied: ${seen.detail}`);
    if (t.type === "disable-account") {
      if (seen.state === "gone") throw new EntraRemediationError(`not applied: ${seen.detail}`);
      if (seen.state === "already-done") return { status: "already-done", undo: { accountEnabled: true }, answer: seen.detail };
      const path = `/users/${encodeURIComponent(t.userId)}`;
      await writeOrExplain(() => call(ctx, "PATCH", path, (c) => c.api(path).patch({ accountEnabled: false })), t.type);
      const revoke = `${path}/revokeSignInSessions`;
      try {
        await call(ctx, "POST", revoke, (c) => c.api(revoke).post({}));
      } catch (err) {
        // The account is disabled already; say so, or the failure would read as "nothing happened".
        throw new EntraRemediationError(`the account is disabled (accountEnabled=false), but revoking its sessions failed: ${explain(err, t.type)}`);
      }
      return {
        status: "done",
        undo: { accountEnabled: true, sessionsRevoked: true },
        answer: "PATCH accountEnabled=false: 204; revokeSignInSessions: 200",
      };
    }
    // A removal whose assignment is already gone has reached its end state.
    if (seen.state !== "ready" || r.kind !== "assignment" || !r.assignment) return { status: "already-done", undo: storedUndo(t), answer: seen.detail };
    const undoData = undoOf(r.assignment);
    // After the delete nothing at Graph says what the assignment was: a crash from here on needs this kept.
    recordUndo?.(undoData);
    const path = `/roleManagement/directory/roleAssignments/${encodeURIComponent(t.assignmentId)}`;
    try {
      await call(ctx, "DELETE", path, (c) => c.api(path).delete());
    } catch (err) {
      // Removed by someone else between the read and the delete.
      if (err instanceof GraphCallError && err.status === 404) return { status: "already-done", undo: undoData, answer: "DELETE: 404, already removed" };
      throw new EntraRemediationError(explain(err, t.type));
    }
    return { status: "done", undo: undoData, answer: "DELETE: 204" };
  };

  const undo = async (ctx: RemediationContext, request: ActionRequest, data: Attributes): Promise<UndoResult> => {
    const t = targetOf(request, scope);
    if (t.type === "disable-account") {
      const user = await readUser(ctx, t.userId);
      if (!user) throw new EntraRemediationError(`cannot undo: user ${t.userId} no longer exists`);
      if (user.accountEnabled === true) return { status: "already-done", answer: "the account is enabled" };
      const path = `/users/${encodeURIComponent(t.userId)}`;
      await writeOrExplain(() => call(ctx, "PATCH", path, (c) => c.api(path).patch({ accountEnabled: true })), t.type);
      return { status: "done", answer: "PATCH accountEnabled=true: 204 (sessions revoked on apply stay revoked)" };
    }
    const body = assignmentFromUndo(data);
    const path = "/roleManagement/directory/roleAssignments";
    try {
      const created = await call(ctx, "POST", path, (c) => c.api(path).post({ "@odata.type": "#microsoft.graph.unifiedRoleAssignment", ...body }) as Promise<{ id?: string }>);
      return { status: "done", answer: `POST: 201, new assignment ${String(created?.id ?? "(no id)")}` };
    } catch (err) {
      if (err instanceof GraphCallError && err.status === 400 && CONFLICT.test(err.graphMessage)) return { status: "already-done", answer: "the same assignment exists" };
      throw new EntraRemediationError(explain(err, t.type));
    }
  };

  return { supports: ENTRA_ACTIONS.map((a) => a.type), inspect, apply, undo };
}

type Target =
  | { type: "disable-account"; key: string; userId: string; upn: string }
  | { type: "remove-role-assignment"; key: string; assignmentId: string; principalId: string; roleDefinitionId: string | null; directoryScope: string };

function targetOf(request: ActionRequest, scope: string): Target {
  const { type, target } = request;
  if (target.scope !== scope) throw new EntraRemediationError(`${type}: scope ${JSON.stringify(target.scope)} is not this source's tenant ${scope}`);
  const p = target.principal;
  if (type === "disable-account") {
    if (p.attributes.objectType !== "user") throw new EntraRemediationError(`disable-account: ${JSON.stringify(p.name)} is a ${String(p.attributes.objectType ?? p.kind)}, not a user`);
    if (!GUID.test(p.id)) throw new EntraRemediationError(`disable-account: ${JSON.stringify(p.id)} is not an Entra object id`);
    return { type, key: `${type}|${p.id}`, userId: p.id, upn: p.name };
  }
  if (type === "remove-role-assignment") {
    const g = target.grant;
    if (!g) throw new EntraRemediationError("remove-role-assignment: the action names no grant");
    const a = g.attributes;
    if (typeof a.eligibilityId === "string") throw new EntraRemediationError(`remove-role-assignment: ${g.privilege} is a PIM eligibility of ${JSON.stringify(p.name)}, not an active assignment; remove it in PIM`);
    if (typeof a.groupId === "string") {
      throw new EntraRemediationError(`remove-role-assignment: ${JSON.stringify(p.name)} holds ${g.privilege} through group ${JSON.stringify(a.groupName ?? a.groupId)}; remove the group's assignment or the membership`);
    }
    if (typeof a.assignmentId !== "string" || !ASSIGNMENT_ID.test(a.assignmentId)) throw new EntraRemediationError(`remove-role-assignment: the grant ${g.privilege} of ${JSON.stringify(p.name)} carries no role assignment id`);
    return {
      type,
      key: `${type}|${a.assignmentId}`,
      assignmentId: a.assignmentId,
      principalId: p.id,
      roleDefinitionId: typeof a.roleDefinitionId === "string" ? a.roleDefinitionId : null,
      directoryScope: g.scope,
    };
  }
  throw new EntraRemediationError(`entra-id cannot ${type}; it supports ${ENTRA_ACTIONS.map((x) => x.type).join(", ")}`);
}

function observe(t: Target, r: Read): ObservedState {
  if (t.type === "disable-account") {
    const u = r.kind === "user" ? r.user : null;
    if (!u) return { state: "gone", detail: `user ${t.userId} no longer exists` };
    // A renamed account may now belong to someone else: the plan was made for the name it had.
    if (u.userPrincipalName !== null && u.userPrincipalName.toLowerCase() !== t.upn.toLowerCase()) {
      return { state: "changed", detail: `the account is now ${JSON.stringify(u.userPrincipalName)}, planned for ${JSON.stringify(t.upn)}` };
    }
    return u.accountEnabled === false ? { state: "already-done", detail: "accountEnabled is false", undo: { accountEnabled: true } } : { state: "ready", detail: "accountEnabled is true" };
  }
  const a = r.kind === "assignment" ? r.assignment : null;
  // A removal whose assignment is gone has reached its end state (ours, when --resume reconciles a crash).
  if (!a) return { state: "already-done", detail: `role assignment ${t.assignmentId} no longer exists`, undo: storedUndo(t) };
  if (a.principalId !== t.principalId || (t.roleDefinitionId !== null && a.roleDefinitionId !== t.roleDefinitionId)) {
    return { state: "changed", detail: `role assignment ${t.assignmentId} now gives role ${a.roleDefinitionId} to ${a.principalId}` };
  }
  return { state: "ready", detail: `role ${a.roleDefinitionId} assigned to ${a.principalId} at ${a.directoryScopeId}` };
}

function undoOf(a: AssignmentRead): Attributes {
  return { principalId: a.principalId, roleDefinitionId: a.roleDefinitionId, directoryScopeId: a.directoryScopeId };
}

/** Undo data for an assignment found already gone: rebuilt from what whohas stored. */
function storedUndo(t: Extract<Target, { type: "remove-role-assignment" }>): Attributes {
  return { principalId: t.principalId, roleDefinitionId: t.roleDefinitionId, directoryScopeId: directoryScopeIdOf(t.directoryScope) };
}

/** Inverse of map.ts directoryScope(): "tenant" → "/", "administrativeUnit:X" → "/administrativeUnits/X", "object:X" → "/X". */
export function directoryScopeIdOf(scope: string): string {
  if (scope === "tenant") return "/";
  if (scope.startsWith("administrativeUnit:")) return `/administrativeUnits/${scope.slice("administrativeUnit:".length)}`;
  if (scope.startsWith("object:")) return `/${scope.slice("object:".length)}`;
  return "/";
}

function assignmentFromUndo(data: Attributes): { principalId: string; roleDefinitionId: string; directoryScopeId: string } {
  const { principalId, roleDefinitionId, directoryScopeId } = data;
  if (typeof principalId !== "string" || typeof roleDefinitionId !== "string" || typeof directoryScopeId !== "string") {
    throw new EntraRemediationError("cannot undo: the stored undo data lacks principalId, roleDefinitionId or directoryScopeId");
  }
  return { principalId, roleDefinitionId, directoryScopeId };
}

const PERMISSION_HINT: Record<"disable-account" | "remove-role-assignment", string> = {
  "disable-account":
    "the remediate app registration needs User.EnableDisableAccount.All and User.RevokeSessions.All (or User.ReadWrite.All) with admin consent; an account holding an admin role also needs the app to hold Privileged Authentication Administrator",
  "remove-role-assignment": "the remediate app registration needs RoleManagement.ReadWrite.Directory with admin consent",
};

function explain(err: unknown, type: ActionType): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (err instanceof GraphCallError && err.status === 403 && (type === "disable-account" || type === "remove-role-assignment")) return `${msg} — ${PERMISSION_HINT[type]}`;
  return msg;
}

async function writeOrExplain<T>(write: () => Promise<T>, type: ActionType): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw new EntraRemediationError(explain(err, type));
  }
}

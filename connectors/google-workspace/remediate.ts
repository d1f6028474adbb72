// Remediation in a Google Workspace customer through the Admin SDK Directory API: suspend a user, remove an admin
// role assignment. The service account of the source's `remediate` block impersonates `subject` and asks for the
// one write scope the action needs (admin.directory.user or admin.directory.rolemanagement), nothing else.
import type { admin_directory_v1 } from "@googleapis/admin";
import { collectFetch } from "../../src/collect-fetch.js";
import type { Attributes } from "../../src/model.js";
import { RecentReads } from "../../src/remediate/recent-reads.js";
import type { ActionRequest, ApplyResult, ObservedState, RecordUndo, RemediationContext, Remediator, UndoResult } from "../../src/remediate/contract.js";
import { createAuth } from "./auth.js";
import { directoryClient, type Directory } from "./client.js";
import { describeGoogleError, googleErrorInfo } from "./errors.js";
import { hooksFor } from "./hooks.js";
import { SCOPE_URLS, type GoogleWorkspaceOptions } from "./options.js";
import { GOOGLE_ACTIONS } from "./remediate-actions.js";
import { RateGate, type TransportHooks } from "./transport.js";

type UserRead = Pick<admin_directory_v1.Schema$User, "id" | "primaryEmail" | "suspended" | "isAdmin">;
type AssignmentRead = admin_directory_v1.Schema$RoleAssignment;
type Read = { user: UserRead | null } | { assignment: AssignmentRead | null };

/** Google user ids and role assignment ids are decimal numbers. */
const NUMERIC_ID = /^\d{1,40}$/;
const USER_FIELDS = "id,primaryEmail,suspended,isAdmin";

/** A target this remediator will not act on, or a state it will not write over; the message says which. */
export class GoogleRemediationError extends Error {
  override name = "GoogleRemediationError";
}

type Target =
  | { type: "disable-account"; key: string; userId: string; email: string }
  | { type: "remove-role-assignment"; key: string; assignmentId: string; assignedTo: string; roleId: string | null; stored: Attributes };

export function createGoogleRemediator(o: GoogleWorkspaceOptions): Remediator {
  const scope = o.customer;
  const recent = new RecentReads<Read>();
  // One Directory client per engine context and write scope: a token carries only the scope its action needs.
  const sessions = new WeakMap<RemediationContext, Map<string, Promise<Directory>>>();
  const gate = new RateGate(o.requests_per_minute, Math.max(1, Math.floor(o.requests_per_minute / 20)));

  const directoryFor = (ctx: RemediationContext, oauthScope: string): Promise<Directory> => {
    let byScope = sessions.get(ctx);
    if (!byScope) sessions.set(ctx, (byScope = new Map()));
    let d = byScope.get(oauthScope);
    if (!d) {
      d = open(ctx, oauthScope);
      byScope.set(oauthScope, d);
      d.catch(() => byScope.delete(oauthScope));
    }
    return d;
  };

  const open = async (ctx: RemediationContext, oauthScope: string): Promise<Directory> => {
    // The collector's hooks, with the writes retried too (throttling answers them like reads).
    const hooks: TransportHooks = { ...hooksFor(scope, o, ctx, collectFetch(ctx), gate), retryMethods: ["GET", "POST", "PUT", "DELETE"] };
    const keyJson = o.credentials ? await ctx.resolveSecret(o.credentials, "credentials") : undefined;
    const auth = await createAuth({ keyJson, serviceAccount: o.service_account, subject: o.subject, scopes: [oauthScope], iamCredentialsRoot: o.iam_credentials_url }, hooks);
    return directoryClient(auth.client, o.root_url);
  };

  /** One Directory call; a failure names the call, Google's reason and message, and what to fix. */
  const call = async <T>(ctx: RemediationContext, what: string, oauthScope: string, run: (d: Directory) => Promise<T>): Promise<T> => {
    try {
      return await run(await directoryFor(ctx, oauthScope));
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
      throw new GoogleCallError(err, describeGoogleError(what, err, { subject: o.subject, scopes: [oauthScope], customer: o.customer }));
    }
  };

  const readUser = async (ctx: RemediationContext, t: Extract<Target, { type: "disable-account" }>): Promise<UserRead | null> => {
    try {
      const res = await call(ctx, "users.get", SCOPE_URLS.usersWrite, (d) => d.users.get({ userKey: t.userId, fields: USER_FIELDS }));
      return res.data;
    } catch (err) {
      if (err instanceof GoogleCallError && err.status === 404) return null;
      throw err;
    }
  };

  const readAssignment = async (ctx: RemediationContext, t: Extract<Target, { type: "remove-role-assignment" }>): Promise<AssignmentRead | null> => {
    try {
      const res = await call(ctx, "roleAssignments.get", SCOPE_URLS.rolesWrite, (d) => d.roleAssignments.get({ customer: o.customer, roleAssignmentId: t.assignmentId }));
      return res.data;
    } catch (err) {
      if (err instanceof GoogleCallError && err.status === 404) return null;
      throw err;
    }
  };

  const read = async (ctx: RemediationContext, t: Target): Promise<Read> =>
    t.type === "disable-account" ? { user: await readUser(ctx, t) } : { assignment: await readAssignment(ctx, t) };

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
    if (seen.state === "changed") throw new GoogleRemediationError(`not applied: ${seen.detail}`);
    if (t.type === "disable-account") {
      if (seen.state === "gone") throw new GoogleRemediationError(`not applied: ${seen.detail}`);
      if (seen.state === "already-done") return { status: "already-done", undo: { suspended: false }, answer: seen.detail };
      const user = (r as { user: UserRead }).user;
      if (t.email.toLowerCase() === o.subject.toLowerCase()) throw new GoogleRemediationError(`refused: ${JSON.stringify(t.email)} is the admin whohas signs in as (subject)`);
      if (user.isAdmin === true && !o.suspend_super_admins) {
        throw new GoogleRemediationError(`refused: ${JSON.stringify(t.email)} is a super admin; set suspend_super_admins = true in the remediate block to allow it`);
      }
      await call(ctx, "users.update", SCOPE_URLS.usersWrite, (d) => d.users.update({ userKey: t.userId, fields: "id,suspended", requestBody: { suspended: true } }));
      return { status: "done", undo: { suspended: false }, answer: "users.update suspended=true: 200" };
    }
    const a = "assignment" in r ? r.assignment : null;
    // A removal whose assignment is already gone has reached its end state.
    if (seen.state !== "ready" || !a) return { status: "already-done", undo: t.stored, answer: seen.detail };
    const undoData = undoOf(a);
    // After the delete nothing at Google says what the assignment was: a crash from here on needs this kept.
    recordUndo?.(undoData);
    try {
      await call(ctx, "roleAssignments.delete", SCOPE_URLS.rolesWrite, (d) => d.roleAssignments.delete({ customer: o.customer, roleAssignmentId: t.assignmentId }));
    } catch (err) {
      if (err instanceof GoogleCallError && err.status === 404) return { status: "already-done", undo: undoData, answer: "roleAssignments.delete: 404, already removed" };
      throw err;
    }
    return { status: "done", undo: undoData, answer: "roleAssignments.delete: 204" };
  };

  const undo = async (ctx: RemediationContext, request: ActionRequest, data: Attributes): Promise<UndoResult> => {
    const t = targetOf(request, scope);
    if (t.type === "disable-account") {
      const user = await readUser(ctx, t);
      if (!user) throw new GoogleRemediationError(`cannot undo: user ${t.userId} no longer exists`);
      if (user.suspended !== true) return { status: "already-done", answer: "the user is not suspended" };
      await call(ctx, "users.update", SCOPE_URLS.usersWrite, (d) => d.users.update({ userKey: t.userId, fields: "id,suspended", requestBody: { suspended: false } }));
      return { status: "done", answer: "users.update suspended=false: 200" };
    }
    const body = assignmentFromUndo(data);
    try {
      const res = await call(ctx, "roleAssignments.insert", SCOPE_URLS.rolesWrite, (d) => d.roleAssignments.insert({ customer: o.customer, requestBody: body }));
      return { status: "done", answer: `roleAssignments.insert: 200, new assignment ${String(res.data.roleAssignmentId ?? "(no id)")}` };
    } catch (err) {
      if (err instanceof GoogleCallError && err.status === 409) return { status: "already-done", answer: "the same assignment exists" };
      throw err;
    }
  };

  return { supports: GOOGLE_ACTIONS.map((a) => a.type), inspect, apply, undo };
}

/** A failed Directory call: Google's status kept for decisions, the described message for people. */
class GoogleCallError extends Error {
  override name = "GoogleCallError";
  readonly status: number | undefined;
  constructor(cause: unknown, message: string) {
    super(message);
    this.status = googleErrorInfo(cause).status;
  }
}

function targetOf(request: ActionRequest, scope: string): Target {
  const { type, target } = request;
  if (target.scope !== scope) throw new GoogleRemediationError(`${type}: scope ${JSON.stringify(target.scope)} is not this source's customer ${scope}`);
  const p = target.principal;
  if (type === "disable-account") {
    if (!NUMERIC_ID.test(p.id)) throw new GoogleRemediationError(`disable-account: ${JSON.stringify(p.id)} is not a Google user id`);
    return { type, key: `${type}|${p.id}`, userId: p.id, email: p.name };
  }
  if (type === "remove-role-assignment") {
    const g = target.grant;
    if (!g) throw new GoogleRemediationError("remove-role-assignment: the action names no grant");
    const a = g.attributes;
    if (typeof a.roleAssignmentId !== "string" || !NUMERIC_ID.test(a.roleAssignmentId)) {
      throw new GoogleRemediationError(`remove-role-assignment: the grant ${JSON.stringify(g.privilege)} of ${JSON.stringify(p.name)} carries no role assignment id`);
    }
    const stored: Attributes = {
      roleId: typeof a.roleId === "string" ? a.roleId : null,
      assignedTo: p.id,
      scopeType: typeof a.scopeType === "string" ? a.scopeType : null,
      orgUnitId: typeof a.orgUnitId === "string" ? a.orgUnitId : null,
    };
    return { type, key: `${type}|${a.roleAssignmentId}`, assignmentId: a.roleAssignmentId, assignedTo: p.id, roleId: typeof a.roleId === "string" ? a.roleId : null, stored };
  }
  throw new GoogleRemediationError(`google-workspace cannot ${type}; it supports ${GOOGLE_ACTIONS.map((x) => x.type).join(", ")}`);
}

function observe(t: Target, r: Read): ObservedState {
  if (t.type === "disable-account") {
    const u = "user" in r ? r.user : null;
    if (!u) return { state: "gone", detail: `user ${t.userId} no longer exists` };
    // A renamed account may now be someone else's: the plan was made for the address it had.
    if (typeof u.primaryEmail === "string" && u.primaryEmail.toLowerCase() !== t.email.toLowerCase()) {
      return { state: "changed", detail: `the user is now ${JSON.stringify(u.primaryEmail)}, planned for ${JSON.stringify(t.email)}` };
    }
    if (u.suspended === true) return { state: "already-done", detail: "the user is suspended", undo: { suspended: false } };
    return { state: "ready", detail: u.isAdmin === true ? "the user is active and a super admin" : "the user is active" };
  }
  const a = "assignment" in r ? r.assignment : null;
  // A removal whose assignment is gone has reached its end state (ours, when --resume reconciles a crash).
  if (!a) return { state: "already-done", detail: `role assignment ${t.assignmentId} no longer exists`, undo: t.stored };
  if (a.assignedTo !== t.assignedTo || (t.roleId !== null && a.roleId !== t.roleId)) {
    return { state: "changed", detail: `role assignment ${t.assignmentId} now gives role ${String(a.roleId)} to ${String(a.assignedTo)}` };
  }
  return { state: "ready", detail: `role ${String(a.roleId)} assigned to ${String(a.assignedTo)} (${String(a.scopeType ?? "CUSTOMER")})` };
}

function undoOf(a: AssignmentRead): Attributes {
  return { roleId: a.roleId ?? null, assignedTo: a.assignedTo ?? null, scopeType: a.scopeType ?? null, orgUnitId: a.orgUnitId ?? null };
}

function assignmentFromUndo(data: Attributes): admin_directory_v1.Schema$RoleAssignment {
  const { roleId, assignedTo, scopeType, orgUnitId } = data;
  if (typeof roleId !== "string" || typeof assignedTo !== "string") throw new GoogleRemediationError("cannot undo: the stored undo data lacks roleId or assignedTo");
  const type = typeof scopeType === "string" ? scopeType : "CUSTOMER";
  return { roleId, assignedTo, scopeType: type, ...(type === "ORG_UNIT" && typeof orgUnitId === "string" ? { orgUnitId } : {}) };
}

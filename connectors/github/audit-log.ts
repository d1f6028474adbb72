// The organization audit log (GET /orgs/{org}/audit-log; Enterprise Cloud and Enterprise Server only): the
// one reader of it. The "audit-log" event feed and the collector's last-activity signal both page through
// here, newest first, 100 a page, following the Link header's `after` cursors, and read each entry
// through the same mapping.
import type { AuditEvent, EventAction } from "../../src/events/contract.js";
import type { Attributes } from "../../src/model.js";
import { describeError, type GithubClient } from "./client.js";
import { installationPrincipalId } from "./map.js";
import { linkedPages, type LinkedPage } from "./paging.js";
import type { GhAuditLogEvent } from "./wire.js";

export const AUDIT_LOG_ROUTE = "GET /orgs/{org}/audit-log";

export interface AuditLogQuery {
  /** Entries at or after this instant. */
  since: Date;
  /** `web` (default on GitHub's side), `git` or `all`; git events are kept 7 days. */
  include?: "web" | "git" | "all";
}

/** GitHub's search syntax takes ISO 8601 date-times; whole seconds, UTC. */
export function createdPhrase(since: Date): string {
  return `created:>=${since.toISOString().replace(/\.\d{3}Z$/, "Z")}`;
}

/** The `after` cursor of a rel="next" URL (what a reader can record as its position). */
export function afterCursor(next: string | undefined): string | undefined {
  if (!next) return undefined;
  try {
    return new URL(next).searchParams.get("after") ?? undefined;
  } catch {
    return undefined;
  }
}

/** Pages of entries, newest first. Entries older than `since` are dropped even if the server sent them. */
export async function* auditLogPages(client: GithubClient, org: string, query: AuditLogQuery): AsyncGenerator<LinkedPage<GhAuditLogEvent>> {
  const sinceMs = query.since.getTime();
  const params = { org, phrase: createdPhrase(query.since), order: "desc", ...(query.include ? { include: query.include } : {}) };
  for await (const page of linkedPages<GhAuditLogEvent>(client, AUDIT_LOG_ROUTE, params)) {
    yield { items: page.items.filter((e) => (timeOf(e) ?? sinceMs) >= sinceMs), next: page.next };
  }
}

/**
 * Whether a refusal means "this org has no audit log" (GitHub.com Free / Team: 404; a 403 that says the
 * feature needs Enterprise) rather than "this caller may not read it" (a missing scope or owner role).
 */
export function unavailableReason(err: unknown): string | undefined {
  const d = describeError(err);
  if (d.transient) return undefined;
  if (d.status === 404) return `the organization audit log exists on GitHub Enterprise Cloud and Enterprise Server only (${d.message})`;
  if (d.status === 403 && /enterprise|not available|plan/i.test(d.message)) return `the organization audit log is not available to this organization (${d.message})`;
  return undefined;
}

/** Epoch ms of an entry: `@timestamp`, else `created_at` (both ms). */
export function timeOf(e: GhAuditLogEvent): number | undefined {
  const at = e["@timestamp"] ?? e.created_at;
  return typeof at === "number" && Number.isFinite(at) ? at : undefined;
}

// ------------------------------------------------------------------------------------------------
// Mapping

const ACTIONS = new Map<string, EventAction>([
  ["org.add_member", "account.create"],
  ["org.remove_member", "account.delete"],
  ["org.remove_outside_collaborator", "account.delete"],
  ["org.add_billing_manager", "grant.add"],
  ["org.remove_billing_manager", "grant.remove"],
  ["org.suspend_member", "account.disable"],
  ["org.unsuspend_member", "account.enable"],
  ["org.block_user", "account.disable"],
  ["org.unblock_user", "account.enable"],
  ["team.add_member", "grant.add"],
  ["team.remove_member", "grant.remove"],
  ["team.promote_maintainer", "grant.add"],
  ["team.demote_maintainer", "grant.remove"],
  ["team.add_repository", "grant.add"],
  ["team.remove_repository", "grant.remove"],
  ["team.update_repository_permission", "grant.add"],
  ["repo.add_member", "grant.add"],
  ["repo.remove_member", "grant.remove"],
  ["repo.update_member", "grant.add"],
  ["org_credential_authorization.grant", "credential.create"],
  ["org_credential_authorization.revoke", "credential.delete"],
  ["org_credential_authorization.deauthorized", "credential.delete"],
  ["personal_access_token.access_granted", "credential.create"],
  ["personal_access_token.access_revoked", "credential.delete"],
  ["personal_access_token.request_created", "other"],
  ["oauth_authorization.create", "credential.create"],
  ["oauth_authorization.destroy", "credential.delete"],
  ["oauth_application.create", "credential.create"],
  ["oauth_application.destroy", "credential.delete"],
  ["org.oauth_app_access_approved", "grant.add"],
  ["org.oauth_app_access_denied", "grant.remove"],
  ["deploy_key.create", "credential.create"],
  ["deploy_key.delete", "credential.delete"],
  ["public_key.create", "credential.create"],
  ["public_key.delete", "credential.delete"],
  ["integration_installation.create", "grant.add"],
  ["integration_installation.destroy", "grant.remove"],
  ["integration_installation.delete", "grant.remove"],
  ["integration_installation.repositories_added", "grant.add"],
  ["integration_installation.repositories_removed", "grant.remove"],
  ["integration_installation.suspend", "account.disable"],
  ["integration_installation.unsuspend", "account.enable"],
  ["org.enable_two_factor_requirement", "mfa.enable"],
  ["org.disable_two_factor_requirement", "mfa.disable"],
  ["org.sso_response", "signin.success"],
]);

function actionOf(e: GhAuditLogEvent): EventAction {
  const action = e.action ?? "";
  if (action === "org.update_member") {
    // Role changes: to owner is a grant, to member a removal of the owner role.
    return e.permission === "admin" ? "grant.add" : e.permission === "read" || e.permission === "member" ? "grant.remove" : "other";
  }
  if (action === "org.sso_response" && e.outcome === "failure") return "signin.failure";
  return ACTIONS.get(action) ?? "other";
}

/** The stored privilege an entry grants or removes, where whohas stores one (see map.ts). */
function privilegeOf(e: GhAuditLogEvent): string | undefined {
  const action = e.action ?? "";
  if (action === "org.update_member") return "org:owner";
  if (action.startsWith("team.") && e.team) {
    const slug = e.team.split("/").pop()!;
    if (action === "team.promote_maintainer" || action === "team.demote_maintainer") return `team:${slug}:maintainer`;
    if (action === "team.add_member" || action === "team.remove_member") return `team:${slug}`;
    if (e.permission) return `team:${slug}:${e.permission}`;
  }
  if (action.startsWith("repo.") && e.permission) return `collaborator:${e.permission}`;
  return undefined;
}

/** Resolves a login to the id whohas stores the user under (its node_id). */
export type LoginIndex = (login: string) => string | undefined;

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** One audit-log entry as an AuditEvent; throws on an entry without id or time (the reader skips it, named). */
export function mapAuditLogEvent(e: GhAuditLogEvent, logins: LoginIndex): AuditEvent {
  const id = str(e._document_id);
  if (!id) throw new Error(`an audit-log entry without _document_id (action ${JSON.stringify(e.action ?? null)})`);
  const at = timeOf(e);
  if (at === undefined) throw new Error(`audit-log entry ${id} has no @timestamp`);
  const action = actionOf(e);
  const actorLogin = str(e.actor);
  const actorIsApp = actorLogin?.endsWith("[bot]") || e.programmatic_access_type === "GitHub App server-to-server token";
  const target: NonNullable<AuditEvent["target"]> = {};
  const user = str(e.user);
  if (user) {
    target.name = user;
    target.principalId = logins(user) ?? null;
  }
  const privilege = privilegeOf(e);
  if (privilege) target.privilege = privilege;
  if (typeof e.installation_id === "number" && (e.action ?? "").startsWith("integration_installation.")) {
    target.principalId = installationPrincipalId(e.installation_id);
    target.name = str(e.integration) ?? target.name ?? null;
  }
  if (typeof e.credential_id === "number" && (e.action ?? "").startsWith("org_credential_authorization.")) target.credentialId = `sso-authorization:${e.credential_id}`;
  if (typeof e.deploy_key_id === "number" || (typeof e.id === "number" && (e.action ?? "").startsWith("deploy_key."))) target.credentialId = `deploy-key:${e.deploy_key_id ?? e.id}`;
  const details: Attributes = {};
  const keep = (k: string, v: unknown) => {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") details[k] = v;
  };
  keep("org", e.org);
  keep("team", e.team);
  keep("repo", e.repo);
  keep("permission", e.permission);
  keep("old_permission", e.old_permission);
  keep("user_id", e.user_id);
  keep("actor_id", e.actor_id);
  keep("operation_type", e.operation_type);
  keep("programmatic_access_type", e.programmatic_access_type);
  keep("integration", e.integration);
  keep("token_id", e.token_id);
  keep("country_code", e.actor_location?.country_code);
  return {
    id,
    at: new Date(at).toISOString(),
    action,
    providerAction: e.action ?? "",
    outcome: e.outcome === "failure" ? "failure" : "success",
    actor: { id: actorLogin ? (logins(actorLogin) ?? null) : null, name: actorLogin ?? null, kind: actorLogin ? (actorIsApp ? "app" : "person") : "unknown" },
    ...(Object.keys(target).length > 0 ? { target } : {}),
    ip: str(e.actor_ip) ?? null,
    userAgent: str(e.user_agent) ?? null,
    details,
  };
}

/** Who acted and when, for last activity: the numeric id and login GitHub gives (no lookup needed). */
export function actorActivity(e: GhAuditLogEvent): { at: number; actorId?: number; login?: string } | undefined {
  const at = timeOf(e);
  if (at === undefined) return undefined;
  return { at, ...(typeof e.actor_id === "number" ? { actorId: e.actor_id } : {}), ...(str(e.actor) ? { login: e.actor } : {}) };
}

// Pure GitHub record → whohas model functions. No I/O, no clock except where passed in.
import { createHash } from "node:crypto";
import { ATTR, type AccessLevel, type Activity, type Attributes, type Credential, type CredentialKind, type Grant, type MfaState, type Principal } from "../../src/model.js";
import type {
  GhCollaborator,
  GhCredentialAuthorization,
  GhDeployKey,
  GhInstallation,
  GhInvitation,
  GhPatGrant,
  GhPatRequest,
  GhRepoPermissions,
  GhRepository,
  GhSimpleUser,
  GhTeam,
  GhTokenPermissions,
} from "./wire.js";

type GrantLevel = Exclude<AccessLevel, "none">;

export const orgScope = (org: string) => `org:${org}`;
export const repoScope = (fullName: string) => `repo:${fullName}`;
/** owner/name from the fields that identify a repository, not from its display-only full_name. */
export const repoPath = (repo: GhRepository) => `${repo.owner.login}/${repo.name}`;

/** What the connector knows about each member's 2FA, decided before members are mapped. */
export type MfaKnowledge =
  | { kind: "filter"; disabled: ReadonlySet<number>; insecure?: ReadonlySet<number> }
  /** The org enforces 2FA: GitHub removes anyone without it, so every member has it. */
  | { kind: "required" }
  /** The 2FA filter was refused (owner-only) or not asked: never guess "disabled". */
  | { kind: "unknown"; reason: string };

/** Last activity per user id from the org audit log (epoch ms of the newest event they acted in). */
export interface ActivityKnowledge {
  /** Epoch ms of the oldest event the window covers; activity before it is unknown, not "never". */
  windowStart: number;
  byActorId: ReadonlyMap<number, number>;
  byLogin: ReadonlyMap<string, number>;
}

const NO_LAST_LOGIN: Activity = {
  at: null,
  known: false,
  signal: "none: GitHub has no last-login field; enable audit_log (Enterprise Cloud / Server) to derive it",
};

export function iso(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return null;
  const d = new Date(value);
  // Outside years 0000–9999 toISOString() writes "+010000-…", which no longer sorts as a timestamp.
  return Number.isNaN(d.getTime()) || d.getUTCFullYear() < 0 || d.getUTCFullYear() > 9999 ? null : d.toISOString();
}

function mfaOf(user: GhSimpleUser, mfa: MfaKnowledge): { mfa: MfaState; attrs: Attributes } {
  switch (mfa.kind) {
    case "required":
      return { mfa: "enabled", attrs: { mfa_source: "org two_factor_requirement_enabled" } };
    case "unknown":
      return { mfa: "unknown", attrs: { mfa_source: `unknown: ${mfa.reason}` } };
    case "filter": {
      const disabled = mfa.disabled.has(user.id);
      const attrs: Attributes = { mfa_source: "filter=2fa_disabled" };
      if (mfa.insecure) attrs.mfa_insecure = mfa.insecure.has(user.id);
      return { mfa: disabled ? "disabled" : "enabled", attrs };
    }
  }
}

function activityOf(user: GhSimpleUser, activity: ActivityKnowledge | undefined): Activity {
  if (!activity) return NO_LAST_LOGIN;
  const at = activity.byActorId.get(user.id) ?? activity.byLogin.get(user.login.toLowerCase());
  if (at !== undefined) return { at: new Date(at).toISOString(), known: true, signal: "org audit log (newest event as actor)" };
  // Absent from a bounded window says "not since windowStart", which is neither a date nor "never".
  return { at: null, known: false, signal: `org audit log: no events as actor since ${new Date(activity.windowStart).toISOString()}` };
}

function userKind(user: GhSimpleUser): Principal["kind"] {
  return user.type === "Bot" ? "bot" : "human";
}

/** An org member (owner or member) or an outside collaborator, as GET /orgs/{org}/members and /outside_collaborators return them. */
export function mapOrgUser(
  user: GhSimpleUser,
  relation: "owner" | "member" | "outside_collaborator",
  mfa: MfaKnowledge,
  activity: ActivityKnowledge | undefined,
): Principal {
  // Storing it is impossible and skipping it would read as a removal: the listing is not what GitHub sends.
  if (typeof user.id !== "number" || typeof user.node_id !== "string" || user.node_id === "") throw new Error(`GitHub listed a user without id or node_id (login ${JSON.stringify(user.login ?? null)})`);
  const m = mfaOf(user, mfa);
  return {
    id: user.node_id,
    kind: relation === "outside_collaborator" ? "external" : userKind(user),
    name: user.login,
    email: user.email ?? null,
    displayName: user.name ?? null,
    status: "active",
    mfa: m.mfa,
    createdAt: iso(user.created_at),
    lastActive: activityOf(user, activity),
    attributes: {
      github_id: user.id,
      org_relation: relation,
      account_type: user.type,
      site_admin: user.site_admin,
      // A public profile email is all the members API gives; it is what the user chose to show.
      email_source: user.email ? "public profile" : null,
      ...m.attrs,
    },
  };
}

/** The org-role grant of a member. Members hold the org's base repository permission on every repository. */
export function mapOrgRoleGrant(user: GhSimpleUser, org: string, role: "owner" | "member", basePermission: string | null): Grant {
  if (role === "owner") {
    return { principalId: user.node_id, privilege: "org:owner", level: "admin", scope: orgScope(org), via: "direct" };
  }
  const base = basePermission ?? null;
  return {
    principalId: user.node_id,
    privilege: "org:member",
    level: base ? basePermissionLevel(base) : "read",
    scope: orgScope(org),
    via: "direct",
    attributes: { base_repository_permission: base },
  };
}

export function basePermissionLevel(permission: string): GrantLevel {
  switch (permission) {
    case "admin":
      return "admin";
    case "write":
      return "write";
    default:
      // "read" and "none": membership still shows internal repositories and the member list.
      return "read";
  }
}

/** A pending invitation: not yet access, but a principal an auditor wants to see. */
export function mapInvitation(inv: GhInvitation): Principal {
  return {
    id: inv.node_id,
    kind: "human",
    name: inv.login ?? inv.email ?? `invitation ${inv.id}`,
    email: inv.email,
    displayName: null,
    status: "invited",
    mfa: "unknown",
    createdAt: iso(inv.created_at),
    lastActive: { at: null, known: false, signal: "none: pending invitation" },
    attributes: {
      invitation_id: inv.id,
      invited_role: inv.role,
      inviter: inv.inviter?.login ?? null,
      team_count: inv.team_count,
      invitation_source: inv.invitation_source ?? null,
      mfa_source: "unknown: not a member yet",
    },
  };
}

/** One line per failed/expired invitation for the scope's meta (they grant nothing, but are evidence). */
export function describeFailedInvitation(inv: GhInvitation): string {
  const who = inv.login ?? inv.email ?? `invitation ${inv.id}`;
  return `${who} (${inv.role}) invited ${iso(inv.created_at) ?? "?"} by ${inv.inviter?.login ?? "?"}: failed ${iso(inv.failed_at) ?? "?"}: ${inv.failed_reason ?? "no reason given"}`;
}

/**
 * What a repository role is, or that it is unknown: neither a role GitHub names nor a permission flag.
 * The model has no "unknown" level; an unknown role keeps `read` only as the floor every collaborator
 * and team repository has, with the role recorded as unknown, so it is never mistaken for a known read.
 */
export function repoRole(roleName: string | undefined, permissions?: GhRepoPermissions): { name: string; level: GrantLevel; known: boolean } {
  const flags = permissions && ["admin", "maintain", "push", "triage", "pull"].some((k) => typeof permissions[k as keyof GhRepoPermissions] === "boolean");
  const known = KNOWN_REPO_ROLES.has(roleName ?? "") || Boolean(flags);
  if (!known) return { name: "unknown", level: "read", known: false };
  return { name: repoRoleName(roleName, permissions), level: repoRoleLevel(roleName, permissions), known: true };
}
const KNOWN_REPO_ROLES = new Set(["admin", "maintain", "write", "push", "triage", "read", "pull"]);

/** Repository role → level. Custom roles (Enterprise Cloud) fall back on the permission flags. */
export function repoRoleLevel(roleName: string | undefined, permissions?: GhRepoPermissions): GrantLevel {
  switch (roleName) {
    case "admin":
      return "admin";
    case "maintain":
      return "privileged";
    case "write":
    case "push":
      return "write";
    case "triage":
    case "read":
    case "pull":
      return "read";
  }
  if (permissions?.admin) return "admin";
  if (permissions?.maintain) return "privileged";
  if (permissions?.push) return "write";
  return "read";
}

export function repoRoleName(roleName: string | undefined, permissions?: GhRepoPermissions): string {
  if (roleName) return roleName;
  if (permissions?.admin) return "admin";
  if (permissions?.maintain) return "maintain";
  if (permissions?.push) return "write";
  if (permissions?.triage) return "triage";
  return "read";
}

/** `principalId`: the member's id as the scope returned it (the roster's), not as this listing spells it. */
export function mapTeamMembershipGrant(principalId: string, org: string, team: GhTeam, role: "member" | "maintainer"): Grant {
  return {
    principalId,
    privilege: role === "maintainer" ? `team:${team.slug}:maintainer` : `team:${team.slug}`,
    // Maintainers add and remove team members, so they hand out whatever the team can reach.
    level: role === "maintainer" ? "privileged" : "read",
    scope: orgScope(org),
    via: "direct",
    attributes: { team_id: team.id, team_node_id: team.node_id, team_name: team.name, team_role: role, parent_team: team.parent?.slug ?? null, privacy: team.privacy ?? null },
  };
}

/** A repository permission a member holds through a team (collect_repo_grants). */
export function mapTeamRepoGrant(userNodeId: string, team: GhTeam, repo: GhRepository): Grant {
  const role = repoRole(repo.role_name, repo.permissions);
  return {
    principalId: userNodeId,
    // The team is part of the privilege so that two teams granting the same repository stay two grants.
    privilege: `team:${team.slug}:${role.name}`,
    level: role.level,
    scope: repoScope(repoPath(repo)),
    via: "group",
    attributes: { team_id: team.id, role_name: role.known ? role.name : null, repository_id: repo.id, ...(role.known ? {} : { role_unknown: true }) },
  };
}

/** `principalId`: the collaborator's id as the scope returned it (the roster's), never another person's. */
export function mapCollaboratorGrant(collab: GhCollaborator, repo: GhRepository, principalId: string): Grant {
  const role = repoRole(collab.role_name, collab.permissions);
  return {
    principalId,
    privilege: `collaborator:${role.name}`,
    level: role.level,
    scope: repoScope(repoPath(repo)),
    via: "direct",
    attributes: { role_name: role.known ? role.name : null, repository_id: repo.id, ...(role.known ? {} : { role_unknown: true }) },
  };
}

function flattenPermissions(p: GhTokenPermissions): string[] {
  const out: string[] = [];
  for (const group of ["organization", "repository", "other"] as const) {
    for (const [name, access] of Object.entries(p[group] ?? {})) out.push(`${group}:${name}:${access}`);
  }
  return out.sort();
}

function patLastUsed(at: string | null): Activity {
  // GitHub documents null as "not used"; it started recording use when fine-grained PATs shipped.
  return { at: iso(at), known: true, signal: "token_last_used_at" };
}

export function mapPatGrant(g: GhPatGrant, principalId: string): Credential {
  return {
    id: `pat-grant:${g.id}`,
    principalId,
    kind: "pat",
    name: g.token_name,
    status: g.token_expired ? "expired" : "active",
    // The token's own creation date is not exposed; access_granted_at is when this org started trusting it.
    createdAt: iso(g.access_granted_at),
    expiresAt: iso(g.token_expires_at),
    lastUsed: patLastUsed(g.token_last_used_at),
    attributes: {
      token_type: "fine-grained",
      token_id: g.token_id,
      grant_id: g.id,
      owner_login: g.owner.login,
      repository_selection: g.repository_selection,
      permissions: flattenPermissions(g.permissions),
      access_granted_at: iso(g.access_granted_at),
    },
  };
}

export function mapPatRequest(r: GhPatRequest, principalId: string): Credential {
  return {
    id: `pat-request:${r.id}`,
    principalId,
    kind: "pat",
    name: r.token_name,
    status: r.token_expired ? "expired" : "pending",
    createdAt: iso(r.created_at),
    expiresAt: iso(r.token_expires_at),
    lastUsed: patLastUsed(r.token_last_used_at),
    attributes: {
      token_type: "fine-grained",
      token_id: r.token_id,
      request_id: r.id,
      owner_login: r.owner.login,
      repository_selection: r.repository_selection,
      permissions: flattenPermissions(r.permissions),
      reason: r.reason,
    },
  };
}

export function credentialKindOf(credentialType: string): CredentialKind {
  const t = credentialType.toLowerCase();
  if (t.includes("ssh")) return "ssh_key";
  if (t.includes("personal access token")) return "pat";
  return "oauth_grant";
}

/**
 * A SAML SSO credential authorization. `principalId` is resolved by the caller from the login (the API
 * gives no user id). `token_last_eight` is deliberately dropped: part of a secret is still a secret.
 */
export function mapCredentialAuthorization(c: GhCredentialAuthorization, principalId: string, now: Date): Credential {
  const expiresAt = iso(c.authorized_credential_expires_at ?? null);
  const expired = expiresAt !== null && Date.parse(expiresAt) <= now.getTime();
  return {
    id: `sso-authorization:${c.credential_id}`,
    principalId,
    kind: credentialKindOf(c.credential_type),
    name: c.authorized_credential_note ?? c.authorized_credential_title ?? null,
    status: expired ? "expired" : "active",
    createdAt: iso(c.credential_authorized_at),
    expiresAt,
    // "May be null if it was never accessed" (GitHub docs): null is a real "never".
    lastUsed: { at: iso(c.credential_accessed_at), known: true, signal: "credential_accessed_at" },
    attributes: {
      credential_type: c.credential_type,
      credential_id: c.credential_id,
      authorized_credential_id: c.authorized_credential_id,
      owner_login: c.login,
      scopes: [...(c.scopes ?? [])].sort(),
      fingerprint: c.fingerprint ?? null,
      authorized_at: iso(c.credential_authorized_at),
    },
  };
}

/** The repository as the owner of its deploy keys. */
export function mapRepoPrincipal(repo: GhRepository): Principal {
  return {
    id: repo.node_id,
    kind: "service",
    name: repoPath(repo),
    displayName: repo.name,
    status: repo.archived ? "archived" : repo.disabled ? "disabled" : "active",
    mfa: "not_applicable",
    createdAt: iso(repo.created_at ?? null),
    lastActive: { at: null, known: false, signal: "none: repositories have no sign-in" },
    attributes: {
      repository_id: repo.id,
      visibility: repo.visibility ?? (repo.private ? "private" : "public"),
      fork: repo.fork,
      archived: repo.archived ?? false,
    },
  };
}

/** SHA256 fingerprint as `ssh-keygen -lf` prints it, from the public key line (never secret). */
export function sshFingerprint(publicKey: string): string | null {
  const blob = publicKey.trim().split(/\s+/)[1];
  if (!blob) return null;
  const bytes = Buffer.from(blob, "base64");
  if (bytes.length === 0) return null;
  return `SHA256:${createHash("sha256").update(bytes).digest("base64").replace(/=+$/, "")}`;
}

export function mapDeployKey(key: GhDeployKey, repo: GhRepository): Credential {
  const lastUsed: Activity =
    "last_used" in key
      ? { at: iso(key.last_used ?? null), known: true, signal: "last_used" }
      : { at: null, known: false, signal: "none: this server does not return deploy key last_used" };
  return {
    id: `deploy-key:${key.id}`,
    principalId: repo.node_id,
    kind: "deploy_key",
    name: key.title,
    status: key.enabled === false ? "inactive" : "active",
    createdAt: iso(key.created_at),
    expiresAt: null,
    lastUsed,
    attributes: {
      key_id: key.id,
      repository: repoPath(repo),
      read_only: key.read_only,
      verified: key.verified,
      added_by: key.added_by ?? null,
      fingerprint: sshFingerprint(key.key),
    },
  };
}

/** One grant per repository and key mode, so the repository principal's level says whether any key can push. */
export function mapDeployKeyGrant(key: GhDeployKey, repo: GhRepository): Grant {
  return {
    principalId: repo.node_id,
    privilege: key.read_only ? "deploy_key:read" : "deploy_key:write",
    level: key.read_only ? "read" : "write",
    scope: repoScope(repoPath(repo)),
    via: "direct",
  };
}

export const installationPrincipalId = (installationId: number) => `app-installation:${installationId}`;

/** App permissions that let the app change who has access, or read secrets. */
const SENSITIVE_APP_PERMISSIONS = new Set([
  "administration",
  "organization_administration",
  "members",
  "organization_user_blocking",
  "organization_secrets",
  "secrets",
  "organization_self_hosted_runners",
  "organization_custom_roles",
  "organization_custom_org_roles",
  "organization_personal_access_tokens",
  "organization_personal_access_token_requests",
  "workflows",
  "actions",
]);

export function appPermissionLevel(permission: string, access: string): GrantLevel {
  if (access === "admin") return "admin";
  if (access === "write") return SENSITIVE_APP_PERMISSIONS.has(permission) ? "privileged" : "write";
  return "read";
}

/** App permissions that apply to the organization rather than to its repositories. */
function isOrgPermission(permission: string): boolean {
  return permission.startsWith("organization_") || permission === "members" || permission === "team_discussions";
}

export function mapInstallation(inst: GhInstallation, org: string): { principal: Principal; grants: Grant[] } {
  const id = installationPrincipalId(inst.id);
  const permissions = Object.entries(inst.permissions).sort(([a], [b]) => a.localeCompare(b));
  const principal: Principal = {
    id,
    kind: "service",
    name: inst.app_slug,
    displayName: inst.app_slug,
    status: inst.suspended_at ? "suspended" : "active",
    mfa: "not_applicable",
    createdAt: iso(inst.created_at),
    lastActive: { at: null, known: false, signal: "none: GitHub does not report when an installation last acted" },
    attributes: {
      installation_id: inst.id,
      app_id: inst.app_id,
      app_slug: inst.app_slug,
      repository_selection: inst.repository_selection,
      target_type: inst.target_type,
      permissions: permissions.map(([p, a]) => `${p}:${a}`),
      events: [...inst.events].sort(),
      suspended_at: iso(inst.suspended_at),
      suspended_by: inst.suspended_by?.login ?? null,
      // An installed App acts for its vendor: third-party access to the org.
      [ATTR.thirdParty]: true,
    },
  };
  const repoScopeOfSelection = `${orgScope(org)}/repositories:${inst.repository_selection}`;
  const grants: Grant[] = permissions.map(([permission, access]) => ({
    principalId: id,
    privilege: `app:${permission}:${access}`,
    level: appPermissionLevel(permission, access),
    scope: isOrgPermission(permission) ? orgScope(org) : repoScopeOfSelection,
    via: "direct",
  }));
  return { principal, grants };
}

/** Enterprise Server: an instance user as GET /users/{username} returns it (the full user carries suspended_at). */
export function mapInstanceUser(user: GhSimpleUser, host: string): { principal: Principal; grants: Grant[] } {
  const suspended = Boolean(user.suspended_at);
  return {
    principal: {
      id: user.node_id,
      kind: userKind(user),
      name: user.login,
      email: user.email ?? null,
      displayName: user.name ?? null,
      status: suspended ? "suspended" : "active",
      mfa: "unknown",
      createdAt: iso(user.created_at),
      lastActive: NO_LAST_LOGIN,
      attributes: {
        github_id: user.id,
        site_admin: user.site_admin,
        suspended_at: iso(user.suspended_at ?? null),
        mfa_source: "unknown: the instance API does not report 2FA",
      },
    },
    grants: user.site_admin
      ? [{ principalId: user.node_id, privilege: "site_admin", level: "admin", scope: `instance:${host}`, via: "direct" }]
      : [],
  };
}

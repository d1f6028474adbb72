// GitHub REST objects as documented in github/rest-api-description (api.github.com and GHEC
// descriptions, API version 2022-11-28). Only the fields whohas reads are required here; the
// simulator emits the full documented shapes. Shared by map.ts (reader) and simulator.ts (writer)
// so that a renamed field breaks the type check on both sides.

/** `simple-user`: members, outside collaborators, team members, owners of PATs. */
export interface GhSimpleUser {
  login: string;
  id: number;
  node_id: string;
  type: string;
  site_admin: boolean;
  name?: string | null;
  email?: string | null;
  /** Only on GitHub Enterprise Server's full user object (GET /users/{username}). */
  suspended_at?: string | null;
  created_at?: string;
}

/** `collaborator`: GET /repos/{owner}/{repo}/collaborators. */
export interface GhCollaborator extends GhSimpleUser {
  role_name?: string;
  permissions?: GhRepoPermissions;
}

export interface GhRepoPermissions {
  admin?: boolean;
  maintain?: boolean;
  push?: boolean;
  triage?: boolean;
  pull?: boolean;
}

/** `organization-full`: GET /orgs/{org}. Admin-only fields are absent for other callers. */
export interface GhOrganization {
  login: string;
  id: number;
  node_id: string;
  name?: string | null;
  created_at: string;
  two_factor_requirement_enabled?: boolean | null;
  default_repository_permission?: string | null;
  plan?: { name: string; seats?: number; filled_seats?: number };
}

/** `organization-invitation`: GET /orgs/{org}/invitations and /failed_invitations. */
export interface GhInvitation {
  id: number;
  node_id: string;
  login: string | null;
  email: string | null;
  role: string;
  created_at: string;
  failed_at?: string | null;
  failed_reason?: string | null;
  inviter: GhSimpleUser | null;
  team_count: number;
  invitation_source?: string;
}

/** `org-membership`: GET /orgs/{org}/memberships/{username}. */
export interface GhOrgMembership {
  state: "active" | "pending";
  role: "admin" | "member" | "billing_manager";
  user: GhSimpleUser | null;
}

/** `team`: GET /orgs/{org}/teams. */
export interface GhTeam {
  id: number;
  node_id: string;
  slug: string;
  name: string;
  privacy?: string;
  permission: string;
  parent: { id: number; slug: string } | null;
}

/** `minimal-repository` (GET /orgs/{org}/repos) and `team-repository` (GET /orgs/{org}/teams/{slug}/repos). */
export interface GhRepository {
  id: number;
  node_id: string;
  name: string;
  /** GitHub's display form; owner.login + name is what identifies it (full_name is not used). */
  full_name: string;
  owner: { login: string };
  private: boolean;
  archived?: boolean;
  disabled?: boolean;
  fork: boolean;
  visibility?: string;
  created_at?: string | null;
  permissions?: GhRepoPermissions;
  role_name?: string;
}

/** `deploy-key`: GET /repos/{owner}/{repo}/keys. `last_used` and `enabled` are newer fields some servers omit. */
export interface GhDeployKey {
  id: number;
  key: string;
  title: string;
  verified: boolean;
  created_at: string;
  read_only: boolean;
  added_by?: string | null;
  last_used?: string | null;
  enabled?: boolean;
}

/** `installation`: GET /orgs/{org}/installations (inside `{total_count, installations}`) and /orgs/{org}/installation. */
export interface GhInstallation {
  id: number;
  app_id: number;
  app_slug: string;
  client_id?: string;
  target_id: number;
  target_type: string;
  repository_selection: "all" | "selected";
  permissions: Record<string, string>;
  events: string[];
  created_at: string;
  updated_at: string;
  suspended_at: string | null;
  suspended_by: GhSimpleUser | null;
  account: GhSimpleUser | null;
}

export interface GhTokenPermissions {
  organization?: Record<string, string>;
  repository?: Record<string, string>;
  other?: Record<string, string>;
}

/** `organization-programmatic-access-grant`: GET /orgs/{org}/personal-access-tokens (GitHub Apps only). */
export interface GhPatGrant {
  id: number;
  owner: GhSimpleUser;
  repository_selection: "none" | "all" | "subset";
  permissions: GhTokenPermissions;
  access_granted_at: string;
  token_id: number;
  token_name: string;
  token_expired: boolean;
  token_expires_at: string | null;
  token_last_used_at: string | null;
}

/** `organization-programmatic-access-grant-request`: GET /orgs/{org}/personal-access-token-requests. */
export interface GhPatRequest {
  id: number;
  reason: string | null;
  owner: GhSimpleUser;
  repository_selection: "none" | "all" | "subset";
  permissions: GhTokenPermissions;
  created_at: string;
  token_id: number;
  token_name: string;
  token_expired: boolean;
  token_expires_at: string | null;
  token_last_used_at: string | null;
}

/** `credential-authorization` (GHEC, SAML orgs): GET /orgs/{org}/credential-authorizations. */
export interface GhCredentialAuthorization {
  login: string;
  credential_id: number;
  /** "personal access token", "SSH key", "OAuth app token", "GitHub app token" (free text per the docs). */
  credential_type: string;
  token_last_eight?: string | null;
  credential_authorized_at: string;
  scopes?: string[];
  fingerprint?: string | null;
  credential_accessed_at: string | null;
  authorized_credential_id: number | null;
  authorized_credential_title?: string | null;
  authorized_credential_note?: string | null;
  authorized_credential_expires_at?: string | null;
}

/**
 * `audit-log-event` (GHEC / GHES): GET /orgs/{org}/audit-log. Times are epoch milliseconds. Which other
 * fields appear depends on the action (https://docs.github.com/en/organizations/keeping-your-organization-secure/managing-security-settings-for-your-organization/audit-log-events-for-your-organization).
 */
export interface GhAuditLogEvent {
  "@timestamp"?: number;
  action?: string;
  actor?: string;
  actor_id?: number;
  /** Only where the org enables IP disclosure (Enterprise Cloud). */
  actor_ip?: string;
  actor_location?: { country_code?: string };
  created_at?: number;
  _document_id?: string;
  org?: string;
  org_id?: number;
  user?: string;
  user_id?: number;
  user_agent?: string;
  team?: string;
  repo?: string;
  permission?: string;
  old_permission?: string;
  operation_type?: string;
  outcome?: string;
  programmatic_access_type?: string;
  integration?: string;
  installation_id?: number;
  credential_id?: number;
  deploy_key_id?: number;
  token_id?: number;
  id?: number;
  business?: string | null;
}

/** The error body GitHub sends with 4xx/5xx. */
export interface GhErrorBody {
  message: string;
  documentation_url?: string;
  status?: string;
  errors?: unknown[];
}

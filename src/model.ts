// The normalized vocabulary every part of whohas speaks. Connectors produce these,
// the store persists them, the differ compares them, renderers print them.

/** `unknown`: a holder of grants or credentials that no listing of its scope returned (an unresolved principal). */
export const PRINCIPAL_KINDS = ["human", "service", "root", "bot", "guest", "external", "unknown"] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

export const PRINCIPAL_STATUSES = ["active", "suspended", "disabled", "invited", "archived", "unknown"] as const;
export type PrincipalStatus = (typeof PRINCIPAL_STATUSES)[number];

export const MFA_STATES = ["enabled", "disabled", "not_applicable", "unknown"] as const;
export type MfaState = (typeof MFA_STATES)[number];

/** Ordered from most to least powerful; the order is what "escalation" means. */
export const ACCESS_LEVELS = ["admin", "privileged", "write", "read", "none"] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];
/** The levels a grant or role can confer: "none" is only ever a principal's own level. */
export const GRANTED_LEVELS = ["admin", "privileged", "write", "read"] as const satisfies readonly Exclude<AccessLevel, "none">[];

export const CREDENTIAL_KINDS = [
  "password",
  "access_key",
  "client_secret",
  "certificate",
  "pat",
  "ssh_key",
  "deploy_key",
  "oauth_grant",
  "service_account_key",
  "app_password",
] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export const CREDENTIAL_STATUSES = ["active", "inactive", "expired", "pending"] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];

export const GRANT_VIAS = ["direct", "group", "inherited", "eligible"] as const;
export type GrantVia = (typeof GRANT_VIAS)[number];

/** JSON-safe attribute bag: provider detail that does not deserve a column. */
export type Attributes = Record<string, string | number | boolean | null | string[]>;

/**
 * Activity values (lastActiveAt, lastUsedAt) are volatile: they are stored apart from the
 * identity versions so that a daily login does not create a new version of the account.
 * `null` with `activityKnown: false` means the provider cannot tell (licence, permission);
 * `null` with `activityKnown: true` means the provider says "never".
 */
export interface Activity {
  at: string | null;
  known: boolean;
  /** Which provider signal the value came from, e.g. "password_last_used" or "lastSignInDateTime". */
  signal?: string;
}

export interface Principal {
  /** Provider-stable id (AWS UserId, Entra object id, Google user id, GitHub node id), never a display name. */
  id: string;
  kind: PrincipalKind;
  /** Login, UPN, ARN: what a human searches for. */
  name: string;
  email?: string | null;
  displayName?: string | null;
  status: PrincipalStatus;
  mfa: MfaState;
  createdAt?: string | null;
  /** Level the provider states directly (e.g. Google isAdmin); grants can only raise it. */
  accessLevel?: AccessLevel;
  lastActive?: Activity;
  attributes?: Attributes;
}

export interface Credential {
  /** Provider-stable id of the credential (access key id, keyId, token id), never the secret. */
  id: string;
  principalId: string;
  kind: CredentialKind;
  name?: string | null;
  status: CredentialStatus;
  createdAt?: string | null;
  expiresAt?: string | null;
  lastUsed?: Activity;
  attributes?: Attributes;
}

export interface Grant {
  principalId: string;
  /** Role, policy, group, team or org role name. */
  privilege: string;
  level: Exclude<AccessLevel, "none">;
  /** What the privilege applies to: account, org, tenant, repo, org unit. */
  scope: string;
  via: GrantVia;
  /**
   * The provider's own id of this grant, where one holder can hold the same privilege on the same scope as
   * several objects removed one at a time (Google's roleAssignmentId): part of the grant's identity, so each
   * stays a grant of its own in the evidence and in a remediation plan. Absent elsewhere.
   */
  instance?: string;
  attributes?: Attributes;
}

/** What a role definition is in its provider's own terms; the store keeps any lower-case word, these are the ones connectors use. */
export const ROLE_KINDS = [
  "aws_managed_policy",
  "aws_customer_policy",
  "aws_inline_policy",
  "aws_assumable_role",
  "entra_directory_role",
  "google_admin_role",
  "github_org_role",
  "github_team_role",
  "github_repo_role",
  "github_other",
] as const;

/**
 * What a role, policy or group permits, and the privilege string its grants carry: the catalogue that lets a
 * reviewer answer "does this account really need write or delete access?". Connectors emit one for every
 * privilege someone holds, from the same bulk calls that give the grants.
 */
export interface RoleDefinition {
  /** Provider-stable id (policy ARN, role definition id, Google roleId, GitHub role key). */
  id: string;
  /** The `privilege` of the grants that hold it: how holders are found. */
  privilege: string;
  name: string;
  /** Provider kind, e.g. one of ROLE_KINDS. */
  kind: string;
  /** Privilege class the connector gives the grants of this role, and why. */
  level: Exclude<AccessLevel, "none">;
  reason: string;
  /** What it permits in the provider's own terms, one line per service or resource family. */
  permissions: string[];
  /** A definition that belongs to one holder (an AWS user's or role's inline policy): only that principal's grants. */
  holderId?: string | null;
  attributes?: Attributes;
}

/**
 * Attribute and scope-meta keys the core's rules read. Connectors write provider detail under any name,
 * but these meanings only under these names.
 */
export const ATTR = {
  /** Principal: access held by another organisation (an app owned by another tenant, an external trust). */
  thirdParty: "third_party",
  /** Principal: ISO date after which the account's access should end (leave date, contract end). */
  accessExpiresAt: "access_expires_at",
  /**
   * Grant or credential: the kind of holder the provider claims, in its own word lower-cased (Graph's
   * principal type, Google's assigneeType); "group" for a group, which unresolved-grantee does not flag.
   */
  holderKind: "holder_kind",
  /** Principal: true on the stub the engine makes for a holder no listing of its scope returned. */
  unresolved: "unresolved",
  /** Unresolved principal: the kind the provider claims for it, from its grants or credentials. */
  claimedKind: "claimed_kind",
  /** Unresolved principal: where it was seen (grants, credentials). */
  seenIn: "seen_in",
  /** Unresolved principal found in another scope of the same source: that scope. */
  sameAs: "same_as",
} as const;

export const META = {
  /** Scope: ISO time the provider's activity data is as of (e.g. the AWS credential report's generation). */
  activityAsOf: "activity_as_of",
  /** Scope: why last activity is unknown for the whole scope (licence, permission, provider has none). */
  activityUnknownReason: "activity_unknown_reason",
} as const;

/** Identity of a grant: the same principal holding the same privilege on the same scope the same way. */
export function grantId(g: Pick<Grant, "principalId" | "privilege" | "scope" | "via" | "instance">): string {
  const id = `${g.principalId}\u001f${g.privilege}\u001f${g.scope}\u001f${g.via}`;
  return g.instance === undefined ? id : `${id}\u001f${g.instance}`;
}

export function accessRank(level: AccessLevel): number {
  return ACCESS_LEVELS.length - 1 - ACCESS_LEVELS.indexOf(level);
}

export function maxAccessLevel(levels: Iterable<AccessLevel>): AccessLevel {
  let best: AccessLevel = "none";
  for (const l of levels) if (accessRank(l) > accessRank(best)) best = l;
  return best;
}

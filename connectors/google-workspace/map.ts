// Directory API / IAM records → the normalized model. Pure functions, no I/O.
import type { admin_directory_v1 } from "@googleapis/admin";
import { ATTR, type AccessLevel, type Activity, type Attributes, type Credential, type Grant, type Principal } from "../../src/model.js";

type User = admin_directory_v1.Schema$User;
type Role = admin_directory_v1.Schema$Role;
type RoleAssignment = admin_directory_v1.Schema$RoleAssignment;
type Token = admin_directory_v1.Schema$Token;
type Asp = admin_directory_v1.Schema$Asp;

/** Google's lastLoginTime for an account that never signed in. */
export const NEVER_LOGGED_IN = "1970-01-01T00:00:00.000Z";

/** Outside years 0000–9999 toISOString() writes "+010000-…", which no longer sorts as a timestamp. */
const inIsoRange = (t: number) => t >= -62_167_219_200_000 && t < 253_402_300_800_000;

/** ISO-8601 UTC, or null for absent / unparseable values. */
export function isoOrNull(value: string | null | undefined): string | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) || !inIsoRange(t) ? null : new Date(t).toISOString();
}

/** int64 epoch milliseconds as the API sends them (decimal strings). */
export function epochMsToIso(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 && inIsoRange(n) ? new Date(n).toISOString() : null;
}

/** Only the strings of a list the description types as strings (members may still arrive null). */
const strings = (list: unknown): string[] => (Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : []);

/**
 * 1970-01-01T00:00:00Z exactly is Google's documented "never signed in" — the only sentinel; any other date is
 * a date. A missing value means the field was not returned, so unknown.
 * Google lags about a day and sometimes flips a user between a date and 1970 between runs: the store keeps
 * the latest value ever seen, so "never" here must not be read as "stopped signing in".
 */
export function lastLoginActivity(value: string | null | undefined): Activity {
  if (value === null || value === undefined || value === "") return { at: null, known: false, signal: "lastLoginTime" };
  const t = Date.parse(value);
  if (Number.isNaN(t) || !inIsoRange(t)) return { at: null, known: false, signal: "lastLoginTime" };
  if (t === 0) return { at: null, known: true, signal: "lastLoginTime" };
  return { at: new Date(t).toISOString(), known: true, signal: "lastLoginTime" };
}

function customSchemaAttributes(schemas: User["customSchemas"]): Attributes {
  const out: Attributes = {};
  for (const [schema, fields] of Object.entries(schemas ?? {})) {
    for (const [field, value] of Object.entries(fields ?? {})) {
      const key = `schema.${schema}.${field}`;
      if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") out[key] = value;
      // Multi-valued fields arrive as [{type, value}]; keep the values.
      else if (Array.isArray(value)) out[key] = value.map((v) => String((v as { value?: unknown })?.value ?? JSON.stringify(v)));
      else out[key] = JSON.stringify(value);
    }
  }
  return out;
}

export function mapUser(u: User): Principal {
  if (!u.id || !u.primaryEmail) throw new Error(`users.list returned a user without id or primaryEmail (${u.id ?? u.primaryEmail ?? "?"})`);
  const status = u.archived ? "archived" : u.suspended ? "suspended" : "active";
  const mfa = u.isEnrolledIn2Sv === true ? "enabled" : u.isEnrolledIn2Sv === false ? "disabled" : "unknown";
  const accessLevel: AccessLevel | undefined =
    u.isAdmin === true ? "admin" : u.isDelegatedAdmin === true ? "privileged" : u.isAdmin === false && u.isDelegatedAdmin === false ? "none" : undefined;
  const attributes: Attributes = {
    orgUnitPath: u.orgUnitPath ?? null,
    aliases: strings(u.aliases).sort(),
    superAdmin: u.isAdmin ?? null,
    delegatedAdmin: u.isDelegatedAdmin ?? null,
    twoStepEnrolled: u.isEnrolledIn2Sv ?? null,
    twoStepEnforced: u.isEnforcedIn2Sv ?? null,
    ...(u.suspensionReason ? { suspensionReason: u.suspensionReason } : {}),
    ...(u.customerId ? { customerId: u.customerId } : {}),
    ...customSchemaAttributes(u.customSchemas),
  };
  return {
    id: u.id,
    kind: u.isGuestUser ? "guest" : "human",
    name: u.primaryEmail,
    email: u.primaryEmail,
    displayName: u.name?.fullName ?? null,
    status,
    mfa,
    createdAt: isoOrNull(u.creationTime),
    ...(accessLevel ? { accessLevel } : {}),
    lastActive: lastLoginActivity(u.lastLoginTime),
    attributes,
  };
}

/**
 * Level of an admin role. Documented in README.md ("Role levels"):
 *  admin      — the super admin role (isSuperAdminRole or the SUPER_ADMIN privilege);
 *  privileged — can change who has access: user management beyond read, user security, role
 *               management, security settings, group membership (roles can be assigned to groups);
 *  read       — every privilege is a read (…_RETRIEVE, …_READ, reports, the admin dashboard);
 *  write      — anything else (service settings, org units, devices, …).
 */
export function roleLevel(role: Pick<Role, "isSuperAdminRole" | "rolePrivileges">): Exclude<AccessLevel, "none"> {
  const names = privilegeNames(role);
  if (role.isSuperAdminRole || names.includes("SUPER_ADMIN")) return "admin";
  if (names.some(isPrivilegedPrivilege)) return "privileged";
  if (names.length > 0 && names.every(isReadPrivilege)) return "read";
  return "write";
}

const PRIVILEGED = [
  /^USERS_(?!RETRIEVE$)/, // create, update, delete, suspend, reset passwords, aliases, move …
  /^USER_SECURITY/,
  /SECURITY/,
  /ROLE/,
  /^ADMIN_APIS_ALL$/,
  /^ROOT_APP_ADMIN$/,
  /^GROUPS_(ALL|CREATE|UPDATE|DELETE)$/,
  /^CHANGE_USER_GROUP_MEMBERSHIP$/,
  /^DATA_TRANSFER/,
];
const READ = [/_RETRIEVE$/, /_READ(_ONLY|ONLY)?$/, /^ADMIN_DASHBOARD$/, /^REPORTS/, /_VIEW(ER)?$/, /^AUDIT/];

/** Privilege names of a role; the description allows null entries and names, which grant nothing. */
function privilegeNames(role: Pick<Role, "rolePrivileges">): string[] {
  return (role.rolePrivileges ?? []).map((p) => p?.privilegeName ?? "").filter(Boolean);
}

export function isPrivilegedPrivilege(name: string): boolean {
  return PRIVILEGED.some((re) => re.test(name));
}

function isReadPrivilege(name: string): boolean {
  return READ.some((re) => re.test(name));
}

/** Grant scope: the whole customer, or one org unit. */
export function assignmentScope(a: Pick<RoleAssignment, "scopeType" | "orgUnitId">): string {
  return a.scopeType === "ORG_UNIT" && a.orgUnitId ? `org_unit:${a.orgUnitId}` : "customer";
}

/**
 * A role assignment as a grant. Assignments to a group carry the group's id as principal and
 * `assigneeType: "GROUP"`: the members hold it through the group, which this connector does not expand.
 * `assignedTo` may also be a service account's uniqueId (the description says so): the engine joins it to
 * that service account when a gcp_projects scope lists it, else to an unresolved principal.
 * Without `assignedTo` or `roleId` the grant cannot be told: it is quarantined, not dropped.
 */
export function mapRoleAssignment(a: RoleAssignment, role: Role | undefined): Grant {
  if (!a.assignedTo) throw new Error(`role assignment ${a.roleAssignmentId ?? "(no id)"} has no assignedTo`);
  if (!a.roleId) throw new Error(`role assignment ${a.roleAssignmentId ?? "(no id)"} has no roleId`);
  const assigneeType = (a.assigneeType ?? "USER").toUpperCase();
  const attributes: Attributes = {
    roleId: a.roleId,
    roleAssignmentId: a.roleAssignmentId ?? null,
    assigneeType,
    scopeType: a.scopeType ?? null,
    [ATTR.holderKind]: assigneeType.toLowerCase(),
    ...(a.orgUnitId ? { orgUnitId: a.orgUnitId } : {}),
    ...(a.condition ? { condition: a.condition } : {}),
    ...(role ? { systemRole: role.isSystemRole ?? false } : { roleUnknown: true }),
    ...(role && !role.isSuperAdminRole ? { privileges: privilegeNames(role).sort() } : {}),
  };
  return {
    principalId: a.assignedTo,
    privilege: role?.roleName ?? `role:${a.roleId}`,
    // A role we could not read is treated as privileged rather than dropped.
    level: role ? roleLevel(role) : "privileged",
    scope: assignmentScope(a),
    via: "direct",
    // Two assignments of one role to one holder on one scope are two objects (each removed by its own id).
    ...(a.roleAssignmentId ? { instance: String(a.roleAssignmentId) } : {}),
    attributes,
  };
}

/**
 * Tokens have no id of their own: one grant per (user, OAuth client). The description makes clientId optional;
 * a token without it cannot be told from the user's others, so it is quarantined, not dropped.
 */
/**
 * A per-user answer must be about the user asked for (its items carry `userKey`, the user's id): otherwise the
 * credential would be stored on the wrong person. Such an item is refused, so it is quarantined with the reason.
 */
function requireAskedUser(what: string, userId: string, userKey: string | null | undefined): void {
  if (userKey && userKey !== userId) throw new Error(`${what} for user ${userId} answered about another user (${userKey})`);
}

export function mapToken(userId: string, t: Token): Credential {
  requireAskedUser("tokens.list", userId, t.userKey);
  if (!t.clientId) throw new Error(`an OAuth token of user ${userId} has no clientId`);
  return {
    id: `${userId}/oauth/${t.clientId}`,
    principalId: userId,
    kind: "oauth_grant",
    name: t.displayText ?? t.clientId,
    status: "active",
    createdAt: null,
    expiresAt: null,
    // tokens.list reports no issue or last-use time.
    lastUsed: { at: null, known: false, signal: "tokens.list" },
    attributes: {
      clientId: t.clientId,
      scopes: strings(t.scopes).sort(),
      nativeApp: t.nativeApp ?? false,
      anonymous: t.anonymous ?? false,
    },
  };
}

/** An app password without codeId (optional in the description) cannot be stored under an id: quarantined. */
export function mapAsp(userId: string, a: Asp): Credential {
  requireAskedUser("asps.list", userId, a.userKey);
  if (a.codeId === null || a.codeId === undefined) throw new Error(`an app password of user ${userId} has no codeId`);
  // "0" reads as never used; an absent field means the API did not say.
  const last = a.lastTimeUsed;
  const lastUsed: Activity =
    last === null || last === undefined || last === ""
      ? { at: null, known: false, signal: "asps.lastTimeUsed" }
      : { at: epochMsToIso(last), known: true, signal: "asps.lastTimeUsed" };
  return {
    id: `${userId}/asp/${a.codeId}`,
    principalId: userId,
    kind: "app_password",
    name: a.name ?? null,
    status: "active",
    createdAt: epochMsToIso(a.creationTime),
    expiresAt: null,
    lastUsed,
    attributes: { codeId: a.codeId },
  };
}

// ---- Google Cloud IAM (optional gcp_projects) ---------------------------------------------------

export interface IamServiceAccount {
  name?: string;
  projectId?: string;
  uniqueId?: string;
  email?: string;
  displayName?: string;
  description?: string;
  oauth2ClientId?: string;
  disabled?: boolean;
}

export interface IamKey {
  name?: string;
  validAfterTime?: string;
  validBeforeTime?: string;
  keyAlgorithm?: string;
  keyOrigin?: string;
  keyType?: string;
  disabled?: boolean;
}

/** A service account without uniqueId or email cannot be stored or asked for its keys: quarantined. */
export function mapServiceAccount(sa: IamServiceAccount): Principal {
  if (!sa.uniqueId || !sa.email) throw new Error(`service account ${sa.name ?? sa.email ?? sa.uniqueId ?? "(unnamed)"} has no ${sa.uniqueId ? "email" : "uniqueId"}`);
  return {
    id: sa.uniqueId,
    kind: "service",
    name: sa.email,
    email: sa.email,
    displayName: sa.displayName || null,
    status: sa.disabled ? "disabled" : "active",
    mfa: "not_applicable",
    createdAt: null,
    // The IAM API has no last-authentication time (that needs Policy Intelligence activity queries).
    lastActive: { at: null, known: false, signal: "iam.serviceAccounts" },
    attributes: {
      projectId: sa.projectId ?? null,
      oauth2ClientId: sa.oauth2ClientId ?? null,
      ...(sa.description ? { description: sa.description } : {}),
    },
  };
}

/** Google writes "9999-12-31T23:59:59Z" for keys that never expire. */
const NO_EXPIRY_YEAR = 9999;

export function mapServiceAccountKey(principalId: string, k: IamKey, now: Date, email: string): Credential {
  if (!k.name) throw new Error(`a key of service account ${principalId} has no name (its id)`);
  // The name is projects/P/serviceAccounts/ACCOUNT/keys/ID, ACCOUNT the email or unique id: a key of another
  // account must not be stored on this one.
  const owner = /\/serviceAccounts\/([^/]+)\/keys\/[^/]+$/.exec(k.name)?.[1];
  if (owner !== undefined && owner !== principalId && owner !== email) throw new Error(`keys.list for service account ${email} answered about another account (${owner})`);
  const keyId = k.name.slice(k.name.lastIndexOf("/") + 1);
  const before = isoOrNull(k.validBeforeTime);
  const expiresAt = before && new Date(before).getUTCFullYear() >= NO_EXPIRY_YEAR ? null : before;
  const status = k.disabled ? "inactive" : expiresAt && Date.parse(expiresAt) <= now.getTime() ? "expired" : "active";
  return {
    id: keyId,
    principalId,
    kind: "service_account_key",
    name: keyId,
    status,
    createdAt: isoOrNull(k.validAfterTime),
    expiresAt,
    lastUsed: { at: null, known: false, signal: "iam.keys" },
    attributes: {
      keyType: k.keyType ?? null,
      keyAlgorithm: k.keyAlgorithm ?? null,
      keyOrigin: k.keyOrigin ?? null,
      keyIdSuffix: keyId.slice(-8),
    },
  };
}

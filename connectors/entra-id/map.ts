// Pure functions: Microsoft Graph records (as selected by the connector) → the normalized model.
// No I/O and no clock: "now" is passed in so expiry status is testable.
import { ATTR, type Activity, type Attributes, type Credential, type Grant, type MfaState, type Principal, type PrincipalKind, type PrincipalStatus } from "../../src/model.js";
import { roleLevel, roleName, type RoleDefinitionLike } from "./roles.js";

// ---- Graph shapes (only the properties we $select) ----

export interface GraphSignInActivity {
  lastSignInDateTime?: string | null;
  lastNonInteractiveSignInDateTime?: string | null;
  lastSuccessfulSignInDateTime?: string | null;
}

export interface GraphUser {
  id: string;
  userPrincipalName?: string | null;
  mail?: string | null;
  displayName?: string | null;
  accountEnabled?: boolean | null;
  userType?: string | null;
  createdDateTime?: string | null;
  creationType?: string | null;
  externalUserState?: string | null;
  onPremisesSyncEnabled?: boolean | null;
  employeeLeaveDateTime?: string | null;
  signInActivity?: GraphSignInActivity | null;
}

export interface GraphRegistrationDetails {
  id: string;
  isMfaRegistered?: boolean | null;
  methodsRegistered?: string[] | null;
}

export interface GraphPasswordCredential {
  keyId: string;
  displayName?: string | null;
  startDateTime?: string | null;
  endDateTime?: string | null;
}

export interface GraphKeyCredential {
  keyId: string;
  displayName?: string | null;
  type?: string | null;
  usage?: string | null;
  startDateTime?: string | null;
  endDateTime?: string | null;
  customKeyIdentifier?: string | null;
}

export interface GraphServicePrincipal {
  id: string;
  appId?: string | null;
  displayName?: string | null;
  accountEnabled?: boolean | null;
  servicePrincipalType?: string | null;
  appOwnerOrganizationId?: string | null;
  passwordCredentials?: GraphPasswordCredential[] | null;
  keyCredentials?: GraphKeyCredential[] | null;
}

export interface GraphApplication {
  id: string;
  appId?: string | null;
  displayName?: string | null;
  createdDateTime?: string | null;
  signInAudience?: string | null;
  passwordCredentials?: GraphPasswordCredential[] | null;
  keyCredentials?: GraphKeyCredential[] | null;
}

export interface GraphDirectoryObjectRef {
  "@odata.type"?: string;
  id: string;
  displayName?: string | null;
}

export interface GraphRoleAssignment {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  directoryScopeId?: string | null;
  principal?: GraphDirectoryObjectRef | null;
}

export interface GraphRoleEligibilitySchedule {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  directoryScopeId?: string | null;
  memberType?: string | null;
  status?: string | null;
  scheduleInfo?: { startDateTime?: string | null; expiration?: { type?: string | null; endDateTime?: string | null } | null } | null;
  principal?: GraphDirectoryObjectRef | null;
}

export type GraphRoleDefinition = RoleDefinitionLike;

// ---- helpers ----

/**
 * Graph timestamps → ISO-8601 UTC. Graph's documented "no value" placeholder, 0001-01-01T00:00:00Z, is the
 * only sentinel: any other date, however far in the past, is a date (a secret that expired in 1999 expired).
 * Unparseable text and dates past year 9999 (toISOString writes "+010000-…", which no longer sorts) → null.
 */
export function isoUtc(value: string | null | undefined): string | null {
  if (!value || typeof value !== "string") return null;
  if (value.startsWith("0001-01-01")) return null;
  const t = Date.parse(value);
  if (Number.isNaN(t) || t < YEAR_1 || t >= YEAR_10000) return null;
  return new Date(t).toISOString();
}

const YEAR_1 = -62_135_596_800_000;
const YEAR_10000 = 253_402_300_800_000;

/** Since when Entra keeps sign-in activity: a null signInActivity says "none since then", not "never". */
export const SIGN_IN_RETENTION_START = "2020-04-01T00:00:00.000Z";

const SIGN_IN_FIELDS = ["lastSuccessfulSignInDateTime", "lastSignInDateTime", "lastNonInteractiveSignInDateTime"] as const;

/**
 * How sign-in activity reaches the mapper: collected, or refused for the whole tenant (licence or
 * permission) with the reason, or not asked for.
 */
export type SignInAvailability = { available: true } | { available: false; reason: string };

/**
 * Last activity from signInActivity. lastSignInDateTime and lastNonInteractiveSignInDateTime record
 * attempts, failed ones included (a password spray against a dormant account would make it look
 * active), so the successful sign-in wins whenever Entra has one; only when it has none (it is not
 * backfilled before December 2023) does the latest attempt stand in, and the signal says which.
 *
 * Unknown is not never: signInActivity absent although selected, or `{}`, is unknown. Null (or only null
 * timestamps) means no sign-in since April 2020, when Entra began keeping them: "never" only for an account
 * created after that; for an older one (or one without a creation date) it is unknown.
 */
export function lastActiveFromSignIn(sa: GraphSignInActivity | null | undefined, createdAt?: string | null): Activity {
  if (sa === undefined) return { at: null, known: false, signal: "signInActivity missing from Graph's answer" };
  if (sa !== null && typeof sa === "object" && SIGN_IN_FIELDS.every((f) => sa[f] === undefined)) {
    return { at: null, known: false, signal: "signInActivity empty in Graph's answer" };
  }
  const none = (): Activity =>
    createdAt && createdAt >= SIGN_IN_RETENTION_START
      ? { at: null, known: true, signal: "signInActivity" }
      : { at: null, known: false, signal: "no sign-in recorded since April 2020 (Entra keeps none older)" };
  if (!sa || typeof sa !== "object") return none();
  const success = isoUtc(sa.lastSuccessfulSignInDateTime);
  if (success) return { at: success, known: true, signal: "lastSuccessfulSignInDateTime" };
  let best: Activity | null = null;
  for (const field of SIGN_IN_FIELDS.slice(1)) {
    const at = isoUtc(sa[field]);
    if (at && (best === null || at > best.at!)) best = { at, known: true, signal: field };
  }
  return best ?? none();
}

export function userKind(u: Pick<GraphUser, "userType" | "userPrincipalName">): PrincipalKind {
  if ((u.userType ?? "").toLowerCase() === "guest") return "guest";
  // B2B collaboration users invited as members keep the #EXT# marker in their UPN.
  if ((u.userPrincipalName ?? "").includes("#EXT#")) return "external";
  return "human";
}

export function userStatus(u: Pick<GraphUser, "accountEnabled" | "externalUserState">): PrincipalStatus {
  if (u.accountEnabled === false) return "disabled";
  if (u.externalUserState === "PendingAcceptance") return "invited";
  return "active";
}

/** Compact MFA facts per user id; several hundred thousand of these must fit in memory. */
export interface MfaFacts {
  registered: boolean | null;
  methods: readonly string[];
}

export function mfaFacts(d: GraphRegistrationDetails): MfaFacts {
  return {
    registered: d.isMfaRegistered ?? null,
    methods: [...(d.methodsRegistered ?? [])].sort(),
  };
}

export function mfaState(facts: MfaFacts | undefined): MfaState {
  if (!facts || facts.registered === null) return "unknown";
  return facts.registered ? "enabled" : "disabled";
}

export interface UserMappingContext {
  signIn: SignInAvailability;
  /** undefined: the registration report was not available, so MFA is unknown for everyone. */
  mfa?: (userId: string) => MfaFacts | undefined;
}

/**
 * Every directory object has an id. One without cannot be stored; thrown here, it is quarantined by mapEach and
 * its family kept as stored (dropping it silently would read as a removal, failing the page would hide the rest).
 */
function requireId(o: { id?: unknown }, what: string, name: unknown): void {
  if (typeof o.id !== "string" || o.id === "") throw new Error(`Graph returned ${what} without an id (${JSON.stringify(name ?? null)})`);
}

export function mapUser(u: GraphUser, ctx: UserMappingContext): Principal {
  requireId(u, "a user", u.userPrincipalName);
  const facts = ctx.mfa?.(u.id);
  const attributes: Attributes = {
    objectType: "user",
    userType: u.userType ?? null,
    creationType: u.creationType ?? null,
    externalUserState: u.externalUserState ?? null,
    onPremisesSyncEnabled: u.onPremisesSyncEnabled ?? null,
  };
  // The leave date ends the account's access: past it, an enabled account is temporary access overdue.
  if (u.employeeLeaveDateTime !== undefined) attributes[ATTR.accessExpiresAt] = isoUtc(u.employeeLeaveDateTime);
  // The report's isAdmin is not kept: it repeats the role grants, and would change the account's
  // version every time a role does.
  if (facts) attributes.mfaMethods = [...facts.methods];
  return {
    id: u.id,
    kind: userKind(u),
    name: u.userPrincipalName ?? u.id,
    email: u.mail ?? null,
    displayName: u.displayName ?? null,
    status: userStatus(u),
    mfa: mfaState(facts),
    createdAt: isoUtc(u.createdDateTime),
    lastActive: ctx.signIn.available
      ? lastActiveFromSignIn(u.signInActivity, isoUtc(u.createdDateTime))
      : { at: null, known: false, signal: `signInActivity unavailable: ${ctx.signIn.reason}` },
    attributes,
  };
}

/** Tenants Microsoft publishes its own first-party applications from. */
export const MICROSOFT_TENANTS: ReadonlySet<string> = new Set([
  "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
  "72f988bf-86f1-41af-91ab-2d7cd011db47",
]);

export type Ownership = "this-tenant" | "microsoft" | "third-party" | "managed-identity" | "unknown";

export function ownership(sp: Pick<GraphServicePrincipal, "servicePrincipalType" | "appOwnerOrganizationId">, tenantGuid: string | null): Ownership {
  if (sp.servicePrincipalType === "ManagedIdentity") return "managed-identity";
  const owner = sp.appOwnerOrganizationId?.toLowerCase();
  if (!owner) return "unknown";
  if (tenantGuid && owner === tenantGuid.toLowerCase()) return "this-tenant";
  if (MICROSOFT_TENANTS.has(owner)) return "microsoft";
  // Without our own tenant GUID we cannot tell ours from someone else's.
  return tenantGuid ? "third-party" : "unknown";
}

export function mapServicePrincipal(sp: GraphServicePrincipal, tenantGuid: string | null): Principal {
  requireId(sp, "a service principal", sp.displayName ?? sp.appId);
  const own = ownership(sp, tenantGuid);
  return {
    id: sp.id,
    kind: "service",
    name: sp.displayName ?? sp.appId ?? sp.id,
    displayName: sp.displayName ?? null,
    status: sp.accountEnabled === false ? "disabled" : "active",
    mfa: "not_applicable",
    lastActive: { at: null, known: false, signal: "servicePrincipalSignInActivities not collected" },
    attributes: {
      objectType: "servicePrincipal",
      appId: sp.appId ?? null,
      servicePrincipalType: sp.servicePrincipalType ?? null,
      appOwnerOrganizationId: sp.appOwnerOrganizationId ?? null,
      ownership: own,
      [ATTR.thirdParty]: own === "third-party",
    },
  };
}

/** An app registration with no service principal in this tenant still owns credentials: it becomes a principal itself. */
export function mapApplicationPrincipal(app: GraphApplication): Principal {
  requireId(app, "an application", app.displayName ?? app.appId);
  return {
    id: app.id,
    kind: "service",
    name: app.displayName ?? app.appId ?? app.id,
    displayName: app.displayName ?? null,
    status: "active",
    mfa: "not_applicable",
    createdAt: isoUtc(app.createdDateTime),
    lastActive: { at: null, known: false, signal: "no service principal in this tenant" },
    attributes: {
      objectType: "application",
      appId: app.appId ?? null,
      signInAudience: app.signInAudience ?? null,
      servicePrincipalInTenant: false,
    },
  };
}

export interface CredentialOwner {
  /** The principal the credential authenticates as (service principal, or the application if it has none here). */
  principalId: string;
  objectType: "application" | "servicePrincipal";
  objectId: string;
  appId: string | null;
}

export function credentialStatus(start: string | null, end: string | null, now: Date): Credential["status"] {
  const t = now.toISOString();
  if (end && end <= t) return "expired";
  if (start && start > t) return "pending";
  return "active";
}

const NOT_COLLECTED: Activity = { at: null, known: false, signal: "appCredentialSignInActivities not collected" };

/** Client secret metadata. Graph never returns secretText on read, and the hint (first characters) is deliberately not kept. */
export function mapPasswordCredential(pc: GraphPasswordCredential, owner: CredentialOwner, now: Date): Credential {
  const createdAt = isoUtc(pc.startDateTime);
  const expiresAt = isoUtc(pc.endDateTime);
  return {
    id: pc.keyId,
    principalId: owner.principalId,
    kind: "client_secret",
    name: pc.displayName ?? null,
    status: credentialStatus(createdAt, expiresAt, now),
    createdAt,
    expiresAt,
    lastUsed: NOT_COLLECTED,
    attributes: { objectType: owner.objectType, objectId: owner.objectId, appId: owner.appId },
  };
}

export function mapKeyCredential(kc: GraphKeyCredential, owner: CredentialOwner, now: Date): Credential {
  const createdAt = isoUtc(kc.startDateTime);
  const expiresAt = isoUtc(kc.endDateTime);
  return {
    id: kc.keyId,
    principalId: owner.principalId,
    kind: kc.type === "Symmetric" ? "client_secret" : "certificate",
    name: kc.displayName ?? null,
    status: credentialStatus(createdAt, expiresAt, now),
    createdAt,
    expiresAt,
    lastUsed: NOT_COLLECTED,
    attributes: {
      objectType: owner.objectType,
      objectId: owner.objectId,
      appId: owner.appId,
      keyType: kc.type ?? null,
      usage: kc.usage ?? null,
      // The certificate thumbprint (base64), public; identifies the certificate across rotations.
      customKeyIdentifier: kc.customKeyIdentifier ?? null,
    },
  };
}

export function mapCredentials(
  obj: { passwordCredentials?: GraphPasswordCredential[] | null; keyCredentials?: GraphKeyCredential[] | null },
  owner: CredentialOwner,
  now: Date,
): Credential[] {
  return [
    ...(obj.passwordCredentials ?? []).map((pc) => mapPasswordCredential(pc, owner, now)),
    ...(obj.keyCredentials ?? []).map((kc) => mapKeyCredential(kc, owner, now)),
  ];
}

export type PrincipalType = "user" | "servicePrincipal" | "group" | "unknown";

export function principalType(ref: GraphDirectoryObjectRef | null | undefined): PrincipalType {
  switch (ref?.["@odata.type"]) {
    case "#microsoft.graph.user":
      return "user";
    case "#microsoft.graph.servicePrincipal":
      return "servicePrincipal";
    case "#microsoft.graph.group":
      return "group";
    default:
      return "unknown";
  }
}

/** "/" is the whole tenant; anything else is an administrative unit or a single object (e.g. one app). */
export function directoryScope(directoryScopeId: string | null | undefined): string {
  const s = directoryScopeId ?? "/";
  if (s === "/") return "tenant";
  const au = /^\/administrativeUnits\/(.+)$/.exec(s);
  if (au) return `administrativeUnit:${au[1]}`;
  return `object:${s.replace(/^\//, "")}`;
}

export type RoleDefinitions = ReadonlyMap<string, GraphRoleDefinition>;

function roleGrant(
  principalId: string,
  roleDefinitionId: string,
  directoryScopeId: string | null | undefined,
  via: Grant["via"],
  defs: RoleDefinitions,
  attributes: Attributes,
): Grant {
  const def = defs.get(roleDefinitionId);
  return {
    principalId,
    privilege: roleName(def, roleDefinitionId),
    level: def ? roleLevel(def) : roleLevel({ id: roleDefinitionId }),
    scope: directoryScope(directoryScopeId),
    via,
    attributes: {
      roleDefinitionId,
      roleTemplateId: def?.templateId ?? null,
      builtIn: def?.isBuiltIn ?? null,
      ...attributes,
    },
  };
}

/** Graph's description marks roleDefinitionId nullable: without it the role, and so the grant, is unknown. */
function requireRole(roleDefinitionId: string | null | undefined, what: string): string {
  if (typeof roleDefinitionId !== "string" || roleDefinitionId === "") throw new Error(`${what} has no roleDefinitionId (${roleDefinitionId === null ? "null" : "absent"})`);
  return roleDefinitionId;
}

/**
 * Graph's description marks principalId nullable. Without it the grant cannot be stored, and it must be
 * quarantined here, one by one: left to the store, two holder-less assignments of one role share a grant id
 * and the connector's de-duplication dropped the second silently (found by the conformance sweep).
 */
function requireHolder(principalId: string | null | undefined, what: string): string {
  if (typeof principalId !== "string" || principalId === "") throw new Error(`${what} has no principalId (${principalId === null ? "null" : "absent"})`);
  return principalId;
}

/** What is known of an assignment or eligibility that could not be mapped: its holder. */
export function identifyRoleRecord(a: { principalId?: string | null }): { principalId: string | null } {
  return { principalId: typeof a.principalId === "string" ? a.principalId : null };
}

export function mapRoleAssignment(a: GraphRoleAssignment, defs: RoleDefinitions): Grant {
  requireRole(a.roleDefinitionId, `role assignment ${a.id}`);
  requireHolder(a.principalId, `role assignment ${a.id}`);
  return roleGrant(a.principalId, a.roleDefinitionId, a.directoryScopeId, "direct", defs, {
    assignmentId: a.id,
    principalType: principalType(a.principal),
    [ATTR.holderKind]: a.principal?.["@odata.type"]?.replace("#microsoft.graph.", "") ?? null,
    principalName: a.principal?.displayName ?? null,
  });
}

export function mapRoleEligibility(s: GraphRoleEligibilitySchedule, defs: RoleDefinitions): Grant {
  requireRole(s.roleDefinitionId, `role eligibility ${s.id}`);
  requireHolder(s.principalId, `role eligibility ${s.id}`);
  return roleGrant(s.principalId, s.roleDefinitionId, s.directoryScopeId, "eligible", defs, {
    eligibilityId: s.id,
    principalType: principalType(s.principal),
    [ATTR.holderKind]: s.principal?.["@odata.type"]?.replace("#microsoft.graph.", "") ?? null,
    principalName: s.principal?.displayName ?? null,
    memberType: s.memberType ?? null,
    eligibleUntil: isoUtc(s.scheduleInfo?.expiration?.endDateTime),
  });
}

/** A member of a role-assignable group holds the group's role: the same grant, via the group. */
export function mapGroupMemberGrant(groupGrant: Grant, memberId: string, groupId: string, groupName: string | null): Grant {
  const { assignmentId: _a, eligibilityId: _e, principalType: _t, principalName: _n, [ATTR.holderKind]: _k, ...rest } = groupGrant.attributes ?? {};
  return {
    ...groupGrant,
    principalId: memberId,
    via: groupGrant.via === "eligible" ? "eligible" : "group",
    attributes: { ...rest, groupId, groupName },
  };
}

// Pure mapping: IAM records (SDK shapes from GetAccountAuthorizationDetails) and credential report
// rows → normalized principals, credentials and grants. No I/O.
import type {
  AccessKeyMetadata,
  AttachedPolicy,
  GroupDetail,
  ManagedPolicyDetail,
  PolicyDetail,
  RoleDetail,
  Tag,
  UserDetail,
} from "@aws-sdk/client-iam";
import { ATTR, type Activity, type Attributes, type Credential, type Grant, type MfaState, type Principal, type PrincipalKind, type PrincipalStatus, type RoleDefinition } from "../../src/model.js";
import { assumableRoleDefinition, inlinePolicyDefinition } from "./roles.js";
import {
  analyzeTrust,
  classifyDocument,
  classifyManagedPolicy,
  higher,
  isAwsManagedArn,
  lower,
  parsePolicyDocument,
  type GrantLevel,
  type PolicyDocument,
  type PolicyLevel,
} from "./policy.js";
import type { ReportCert, ReportKey, ReportRow, ReportTime } from "./report.js";

const iso = (d: Date | undefined | null): string | null => (d ? d.toISOString() : null);

export interface ManagedPolicyInfo {
  arn: string;
  name: string;
  level: PolicyLevel;
  /** The default version's document, for the role catalogue; absent when IAM did not return it. */
  doc?: PolicyDocument;
}

export interface GroupInfo {
  groupId: string;
  name: string;
  arn: string;
  /** The group's own policies, already classified; members get them with via=group. */
  grants: GroupPolicyGrant[];
}

export interface GroupPolicyGrant {
  privilege: string;
  level: GrantLevel;
  attributes: Attributes;
  /** An inline policy's definition (managed ones are described from ctx.policies). */
  definition?: RoleDefinition;
}

/** What mapping a page of users and roles needs to know about the rest of the account. */
export interface AccountContext {
  accountId: string;
  partition: string;
  /** Grant scope string for this account. */
  scope: string;
  /** Account email from Organizations: it is the root user's sign-in email. */
  accountEmail?: string | null;
  policies: Map<string, ManagedPolicyInfo>;
  groups: Map<string, GroupInfo>;
  /** Accounts whose principals are not third parties (organization members, configured accounts). */
  internalAccounts: ReadonlySet<string>;
  /** Tag key (case-insensitive) holding a user's email address. */
  emailTag: string;
  /** Access key ids from ListAccessKeys, by user name, when that option is on. */
  accessKeys?: Map<string, AccessKeyMetadata[]>;
}

export function accountScope(accountId: string): string {
  return `account:${accountId}`;
}

export function privilegeOfManagedPolicy(arn: string): string {
  return arn;
}

// ------------------------------------------------------------------------------------------------
// Policies and groups

export function indexManagedPolicy(p: ManagedPolicyDetail): ManagedPolicyInfo | undefined {
  if (!p.Arn || !p.PolicyName) return undefined;
  const version = p.PolicyVersionList?.find((v) => v.IsDefaultVersion) ?? p.PolicyVersionList?.find((v) => v.VersionId === p.DefaultVersionId);
  let doc: PolicyDocument | undefined;
  if (version?.Document) {
    try {
      doc = parsePolicyDocument(version.Document);
    } catch {
      doc = undefined;
    }
  }
  return { arn: p.Arn, name: p.PolicyName, level: classifyManagedPolicy(p.Arn, p.PolicyName, doc), doc };
}

function managedLevel(ctx: AccountContext, attached: AttachedPolicy): ManagedPolicyInfo {
  const arn = attached.PolicyArn ?? "";
  const known = ctx.policies.get(arn);
  if (known) return known;
  const name = attached.PolicyName ?? arn.split("/").pop() ?? arn;
  return { arn, name, level: classifyManagedPolicy(arn, name, undefined) };
}

function policyAttributes(info: ManagedPolicyInfo): Attributes {
  const a: Attributes = {
    policy_arn: info.arn,
    policy_name: info.name,
    policy_type: isAwsManagedArn(info.arn) ? "aws_managed" : "customer_managed",
    level_basis: info.level.basis,
    level_reason: info.level.reason,
  };
  if (info.level.conditional) a.conditional = true;
  if (info.level.hasDeny) a.has_deny = true;
  return a;
}

function inlineGrant(prefix: string, p: PolicyDetail): GroupPolicyGrant | undefined {
  if (!p.PolicyName || !p.PolicyDocument) return undefined;
  let doc: PolicyDocument;
  try {
    doc = parsePolicyDocument(p.PolicyDocument);
  } catch {
    const privilege = `${prefix}${p.PolicyName}`;
    const reason = "document could not be parsed; assumed write";
    return {
      privilege,
      level: "write",
      attributes: { policy_type: "inline", policy_name: p.PolicyName, level_basis: "unparseable_document", level_reason: reason },
      definition: inlinePolicyDefinition(privilege, p.PolicyName, undefined, "write", reason),
    };
  }
  const c = classifyDocument(doc);
  if (c.level === null) return undefined;
  const attributes: Attributes = { policy_type: "inline", policy_name: p.PolicyName, level_basis: "document", level_reason: c.reason };
  if (c.conditional) attributes.conditional = true;
  if (c.hasDeny) attributes.has_deny = true;
  const privilege = `${prefix}${p.PolicyName}`;
  return { privilege, level: c.level, attributes, definition: inlinePolicyDefinition(privilege, p.PolicyName, doc, c.level, c.reason) };
}

function managedGrant(ctx: AccountContext, attached: AttachedPolicy): GroupPolicyGrant | undefined {
  const info = managedLevel(ctx, attached);
  if (info.level.level === null) return undefined;
  return { privilege: privilegeOfManagedPolicy(info.arn), level: info.level.level, attributes: policyAttributes(info) };
}

export function indexGroup(ctx: AccountContext, g: GroupDetail): GroupInfo | undefined {
  if (!g.GroupName || !g.GroupId) return undefined;
  const grants: GroupPolicyGrant[] = [];
  for (const a of g.AttachedManagedPolicies ?? []) {
    const grant = managedGrant(ctx, a);
    if (grant) grants.push(grant);
  }
  for (const p of g.GroupPolicyList ?? []) {
    // Inline policies of different groups may share a name: the group name keeps them apart.
    const grant = inlineGrant(`inline:group/${g.GroupName}/`, p);
    if (grant) grants.push(grant);
  }
  return { groupId: g.GroupId, name: g.GroupName, arn: g.Arn ?? "", grants };
}

/** Caps grant levels by a permissions boundary: the effective permissions are the intersection. */
function applyBoundary(ctx: AccountContext, boundaryArn: string | undefined, grants: Grant[]): void {
  if (!boundaryArn) return;
  const info = ctx.policies.get(boundaryArn) ?? { arn: boundaryArn, name: boundaryArn.split("/").pop() ?? boundaryArn, level: classifyManagedPolicy(boundaryArn, boundaryArn.split("/").pop() ?? "", undefined) };
  const cap = info.level.level;
  if (cap === null) return;
  for (const g of grants) {
    const capped = lower(g.level, cap);
    if (capped !== g.level) {
      g.attributes = { ...g.attributes, uncapped_level: g.level, capped_by_boundary: boundaryArn };
      g.level = capped;
    }
  }
}

/**
 * AWSDenyAll gives no access, so it is no grant; attached, it is how whohas (quarantine-principal) and admins
 * quarantine a principal, which the inventory has to show.
 */
function denyAllAttached(ctx: AccountContext, attached: AttachedPolicy[] | undefined): boolean {
  const arn = `arn:${ctx.partition}:iam::aws:policy/AWSDenyAll`;
  return (attached ?? []).some((p) => p.PolicyArn === arn);
}

/** `roles` receives the definitions of the principal's inline policies, each belonging to this principal alone. */
function directGrants(ctx: AccountContext, principalId: string, attached: AttachedPolicy[] | undefined, inline: PolicyDetail[] | undefined, inlinePrefix: string, roles: RoleDefinition[]): Grant[] {
  const out: Grant[] = [];
  for (const a of attached ?? []) {
    const g = managedGrant(ctx, a);
    if (g) out.push({ principalId, privilege: g.privilege, level: g.level, scope: ctx.scope, via: "direct", attributes: g.attributes });
  }
  for (const p of inline ?? []) {
    const g = inlineGrant(inlinePrefix, p);
    if (!g) continue;
    out.push({ principalId, privilege: g.privilege, level: g.level, scope: ctx.scope, via: "direct", attributes: g.attributes });
    // Two users' inline policies may share a name: the holder is part of the definition's id.
    if (g.definition) roles.push({ ...g.definition, id: `${principalId}/${g.privilege}`, holderId: principalId });
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Activity from the credential report

function activityOf(t: ReportTime, signal: string): Activity {
  // N/A and no_information cover both "never" and "before IAM tracked it" (and report lag): unknown.
  return "at" in t ? { at: t.at, known: true, signal } : { at: null, known: false, signal: `${signal}=${t.sentinel}` };
}

function latest(acts: Activity[]): Activity | undefined {
  let best: Activity | undefined;
  for (const a of acts) {
    if (a.at === null) continue;
    if (!best || (best.at !== null && a.at > best.at)) best = a;
  }
  return best;
}

function keyActivity(k: ReportKey): Activity {
  const act = activityOf(k.lastUsed, `credential_report:access_key_${k.slot}_last_used_date`);
  if (act.at !== null && (k.lastUsedService || k.lastUsedRegion)) {
    // Service and region are volatile, so they ride in the activity signal rather than in attributes.
    act.signal = `${act.signal} service=${k.lastUsedService ?? "N/A"} region=${k.lastUsedRegion ?? "N/A"}`;
  }
  return act;
}

function tagValue(tags: Tag[] | undefined, key: string): string | null {
  const t = tags?.find((x) => x.Key?.toLowerCase() === key.toLowerCase());
  return t?.Value ?? null;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

// ------------------------------------------------------------------------------------------------
// Users

export interface MappedUser {
  principal: Principal;
  credentials: Credential[];
  grants: Grant[];
  /** Definitions of the inline policies behind `grants` (managed policies are described per account). */
  roles?: RoleDefinition[];
}

function accessKeyCredential(userId: string, k: ReportKey, listed: AccessKeyMetadata[] | undefined): Credential {
  const createdAt = k.lastRotated;
  // The report carries no key id; ListAccessKeys (optional) does. Match on creation time.
  const match = createdAt ? listed?.find((m) => m.CreateDate && Math.abs(m.CreateDate.getTime() - Date.parse(createdAt)) < 1000) : undefined;
  const keyId = match?.AccessKeyId;
  const id = keyId ?? (createdAt ? `${userId}/access-key/${createdAt}` : `${userId}/access-key/slot-${k.slot}`);
  const attributes: Attributes = { report_slot: k.slot };
  if (keyId) {
    attributes.access_key_id = keyId;
    attributes.key_id_last4 = keyId.slice(-4);
  }
  return {
    id,
    principalId: userId,
    kind: "access_key",
    name: keyId ? `access key …${keyId.slice(-4)}` : `access key created ${createdAt ?? "(unknown)"}`,
    status: k.active ? "active" : "inactive",
    createdAt,
    expiresAt: null,
    lastUsed: keyActivity(k),
    attributes,
  };
}

export function mapUser(ctx: AccountContext, u: UserDetail, row: ReportRow | undefined): MappedUser | undefined {
  if (!u.UserId || !u.UserName) return undefined;
  const userId = u.UserId;
  const credentials: Credential[] = [];
  const listed = ctx.accessKeys?.get(u.UserName);
  let kind: PrincipalKind = "human";
  let kindHeuristic = "not_in_credential_report";
  let mfa: MfaState = "unknown";
  let status: PrincipalStatus = "active";
  let statusReason: string | null = null;
  let lastActive: Activity = { at: null, known: false, signal: "credential_report:user_not_in_report" };

  if (row) {
    const password = row.passwordEnabled === true;
    const activeKeys = row.keys.filter((k) => k.active).length;
    const activeCerts = row.certs.filter((c) => c.active).length;
    if (password) {
      kind = "human";
      kindHeuristic = "console_password";
    } else if (row.keys.length > 0 || row.certs.length > 0) {
      kind = "service";
      kindHeuristic = "access_keys_only";
    } else {
      kind = "human";
      kindHeuristic = "no_credentials";
    }
    mfa = row.mfaActive ? "enabled" : password ? "disabled" : "not_applicable";
    if (!password && activeKeys === 0 && activeCerts === 0) {
      status = "disabled";
      statusReason = "no_active_credentials";
    }
    if (password) {
      const attributes: Attributes = {};
      if (row.passwordNextRotation) attributes.next_rotation = row.passwordNextRotation;
      credentials.push({
        id: `${userId}/password`,
        principalId: userId,
        kind: "password",
        name: "console password",
        status: "active",
        createdAt: row.passwordLastChanged,
        expiresAt: row.passwordNextRotation,
        lastUsed: activityOf(row.passwordLastUsed, "credential_report:password_last_used"),
        attributes,
      });
    }
    for (const k of row.keys) credentials.push(accessKeyCredential(userId, k, listed));
    for (const c of row.certs) credentials.push(certificateCredential(userId, c, "signing certificate"));
    // The password's last use stays meaningful after the password is removed (a leaver's last sign-in).
    const signals = [activityOf(row.passwordLastUsed, "credential_report:password_last_used"), ...row.keys.map(keyActivity)];
    lastActive = latest(signals) ?? { at: null, known: false, signal: signals.map((s) => s.signal).join(";") };
  }

  const roles: RoleDefinition[] = [];
  const grants = directGrants(ctx, userId, u.AttachedManagedPolicies, u.UserPolicyList, "inline:user/", roles);
  // Group policies: one grant per policy, merged over the groups that carry it, so the same policy
  // through two groups is one privilege with both groups named.
  const viaGroup = new Map<string, Grant>();
  const memberOf: string[] = [];
  for (const groupName of u.GroupList ?? []) {
    memberOf.push(groupName);
    const group = ctx.groups.get(groupName);
    if (!group) continue;
    for (const gp of group.grants) {
      if (gp.definition && !roles.some((r) => r.id === gp.definition!.id)) roles.push(gp.definition);
      const existing = viaGroup.get(gp.privilege);
      if (existing) {
        const groups = existing.attributes!.groups as string[];
        if (!groups.includes(groupName)) groups.push(groupName);
        existing.level = higher(existing.level, gp.level) ?? existing.level;
      } else {
        viaGroup.set(gp.privilege, {
          principalId: userId,
          privilege: gp.privilege,
          level: gp.level,
          scope: ctx.scope,
          via: "group",
          attributes: { ...gp.attributes, groups: [groupName] },
        });
      }
    }
  }
  for (const g of viaGroup.values()) (g.attributes!.groups as string[]).sort();
  grants.push(...viaGroup.values());
  applyBoundary(ctx, u.PermissionsBoundary?.PermissionsBoundaryArn, grants);

  const tagEmail = tagValue(u.Tags, ctx.emailTag);
  const email = tagEmail && EMAIL.test(tagEmail) ? tagEmail.toLowerCase() : EMAIL.test(u.UserName) ? u.UserName.toLowerCase() : null;
  const attributes: Attributes = {
    arn: u.Arn ?? null,
    path: u.Path ?? "/",
    account_id: ctx.accountId,
    kind_heuristic: kindHeuristic,
    in_credential_report: row !== undefined,
    groups: memberOf.sort(),
  };
  if (statusReason) attributes.status_reason = statusReason;
  if (denyAllAttached(ctx, u.AttachedManagedPolicies)) attributes.deny_all_attached = true;
  if (u.PermissionsBoundary?.PermissionsBoundaryArn) attributes.permissions_boundary = u.PermissionsBoundary.PermissionsBoundaryArn;
  return {
    principal: {
      id: userId,
      kind,
      name: u.UserName,
      email,
      displayName: tagValue(u.Tags, "name") ?? tagValue(u.Tags, "displayName"),
      status,
      mfa,
      createdAt: iso(u.CreateDate),
      lastActive,
      attributes,
    },
    credentials,
    grants,
    roles,
  };
}

// ------------------------------------------------------------------------------------------------
// Root

export function rootId(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:root`;
}

export function mapRoot(ctx: AccountContext, row: ReportRow): MappedUser {
  const id = rootId(ctx.partition, ctx.accountId);
  const credentials = row.keys.map((k) => accessKeyCredential(id, k, undefined));
  for (const c of row.certs) credentials.push(certificateCredential(id, c, "root signing certificate"));
  const signals = [activityOf(row.passwordLastUsed, "credential_report:password_last_used"), ...row.keys.map(keyActivity)];
  return {
    principal: {
      id,
      kind: "root",
      name: `root (${ctx.accountId})`,
      email: ctx.accountEmail ?? null,
      displayName: null,
      status: "active",
      mfa: row.mfaActive ? "enabled" : "disabled",
      createdAt: row.userCreationTime,
      // The root user can do anything in its account, whatever policies say.
      accessLevel: "admin",
      lastActive: latest(signals) ?? { at: null, known: false, signal: signals.map((s) => s.signal).join(";") },
      attributes: {
        arn: id,
        account_id: ctx.accountId,
        root_access_keys_active: row.keys.filter((k) => k.active).length,
      },
    },
    credentials,
    grants: [],
  };
}

/** The root user when there is no credential report to describe it: it exists, the rest is unknown. */
export function mapRootUnreported(ctx: AccountContext): Principal {
  const id = rootId(ctx.partition, ctx.accountId);
  return {
    id,
    kind: "root",
    name: `root (${ctx.accountId})`,
    email: ctx.accountEmail ?? null,
    displayName: null,
    status: "active",
    mfa: "unknown",
    createdAt: null,
    accessLevel: "admin",
    lastActive: { at: null, known: false, signal: "credential_report disabled" },
    attributes: { arn: id, account_id: ctx.accountId },
  };
}

// ------------------------------------------------------------------------------------------------
// Roles

export interface MappedRole {
  principal: Principal;
  grants: Grant[];
  /** Third parties that can assume the role, as external principals with a grant on the role. */
  external: { principal: Principal; grant: Grant | null }[];
  /** Inline policy definitions, and the role's own definition when a third party may assume it. */
  roles: RoleDefinition[];
}

/** RoleLastUsed covers a trailing 400 days; absence means "not in that window", not "never". */
export const ROLE_LAST_USED_WINDOW_DAYS = 400;

export function mapRole(ctx: AccountContext, r: RoleDetail): MappedRole | undefined {
  if (!r.RoleId || !r.RoleName) return undefined;
  const roleId = r.RoleId;
  const path = r.Path ?? "/";
  const roles: RoleDefinition[] = [];
  const grants = directGrants(ctx, roleId, r.AttachedManagedPolicies, r.RolePolicyList, "inline:role/", roles);
  applyBoundary(ctx, r.PermissionsBoundary?.PermissionsBoundaryArn, grants);
  const roleLevel = grants.reduce<GrantLevel | null>((acc, g) => higher(acc, g.level), null);

  const attributes: Attributes = {
    arn: r.Arn ?? null,
    path,
    account_id: ctx.accountId,
    service_linked: path.startsWith("/aws-service-role/"),
    last_used_window_days: ROLE_LAST_USED_WINDOW_DAYS,
  };
  if (path.startsWith("/aws-reserved/sso.amazonaws.com/")) attributes.sso_permission_set = true;
  if (r.PermissionsBoundary?.PermissionsBoundaryArn) attributes.permissions_boundary = r.PermissionsBoundary.PermissionsBoundaryArn;
  if ((r.InstanceProfileList?.length ?? 0) > 0) attributes.instance_profiles = (r.InstanceProfileList ?? []).map((p) => p.InstanceProfileName ?? "").filter(Boolean).sort();
  if (r.RoleLastUsed?.Region) attributes.last_used_region = r.RoleLastUsed.Region;
  if (denyAllAttached(ctx, r.AttachedManagedPolicies)) attributes.deny_all_attached = true;

  const external: MappedRole["external"] = [];
  if (r.AssumeRolePolicyDocument) {
    let trust;
    try {
      trust = analyzeTrust(parsePolicyDocument(r.AssumeRolePolicyDocument), ctx.accountId, ctx.internalAccounts);
    } catch {
      attributes.trust_policy_unparseable = true;
    }
    if (trust) {
      if (trust.services.length) attributes.trusted_services = trust.services;
      if (trust.federated.length) attributes.trusted_federated = trust.federated;
      if (trust.awsPrincipals.length) attributes.trusted_aws = trust.awsPrincipals;
      if (trust.public) attributes.trust_public = true;
      attributes[ATTR.thirdParty] = trust.external.length > 0;
      if (trust.external.length) attributes.external_trust = trust.external.map((e) => e.principal).sort();
      for (const e of trust.external) {
        const id = `external:${e.principal}@${ctx.accountId}`;
        const principal: Principal = {
          id,
          kind: "external",
          name: e.principal,
          email: null,
          displayName: null,
          status: "active",
          // What the other side requires (MFA, who holds its credentials) is not visible from here.
          mfa: "unknown",
          attributes: {
            external_account: e.account,
            trusting_account: ctx.accountId,
            requires_external_id: e.requiresExternalId,
            public: e.principal === "*",
          },
        };
        const grant: Grant | null =
          roleLevel === null
            ? null
            : {
                principalId: id,
                privilege: `role:${r.Arn ?? r.RoleName}`,
                level: roleLevel,
                scope: ctx.scope,
                // Access that takes an sts:AssumeRole to use, not a standing permission.
                via: "eligible",
                attributes: { role_id: roleId, role_name: r.RoleName, requires_external_id: e.requiresExternalId },
              };
        external.push({ principal, grant });
        if (grant && !roles.some((d) => d.privilege === grant.privilege)) roles.push(assumableRoleDefinition(grant.privilege, r.RoleName, grants, roleLevel!));
      }
    }
  }

  const lastUsed = r.RoleLastUsed?.LastUsedDate;
  return {
    principal: {
      id: roleId,
      kind: "service",
      name: r.RoleName,
      email: null,
      displayName: null,
      status: "active",
      mfa: "not_applicable",
      createdAt: iso(r.CreateDate),
      lastActive: lastUsed
        ? { at: lastUsed.toISOString(), known: true, signal: "RoleLastUsed.LastUsedDate" }
        : { at: null, known: false, signal: `RoleLastUsed empty (no use in the trailing ${ROLE_LAST_USED_WINDOW_DAYS} days, or never)` },
      attributes,
    },
    grants,
    external,
    roles,
  };
}

/** A signing certificate from the credential report; AWS reports no use of certificates, so last use is unknown. */
function certificateCredential(principalId: string, c: ReportCert, label: string): Credential {
  return {
    id: c.lastRotated ? `${principalId}/certificate/${c.lastRotated}` : `${principalId}/certificate/slot-${c.slot}`,
    principalId,
    kind: "certificate",
    name: `${label} ${c.slot}`,
    status: c.active ? "active" : "inactive",
    createdAt: c.lastRotated,
    expiresAt: null,
    lastUsed: { at: null, known: false, signal: "credential_report:no_certificate_usage" },
    attributes: { report_slot: c.slot },
  };
}

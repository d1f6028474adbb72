// Entra audit-log records → whohas AuditEvents. Pure functions: the Graph shapes of directoryAudit and
// signIn (v1.0) in, normalized events out. Ids are the ones the collector stores (object ids, keyIds,
// role display names), so an event joins to the principal, grant or credential it changed.
import type { Attributes } from "../../src/model.js";
import type { AuditEvent, EventAction, EventOutcome } from "../../src/events/contract.js";
import { isoUtc } from "./map.js";
import { KNOWN_ROLES } from "./roles.js";

export interface GraphModifiedProperty {
  displayName?: string | null;
  oldValue?: string | null;
  newValue?: string | null;
}

export interface GraphTargetResource {
  id?: string | null;
  displayName?: string | null;
  type?: string | null;
  userPrincipalName?: string | null;
  groupType?: string | null;
  modifiedProperties?: GraphModifiedProperty[] | null;
}

export interface GraphDirectoryAudit {
  id: string;
  activityDateTime?: string | null;
  activityDisplayName?: string | null;
  category?: string | null;
  correlationId?: string | null;
  loggedByService?: string | null;
  operationType?: string | null;
  result?: string | null;
  resultReason?: string | null;
  initiatedBy?: {
    user?: { id?: string | null; displayName?: string | null; userPrincipalName?: string | null; ipAddress?: string | null } | null;
    app?: { appId?: string | null; displayName?: string | null; servicePrincipalId?: string | null; servicePrincipalName?: string | null } | null;
  } | null;
  targetResources?: GraphTargetResource[] | null;
  additionalDetails?: { key?: string | null; value?: string | null }[] | null;
}

export interface GraphSignIn {
  id: string;
  createdDateTime?: string | null;
  userId?: string | null;
  userPrincipalName?: string | null;
  userDisplayName?: string | null;
  appId?: string | null;
  appDisplayName?: string | null;
  ipAddress?: string | null;
  clientAppUsed?: string | null;
  isInteractive?: boolean | null;
  conditionalAccessStatus?: string | null;
  riskLevelDuringSignIn?: string | null;
  riskLevelAggregated?: string | null;
  riskState?: string | null;
  riskEventTypes_v2?: string[] | null;
  status?: { errorCode?: number | null; failureReason?: string | null; additionalDetails?: string | null } | null;
  deviceDetail?: { browser?: string | null; operatingSystem?: string | null } | null;
  location?: { city?: string | null; countryOrRegion?: string | null } | null;
}

/**
 * activityDisplayName → action. Entra's names, exactly as logged (the certificates-and-secrets activity
 * really ends with a space; it is matched trimmed). Unlisted activities stay "other" with their name kept.
 */
const DIRECTORY_ACTIONS = new Map<string, EventAction>([
  ["Add user", "account.create"],
  ["Invite external user", "account.create"],
  ["Restore user", "account.create"],
  ["Delete user", "account.delete"],
  ["Hard delete user", "account.delete"],
  ["Disable account", "account.disable"],
  ["Enable account", "account.enable"],
  ["Update user", "account.update"],
  ["Reset user password", "account.update"],
  ["Change user password", "account.update"],
  ["Reset password (by admin)", "account.update"],
  ["Add service principal", "account.create"],
  ["Remove service principal", "account.delete"],
  ["Add application", "account.create"],
  ["Delete application", "account.delete"],
  ["Add member to role", "grant.add"],
  ["Remove member from role", "grant.remove"],
  ["Add eligible member to role in PIM completed (permanent)", "grant.add"],
  ["Add eligible member to role in PIM completed (timebound)", "grant.add"],
  ["Add member to role in PIM completed (permanent)", "grant.add"],
  ["Add member to role in PIM completed (timebound)", "grant.add"],
  ["Remove eligible member from role in PIM completed (permanent)", "grant.remove"],
  ["Remove member from role in PIM completed (permanent)", "grant.remove"],
  ["Add member to group", "grant.add"],
  ["Remove member from group", "grant.remove"],
  ["Add app role assignment to service principal", "grant.add"],
  ["Remove app role assignment from service principal", "grant.remove"],
  ["Add delegated permission grant", "grant.add"],
  ["Remove delegated permission grant", "grant.remove"],
  ["Add service principal credentials", "credential.create"],
  ["Remove service principal credentials", "credential.delete"],
  ["User registered security info", "mfa.enable"],
  ["Admin registered security info", "mfa.enable"],
  ["User deleted security info", "mfa.disable"],
  ["Admin deleted security info", "mfa.disable"],
]);

/** The activity whose direction (added or removed keys) is only in its KeyDescription values. */
const APP_CREDENTIALS_ACTIVITY = "Update application – Certificates and secrets management";

/** Graph logs property values JSON-encoded ("\"Global Administrator\"", "[\"x\"]"); unwrap to text. */
export function propertyText(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return null;
  try {
    let v: unknown = JSON.parse(value);
    if (Array.isArray(v) && v.length === 0) return null;
    if (Array.isArray(v) && v.length === 1) v = v[0];
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return value;
  } catch {
    return value;
  }
}

function property(t: GraphTargetResource | undefined, name: string): GraphModifiedProperty | undefined {
  return t?.modifiedProperties?.find((p) => p?.displayName === name) ?? undefined;
}

/** keyIds named in a KeyDescription value: `[KeyIdentifier=<guid>,KeyType=Password,…]`, one per key. */
export function keyIdentifiers(value: string | null | undefined): string[] {
  if (!value) return [];
  return [...value.matchAll(/KeyIdentifier=([0-9A-Fa-f-]{36})/g)].map((m) => m[1]!.toLowerCase());
}

function outcomeOf(result: string | null | undefined): EventOutcome {
  if (result === "success") return "success";
  if (result === "failure" || result === "timeout") return "failure";
  return "unknown";
}

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** The member a role/group/credential activity is about: the first target that is not the role or group itself. */
function subjectOf(targets: GraphTargetResource[]): GraphTargetResource | undefined {
  return targets.find((t) => t && t.type !== "Role" && t.type !== "Other") ?? targets[0];
}

function roleOf(targets: GraphTargetResource[], subject: GraphTargetResource | undefined): string | null {
  const name = propertyText(property(subject, "Role.DisplayName")?.newValue) ?? propertyText(property(subject, "Role.DisplayName")?.oldValue);
  if (name) return name;
  const template = propertyText(property(subject, "Role.TemplateId")?.newValue) ?? propertyText(property(subject, "Role.TemplateId")?.oldValue);
  // Own keys only: a template id "constructor" must not find Object.prototype's.
  const known = template && Object.hasOwn(KNOWN_ROLES, template.toLowerCase()) ? KNOWN_ROLES[template.toLowerCase()] : undefined;
  if (known) return known.name;
  return text(targets.find((t) => t?.type === "Role")?.displayName);
}

function groupOf(targets: GraphTargetResource[], subject: GraphTargetResource | undefined): { id: string | null; name: string | null } {
  const group = targets.find((t) => t?.type === "Group" && t !== subject);
  const name = propertyText(property(subject, "Group.DisplayName")?.newValue) ?? propertyText(property(subject, "Group.DisplayName")?.oldValue) ?? text(group?.displayName);
  const id = propertyText(property(subject, "Group.ObjectID")?.newValue) ?? propertyText(property(subject, "Group.ObjectID")?.oldValue) ?? text(group?.id);
  return { id, name };
}

/** Modified property names and their new values, clipped: enough to read the change, never a whole blob. */
function modifiedSummary(targets: GraphTargetResource[]): string[] {
  const out: string[] = [];
  for (const t of targets) {
    for (const p of t?.modifiedProperties ?? []) {
      if (!p?.displayName) continue;
      const v = propertyText(p.newValue);
      out.push(`${p.displayName}=${v === null ? "" : v.length > 120 ? `${v.slice(0, 117)}...` : v}`);
      if (out.length >= 20) return out;
    }
  }
  return out;
}

export function mapDirectoryAudit(a: GraphDirectoryAudit): AuditEvent {
  const at = isoUtc(a.activityDateTime);
  if (!at) throw new Error(`directory audit ${a.id} has no valid activityDateTime`);
  const activity = text(a.activityDisplayName) ?? "(unnamed activity)";
  const targets = (a.targetResources ?? []).filter((t): t is GraphTargetResource => !!t && typeof t === "object");
  const subject = subjectOf(targets);
  let action: EventAction = DIRECTORY_ACTIONS.get(activity.trim()) ?? "other";
  const details: Attributes = {
    category: text(a.category),
    loggedByService: text(a.loggedByService),
    operationType: text(a.operationType),
    correlationId: text(a.correlationId),
  };
  if (text(a.resultReason)) details.resultReason = text(a.resultReason);
  if (subject?.type) details.targetType = subject.type;

  let privilege: string | null = null;
  let credentialId: string | null = null;
  if (/role/i.test(activity) && (action === "grant.add" || action === "grant.remove")) {
    privilege = roleOf(targets, subject);
  } else if (/group/i.test(activity) && (action === "grant.add" || action === "grant.remove")) {
    const g = groupOf(targets, subject);
    privilege = g.name;
    if (g.id) details.groupId = g.id;
  }
  if (activity.trim() === APP_CREDENTIALS_ACTIVITY || action === "credential.create" || action === "credential.delete") {
    const kd = property(subject, "KeyDescription");
    const before = new Set(keyIdentifiers(kd?.oldValue));
    const after = keyIdentifiers(kd?.newValue);
    const added = after.filter((k) => !before.has(k));
    const removed = [...before].filter((k) => !after.includes(k));
    if (activity.trim() === APP_CREDENTIALS_ACTIVITY) action = added.length > 0 ? "credential.create" : removed.length > 0 ? "credential.delete" : "other";
    const changed = action === "credential.delete" ? removed : added;
    credentialId = changed[0] ?? null;
    if (changed.length > 1) details.keyIds = changed;
  }
  const modified = modifiedSummary(targets);
  if (modified.length > 0) details.modifiedProperties = modified;

  const user = a.initiatedBy?.user;
  const app = a.initiatedBy?.app;
  let actor: AuditEvent["actor"];
  let ip: string | null = null;
  if (user && (text(user.id) || text(user.userPrincipalName))) {
    actor = { id: text(user.id), name: text(user.userPrincipalName) ?? text(user.displayName), kind: "person" };
    ip = text(user.ipAddress);
  } else if (app && (text(app.servicePrincipalId) || text(app.appId) || text(app.displayName))) {
    // The service principal's object id is what the collector stores; Microsoft's own services have none here.
    actor = { id: text(app.servicePrincipalId) ?? text(app.appId), name: text(app.displayName) ?? text(app.servicePrincipalName), kind: text(app.servicePrincipalId) ? "app" : "provider" };
    if (text(app.appId)) details.actorAppId = text(app.appId);
  } else {
    actor = { kind: "unknown" };
  }
  const userAgent = text(a.additionalDetails?.find((d) => d?.key === "User-Agent")?.value);

  const target: NonNullable<AuditEvent["target"]> = {};
  if (subject && text(subject.id)) target.principalId = text(subject.id);
  if (subject) {
    const name = text(subject.userPrincipalName) ?? text(subject.displayName);
    if (name) target.name = name;
  }
  if (privilege) target.privilege = privilege;
  if (credentialId) target.credentialId = credentialId;

  return {
    id: a.id,
    at,
    action,
    providerAction: activity,
    outcome: outcomeOf(a.result),
    actor,
    ...(Object.keys(target).length > 0 ? { target } : {}),
    ip,
    userAgent,
    details: dropNulls(details),
  };
}

/** Sign-in status 0 is success; anything else is Entra's error code for the failure (50126: bad password). */
export function mapSignIn(s: GraphSignIn): AuditEvent {
  const at = isoUtc(s.createdDateTime);
  if (!at) throw new Error(`sign-in ${s.id} has no valid createdDateTime`);
  const code = typeof s.status?.errorCode === "number" ? s.status.errorCode : null;
  const outcome: EventOutcome = code === null ? "unknown" : code === 0 ? "success" : "failure";
  const details: Attributes = {
    errorCode: code,
    failureReason: code ? text(s.status?.failureReason) : null,
    riskLevelDuringSignIn: text(s.riskLevelDuringSignIn),
    riskLevelAggregated: text(s.riskLevelAggregated),
    riskState: text(s.riskState),
    clientAppUsed: text(s.clientAppUsed),
    appDisplayName: text(s.appDisplayName),
    appId: text(s.appId),
    conditionalAccessStatus: text(s.conditionalAccessStatus),
    isInteractive: typeof s.isInteractive === "boolean" ? s.isInteractive : null,
    browser: text(s.deviceDetail?.browser),
    operatingSystem: text(s.deviceDetail?.operatingSystem),
    city: text(s.location?.city),
    country: text(s.location?.countryOrRegion),
  };
  const risks = (s.riskEventTypes_v2 ?? []).filter((r): r is string => typeof r === "string");
  if (risks.length > 0) details.riskEventTypes = risks;
  const userId = text(s.userId);
  const upn = text(s.userPrincipalName);
  return {
    id: s.id,
    at,
    action: outcome === "failure" ? "signin.failure" : outcome === "success" ? "signin.success" : "other",
    providerAction: outcome === "failure" ? "Sign-in failure" : outcome === "success" ? "Sign-in success" : "Sign-in",
    outcome,
    actor: { id: userId, name: upn ?? text(s.userDisplayName), kind: "person" },
    target: { principalId: userId, name: upn },
    ip: text(s.ipAddress),
    userAgent: null,
    details: dropNulls(details),
  };
}

function dropNulls(a: Attributes): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(a)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

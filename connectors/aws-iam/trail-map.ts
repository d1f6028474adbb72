// CloudTrail records → AuditEvents: pure functions, no I/O. A LookupEvents item carries the record as a
// JSON *string* (CloudTrailEvent); everything but the event id, name and time is read from that record.
import type { ActorKind, AuditEvent, EventAction } from "../../src/events/contract.js";
import type { Attributes } from "../../src/model.js";
import { privilegeOfManagedPolicy, rootId } from "./map.js";

/** The fields of a CloudTrail record whohas reads (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html). */
export interface TrailRecord {
  eventTime?: string;
  eventSource?: string;
  eventName?: string;
  awsRegion?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  eventID?: string;
  recipientAccountId?: string;
  userIdentity?: {
    type?: string;
    principalId?: string;
    arn?: string;
    accountId?: string;
    accessKeyId?: string;
    userName?: string;
    invokedBy?: string;
    sessionContext?: {
      sessionIssuer?: { type?: string; principalId?: string; arn?: string; accountId?: string; userName?: string };
      attributes?: { mfaAuthenticated?: string; creationDate?: string };
    };
  };
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown> | null;
}

/** What LookupEvents returns per event (the SDK's shape, reduced to what is read). */
export interface LookedUpEvent {
  EventId?: string;
  EventName?: string;
  EventTime?: Date;
  EventSource?: string;
  CloudTrailEvent?: string;
}

/** Resolves a user or role name of this account to the id whohas stores it under (UserId / RoleId). */
export interface NameIndex {
  user(name: string): string | undefined;
  role(name: string): string | undefined;
}

const ACTIONS = new Map<string, EventAction>([
  ["CreateUser", "account.create"],
  ["DeleteUser", "account.delete"],
  ["CreateRole", "account.create"],
  ["DeleteRole", "account.delete"],
  ["CreateLoginProfile", "credential.create"],
  ["DeleteLoginProfile", "credential.delete"],
  ["UpdateLoginProfile", "account.update"],
  ["AttachUserPolicy", "grant.add"],
  ["PutUserPolicy", "grant.add"],
  ["AddUserToGroup", "grant.add"],
  ["AttachRolePolicy", "grant.add"],
  ["PutRolePolicy", "grant.add"],
  ["UpdateAssumeRolePolicy", "grant.add"],
  ["DetachUserPolicy", "grant.remove"],
  ["DeleteUserPolicy", "grant.remove"],
  ["RemoveUserFromGroup", "grant.remove"],
  ["DetachRolePolicy", "grant.remove"],
  ["DeleteRolePolicy", "grant.remove"],
  ["CreateAccessKey", "credential.create"],
  ["DeleteAccessKey", "credential.delete"],
  ["UploadSigningCertificate", "credential.create"],
  ["DeleteSigningCertificate", "credential.delete"],
  ["EnableMFADevice", "mfa.enable"],
  ["DeactivateMFADevice", "mfa.disable"],
  ["DeleteVirtualMFADevice", "mfa.disable"],
]);

function actionOf(name: string, record: TrailRecord): EventAction {
  if (name === "ConsoleLogin") return consoleLoginFailed(record) ? "signin.failure" : "signin.success";
  if (name === "UpdateAccessKey") {
    const status = str(record.requestParameters?.status);
    return status === "Inactive" ? "credential.disable" : status === "Active" ? "credential.enable" : "other";
  }
  return ACTIONS.get(name) ?? "other";
}

function consoleLoginFailed(record: TrailRecord): boolean {
  return str(record.responseElements?.ConsoleLogin) === "Failure" || record.errorMessage !== undefined;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The last path segment of an ARN resource (`role/path/Name` → Name). */
const lastSegment = (arn: string | undefined) => arn?.split("/").pop();

function actorOf(record: TrailRecord, partition: string, accountId: string): AuditEvent["actor"] {
  const who = record.userIdentity ?? {};
  const type = who.type ?? "";
  switch (type) {
    case "IAMUser":
      return { id: who.principalId ?? null, name: who.userName ?? lastSegment(who.arn) ?? null, kind: "person" };
    case "Root":
      return { id: rootId(partition, who.accountId ?? accountId), name: "root", kind: "person" };
    case "AssumedRole": {
      const issuer = who.sessionContext?.sessionIssuer;
      const session = who.arn ? who.arn.split("/").slice(2).join("/") : undefined;
      const roleName = issuer?.userName ?? (who.arn ? who.arn.split("/")[1] : undefined);
      return { id: issuer?.principalId ?? null, name: [roleName, session].filter(Boolean).join("/") || null, kind: assumedRoleKind(issuer?.arn, session) };
    }
    case "FederatedUser":
      return { id: who.principalId ?? null, name: lastSegment(who.arn) ?? null, kind: "person" };
    case "AWSService":
      return { id: null, name: who.invokedBy ?? null, kind: "provider" };
    case "AWSAccount":
      return { id: who.accountId ?? null, name: who.accountId ? `account ${who.accountId}` : null, kind: "unknown" };
    default:
      return { id: who.principalId ?? null, name: who.userName ?? null, kind: "unknown" };
  }
}

/**
 * A role session is a person when Identity Center or a SAML/OIDC login made it (reserved SSO roles; session
 * names are then the person's login); otherwise it is software assuming a role.
 */
function assumedRoleKind(roleArn: string | undefined, session: string | undefined): ActorKind {
  if (roleArn?.includes(":role/aws-reserved/sso.amazonaws.com/")) return "person";
  if (session?.includes("@")) return "person";
  return "app";
}

function targetOf(name: string, record: TrailRecord, names: NameIndex, accountId: string, partition: string): AuditEvent["target"] | undefined {
  const req = record.requestParameters ?? {};
  const res = record.responseElements ?? {};
  if (name === "ConsoleLogin") {
    // The person signing in is the target as well as the actor.
    const who = record.userIdentity ?? {};
    if (who.type === "Root") return { principalId: rootId(partition, accountId), name: "root" };
    if (who.type === "IAMUser") return { principalId: who.principalId ?? null, name: who.userName ?? null };
    return undefined;
  }
  const createdUser = res.user as { userId?: unknown; userName?: unknown } | undefined;
  const createdRole = res.role as { roleId?: unknown; roleName?: unknown } | undefined;
  const createdKey = res.accessKey as { accessKeyId?: unknown; userName?: unknown } | undefined;
  const userName = str(req.userName) ?? str(createdUser?.userName) ?? str(createdKey?.userName);
  const roleName = str(req.roleName) ?? str(createdRole?.roleName);
  const target: NonNullable<AuditEvent["target"]> = {};
  if (userName) {
    target.name = userName;
    target.principalId = str(createdUser?.userId) ?? names.user(userName) ?? null;
  } else if (roleName) {
    target.name = roleName;
    target.principalId = str(createdRole?.roleId) ?? names.role(roleName) ?? null;
  }
  const policyArn = str(req.policyArn);
  if (policyArn) target.privilege = privilegeOfManagedPolicy(policyArn);
  else if (str(req.policyName) && (name === "PutUserPolicy" || name === "DeleteUserPolicy")) target.privilege = `inline:user/${str(req.policyName)}`;
  else if (str(req.policyName) && (name === "PutRolePolicy" || name === "DeleteRolePolicy")) target.privilege = `inline:role/${str(req.policyName)}`;
  const keyId = str(req.accessKeyId) ?? str(createdKey?.accessKeyId);
  if (keyId) target.credentialId = keyId;
  if (name === "CreateLoginProfile" || name === "DeleteLoginProfile") {
    const id = target.principalId;
    if (id) target.credentialId = `${id}/password`;
  }
  if (!userName && !roleName && !keyId) return undefined;
  return target;
}

function detailsOf(name: string, lookedUp: LookedUpEvent, record: TrailRecord): Attributes {
  const d: Attributes = {};
  const set = (k: string, v: unknown) => {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") d[k] = v;
  };
  set("event_source", record.eventSource ?? lookedUp.EventSource);
  set("region", record.awsRegion);
  set("error_code", record.errorCode);
  set("error_message", record.errorMessage);
  set("access_key_id", record.userIdentity?.accessKeyId);
  set("actor_arn", record.userIdentity?.arn);
  set("mfa_authenticated", record.userIdentity?.sessionContext?.attributes?.mfaAuthenticated);
  if (name === "ConsoleLogin") {
    set("console_login", record.responseElements?.ConsoleLogin);
    set("mfa_used", record.additionalEventData?.MFAUsed);
    set("login_to", record.additionalEventData?.LoginTo);
  }
  const req = record.requestParameters ?? {};
  set("group", req.groupName);
  set("policy_arn", req.policyArn);
  set("policy_name", req.policyName);
  set("status", req.status);
  set("serial_number", req.serialNumber);
  return d;
}

/**
 * One LookupEvents item as an AuditEvent; throws on an item that is not a CloudTrail record (the reader
 * fails the page rather than storing half an event).
 */
export function mapTrailEvent(e: LookedUpEvent, ctx: { accountId: string; partition: string; names: NameIndex }): AuditEvent {
  if (!e.EventId) throw new Error("a LookupEvents item without EventId");
  let record: TrailRecord;
  try {
    record = JSON.parse(e.CloudTrailEvent ?? "") as TrailRecord;
  } catch {
    throw new Error(`event ${e.EventId}: CloudTrailEvent is not JSON`);
  }
  if (record === null || typeof record !== "object") throw new Error(`event ${e.EventId}: CloudTrailEvent is not a record`);
  const name = e.EventName ?? record.eventName ?? "";
  const at = e.EventTime ?? (record.eventTime ? new Date(record.eventTime) : undefined);
  if (!at || Number.isNaN(at.getTime())) throw new Error(`event ${e.EventId}: no event time`);
  const action = actionOf(name, record);
  const failed = name === "ConsoleLogin" ? consoleLoginFailed(record) : record.errorCode !== undefined;
  const target = targetOf(name, record, ctx.names, ctx.accountId, ctx.partition);
  return {
    id: e.EventId,
    at: at.toISOString(),
    action,
    providerAction: name,
    outcome: failed ? "failure" : "success",
    actor: actorOf(record, ctx.partition, ctx.accountId),
    ...(target ? { target } : {}),
    ip: record.sourceIPAddress ?? null,
    userAgent: record.userAgent ?? null,
    details: detailsOf(name, e, record),
  };
}

/** Whether a page's events name users or roles by name only (so the name index is worth loading). */
export function namesToResolve(events: readonly LookedUpEvent[]): { users: boolean; roles: boolean } {
  let users = false;
  let roles = false;
  for (const e of events) {
    let req: Record<string, unknown> | null | undefined;
    try {
      req = (JSON.parse(e.CloudTrailEvent ?? "null") as TrailRecord | null)?.requestParameters;
    } catch {
      continue;
    }
    if (req && typeof req === "object") {
      if (str(req.userName)) users = true;
      if (str(req.roleName)) roles = true;
    }
  }
  return { users, roles };
}

// Loopback AWS: IAM and STS over the Query protocol (form POST, XML answers, <ErrorResponse>),
// Organizations and CloudTrail over JSON 1.1 (X-Amz-Target), every request SigV4-verified against the
// simulated organization's keys; CloudTrail LookupEvents with its quota of 2 requests per second per
// account and Region (ThrottlingException beyond it). The real @aws-sdk clients talk to it unmodified but for `endpoint`.
import { randomUUID } from "node:crypto";
import type http from "node:http";
import { sendJson, sendText, startSimulator, type FaultRule, type SimRequest, type Simulator } from "../../src/simulator/harness.js";
import { AWS_MANAGED_POLICIES, PARTITION, type SimAccount, type SimGroup, type SimIdentity, type SimOrganization, type SimPolicy, type SimRole, type SimUser } from "./sim-tenant.js";
import { parseAuthorization, verifySigV4 } from "./sigv4.js";
import { globToRegExp } from "../../src/glob.js";
import type { SimActor, SimTrailEvent } from "./sim-trail.js";

const IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/";
const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";
const REPORT_REBUILD_MS = 4 * 3_600_000;

export interface AwsSimulatorOptions {
  org: SimOrganization;
  latencyMs?: number;
  /** Check SigV4 signatures (default true). */
  verifySignatures?: boolean;
  /** Most items per GetAccountAuthorizationDetails page whatever MaxItems says (IAM may return fewer). */
  maxAuthorizationDetailsItems?: number;
  /** Most access keys per ListAccessKeys page whatever MaxItems says (IAM may return fewer; AWS allows 2 keys a user). */
  maxAccessKeysItems?: number;
  /** Most accounts per ListAccounts page (the API's own ceiling is 20). */
  maxAccountsPerPage?: number;
  /** IAM write calls per second per account before `Throttling` (a token bucket of that size); default 15. */
  writesPerSecond?: number;
  /** LookupEvents quota per account and Region (default CloudTrail's: 2 requests per 1000 ms). */
  cloudTrailRate?: { requests: number; windowMs: number };
  /**
   * Replaces an action's answer (after authentication) with one the test supplies, e.g. generated from the
   * service's model: for IAM and STS the XML inside `<ActionResult>`, for Organizations the JSON body.
   */
  override?: (call: OverrideCall) => string | undefined;
}

/** One authenticated request as `override` sees it. `account` is the caller's account. */
export type OverrideCall =
  | { service: "iam" | "sts"; action: string; params: URLSearchParams; account: string; accessKeyId: string }
  | { service: "organizations"; action: string; body: Record<string, unknown>; account: string; accessKeyId: string };

/** One LookupEvents request as CloudTrail saw it: when it arrived (performance.now()), for whom, and the answer. */
export interface LookupRecord {
  at: number;
  account: string;
  region: string;
  throttled: boolean;
}

export interface AwsSimulator {
  readonly url: string;
  readonly sim: Simulator;
  readonly org: SimOrganization;
  /** Requests the handler answered per action, e.g. "iam:GetAccountAuthorizationDetails" → 3 (injected faults not included). */
  readonly actionCounts: Map<string, number>;
  /** Write calls answered with Throttling by the write rate limit. */
  readonly writeThrottled: () => number;
  /** Every authenticated LookupEvents request, in arrival order (injected faults not included). */
  readonly lookups: readonly LookupRecord[];
  /** Answers matching requests with a throttling error `times` times. */
  throttle(match: RequestMatch, times: number, kind?: "iam" | "429" | "503"): void;
  /** Cuts matching responses in the middle of the XML body `times` times. */
  truncate(match: RequestMatch, times: number): void;
  close(): Promise<void>;
}

export interface RequestMatch {
  service?: "iam" | "sts" | "organizations" | "cloudtrail";
  action?: string;
  /** Account whose data the request addresses (the signing identity's account). */
  account?: string;
}

// ------------------------------------------------------------------------------------------------
// XML

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const tag = (name: string, value: string | number | boolean | undefined | null) => (value === undefined || value === null ? "" : `<${name}>${esc(String(value))}</${name}>`);
const raw = (name: string, inner: string) => `<${name}>${inner}</${name}>`;
const members = <T>(name: string, items: readonly T[], render: (item: T) => string) => `<${name}>${items.map((i) => `<member>${render(i)}</member>`).join("")}</${name}>`;
const ts = (iso: string) => iso.replace(/\.\d{3}Z$/, "Z");
/** IAM returns policy documents URL-encoded per RFC 3986. */
const encodeDoc = (json: string) => encodeURIComponent(json).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function queryResponse(res: http.ServerResponse, ns: string, action: string, result: string): void {
  const requestId = randomUUID();
  sendText(
    res,
    200,
    "text/xml",
    `<${action}Response xmlns="${ns}">${result === "" ? "" : raw(`${action}Result`, result)}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
    { "x-amzn-requestid": requestId },
  );
}

export function queryErrorBody(ns: string, code: string, message: string, type: "Sender" | "Receiver" = "Sender"): string {
  return `<ErrorResponse xmlns="${ns}"><Error><Type>${type}</Type><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// ------------------------------------------------------------------------------------------------
// Rendering of IAM shapes (element names as in the IAM API reference / SDK model)

const renderTags = (tags: { Key: string; Value: string }[]) => members("Tags", tags, (t) => tag("Key", t.Key) + tag("Value", t.Value));
const renderAttached = (org: SimOrganization, accountId: string, arns: string[]) =>
  members("AttachedManagedPolicies", arns, (arn) => tag("PolicyName", org.policy(accountId, arn)?.policyName ?? arn.split("/").pop()) + tag("PolicyArn", arn));
const renderInline = (name: string, list: { name: string; document: string }[]) => members(name, list, (p) => tag("PolicyName", p.name) + tag("PolicyDocument", encodeDoc(p.document)));
const renderBoundary = (arn: string | undefined) => (arn ? raw("PermissionsBoundary", tag("PermissionsBoundaryType", "PermissionsBoundaryPolicy") + tag("PermissionsBoundaryArn", arn)) : "");

function renderUserDetail(org: SimOrganization, a: SimAccount, u: SimUser): string {
  return (
    tag("Path", u.path) +
    tag("UserName", u.userName) +
    tag("UserId", u.userId) +
    tag("Arn", u.arn) +
    tag("CreateDate", ts(u.createDate)) +
    renderInline("UserPolicyList", u.inline) +
    members("GroupList", u.groups, (g) => esc(g)) +
    renderAttached(org, a.id, u.attached) +
    renderBoundary(u.boundary) +
    (u.tags.length ? renderTags(u.tags) : "")
  );
}

function renderGroupDetail(org: SimOrganization, a: SimAccount, g: SimGroup): string {
  return tag("Path", g.path) + tag("GroupName", g.groupName) + tag("GroupId", g.groupId) + tag("Arn", g.arn) + tag("CreateDate", ts(g.createDate)) + renderInline("GroupPolicyList", g.inline) + renderAttached(org, a.id, g.attached);
}

function renderRoleCore(r: SimRole): string {
  return tag("Path", r.path) + tag("RoleName", r.roleName) + tag("RoleId", r.roleId) + tag("Arn", r.arn) + tag("CreateDate", ts(r.createDate)) + tag("AssumeRolePolicyDocument", encodeDoc(r.trust));
}

function renderRoleLastUsed(r: SimRole): string {
  return raw("RoleLastUsed", r.lastUsed ? tag("LastUsedDate", ts(r.lastUsed.date)) + tag("Region", r.lastUsed.region) : "");
}

function renderRoleDetail(org: SimOrganization, a: SimAccount, r: SimRole): string {
  return (
    renderRoleCore(r) +
    members("InstanceProfileList", r.instanceProfiles, (p) => tag("Path", p.path) + tag("InstanceProfileName", p.name) + tag("InstanceProfileId", p.id) + tag("Arn", p.arn) + tag("CreateDate", ts(p.createDate)) + members("Roles", [r], renderRoleCore)) +
    renderInline("RolePolicyList", r.inline) +
    renderAttached(org, a.id, r.attached) +
    renderBoundary(r.boundary) +
    (r.tags.length ? renderTags(r.tags) : "") +
    renderRoleLastUsed(r)
  );
}

function renderPolicyDetail(p: SimPolicy, attachments: number): string {
  return (
    tag("PolicyName", p.policyName) +
    tag("PolicyId", p.policyId) +
    tag("Arn", p.arn) +
    tag("Path", p.path) +
    tag("DefaultVersionId", p.versionId) +
    tag("AttachmentCount", attachments) +
    tag("PermissionsBoundaryUsageCount", 0) +
    tag("IsAttachable", true) +
    tag("CreateDate", ts(p.createDate)) +
    tag("UpdateDate", ts(p.updateDate)) +
    members("PolicyVersionList", [p], (v) => tag("Document", encodeDoc(v.document)) + tag("VersionId", v.versionId) + tag("IsDefaultVersion", true) + tag("CreateDate", ts(v.updateDate)))
  );
}

// ------------------------------------------------------------------------------------------------
// Pagination markers: opaque to clients, an offset to us.

const encodeMarker = (offset: number, kind: string) => Buffer.from(JSON.stringify({ o: offset, k: kind })).toString("base64url");
function decodeMarker(marker: string | undefined, kind: string): number {
  if (!marker) return 0;
  try {
    const m = JSON.parse(Buffer.from(marker, "base64url").toString("utf8")) as { o: number; k: string };
    if (m.k !== kind || !Number.isInteger(m.o) || m.o < 0) throw new Error();
    return m.o;
  } catch {
    throw new ApiError(400, "InvalidInput", "Invalid Marker.");
  }
}

function pageOf<T>(items: T[], params: URLSearchParams, kind: string, defaultMax = 100, cap = 1000): { page: T[]; truncated: boolean; marker?: string } {
  const maxItems = params.has("MaxItems") ? Number(params.get("MaxItems")) : defaultMax;
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000) throw new ApiError(400, "ValidationError", `1 validation error detected: Value '${params.get("MaxItems")}' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000`);
  const start = decodeMarker(params.get("Marker") ?? undefined, kind);
  const size = Math.min(maxItems, cap);
  const page = items.slice(start, start + size);
  const next = start + page.length;
  return next < items.length ? { page, truncated: true, marker: encodeMarker(next, kind) } : { page, truncated: false };
}

function listMembers(params: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${name}.member.${i}`); i++) out.push(params.get(`${name}.member.${i}`)!);
  return out;
}

// ------------------------------------------------------------------------------------------------
// IAM actions

type ItemKind = "User" | "Group" | "Role" | "LocalManagedPolicy" | "AWSManagedPolicy";
type DetailItem = { kind: "User"; u: SimUser } | { kind: "Group"; g: SimGroup } | { kind: "Role"; r: SimRole } | { kind: "Policy"; p: SimPolicy; n: number };

function attachmentCounts(a: SimAccount): Map<string, number> {
  const n = new Map<string, number>();
  const add = (arn: string) => n.set(arn, (n.get(arn) ?? 0) + 1);
  for (const u of a.users.values()) u.attached.forEach(add);
  for (const g of a.groups.values()) g.attached.forEach(add);
  for (const r of a.roles.values()) r.attached.forEach(add);
  return n;
}

function authorizationDetails(org: SimOrganization, a: SimAccount, params: URLSearchParams, cap: number): string {
  const filter = new Set(listMembers(params, "Filter") as ItemKind[]);
  const all = filter.size === 0;
  for (const f of filter) if (!["User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy"].includes(f)) throw new ApiError(400, "ValidationError", `Value '${f}' at 'filter' failed to satisfy constraint`);
  const items: DetailItem[] = [];
  if (all || filter.has("User")) for (const u of a.users.values()) items.push({ kind: "User", u });
  if (all || filter.has("Group")) for (const g of a.groups.values()) items.push({ kind: "Group", g });
  if (all || filter.has("Role")) for (const r of a.roles.values()) items.push({ kind: "Role", r });
  if (all || filter.has("LocalManagedPolicy") || filter.has("AWSManagedPolicy")) {
    const counts = attachmentCounts(a);
    if (all || filter.has("LocalManagedPolicy")) for (const p of a.policies.values()) items.push({ kind: "Policy", p, n: counts.get(p.arn) ?? 0 });
    // AWS managed policies appear only when something in the account uses them.
    if (all || filter.has("AWSManagedPolicy")) for (const p of AWS_MANAGED_POLICIES.values()) if ((counts.get(p.arn) ?? 0) > 0) items.push({ kind: "Policy", p, n: counts.get(p.arn)! });
  }
  const { page, truncated, marker } = pageOf(items, params, `gaad:${[...filter].sort().join(",")}`, 100, cap);
  const users = page.filter((i): i is Extract<DetailItem, { kind: "User" }> => i.kind === "User");
  const groups = page.filter((i): i is Extract<DetailItem, { kind: "Group" }> => i.kind === "Group");
  const roles = page.filter((i): i is Extract<DetailItem, { kind: "Role" }> => i.kind === "Role");
  const policies = page.filter((i): i is Extract<DetailItem, { kind: "Policy" }> => i.kind === "Policy");
  return (
    members("UserDetailList", users, (i) => renderUserDetail(org, a, i.u)) +
    members("GroupDetailList", groups, (i) => renderGroupDetail(org, a, i.g)) +
    members("RoleDetailList", roles, (i) => renderRoleDetail(org, a, i.r)) +
    members("Policies", policies, (i) => renderPolicyDetail(i.p, i.n)) +
    tag("IsTruncated", truncated) +
    tag("Marker", marker)
  );
}

function generateCredentialReport(org: SimOrganization, a: SimAccount): string {
  if (org.reportLimitExceeded.has(a.id)) throw new ApiError(409, "LimitExceeded", "Cannot generate a new credential report: limit exceeded. Try again later.");
  const now = org.now();
  const finish = () => {
    a.report = { generatedAt: now, csv: org.renderCredentialReport(a.id) };
    a.generating = undefined;
  };
  if (a.generating) {
    a.generating.pollsLeft--;
    if (a.generating.pollsLeft <= 0) {
      finish();
      return tag("State", "COMPLETE") + tag("Description", "Report generation complete");
    }
    return tag("State", "INPROGRESS") + tag("Description", "Report generation in progress");
  }
  if (a.report && now.getTime() - a.report.generatedAt.getTime() < Math.min(REPORT_REBUILD_MS, org.reportExpiresAfterMs ?? Infinity)) {
    return tag("State", "COMPLETE") + tag("Description", "Report generation complete");
  }
  const description = a.report ? "Report is older than four hours. Starting a new report generation task" : "No report exists. Starting a new report generation task";
  if (a.reportPolls <= 0) {
    finish();
    return tag("State", "COMPLETE") + tag("Description", "Report generation complete");
  }
  a.generating = { pollsLeft: a.reportPolls };
  return tag("State", "STARTED") + tag("Description", description);
}

function getCredentialReport(org: SimOrganization, a: SimAccount): string {
  if (!a.report) {
    if (a.generating) throw new ApiError(404, "ReportInProgress", "Report generation in progress.");
    throw new ApiError(410, "ReportNotPresent", "Credential report is not present. Use GenerateCredentialReport to generate a report.");
  }
  if (org.reportExpiresAfterMs !== undefined && org.now().getTime() - a.report.generatedAt.getTime() > org.reportExpiresAfterMs) {
    throw new ApiError(410, "ReportExpired", "Credential report has expired. Use GenerateCredentialReport to generate a new report.");
  }
  return tag("Content", Buffer.from(a.report.csv, "utf8").toString("base64")) + tag("ReportFormat", "text/csv") + tag("GeneratedTime", ts(a.report.generatedAt.toISOString()));
}

function userOrFail(a: SimAccount, name: string | null): SimUser {
  const u = name ? a.users.get(name) : undefined;
  if (!u) throw new ApiError(404, "NoSuchEntity", `The user with name ${name} cannot be found.`);
  return u;
}

/** The per-entity calls peers make; served so the benchmark can measure them against the same data. */
function perEntity(org: SimOrganization, a: SimAccount, action: string, p: URLSearchParams, cap: number, keysCap: number): string | undefined {
  switch (action) {
    case "ListUsers": {
      const { page, truncated, marker } = pageOf([...a.users.values()], p, "users", 100, cap);
      return members("Users", page, (u) => tag("Path", u.path) + tag("UserName", u.userName) + tag("UserId", u.userId) + tag("Arn", u.arn) + tag("CreateDate", ts(u.createDate)) + (u.passwordLastUsedEver ? tag("PasswordLastUsed", ts(u.passwordLastUsedEver)) : "")) + tag("IsTruncated", truncated) + tag("Marker", marker);
    }
    case "ListAccessKeys": {
      const u = userOrFail(a, p.get("UserName"));
      const { page, truncated, marker } = pageOf(u.keys, p, `keys:${u.userName}`, 100, keysCap);
      return members("AccessKeyMetadata", page, (k) => tag("UserName", u.userName) + tag("AccessKeyId", k.accessKeyId) + tag("Status", k.status) + tag("CreateDate", ts(k.createDate))) + tag("IsTruncated", truncated) + tag("Marker", marker);
    }
    case "GetAccessKeyLastUsed": {
      const id = p.get("AccessKeyId");
      for (const u of a.users.values()) {
        const k = u.keys.find((x) => x.accessKeyId === id);
        if (k) return tag("UserName", u.userName) + raw("AccessKeyLastUsed", (k.lastUsed ? tag("LastUsedDate", ts(k.lastUsed.date)) : "") + tag("ServiceName", k.lastUsed?.service ?? "N/A") + tag("Region", k.lastUsed?.region ?? "N/A"));
      }
      throw new ApiError(403, "AccessDenied", "The access key is not in this account.");
    }
    case "ListAttachedRolePolicies": {
      const r = a.roles.get(p.get("RoleName") ?? "");
      if (!r) throw new ApiError(404, "NoSuchEntity", `The role with name ${p.get("RoleName")} cannot be found.`);
      return members("AttachedPolicies", r.attached, (arn) => tag("PolicyName", org.policy(a.id, arn)?.policyName) + tag("PolicyArn", arn)) + tag("IsTruncated", false);
    }
    case "ListAttachedUserPolicies": {
      const u = userOrFail(a, p.get("UserName"));
      return members("AttachedPolicies", u.attached, (arn) => tag("PolicyName", org.policy(a.id, arn)?.policyName) + tag("PolicyArn", arn)) + tag("IsTruncated", false);
    }
    case "ListUserPolicies": {
      const u = userOrFail(a, p.get("UserName"));
      return members("PolicyNames", u.inline, (i) => esc(i.name)) + tag("IsTruncated", false);
    }
    case "ListGroupsForUser": {
      const u = userOrFail(a, p.get("UserName"));
      return members("Groups", u.groups.map((g) => a.groups.get(g)!).filter(Boolean), (g) => tag("Path", g.path) + tag("GroupName", g.groupName) + tag("GroupId", g.groupId) + tag("Arn", g.arn) + tag("CreateDate", ts(g.createDate))) + tag("IsTruncated", false);
    }
    case "GetLoginProfile": {
      const u = userOrFail(a, p.get("UserName"));
      if (!u.password) throw new ApiError(404, "NoSuchEntity", `Login Profile for User ${u.userName} cannot be found.`);
      return raw("LoginProfile", tag("UserName", u.userName) + tag("CreateDate", ts(u.password.createDate)) + tag("PasswordResetRequired", u.password.resetRequired));
    }
    case "ListMFADevices": {
      const u = userOrFail(a, p.get("UserName"));
      return members("MFADevices", u.mfa, (m) => tag("UserName", u.userName) + tag("SerialNumber", m.serialNumber) + tag("EnableDate", ts(m.enableDate))) + tag("IsTruncated", false);
    }
    case "ListRoles": {
      const { page, truncated, marker } = pageOf([...a.roles.values()], p, "roles", 100, cap);
      return members("Roles", page, (r) => renderRoleCore(r) + tag("MaxSessionDuration", r.maxSessionDuration)) + tag("IsTruncated", truncated) + tag("Marker", marker);
    }
    case "GetRole": {
      const r = a.roles.get(p.get("RoleName") ?? "");
      if (!r) throw new ApiError(404, "NoSuchEntity", `The role with name ${p.get("RoleName")} cannot be found.`);
      return raw("Role", renderRoleCore(r) + tag("MaxSessionDuration", r.maxSessionDuration) + (r.tags.length ? renderTags(r.tags) : "") + renderRoleLastUsed(r));
    }
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------------------------------------
// IAM writes (the remediation endpoints): permission-checked against the caller's own policies, rate-limited

const WRITE_ACTIONS = new Set(["UpdateAccessKey", "AttachUserPolicy", "DetachUserPolicy", "AttachRolePolicy", "DetachRolePolicy", "AddUserToGroup", "RemoveUserFromGroup"]);

type Statement = { Effect?: string; Action?: string | string[]; NotAction?: string | string[] };

function actionMatches(patterns: string | string[] | undefined, action: string): boolean {
  if (patterns === undefined) return false;
  return (Array.isArray(patterns) ? patterns : [patterns]).some((p) => globToRegExp(p).test(action));
}

/** The caller's identity policies (attached, inline, its groups'): an explicit Deny wins, then any Allow. Resources are not modelled. */
function callerAllowed(org: SimOrganization, a: SimAccount, who: SimIdentity, action: string): boolean {
  const role = who.roleArn ? [...a.roles.values()].find((r) => r.arn === who.roleArn) : undefined;
  const user = role ? undefined : [...a.users.values()].find((u) => u.arn === who.arn);
  const docs: string[] = [];
  const managed = (arns: string[]) => arns.forEach((arn) => docs.push(org.policy(a.id, arn)?.document ?? "{}"));
  if (role) {
    managed(role.attached);
    role.inline.forEach((i) => docs.push(i.document));
  } else if (user) {
    managed(user.attached);
    user.inline.forEach((i) => docs.push(i.document));
    for (const g of user.groups.map((n) => a.groups.get(n)).filter((g): g is SimGroup => g !== undefined)) {
      managed(g.attached);
      g.inline.forEach((i) => docs.push(i.document));
    }
  }
  const statements = docs.flatMap((d) => {
    const st = (JSON.parse(d) as { Statement?: Statement | Statement[] }).Statement ?? [];
    return Array.isArray(st) ? st : [st];
  });
  const full = `iam:${action}`;
  const hits = (s: Statement) => (s.Action !== undefined ? actionMatches(s.Action, full) : s.NotAction !== undefined && !actionMatches(s.NotAction, full));
  if (statements.some((s) => s.Effect === "Deny" && hits(s))) return false;
  return statements.some((s) => s.Effect === "Allow" && hits(s));
}

function handleWrite(org: SimOrganization, a: SimAccount, who: SimIdentity, action: string, p: URLSearchParams): string {
  const target = p.get("UserName") ?? p.get("RoleName") ?? "";
  const denied = (why: string) => new ApiError(403, "AccessDenied", `User: ${who.arn} is not authorized to perform: iam:${action} on resource: arn:${PARTITION}:iam::${a.id}:${p.has("RoleName") ? "role" : "user"}/${target} ${why}`);
  if (org.deniedTargets.has(`${a.id}:${action}:${target}`)) throw denied("with an explicit deny in a service control policy");
  if (!callerAllowed(org, a, who, action)) throw denied(`because no identity-based policy allows the iam:${action} action`);
  const policyArn = () => {
    const arn = p.get("PolicyArn") ?? "";
    if (!org.policy(a.id, arn)) throw new ApiError(404, "NoSuchEntity", `Policy ${arn} does not exist or is not attachable.`);
    return arn;
  };
  const roleOrFail = () => {
    const r = a.roles.get(p.get("RoleName") ?? "");
    if (!r) throw new ApiError(404, "NoSuchEntity", `The role with name ${p.get("RoleName")} cannot be found.`);
    if (r.path.startsWith("/aws-service-role/")) throw new ApiError(400, "UnmodifiableEntity", `Cannot perform the operation on the protected role '${r.roleName}' - this role is only modifiable by AWS`);
    return r;
  };
  const groupOrFail = () => {
    const g = a.groups.get(p.get("GroupName") ?? "");
    if (!g) throw new ApiError(404, "NoSuchEntity", `The group with name ${p.get("GroupName")} cannot be found.`);
    return g;
  };
  switch (action) {
    case "UpdateAccessKey": {
      const u = userOrFail(a, p.get("UserName"));
      const status = p.get("Status");
      if (status !== "Active" && status !== "Inactive") throw new ApiError(400, "ValidationError", `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]`);
      const k = u.keys.find((x) => x.accessKeyId === p.get("AccessKeyId"));
      if (!k) throw new ApiError(404, "NoSuchEntity", `The Access Key with id ${p.get("AccessKeyId")} cannot be found.`);
      k.status = status;
      return "";
    }
    case "AttachUserPolicy": {
      const u = userOrFail(a, p.get("UserName"));
      const arn = policyArn();
      if (!u.attached.includes(arn)) u.attached.push(arn);
      return "";
    }
    case "DetachUserPolicy": {
      const u = userOrFail(a, p.get("UserName"));
      const arn = p.get("PolicyArn") ?? "";
      if (!u.attached.includes(arn)) throw new ApiError(404, "NoSuchEntity", `Policy ${arn} was not found.`);
      u.attached = u.attached.filter((x) => x !== arn);
      return "";
    }
    case "AttachRolePolicy": {
      const r = roleOrFail();
      const arn = policyArn();
      if (!r.attached.includes(arn)) r.attached.push(arn);
      return "";
    }
    case "DetachRolePolicy": {
      const r = roleOrFail();
      const arn = p.get("PolicyArn") ?? "";
      if (!r.attached.includes(arn)) throw new ApiError(404, "NoSuchEntity", `Policy ${arn} was not found.`);
      r.attached = r.attached.filter((x) => x !== arn);
      return "";
    }
    case "AddUserToGroup": {
      const g = groupOrFail();
      const u = userOrFail(a, p.get("UserName"));
      if (!u.groups.includes(g.groupName)) u.groups.push(g.groupName);
      return "";
    }
    case "RemoveUserFromGroup": {
      const g = groupOrFail();
      const u = userOrFail(a, p.get("UserName"));
      if (!u.groups.includes(g.groupName)) throw new ApiError(404, "NoSuchEntity", `The user with name ${u.userName} is not in group ${g.groupName}.`);
      u.groups = u.groups.filter((x) => x !== g.groupName);
      return "";
    }
    default:
      throw new ApiError(400, "InvalidAction", `Could not find operation ${action} for version 2010-05-08`);
  }
}

/** A write through the API is in CloudTrail like any change, made by the identity that signed it. */
function recordWrite(org: SimOrganization, accountId: string, who: SimIdentity, action: string, p: URLSearchParams): void {
  const session = /:assumed-role\/([^/]+)\/(.+)$/.exec(who.arn);
  const actor: SimActor = session
    ? { type: "AssumedRole", name: session[1]!, session: session[2]!, ip: "198.51.100.77", userAgent: "aws-sdk-js/3 whohas" }
    : { type: "IAMUser", name: who.arn.split("/").pop() ?? who.arn, ip: "198.51.100.77", userAgent: "aws-sdk-js/3 whohas" };
  // requestParameters as CloudTrail writes them: the API's member names with a lower-case first letter.
  const params: Record<string, unknown> = {};
  for (const [k, v] of p) if (k !== "Action" && k !== "Version") params[k.charAt(0).toLowerCase() + k.slice(1)] = v;
  const name = (params.userName ?? params.roleName) as string | undefined;
  org.trail.as(accountId, actor, () => org.trail.iam(accountId, action, params, null, name ? [{ ResourceType: params.userName ? "AWS::IAM::User" : "AWS::IAM::Role", ResourceName: name }] : []));
}

/** A token bucket per account: `rate` writes a second, bursts up to `rate`. */
class WriteLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  throttled = 0;
  constructor(private readonly rate: number) {}
  take(account: string): boolean {
    const now = Date.now();
    const b = this.buckets.get(account) ?? { tokens: this.rate, at: now };
    b.tokens = Math.min(this.rate, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    this.buckets.set(account, b);
    if (b.tokens < 1) {
      this.throttled++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }
}

function handleIam(org: SimOrganization, who: SimIdentity, action: string, p: URLSearchParams, cap: number, keysCap: number, writes: WriteLimiter): string {
  const a = org.accounts.get(who.accountId);
  if (!a) throw new ApiError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
  if (org.deniedActions.has(`${a.id}:${action}`)) throw new ApiError(403, "AccessDenied", `User: ${who.arn} is not authorized to perform: iam:${action} on resource: arn:${PARTITION}:iam::${a.id}:* because no identity-based policy allows the iam:${action} action`);
  if (WRITE_ACTIONS.has(action)) {
    if (!writes.take(a.id)) throw new ApiError(400, "Throttling", "Rate exceeded");
    const out = handleWrite(org, a, who, action, p);
    recordWrite(org, a.id, who, action, p);
    return out;
  }
  switch (action) {
    case "GetAccountAuthorizationDetails":
      return authorizationDetails(org, a, p, cap);
    case "GenerateCredentialReport":
      return generateCredentialReport(org, a);
    case "GetCredentialReport":
      return getCredentialReport(org, a);
    default: {
      const out = perEntity(org, a, action, p, cap, keysCap);
      if (out === undefined) throw new ApiError(400, "InvalidAction", `Could not find operation ${action} for version 2010-05-08`);
      return out;
    }
  }
}

// ------------------------------------------------------------------------------------------------
// STS

function trustAllows(role: SimRole, caller: SimIdentity, externalId: string | null): boolean {
  const trust = JSON.parse(role.trust) as { Statement: { Effect: string; Principal?: { AWS?: string | string[] }; Action: string | string[]; Condition?: Record<string, Record<string, string>> }[] };
  for (const st of trust.Statement) {
    if (st.Effect !== "Allow") continue;
    const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
    if (!actions.includes("sts:AssumeRole")) continue;
    const aws = st.Principal?.AWS === undefined ? [] : Array.isArray(st.Principal.AWS) ? st.Principal.AWS : [st.Principal.AWS];
    const ok = aws.some((p) => p === caller.accountId || p === `arn:aws:iam::${caller.accountId}:root` || p === caller.arn || p === caller.roleArn);
    if (!ok) continue;
    const required = st.Condition?.StringEquals?.["sts:ExternalId"];
    if (required !== undefined && required !== externalId) continue;
    return true;
  }
  return false;
}

function handleSts(org: SimOrganization, who: SimIdentity, action: string, p: URLSearchParams): string {
  if (action === "GetCallerIdentity") return tag("Arn", who.arn) + tag("UserId", who.userId) + tag("Account", who.accountId);
  if (action !== "AssumeRole") throw new ApiError(400, "InvalidAction", `Could not find operation ${action} for version 2011-06-15`);
  const roleArn = p.get("RoleArn") ?? "";
  const session = p.get("RoleSessionName") ?? "";
  if (!/^[\w+=,.@-]{2,64}$/.test(session)) throw new ApiError(400, "ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint");
  const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn);
  const denied = () => new ApiError(403, "AccessDenied", `User: ${who.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
  if (!m) throw new ApiError(400, "ValidationError", `${roleArn} is invalid`);
  const account = org.accounts.get(m[1]!);
  const role = account?.roles.get(m[2]!);
  if (!account || !role || role.arn !== roleArn || org.denyAssumeRole.has(account.id) || account.state !== "ACTIVE") throw denied();
  if (!trustAllows(role, who, p.get("ExternalId"))) throw denied();
  const duration = Number(p.get("DurationSeconds") ?? 3600);
  const expiration = new Date(org.now().getTime() + duration * 1000);
  const accessKeyId = org.nextId("ASIA", 16);
  const secretAccessKey = randomUUID().replace(/-/g, "") + "SECRETxx";
  const sessionToken = Buffer.from(randomUUID() + randomUUID()).toString("base64");
  const assumedArn = `arn:aws:sts::${account.id}:assumed-role/${role.roleName}/${session}`;
  org.identities.set(accessKeyId, { accessKeyId, secretAccessKey, sessionToken, expiration, accountId: account.id, arn: assumedArn, userId: `${role.roleId}:${session}`, roleArn: role.arn });
  return (
    raw("AssumedRoleUser", tag("AssumedRoleId", `${role.roleId}:${session}`) + tag("Arn", assumedArn)) +
    raw("Credentials", tag("AccessKeyId", accessKeyId) + tag("SecretAccessKey", secretAccessKey) + tag("SessionToken", sessionToken) + tag("Expiration", ts(expiration.toISOString()))) +
    tag("PackedPolicySize", 0)
  );
}

// ------------------------------------------------------------------------------------------------
// Organizations (JSON 1.1)

function handleOrganizations(org: SimOrganization, who: SimIdentity, target: string, body: Record<string, unknown>, maxPerPage: number): unknown {
  if (target !== "AWSOrganizationsV20161128.ListAccounts") throw new ApiError(400, "UnknownOperationException", `Unknown operation ${target}`);
  if (who.accountId !== org.managementAccountId) {
    throw new ApiError(400, "AccessDeniedException", "You don't have permissions to access this resource.");
  }
  const maxResults = body.MaxResults === undefined ? 20 : Number(body.MaxResults);
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 20) throw new ApiError(400, "InvalidInputException", "You provided a value that does not match the required pattern.");
  const accounts = [...org.accounts.values()];
  let start = 0;
  if (typeof body.NextToken === "string") {
    try {
      start = decodeMarker(body.NextToken, "accounts");
    } catch {
      throw new ApiError(400, "InvalidInputException", "The NextToken is not valid.");
    }
  }
  const page = accounts.slice(start, start + Math.min(maxResults, maxPerPage));
  const next = start + page.length;
  return {
    Accounts: page.map((a) => ({
      Id: a.id,
      Arn: `arn:aws:organizations::${org.managementAccountId}:account/${org.orgId}/${a.id}`,
      Email: a.email,
      Name: a.name,
      Status: a.state === "PENDING_CLOSURE" ? "PENDING_CLOSURE" : a.state,
      State: a.state,
      JoinedMethod: a.joinedMethod,
      JoinedTimestamp: Date.parse(a.joined) / 1000,
    })),
    ...(next < accounts.length ? { NextToken: encodeMarker(next, "accounts") } : {}),
  };
}

// ------------------------------------------------------------------------------------------------
// CloudTrail (JSON 1.1)

/**
 * X-Amz-Target of CloudTrail: botocore sends the service's full shape id
 * (`com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`), the current JS SDK its shape name
 * (`CloudTrail_20131101.LookupEvents`); CloudTrail takes both.
 */
const CLOUDTRAIL_TARGET = /^(?:com\.amazonaws\.cloudtrail\.v20131101\.)?CloudTrail_20131101\.(\w+)$/;
const LOOKUP_KEYS = new Set(["EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"]);
const TRAIL_HISTORY_MS = 90 * 86_400_000;

function matchesAttribute(e: SimTrailEvent, key: string, value: string): boolean {
  switch (key) {
    case "EventId":
      return e.eventId === value;
    case "EventName":
      return e.eventName === value;
    case "ReadOnly":
      return String(e.readOnly) === value;
    case "Username":
      return e.username === value;
    case "EventSource":
      return e.eventSource === value;
    case "AccessKeyId":
      return e.accessKeyId === value;
    case "ResourceType":
      return e.resources.some((r) => r.ResourceType === value);
    case "ResourceName":
      return e.resources.some((r) => r.ResourceName === value);
    default:
      return false;
  }
}

/** A time member: epoch seconds (what the SDK sends), fractional allowed. */
function epochSeconds(v: unknown, member: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ApiError(400, "SerializationException", `${member} must be a timestamp in epoch seconds`);
  return v * 1000;
}

function lookupEvents(org: SimOrganization, account: string, region: string, body: Record<string, unknown>): unknown {
  const attrs = body.LookupAttributes;
  if (attrs !== undefined && (!Array.isArray(attrs) || attrs.length > 1)) throw new ApiError(400, "InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.");
  const attr = (attrs as { AttributeKey?: unknown; AttributeValue?: unknown }[] | undefined)?.[0];
  if (attr && (typeof attr.AttributeKey !== "string" || !LOOKUP_KEYS.has(attr.AttributeKey) || typeof attr.AttributeValue !== "string")) {
    throw new ApiError(400, "InvalidLookupAttributesException", "Invalid lookup attribute key or value.");
  }
  const maxResults = body.MaxResults === undefined ? 50 : body.MaxResults;
  if (typeof maxResults !== "number" || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 50) throw new ApiError(400, "InvalidMaxResultsException", "MaxResults must be between 1 and 50.");
  const now = org.now().getTime();
  const start = epochSeconds(body.StartTime, "StartTime") ?? now - TRAIL_HISTORY_MS;
  const end = epochSeconds(body.EndTime, "EndTime") ?? now;
  if (start > end) throw new ApiError(400, "InvalidTimeRangeException", "Start time must be before end time.");
  const queryKey = JSON.stringify([account, region, attr?.AttributeKey ?? null, attr?.AttributeValue ?? null, start, end]);
  let offset = 0;
  if (body.NextToken !== undefined) {
    try {
      const t = JSON.parse(Buffer.from(String(body.NextToken), "base64url").toString("utf8")) as { o: number; q: string };
      if (t.q !== queryKey || !Number.isInteger(t.o) || t.o < 0) throw new Error();
      offset = t.o;
    } catch {
      throw new ApiError(400, "InvalidNextTokenException", "Invalid NextToken. Check that the NextToken is from the same request parameters.");
    }
  }
  // Newest first, as CloudTrail answers; events older than 90 days are gone.
  const matching: SimTrailEvent[] = [];
  const events = org.trail.events;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.accountId !== account || e.region !== region) continue;
    if (e.eventTime < start || e.eventTime > end || e.eventTime < now - TRAIL_HISTORY_MS) continue;
    if (attr && !matchesAttribute(e, attr.AttributeKey as string, attr.AttributeValue as string)) continue;
    matching.push(e);
  }
  matching.sort((a, b) => b.eventTime - a.eventTime);
  const page = matching.slice(offset, offset + maxResults);
  const next = offset + page.length;
  return {
    Events: page.map((e) => ({
      EventId: e.eventId,
      EventName: e.eventName,
      ReadOnly: String(e.readOnly),
      ...(e.accessKeyId ? { AccessKeyId: e.accessKeyId } : {}),
      EventTime: e.eventTime / 1000,
      EventSource: e.eventSource,
      ...(e.username ? { Username: e.username } : {}),
      Resources: e.resources,
      CloudTrailEvent: e.record,
    })),
    ...(next < matching.length ? { NextToken: Buffer.from(JSON.stringify({ o: next, q: queryKey })).toString("base64url") } : {}),
  };
}

// ------------------------------------------------------------------------------------------------
// Server

function serviceOf(req: SimRequest): "iam" | "sts" | "organizations" | "cloudtrail" | undefined {
  const auth = parseAuthorization(req.headers.authorization);
  if (auth) return auth.service === "iam" || auth.service === "sts" || auth.service === "organizations" || auth.service === "cloudtrail" ? auth.service : undefined;
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") return CLOUDTRAIL_TARGET.test(target) ? "cloudtrail" : "organizations";
  const version = new URLSearchParams(req.body.toString("utf8")).get("Version");
  return version === "2011-06-15" ? "sts" : version === "2010-05-08" ? "iam" : undefined;
}

function actionOf(req: SimRequest): string | undefined {
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") return target.split(".").pop();
  return new URLSearchParams(req.body.toString("utf8")).get("Action") ?? undefined;
}

export async function startAwsSimulator(options: AwsSimulatorOptions): Promise<AwsSimulator> {
  const { org } = options;
  const verify = options.verifySignatures ?? true;
  const cap = options.maxAuthorizationDetailsItems ?? 1000;
  const keysCap = options.maxAccessKeysItems ?? 1000;
  const maxAccounts = options.maxAccountsPerPage ?? 20;
  const actionCounts = new Map<string, number>();
  const writes = new WriteLimiter(options.writesPerSecond ?? 15);
  const lookups: LookupRecord[] = [];
  const trailRate = options.cloudTrailRate ?? { requests: 2, windowMs: 1000 };

  const identityOf = (req: SimRequest): SimIdentity | undefined => {
    const auth = parseAuthorization(req.headers.authorization);
    return auth ? org.identities.get(auth.accessKeyId) : undefined;
  };

  const fail = (res: http.ServerResponse, service: string | undefined, err: ApiError) => {
    if (service === "organizations") {
      sendJson(res, err.status, { __type: err.code, Message: err.message }, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() });
    } else if (service === "cloudtrail") {
      sendJson(res, err.status, { __type: err.code, message: err.message }, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() });
    } else {
      sendText(res, err.status, "text/xml", queryErrorBody(service === "sts" ? STS_NS : IAM_NS, err.code, err.message, err.status >= 500 ? "Receiver" : "Sender"));
    }
  };

  const handler = (req: SimRequest, res: http.ServerResponse) => {
    const service = serviceOf(req);
    const action = actionOf(req);
    actionCounts.set(`${service}:${action}`, (actionCounts.get(`${service}:${action}`) ?? 0) + 1);
    try {
      if (req.method !== "POST") throw new ApiError(405, "MethodNotAllowed", "Only POST is supported");
      if (verify) {
        const check = verifySigV4({ method: req.method, url: req.url, headers: req.headers, body: req.body, secretFor: (id) => org.identities.get(id)?.secretAccessKey, now: new Date() });
        if (!check.ok) throw new ApiError(check.code === "MissingAuthenticationToken" ? 403 : check.code === "IncompleteSignature" ? 400 : 403, check.code, check.message);
      }
      const who = identityOf(req);
      if (!who) throw new ApiError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
      if (who.sessionToken !== undefined) {
        if (req.headers["x-amz-security-token"] !== who.sessionToken) throw new ApiError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
        if (who.expiration && who.expiration.getTime() < org.now().getTime()) throw new ApiError(403, "ExpiredToken", "The security token included in the request is expired");
      }
      if (service === "cloudtrail") {
        const target = String(req.headers["x-amz-target"] ?? "");
        if (!String(req.headers["content-type"] ?? "").startsWith("application/x-amz-json-1.1")) throw new ApiError(400, "SerializationException", "Content-Type must be application/x-amz-json-1.1");
        if (CLOUDTRAIL_TARGET.exec(target)?.[1] !== "LookupEvents") throw new ApiError(400, "UnknownOperationException", `Unknown operation ${target}`);
        const region = parseAuthorization(req.headers.authorization)?.region ?? "us-east-1";
        if (org.deniedActions.has(`${who.accountId}:LookupEvents`)) {
          throw new ApiError(400, "AccessDeniedException", `User: ${who.arn} is not authorized to perform: cloudtrail:LookupEvents because no identity-based policy allows the cloudtrail:LookupEvents action`);
        }
        // The quota counts the requests CloudTrail accepted in the last window, per account and Region.
        const at = performance.now();
        const recent = lookups.filter((l) => !l.throttled && l.account === who.accountId && l.region === region && at - l.at < trailRate.windowMs).length;
        const throttled = recent >= trailRate.requests;
        lookups.push({ at, account: who.accountId, region, throttled });
        if (throttled) throw new ApiError(400, "ThrottlingException", "Rate exceeded");
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(req.body.toString("utf8") || "{}") as Record<string, unknown>;
        } catch {
          throw new ApiError(400, "SerializationException", "Malformed JSON");
        }
        sendJson(res, 200, lookupEvents(org, who.accountId, region, body), { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() });
        return;
      }
      if (service === "organizations") {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(req.body.toString("utf8") || "{}") as Record<string, unknown>;
        } catch {
          throw new ApiError(400, "SerializationException", "Malformed JSON");
        }
        const headers = { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() };
        const replaced = options.override?.({ service: "organizations", action: action ?? "", body, account: who.accountId, accessKeyId: who.accessKeyId });
        if (replaced !== undefined) sendText(res, 200, headers["content-type"], replaced, headers);
        else sendJson(res, 200, handleOrganizations(org, who, String(req.headers["x-amz-target"] ?? ""), body, maxAccounts), headers);
        return;
      }
      if (!String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) throw new ApiError(400, "InvalidParameterValue", "Content-Type must be application/x-www-form-urlencoded");
      const params = new URLSearchParams(req.body.toString("utf8"));
      const version = params.get("Version");
      if (service === "iam") {
        if (version !== "2010-05-08") throw new ApiError(400, "InvalidParameterValue", `Invalid Version ${version}`);
        const replaced = options.override?.({ service: "iam", action: action ?? "", params, account: who.accountId, accessKeyId: who.accessKeyId });
        queryResponse(res, IAM_NS, action ?? "", replaced ?? handleIam(org, who, action ?? "", params, cap, keysCap, writes));
      } else if (service === "sts") {
        if (version !== "2011-06-15") throw new ApiError(400, "InvalidParameterValue", `Invalid Version ${version}`);
        const replaced = options.override?.({ service: "sts", action: action ?? "", params, account: who.accountId, accessKeyId: who.accessKeyId });
        queryResponse(res, STS_NS, action ?? "", replaced ?? handleSts(org, who, action ?? "", params));
      } else {
        throw new ApiError(400, "UnknownService", "Unknown service");
      }
    } catch (err) {
      if (err instanceof ApiError) fail(res, service, err);
      else throw err;
    }
  };

  const sim = await startSimulator({ latencyMs: options.latencyMs, handler });

  const matcher = (m: RequestMatch) => (req: SimRequest) => {
    if (m.service && serviceOf(req) !== m.service) return false;
    if (m.action && actionOf(req) !== m.action) return false;
    if (m.account && identityOf(req)?.accountId !== m.account) return false;
    return true;
  };

  return {
    url: sim.url,
    sim,
    org,
    actionCounts,
    writeThrottled: () => writes.throttled,
    lookups,
    throttle(match, times, kind = "iam") {
      const service = match.service ?? "iam";
      let fault: FaultRule["fault"];
      if (service === "cloudtrail") {
        fault = { kind: "status", status: 400, headers: { "content-type": "application/x-amz-json-1.1" }, body: JSON.stringify({ __type: "ThrottlingException", message: "Rate exceeded" }) };
      } else if (service === "organizations") {
        fault = { kind: "status", status: 400, headers: { "content-type": "application/x-amz-json-1.1" }, body: JSON.stringify({ __type: "TooManyRequestsException", Message: "AWS Organizations can't complete your request because another request is already in progress. Try again later.", Type: "AccountId" }) };
      } else if (kind === "429") {
        fault = { kind: "status", status: 429, headers: { "content-type": "text/xml" }, body: queryErrorBody(service === "sts" ? STS_NS : IAM_NS, "Throttling", "Rate exceeded") };
      } else if (kind === "503") {
        fault = { kind: "status", status: 503, headers: { "content-type": "text/xml" }, body: queryErrorBody(service === "sts" ? STS_NS : IAM_NS, "ServiceUnavailable", "Service is unavailable", "Receiver") };
      } else {
        fault = { kind: "status", status: 400, headers: { "content-type": "text/xml" }, body: queryErrorBody(service === "sts" ? STS_NS : IAM_NS, "Throttling", "Rate exceeded") };
      }
      sim.injectFault({ fault, match: matcher({ ...match, service }), times });
    },
    truncate(match, times) {
      sim.injectFault({ fault: { kind: "truncate" }, match: matcher(match), times });
    },
    close: () => sim.close(),
  };
}

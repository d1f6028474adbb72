// Pure IAM policy analysis: how much a permissions policy allows (admin / privileged / write / read)
// and who a role trust policy lets in. No I/O; unit-tested on documented policy examples.
import type { AccessLevel } from "../../src/model.js";
import { globToRegExp } from "../../src/glob.js";

export type GrantLevel = Exclude<AccessLevel, "none">;

export interface Statement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: "*" | Record<string, string | string[]>;
  NotPrincipal?: unknown;
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: Statement[];
}

/**
 * IAM returns documents RFC 3986 URL-encoded (GetAccountAuthorizationDetails, GetRole); other callers
 * pass plain JSON. A plain JSON document starts with "{", an encoded one with "%7B".
 */
export function parsePolicyDocument(raw: string): PolicyDocument {
  const text = raw.trimStart().startsWith("{") ? raw : decodeURIComponent(raw);
  const parsed = JSON.parse(text) as { Version?: string; Statement?: Statement | Statement[] };
  const st = parsed.Statement;
  const statements = st === undefined ? [] : Array.isArray(st) ? st : [st];
  // A document of another shape is unparseable for the callers (who assume the worst), not a crash later.
  const strings = (v: unknown) => v === undefined || typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string"));
  for (const s of statements as unknown[]) {
    const x = s as Record<string, unknown> | null;
    if (typeof x !== "object" || x === null || Array.isArray(x) || !["Action", "NotAction", "Resource", "NotResource"].every((k) => strings(x[k]))) {
      throw new Error("policy document: a Statement is not an object of strings and string lists");
    }
  }
  return { Version: parsed.Version, Statement: statements };
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Escalation paths: actions that let a principal give itself or another principal more power
 * (new credentials, new policies, a role to pass, a trust policy to rewrite).
 */
const IAM_ESCALATION_ACTIONS = [
  "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:CreateUser", "iam:CreateRole",
  "iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:AttachRolePolicy",
  "iam:PutUserPolicy", "iam:PutGroupPolicy", "iam:PutRolePolicy",
  "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion",
  "iam:AddUserToGroup", "iam:UpdateAssumeRolePolicy", "iam:PassRole",
  "iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
  "iam:PutUserPermissionsBoundary", "iam:PutRolePermissionsBoundary",
  "iam:DetachUserPolicy", "iam:DetachRolePolicy", "iam:DeleteRolePolicy", "iam:DeleteUserPolicy",
  "iam:CreateServiceSpecificCredential", "iam:UploadSSHPublicKey", "iam:UpdateAccessKey",
  "iam:AddRoleToInstanceProfile", "iam:CreateInstanceProfile", "iam:UpdateRole",
  "iam:CreateOpenIDConnectProvider", "iam:CreateSAMLProvider", "iam:UpdateSAMLProvider",
];
/** Assuming any role or reshaping the organization is privileged when it is not pinned to named resources. */
const WILDCARD_RESOURCE_ESCALATIONS = ["sts:AssumeRole", "organizations:AttachPolicy", "organizations:CreatePolicy", "organizations:UpdatePolicy", "organizations:DetachPolicy", "organizations:MoveAccount", "organizations:InviteAccountToOrganization", "organizations:LeaveOrganization", "organizations:RemoveAccountFromOrganization", "sso:CreatePermissionSet", "sso:PutInlinePolicyToPermissionSet", "sso:AttachManagedPolicyToPermissionSet", "sso:CreateAccountAssignment", "identitystore:CreateGroupMembership"];

/** Verbs that only read. Matched against the action name after the service prefix. */
const READ_VERB = /^(Get|List|Describe|View|BatchGet|BatchDescribe|Search|Lookup|Query|Scan|Select|Head|Check|Validate|Simulate|Estimate|Preview|Detect|Discover|Test)/i;
const IAM_READ_GENERATE = /^(GenerateCredentialReport|GenerateServiceLastAccessedDetails|GenerateOrganizationsAccessReport)$/i;

/** Resources that only name the caller itself (self-service MFA / own access keys): IAM write there is no escalation. */
const SELF_ONLY = /\$\{aws:username\}|\$\{aws:userid\}/i;

/** "*", "arn:*", "arn:aws:*:*:*:*": every resource. */
function isWildcardResource(r: string): boolean {
  return r === "*" || r === "arn:*" || /^arn:[^:]+(:\*){4}$/.test(r);
}

function isReadAction(pattern: string): boolean {
  const [svc, verb] = splitAction(pattern);
  if (verb === "*") return false;
  if (svc.toLowerCase() === "iam" && IAM_READ_GENERATE.test(verb)) return true;
  const star = verb.indexOf("*");
  const literal = star === -1 ? verb : verb.slice(0, star);
  if (star === -1) return READ_VERB.test(verb);
  // "Get*" reads; "De*" could be Describe or Delete, so it is not read-only.
  const m = READ_VERB.exec(literal);
  return m !== null && m[0].length <= literal.length;
}

function splitAction(pattern: string): [string, string] {
  const i = pattern.indexOf(":");
  return i === -1 ? [pattern, "*"] : [pattern.slice(0, i), pattern.slice(i + 1)];
}

function matchesAny(pattern: string, actions: readonly string[]): boolean {
  const re = globToRegExp(pattern);
  return actions.some((a) => re.test(a));
}

export interface Classification {
  level: GrantLevel | null;
  /** Short human reason, e.g. "Allow * on *" or "iam:PassRole on *". */
  reason: string;
  /** Some Allow statement carries a Condition (the level may overstate what is usable). */
  conditional: boolean;
  /** The document has Deny statements, which this analysis does not subtract. */
  hasDeny: boolean;
}

const RANK: Record<GrantLevel, number> = { read: 1, write: 2, privileged: 3, admin: 4 };
export function higher(a: GrantLevel | null, b: GrantLevel | null): GrantLevel | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK[a] >= RANK[b] ? a : b;
}
export function lower(a: GrantLevel, b: GrantLevel): GrantLevel {
  return RANK[a] <= RANK[b] ? a : b;
}

/**
 * The most a document allows. Deny statements and conditions are not subtracted: an inventory
 * must not under-report power, and both are reported as flags instead.
 */
export function classifyDocument(doc: PolicyDocument): Classification {
  let level: GrantLevel | null = null;
  let reason = "no Allow statement";
  let conditional = false;
  let hasDeny = false;
  const raise = (l: GrantLevel, why: string) => {
    if (level === null || RANK[l] > RANK[level]) {
      level = l;
      reason = why;
    }
  };
  for (const st of doc.Statement) {
    if ((st.Effect ?? "").toLowerCase() === "deny") {
      hasDeny = true;
      continue;
    }
    if ((st.Effect ?? "").toLowerCase() !== "allow") continue;
    if (st.Condition && Object.keys(st.Condition).length > 0) conditional = true;
    const resources = list(st.Resource);
    const anyResource = st.NotResource !== undefined || resources.some(isWildcardResource);
    const resText = st.NotResource !== undefined ? "NotResource" : resources.length === 1 ? resources[0]! : `${resources.length} resources`;
    const selfOnly = resources.length > 0 && resources.every((r) => SELF_ONLY.test(r));

    if (st.NotAction !== undefined) {
      const excluded = list(st.NotAction);
      // "Everything except …": PowerUserAccess-style when IAM is among the exclusions, otherwise admin.
      const excludesIam = excluded.some((p) => globToRegExp(p).test("iam:CreateUser") || globToRegExp(p).test("iam:AttachUserPolicy"));
      if (anyResource) raise(excludesIam ? "privileged" : "admin", `Allow NotAction [${excluded.join(", ")}] on *`);
      else raise("write", `Allow NotAction on ${resText}`);
      continue;
    }
    for (const action of list(st.Action)) {
      const a = action.trim();
      if (a === "*" || a === "*:*") {
        raise(anyResource ? "admin" : "write", `Allow ${a} on ${resText}`);
        continue;
      }
      const [svc] = splitAction(a);
      const service = svc.toLowerCase();
      if ((service === "iam" || service === "*") && matchesAny(a, IAM_ESCALATION_ACTIONS) && !selfOnly) {
        raise("privileged", `${a} on ${resText}`);
        continue;
      }
      if (anyResource && matchesAny(a, WILDCARD_RESOURCE_ESCALATIONS)) {
        raise("privileged", `${a} on *`);
        continue;
      }
      raise(isReadAction(a) ? "read" : "write", `${a} on ${resText}`);
    }
  }
  return { level, reason, conditional, hasDeny };
}

/**
 * Well-known AWS managed policies whose intent is clearer than a statement-by-statement reading:
 * ReadOnlyAccess allows hundreds of actions whose verbs are not Get/List, PowerUserAccess is an
 * admin in all but IAM. Applies only to policies in the `aws` namespace (arn:…:iam::aws:policy/…).
 */
// A Map, not an object literal: a tenant names its policies, and "toString" or "__proto__" must not
// find Object.prototype's members.
const AWS_MANAGED_BY_NAME: ReadonlyMap<string, GrantLevel> = new Map([
  ["AdministratorAccess", "admin"],
  ["PowerUserAccess", "privileged"],
  ["IAMFullAccess", "privileged"],
  ["AWSOrganizationsFullAccess", "privileged"],
  ["ReadOnlyAccess", "read"],
  ["SecurityAudit", "read"],
  ["ViewOnlyAccess", "read"],
]);

export function isAwsManagedArn(arn: string): boolean {
  return /^arn:[^:]+:iam::aws:policy\//.test(arn);
}

export interface PolicyLevel {
  level: GrantLevel | null;
  /** "document", "aws_managed_name" (known AWS policy) or "name" (document not available). */
  basis: "document" | "aws_managed_name" | "name";
  reason: string;
  conditional: boolean;
  hasDeny: boolean;
}

/** Level of a managed policy from its name and (when IAM returned it) its default version document. */
export function classifyManagedPolicy(arn: string, name: string, doc: PolicyDocument | undefined): PolicyLevel {
  if (isAwsManagedArn(arn)) {
    const known = AWS_MANAGED_BY_NAME.get(name) ?? (/^View/.test(name) ? "read" : undefined);
    if (known) return { level: known, basis: "aws_managed_name", reason: `AWS managed ${name}`, conditional: false, hasDeny: false };
  }
  if (doc) {
    const c = classifyDocument(doc);
    return { level: c.level, basis: "document", reason: c.reason, conditional: c.conditional, hasDeny: c.hasDeny };
  }
  return { level: levelFromName(name), basis: "name", reason: `by name (${name}); document not returned`, conditional: false, hasDeny: false };
}

/** Last resort when a document is not available: the naming conventions AWS and most teams use. */
export function levelFromName(name: string): GrantLevel {
  if (/^AdministratorAccess$/i.test(name)) return "admin";
  if (/PowerUser|IAMFullAccess/i.test(name)) return "privileged";
  if (/ReadOnly|SecurityAudit|^View|Viewer/i.test(name)) return "read";
  return "write";
}

// ---------------------------------------------------------------------------------------------
// Trust policies

export interface TrustAnalysis {
  /** AWS service principals, e.g. "ec2.amazonaws.com". */
  services: string[];
  /** SAML / OIDC providers (ARNs or hosts such as "token.actions.githubusercontent.com"). */
  federated: string[];
  /** AWS principals (account ids, ARNs) trusted, as written. */
  awsPrincipals: string[];
  /** AWS principals whose account is not one of the internal accounts (third-party access). */
  external: { principal: string; account: string | null; requiresExternalId: boolean }[];
  /** `"AWS": "*"` (or `Principal: "*"`) without an organization condition: anyone with AWS credentials. */
  public: boolean;
}

const ASSUME_ACTIONS = ["sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:SetSourceIdentity"];

/** Account id of an AWS principal string: "123456789012", "arn:aws:iam::123456789012:root", a role/user ARN; null for unique ids (AROA…) of deleted principals. */
export function principalAccount(p: string): string | null {
  if (/^\d{12}$/.test(p)) return p;
  const m = /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(p);
  return m ? m[1]! : null;
}

function hasConditionKey(st: Statement, key: string): boolean {
  if (!st.Condition) return false;
  return Object.values(st.Condition).some((kv: unknown) => kv !== null && typeof kv === "object" && Object.keys(kv).some((k) => k.toLowerCase() === key.toLowerCase()));
}

/**
 * Who a role's trust policy lets assume it. An AWS principal counts as internal when its account is
 * the role's own account or in `internalAccounts` (the organization's accounts, or the configured ones).
 */
export function analyzeTrust(doc: PolicyDocument, ownAccount: string, internalAccounts: ReadonlySet<string>): TrustAnalysis {
  const out: TrustAnalysis = { services: [], federated: [], awsPrincipals: [], external: [], public: false };
  for (const st of doc.Statement) {
    if ((st.Effect ?? "").toLowerCase() !== "allow") continue;
    const actions = list(st.Action);
    if (actions.length > 0 && !actions.some((a) => a === "*" || matchesAny(a, ASSUME_ACTIONS))) continue;
    const orgBound = hasConditionKey(st, "aws:PrincipalOrgID") || hasConditionKey(st, "aws:PrincipalOrgPaths");
    const requiresExternalId = hasConditionKey(st, "sts:ExternalId");
    const principal = st.Principal;
    if (principal === undefined) continue;
    const aws: string[] = principal === "*" ? ["*"] : list(principal.AWS);
    if (principal !== "*") {
      out.services.push(...list(principal.Service));
      out.federated.push(...list(principal.Federated));
    }
    for (const p of aws) {
      out.awsPrincipals.push(p);
      if (p === "*") {
        if (!orgBound) {
          out.public = true;
          out.external.push({ principal: "*", account: null, requiresExternalId });
        }
        continue;
      }
      const account = principalAccount(p);
      if (account === ownAccount || (account !== null && internalAccounts.has(account))) continue;
      if (account === null && orgBound) continue;
      out.external.push({ principal: p, account, requiresExternalId });
    }
  }
  out.services = [...new Set(out.services)].sort();
  out.federated = [...new Set(out.federated)].sort();
  out.awsPrincipals = [...new Set(out.awsPrincipals)].sort();
  return out;
}

// ---------------------------------------------------------------------------------------------
// What a permissions policy permits, in IAM's own terms, for the role catalogue

/** Lines kept per document: a reviewer reads a summary, the console has the rest. */
export const SUMMARY_MAX_LINES = 60;

function resourceText(st: Statement): string {
  if (st.NotResource !== undefined) return `every resource except ${list(st.NotResource).join(", ")}`;
  const resources = list(st.Resource);
  if (resources.length === 0) return "no resource";
  if (resources.some(isWildcardResource)) return "* (any resource)";
  return resources.join(", ");
}

/**
 * One line per statement and service: "Allow s3: GetObject, PutObject on arn:aws:s3:::reports/*", with
 * wildcards spelled out ("s3:* (every s3 action)", "* (every action)") and conditions noted. Deny statements
 * are listed too: they are part of what the document says, though the privilege class does not subtract them.
 */
/** " when op(key, …) and …" for a statement's Condition; a malformed one (a list, a null operator block) is named, not read. */
function conditionText(condition: unknown): string {
  if (condition === undefined || condition === null) return "";
  if (typeof condition !== "object" || Array.isArray(condition)) return " when (a condition that is not an object)";
  const ops = Object.entries(condition as Record<string, unknown>);
  if (ops.length === 0) return "";
  const keys = (block: unknown) => (block !== null && typeof block === "object" && !Array.isArray(block) ? Object.keys(block).join(", ") : "?");
  return ` when ${ops.map(([op, block]) => `${op}(${keys(block)})`).join(" and ")}`;
}

export function summarizeDocument(doc: PolicyDocument): string[] {
  const lines: string[] = [];
  const push = (line: string) => {
    if (!lines.includes(line)) lines.push(line);
  };
  for (const st of doc.Statement) {
    const effect = (st.Effect ?? "").toLowerCase() === "deny" ? "Deny" : (st.Effect ?? "").toLowerCase() === "allow" ? "Allow" : null;
    if (!effect) continue;
    const where = resourceText(st);
    const when = conditionText(st.Condition);
    if (st.NotAction !== undefined) {
      push(`${effect} every action except ${list(st.NotAction).join(", ")} on ${where}${when}`);
      continue;
    }
    const byService = new Map<string, string[]>();
    for (const raw of list(st.Action)) {
      const a = raw.trim();
      if (a === "*" || a === "*:*") {
        push(`${effect} * (every action of every service) on ${where}${when}`);
        continue;
      }
      const [svc, verb] = splitAction(a);
      const verbs = byService.get(svc) ?? [];
      verbs.push(verb === "*" ? `* (every ${svc} action)` : verb.includes("*") ? `${verb} (wildcard)` : verb);
      byService.set(svc, verbs);
    }
    for (const [svc, verbs] of [...byService].sort(([a], [b]) => a.localeCompare(b))) {
      push(`${effect} ${svc}: ${[...new Set(verbs)].sort().join(", ")} on ${where}${when}`);
    }
  }
  if (lines.length === 0) return ["no Allow or Deny statement"];
  if (lines.length > SUMMARY_MAX_LINES) return [...lines.slice(0, SUMMARY_MAX_LINES), `… and ${lines.length - SUMMARY_MAX_LINES} more statements by service`];
  return lines;
}

// The simulated AWS Organization behind simulator.ts: accounts with IAM users, groups, roles and
// policies, a seeded generator for realistic mixes, a mutation API for tests and the demo, and the
// credential report as IAM renders it (CSV, sentinels and all).
import { createHash } from "node:crypto";
import { chance, daysAgo, personName, pick, seededRandom, type Random } from "../../src/simulator/random.js";
import { SimTrail } from "./sim-trail.js";

export interface SimKey {
  accessKeyId: string;
  secretAccessKey: string;
  status: "Active" | "Inactive";
  createDate: string;
  lastUsed?: { date: string; service: string; region: string };
}

export interface SimPassword {
  createDate: string;
  /** Used for ListUsers' PasswordLastUsed and the report; null = never signed in (or before tracking). */
  lastUsed: string | null;
  resetRequired: boolean;
}

export interface SimInline {
  name: string;
  document: string;
}

export interface SimUser {
  userId: string;
  userName: string;
  path: string;
  arn: string;
  createDate: string;
  password?: SimPassword;
  /** Last sign-in of a password since removed: the report keeps showing it. */
  passwordLastUsedEver?: string | null;
  mfa: { serialNumber: string; enableDate: string }[];
  keys: SimKey[];
  certs: { certificateId: string; status: "Active" | "Inactive"; uploadDate: string }[];
  groups: string[];
  attached: string[];
  inline: SimInline[];
  tags: { Key: string; Value: string }[];
  boundary?: string;
}

export interface SimGroup {
  groupId: string;
  groupName: string;
  path: string;
  arn: string;
  createDate: string;
  attached: string[];
  inline: SimInline[];
}

export interface SimRole {
  roleId: string;
  roleName: string;
  path: string;
  arn: string;
  createDate: string;
  trust: string;
  description?: string;
  maxSessionDuration: number;
  attached: string[];
  inline: SimInline[];
  lastUsed?: { date: string; region: string };
  instanceProfiles: { name: string; id: string; arn: string; path: string; createDate: string }[];
  tags: { Key: string; Value: string }[];
  boundary?: string;
}

export interface SimPolicy {
  policyId: string;
  policyName: string;
  path: string;
  arn: string;
  document: string;
  versionId: string;
  createDate: string;
  updateDate: string;
}

export interface SimRoot {
  createDate: string;
  mfa: boolean;
  passwordLastUsed: string | null;
  keys: SimKey[];
}

export interface SimAccount {
  id: string;
  name: string;
  email: string;
  state: "ACTIVE" | "SUSPENDED" | "PENDING_CLOSURE";
  joinedMethod: "CREATED" | "INVITED";
  joined: string;
  users: Map<string, SimUser>;
  groups: Map<string, SimGroup>;
  roles: Map<string, SimRole>;
  /** Customer managed policies by ARN. */
  policies: Map<string, SimPolicy>;
  root: SimRoot;
  report?: { generatedAt: Date; csv: string };
  generating?: { pollsLeft: number };
  /** INPROGRESS answers a new generation gives before COMPLETE. */
  reportPolls: number;
}

export interface SimIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
  accountId: string;
  arn: string;
  userId: string;
  /** For role sessions: the role's ARN, which is what trust policies name. */
  roleArn?: string;
}

export const PARTITION = "aws";

// ------------------------------------------------------------------------------------------------
// AWS managed policies: the real names and paths, with documents faithful in shape (the real
// ReadOnlyAccess lists hundreds of services; a representative subset keeps responses readable).

const doc = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const allow = (Action: string | string[], Resource: string | string[] = "*", extra: object = {}) => ({ Effect: "Allow", Action, Resource, ...extra });

const AWS_MANAGED: { name: string; path: string; document: string }[] = [
  { name: "AdministratorAccess", path: "/", document: doc(allow("*")) },
  { name: "AWSDenyAll", path: "/", document: doc({ Effect: "Deny", Action: "*", Resource: "*" }) },
  {
    name: "PowerUserAccess",
    path: "/",
    document: doc(
      { Effect: "Allow", NotAction: ["iam:*", "organizations:*", "account:*"], Resource: "*" },
      allow(["account:GetAccountInformation", "account:GetPrimaryEmail", "account:ListRegions", "iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles", "organizations:DescribeOrganization"]),
    ),
  },
  { name: "IAMFullAccess", path: "/", document: doc(allow("iam:*"), allow(["organizations:DescribeAccount", "organizations:DescribeOrganization", "organizations:ListAccounts"])) },
  { name: "ReadOnlyAccess", path: "/", document: doc(allow(["ec2:Describe*", "ec2:Get*", "s3:Get*", "s3:List*", "iam:Get*", "iam:List*", "iam:GenerateCredentialReport", "lambda:Get*", "lambda:List*", "dynamodb:Describe*", "dynamodb:List*", "dynamodb:Query", "dynamodb:Scan", "cloudtrail:LookupEvents", "cloudwatch:Describe*", "cloudwatch:Get*", "logs:Get*", "logs:Describe*", "rds:Describe*", "sqs:Get*", "sqs:List*", "sns:Get*", "sns:List*"])) },
  { name: "SecurityAudit", path: "/", document: doc(allow(["acm:Describe*", "acm:List*", "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "config:Describe*", "ec2:Describe*", "iam:GenerateCredentialReport", "iam:Get*", "iam:List*", "iam:SimulateCustomPolicy", "iam:SimulatePrincipalPolicy", "kms:Describe*", "kms:Get*", "kms:List*", "organizations:Describe*", "organizations:List*", "s3:GetBucket*", "s3:ListAllMyBuckets"])) },
  { name: "ViewOnlyAccess", path: "/job-function/", document: doc(allow(["acm:ListCertificates", "cloudtrail:DescribeTrails", "ec2:DescribeInstances", "ec2:DescribeVpcs", "iam:List*", "lambda:List*", "s3:ListAllMyBuckets", "s3:ListBucket", "rds:DescribeDBInstances"])) },
  { name: "Billing", path: "/job-function/", document: doc(allow(["aws-portal:*Billing", "aws-portal:*Usage", "aws-portal:*PaymentMethods", "budgets:ViewBudget", "budgets:ModifyBudget", "ce:UpdatePreferences", "cur:*"])) },
  { name: "AmazonS3FullAccess", path: "/", document: doc(allow(["s3:*", "s3-object-lambda:*"])) },
  { name: "AmazonS3ReadOnlyAccess", path: "/", document: doc(allow(["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*"])) },
  {
    name: "AmazonEC2FullAccess",
    path: "/",
    document: doc(allow(["ec2:*", "elasticloadbalancing:*", "cloudwatch:*", "autoscaling:*"]), allow("iam:CreateServiceLinkedRole", "*", { Condition: { StringEquals: { "iam:AWSServiceName": ["autoscaling.amazonaws.com", "ec2scheduled.amazonaws.com", "elasticloadbalancing.amazonaws.com"] } } })),
  },
  { name: "AWSLambdaBasicExecutionRole", path: "/service-role/", document: doc(allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"])) },
  { name: "AmazonSSMManagedInstanceCore", path: "/", document: doc(allow(["ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument", "ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel", "ec2messages:GetMessages"])) },
  { name: "AWSSupportServiceRolePolicy", path: "/aws-service-role/", document: doc(allow(["support:*", "ec2:Describe*", "iam:Get*", "iam:List*"])) },
  { name: "AWSTrustedAdvisorServiceRolePolicy", path: "/aws-service-role/", document: doc(allow(["ec2:Describe*", "iam:GenerateCredentialReport", "iam:GetCredentialReport", "iam:List*", "s3:GetBucket*", "s3:ListAllMyBuckets"])) },
];

export function awsManagedArn(name: string): string {
  const p = AWS_MANAGED.find((m) => m.name === name);
  if (!p) throw new Error(`no AWS managed policy ${name} in the simulator`);
  return `arn:${PARTITION}:iam::aws:policy${p.path}${name}`;
}

/** CloudTrail writes dates inside responseElements the way the console shows them: "Dec 2, 2026, 2:40:22 PM". */
function trailDate(iso: string): string {
  return new Date(iso).toLocaleString("en-US", { timeZone: "UTC", month: "short", day: "numeric", year: "numeric", hour: "numeric", minute: "2-digit", second: "2-digit", hour12: true });
}

function stableId(prefix: string, seed: string): string {
  const h = createHash("sha256").update(seed).digest();
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = prefix;
  for (let i = 0; out.length < prefix.length + 17; i++) out += alphabet[h[i]! % 32];
  return out;
}

const AWS_POLICY_DATE = "2015-02-06T18:39:46.000Z";
export const AWS_MANAGED_POLICIES: Map<string, SimPolicy> = new Map(
  AWS_MANAGED.map((m) => {
    const arn = `arn:${PARTITION}:iam::aws:policy${m.path}${m.name}`;
    return [arn, { policyId: stableId("ANPA", arn), policyName: m.name, path: m.path, arn, document: m.document, versionId: "v1", createDate: AWS_POLICY_DATE, updateDate: AWS_POLICY_DATE }];
  }),
);

// ------------------------------------------------------------------------------------------------
// The organization

export interface SimOrganizationInit {
  orgId: string;
  managementAccountId: string;
  now?: () => Date;
}

export class SimOrganization {
  readonly orgId: string;
  readonly managementAccountId: string;
  readonly accounts = new Map<string, SimAccount>();
  readonly identities = new Map<string, SimIdentity>();
  /** AssumeRole denied into these accounts (fault injection: a member whose audit role is broken). */
  readonly denyAssumeRole = new Set<string>();
  /** `${account}:${action}` pairs answered with AccessDenied. */
  readonly deniedActions = new Set<string>();
  /** `${account}:${action}:${user or role name}`: writes on that target answered with AccessDenied (an explicit deny in an SCP). */
  readonly deniedTargets = new Set<string>();
  /** GenerateCredentialReport answers LimitExceeded in these accounts. */
  readonly reportLimitExceeded = new Set<string>();
  /** Reports older than this are ReportExpired instead of being served (undefined: served however old). */
  reportExpiresAfterMs: number | undefined;
  now: () => Date;
  /** CloudTrail: every mutation below is recorded with the actor set for its account (trail.actAs). */
  readonly trail: SimTrail;
  private seq = 0;

  constructor(init: SimOrganizationInit) {
    this.orgId = init.orgId;
    this.managementAccountId = init.managementAccountId;
    this.now = init.now ?? (() => new Date());
    this.trail = new SimTrail({
      now: () => this.now(),
      nextId: (prefix, length) => this.nextId(prefix, length),
      userIdOf: (accountId, userName) => {
        const u = this.accounts.get(accountId)?.users.get(userName);
        return u ? { userId: u.userId, arn: u.arn } : undefined;
      },
      roleOf: (accountId, prefix) => {
        const roles = this.accounts.get(accountId)?.roles;
        const r = roles?.get(prefix) ?? [...(roles?.values() ?? [])].find((x) => x.roleName.startsWith(prefix));
        return r ? { roleId: r.roleId, roleName: r.roleName, arn: r.arn } : undefined;
      },
    });
  }

  /** Deterministic ids for things created after generation (mutations), distinct from generated ones. */
  nextId(prefix: string, length = 17): string {
    this.seq++;
    return stableId(prefix, `${this.orgId}/${prefix}/${this.seq}`).slice(0, prefix.length + length);
  }

  account(id: string): SimAccount {
    const a = this.accounts.get(id);
    if (!a) throw new Error(`simulator has no account ${id}`);
    return a;
  }

  policy(accountId: string, arn: string): SimPolicy | undefined {
    return AWS_MANAGED_POLICIES.get(arn) ?? this.accounts.get(accountId)?.policies.get(arn);
  }

  addAccount(a: Omit<SimAccount, "users" | "groups" | "roles" | "policies" | "reportPolls"> & { reportPolls?: number }): SimAccount {
    const account: SimAccount = { users: new Map(), groups: new Map(), roles: new Map(), policies: new Map(), reportPolls: 1, ...a };
    this.accounts.set(a.id, account);
    return account;
  }

  registerKey(accountId: string, user: SimUser, key: SimKey): void {
    this.identities.set(key.accessKeyId, { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, accountId, arn: user.arn, userId: user.userId });
  }

  // ---- mutations --------------------------------------------------------------------------------

  createUser(accountId: string, userName: string, opts: { path?: string; tags?: Record<string, string>; createDate?: string } = {}): SimUser {
    const a = this.account(accountId);
    if (a.users.has(userName)) throw new Error(`user ${userName} exists in ${accountId}`);
    const path = opts.path ?? "/";
    const user: SimUser = {
      userId: this.nextId("AIDA"),
      userName,
      path,
      arn: `arn:${PARTITION}:iam::${accountId}:user${path}${userName}`,
      createDate: opts.createDate ?? this.now().toISOString(),
      mfa: [],
      keys: [],
      certs: [],
      groups: [],
      attached: [],
      inline: [],
      tags: Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    };
    a.users.set(userName, user);
    this.trail.iam(
      accountId,
      "CreateUser",
      { userName, ...(opts.path ? { path } : {}), ...(user.tags.length ? { tags: user.tags.map((t) => ({ key: t.Key, value: t.Value })) } : {}) },
      { user: { path, userName, userId: user.userId, arn: user.arn, createDate: trailDate(user.createDate) } },
      [{ ResourceType: "AWS::IAM::User", ResourceName: userName }],
    );
    return user;
  }

  deleteUser(accountId: string, userName: string): void {
    const user = this.user(accountId, userName);
    for (const k of user.keys) this.identities.delete(k.accessKeyId);
    this.account(accountId).users.delete(userName);
    this.trail.iam(accountId, "DeleteUser", { userName }, null, [{ ResourceType: "AWS::IAM::User", ResourceName: userName }]);
  }

  user(accountId: string, userName: string): SimUser {
    const u = this.account(accountId).users.get(userName);
    if (!u) throw new Error(`no user ${userName} in ${accountId}`);
    return u;
  }

  role(accountId: string, roleName: string): SimRole {
    const r = this.account(accountId).roles.get(roleName);
    if (!r) throw new Error(`no role ${roleName} in ${accountId}`);
    return r;
  }

  setPassword(accountId: string, userName: string, lastUsed: string | null = null): void {
    const u = this.user(accountId, userName);
    u.password = { createDate: this.now().toISOString(), lastUsed, resetRequired: false };
    u.passwordLastUsedEver = lastUsed ?? u.passwordLastUsedEver;
    // The password itself never appears in a CloudTrail record.
    this.trail.iam(accountId, "CreateLoginProfile", { userName, passwordResetRequired: false }, { loginProfile: { userName, createDate: trailDate(u.password.createDate), passwordResetRequired: false } }, [{ ResourceType: "AWS::IAM::User", ResourceName: userName }]);
  }

  deletePassword(accountId: string, userName: string): void {
    const u = this.user(accountId, userName);
    if (u.password) u.passwordLastUsedEver = u.password.lastUsed ?? u.passwordLastUsedEver ?? null;
    delete u.password;
    this.trail.iam(accountId, "DeleteLoginProfile", { userName }, null, [{ ResourceType: "AWS::IAM::User", ResourceName: userName }]);
  }

  createAccessKey(accountId: string, userName: string, createDate?: string): SimKey {
    const u = this.user(accountId, userName);
    if (u.keys.length >= 2) throw new Error(`LimitExceeded: ${userName} already has two access keys`);
    const key: SimKey = { accessKeyId: this.nextId("AKIA", 16), secretAccessKey: stableId("", `${this.orgId}/secret/${this.seq}`).padEnd(40, "x"), status: "Active", createDate: createDate ?? this.now().toISOString() };
    u.keys.push(key);
    this.registerKey(accountId, u, key);
    // The secret is in the API answer but never in the record.
    this.trail.iam(accountId, "CreateAccessKey", { userName }, { accessKey: { userName, accessKeyId: key.accessKeyId, status: "Active", createDate: trailDate(key.createDate) } }, [
      { ResourceType: "AWS::IAM::User", ResourceName: userName },
      { ResourceType: "AWS::IAM::AccessKey", ResourceName: key.accessKeyId },
    ]);
    return key;
  }

  deleteAccessKey(accountId: string, userName: string, accessKeyId: string): void {
    const u = this.user(accountId, userName);
    u.keys = u.keys.filter((k) => k.accessKeyId !== accessKeyId);
    this.identities.delete(accessKeyId);
    this.trail.iam(accountId, "DeleteAccessKey", { userName, accessKeyId }, null, [
      { ResourceType: "AWS::IAM::User", ResourceName: userName },
      { ResourceType: "AWS::IAM::AccessKey", ResourceName: accessKeyId },
    ]);
  }

  setAccessKeyStatus(accountId: string, userName: string, accessKeyId: string, status: "Active" | "Inactive"): void {
    const k = this.user(accountId, userName).keys.find((x) => x.accessKeyId === accessKeyId);
    if (!k) throw new Error(`no key ${accessKeyId}`);
    k.status = status;
    this.trail.iam(accountId, "UpdateAccessKey", { userName, accessKeyId, status }, null, [
      { ResourceType: "AWS::IAM::User", ResourceName: userName },
      { ResourceType: "AWS::IAM::AccessKey", ResourceName: accessKeyId },
    ]);
  }

  useAccessKey(accountId: string, userName: string, accessKeyId: string, service: string, region = "us-east-1", date = this.now().toISOString()): void {
    const k = this.user(accountId, userName).keys.find((x) => x.accessKeyId === accessKeyId);
    if (!k) throw new Error(`no key ${accessKeyId}`);
    k.lastUsed = { date, service, region };
  }

  addUserToGroup(accountId: string, userName: string, groupName: string): void {
    if (!this.account(accountId).groups.has(groupName)) throw new Error(`no group ${groupName}`);
    const u = this.user(accountId, userName);
    if (!u.groups.includes(groupName)) u.groups.push(groupName);
    this.trail.iam(accountId, "AddUserToGroup", { groupName, userName }, null, [
      { ResourceType: "AWS::IAM::Group", ResourceName: groupName },
      { ResourceType: "AWS::IAM::User", ResourceName: userName },
    ]);
  }

  removeUserFromGroup(accountId: string, userName: string, groupName: string): void {
    const u = this.user(accountId, userName);
    u.groups = u.groups.filter((g) => g !== groupName);
    this.trail.iam(accountId, "RemoveUserFromGroup", { groupName, userName }, null, [
      { ResourceType: "AWS::IAM::Group", ResourceName: groupName },
      { ResourceType: "AWS::IAM::User", ResourceName: userName },
    ]);
  }

  attachUserPolicy(accountId: string, userName: string, policyArn: string): void {
    if (!this.policy(accountId, policyArn)) throw new Error(`no policy ${policyArn}`);
    const u = this.user(accountId, userName);
    if (!u.attached.includes(policyArn)) u.attached.push(policyArn);
    this.trail.iam(accountId, "AttachUserPolicy", { userName, policyArn }, null, [
      { ResourceType: "AWS::IAM::Policy", ResourceName: policyArn },
      { ResourceType: "AWS::IAM::User", ResourceName: userName },
    ]);
  }

  putUserPolicy(accountId: string, userName: string, name: string, document: string): void {
    const u = this.user(accountId, userName);
    u.inline = [...u.inline.filter((p) => p.name !== name), { name, document }];
    this.trail.iam(accountId, "PutUserPolicy", { userName, policyName: name, policyDocument: document }, null, [
      { ResourceType: "AWS::IAM::Policy", ResourceName: name },
      { ResourceType: "AWS::IAM::User", ResourceName: userName },
    ]);
  }

  enableMfa(accountId: string, userName: string): void {
    const u = this.user(accountId, userName);
    const serialNumber = `arn:${PARTITION}:iam::${accountId}:mfa/${userName}`;
    u.mfa.push({ serialNumber, enableDate: this.now().toISOString() });
    this.trail.iam(accountId, "EnableMFADevice", { userName, serialNumber }, null, [{ ResourceType: "AWS::IAM::User", ResourceName: userName }]);
  }

  deactivateMfa(accountId: string, userName: string): void {
    const u = this.user(accountId, userName);
    for (const m of u.mfa.splice(0)) this.trail.iam(accountId, "DeactivateMFADevice", { userName, serialNumber: m.serialNumber }, null, [{ ResourceType: "AWS::IAM::User", ResourceName: userName }]);
  }

  createRole(accountId: string, roleName: string, trust: object, opts: { path?: string; attached?: string[]; createDate?: string } = {}): SimRole {
    const a = this.account(accountId);
    const path = opts.path ?? "/";
    const role: SimRole = {
      roleId: this.nextId("AROA"),
      roleName,
      path,
      arn: `arn:${PARTITION}:iam::${accountId}:role${path}${roleName}`,
      createDate: opts.createDate ?? this.now().toISOString(),
      trust: JSON.stringify(trust),
      maxSessionDuration: 3600,
      attached: opts.attached ?? [],
      inline: [],
      instanceProfiles: [],
      tags: [],
    };
    a.roles.set(roleName, role);
    this.trail.iam(
      accountId,
      "CreateRole",
      { roleName, path, assumeRolePolicyDocument: role.trust },
      { role: { path, roleName, roleId: role.roleId, arn: role.arn, createDate: trailDate(role.createDate), assumeRolePolicyDocument: encodeURIComponent(role.trust) } },
      [{ ResourceType: "AWS::IAM::Role", ResourceName: roleName }],
    );
    for (const policyArn of role.attached) this.trail.iam(accountId, "AttachRolePolicy", { roleName, policyArn }, null, [{ ResourceType: "AWS::IAM::Role", ResourceName: roleName }]);
    return role;
  }

  deleteRole(accountId: string, roleName: string): void {
    this.account(accountId).roles.delete(roleName);
    this.trail.iam(accountId, "DeleteRole", { roleName }, null, [{ ResourceType: "AWS::IAM::Role", ResourceName: roleName }]);
  }

  /** Moves every credential report back in time, as if `ms` had passed since it was generated. */
  ageCredentialReports(ms: number): void {
    for (const a of this.accounts.values()) if (a.report) a.report.generatedAt = new Date(a.report.generatedAt.getTime() - ms);
  }

  // ---- credential report ------------------------------------------------------------------------

  renderCredentialReport(accountId: string): string {
    const a = this.account(accountId);
    const header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
    const ts = (iso: string) => iso.replace(/\.\d{3}Z$/, "+00:00").replace(/Z$/, "+00:00");
    const keyCols = (k: SimKey | undefined) =>
      k
        ? [String(k.status === "Active"), ts(k.createDate), k.lastUsed ? ts(k.lastUsed.date) : "N/A", k.lastUsed?.region ?? "N/A", k.lastUsed?.service ?? "N/A"]
        : ["false", "N/A", "N/A", "N/A", "N/A"];
    const certCols = (c: SimUser["certs"][number] | undefined) => (c ? [String(c.status === "Active"), ts(c.uploadDate)] : ["false", "N/A"]);
    const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const lines = [header];
    const rootKeys = [...a.root.keys].sort((x, y) => x.createDate.localeCompare(y.createDate));
    lines.push(
      [
        "<root_account>",
        `arn:${PARTITION}:iam::${a.id}:root`,
        ts(a.root.createDate),
        "not_supported",
        a.root.passwordLastUsed ? ts(a.root.passwordLastUsed) : "no_information",
        "not_supported",
        "not_supported",
        String(a.root.mfa),
        ...keyCols(rootKeys[0]),
        ...keyCols(rootKeys[1]),
        "false",
        "N/A",
        "false",
        "N/A",
      ].join(","),
    );
    for (const u of a.users.values()) {
      const keys = [...u.keys].sort((x, y) => x.createDate.localeCompare(y.createDate));
      const lastUsed = u.password ? u.password.lastUsed : (u.passwordLastUsedEver ?? null);
      lines.push(
        [
          csvField(u.userName),
          csvField(u.arn),
          ts(u.createDate),
          String(u.password !== undefined),
          lastUsed ? ts(lastUsed) : u.password ? "no_information" : "N/A",
          u.password ? ts(u.password.createDate) : "N/A",
          "N/A",
          String(u.mfa.length > 0),
          ...keyCols(keys[0]),
          ...keyCols(keys[1]),
          ...certCols(u.certs[0]),
          ...certCols(u.certs[1]),
        ].join(","),
      );
    }
    return lines.join("\n") + "\n";
  }
}

// ------------------------------------------------------------------------------------------------
// Seeded generator

export interface AccountSpec {
  id: string;
  name: string;
  /** Total IAM users, named people included. */
  users: number;
  /** Total roles, fixed roles included. */
  roles: number;
  /** Logins of named people created first (tag email = login@example.com), e.g. "grace.hopper". */
  people?: string[];
  rootKeys?: boolean;
  rootMfa?: boolean;
  state?: SimAccount["state"];
  /** A vendor role trusting an outside account (third-party access). */
  vendorTrust?: boolean;
}

export interface OrganizationSpec {
  seed: number;
  managementAccountId: string;
  accounts: AccountSpec[];
  /** Role whohas assumes in member accounts; created in each member account with read-only policies. */
  memberRoleName?: string;
  memberExternalId?: string;
  now?: Date;
}

export interface GeneratedOrganization {
  org: SimOrganization;
  /** The management account's auditor keys: what the collector signs discovery calls with. */
  caller: { accessKeyId: string; secretAccessKey: string; userName: string; accountId: string };
}

/** An outside account (a monitoring vendor) that roles trust with an external id. */
export const VENDOR_ACCOUNT = "464622532012";

function idFrom(rand: Random, prefix: string, length = 17): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = prefix;
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(rand() * 32)];
  return out;
}

function secretFrom(rand: Random): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let out = "";
  for (let i = 0; i < 40; i++) out += alphabet[Math.floor(rand() * alphabet.length)];
  return out;
}

const SERVICES = ["s3", "ec2", "lambda", "dynamodb", "sts", "cloudformation", "ecr", "sqs"];
const REGIONS = ["us-east-1", "eu-west-1", "us-west-2", "eu-central-1"];
const APP_SERVICES = ["lambda.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com", "states.amazonaws.com"];

function customerPolicies(accountId: string): { name: string; document: string }[] {
  return [
    { name: "DeveloperAccess", document: doc(allow(["ec2:*", "s3:*", "lambda:*", "dynamodb:*", "logs:*", "cloudwatch:*", "sqs:*"])) },
    { name: "SelfServiceCredentials", document: doc(allow(["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:UpdateAccessKey", "iam:ListAccessKeys", "iam:ChangePassword", "iam:EnableMFADevice", "iam:CreateVirtualMFADevice"], "arn:aws:iam::*:user/${aws:username}")) },
    { name: "CIDeploy", document: doc(allow(["cloudformation:*", "s3:PutObject", "s3:GetObject", "ecr:*"]), allow("iam:PassRole", `arn:aws:iam::${accountId}:role/app-*`)) },
    { name: "DataReadOnly", document: doc(allow(["s3:GetObject", "s3:ListBucket"], [`arn:aws:s3:::data-${accountId}`, `arn:aws:s3:::data-${accountId}/*`])) },
    { name: "AssumeAnyRole", document: doc(allow("sts:AssumeRole")) },
    { name: "ReadOnlyBoundary", document: doc(allow(["s3:Get*", "s3:List*", "ec2:Describe*", "logs:Get*"])) },
  ];
}

const GROUPS: { name: string; attached: string[]; inline?: SimInline[] }[] = [
  { name: "Admins", attached: ["aws:AdministratorAccess"] },
  { name: "Developers", attached: ["local:DeveloperAccess", "local:SelfServiceCredentials"] },
  { name: "ReadOnly", attached: ["aws:ReadOnlyAccess"] },
  { name: "Auditors", attached: ["aws:SecurityAudit", "aws:ViewOnlyAccess"] },
  { name: "Billing", attached: ["aws:Billing"] },
  { name: "Ops", attached: ["aws:PowerUserAccess"], inline: [{ name: "ops-pass-role", document: doc(allow("iam:PassRole")) }] },
];

function policyArn(accountId: string, ref: string): string {
  const [kind, name] = ref.split(":") as [string, string];
  return kind === "aws" ? awsManagedArn(name) : `arn:${PARTITION}:iam::${accountId}:policy/${name}`;
}

export function generateOrganization(spec: OrganizationSpec): GeneratedOrganization {
  const now = spec.now ?? new Date();
  const rand = seededRandom(spec.seed);
  const org = new SimOrganization({ orgId: `o-${idFrom(rand, "", 10).toLowerCase()}`, managementAccountId: spec.managementAccountId });
  const memberRole = spec.memberRoleName ?? "OrganizationAccountAccessRole";
  let caller: GeneratedOrganization["caller"] | undefined;
  const ago = (days: number) => daysAgo(now, days);
  const samlSuffix = idFrom(rand, "", 16).toLowerCase();

  for (const spec_ of spec.accounts) {
    const isMgmt = spec_.id === spec.managementAccountId;
    const a = org.addAccount({
      id: spec_.id,
      name: spec_.name,
      email: `aws-${spec_.name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}@example.com`,
      state: spec_.state ?? "ACTIVE",
      joinedMethod: isMgmt ? "INVITED" : "CREATED",
      joined: ago(900 + Math.floor(rand() * 400)),
      root: { createDate: ago(1500), mfa: spec_.rootMfa ?? true, passwordLastUsed: chance(rand, 0.5) ? ago(30 + rand() * 300) : null, keys: [] },
    });
    const newKey = (createdDaysAgo: number, lastUsedDaysAgo: number | null, active = true): SimKey => ({
      accessKeyId: idFrom(rand, "AKIA", 16),
      secretAccessKey: secretFrom(rand),
      status: active ? "Active" : "Inactive",
      createDate: ago(createdDaysAgo),
      ...(lastUsedDaysAgo !== null ? { lastUsed: { date: ago(lastUsedDaysAgo), service: pick(rand, SERVICES), region: pick(rand, REGIONS) } } : {}),
    });
    if (spec_.rootKeys) a.root.keys.push(newKey(800, 120));

    for (const p of customerPolicies(a.id)) {
      const arn = `arn:${PARTITION}:iam::${a.id}:policy/${p.name}`;
      const created = ago(700 + Math.floor(rand() * 200));
      a.policies.set(arn, { policyId: idFrom(rand, "ANPA"), policyName: p.name, path: "/", arn, document: p.document, versionId: "v1", createDate: created, updateDate: created });
    }
    for (const g of GROUPS) {
      a.groups.set(g.name, {
        groupId: idFrom(rand, "AGPA"),
        groupName: g.name,
        path: "/",
        arn: `arn:${PARTITION}:iam::${a.id}:group/${g.name}`,
        createDate: ago(800),
        attached: g.attached.map((ref) => policyArn(a.id, ref)),
        inline: g.inline ?? [],
      });
    }

    const addUser = (userName: string, createdDaysAgo: number, tags: Record<string, string> = {}): SimUser => {
      const user: SimUser = {
        userId: idFrom(rand, "AIDA"),
        userName,
        path: "/",
        arn: `arn:${PARTITION}:iam::${a.id}:user/${userName}`,
        createDate: ago(createdDaysAgo),
        mfa: [],
        keys: [],
        certs: [],
        groups: [],
        attached: [],
        inline: [],
        tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      };
      a.users.set(userName, user);
      return user;
    };
    const giveKey = (u: SimUser, key: SimKey) => {
      u.keys.push(key);
      org.registerKey(a.id, u, key);
    };
    const human = (u: SimUser, lastLoginDaysAgo: number | null, mfa: boolean) => {
      u.password = { createDate: u.createDate, lastUsed: lastLoginDaysAgo === null ? null : ago(lastLoginDaysAgo), resetRequired: false };
      u.passwordLastUsedEver = u.password.lastUsed;
      if (mfa) u.mfa.push({ serialNumber: `arn:${PARTITION}:iam::${a.id}:mfa/${u.userName}`, enableDate: u.createDate });
    };

    let made = 0;
    if (isMgmt) {
      // The identity whohas itself runs as in the management account.
      const auditor = addUser("whohas-auditor", 400, { purpose: "identity inventory" });
      auditor.attached.push(awsManagedArn("SecurityAudit"));
      auditor.inline.push({ name: "assume-audit-roles", document: doc(allow("sts:AssumeRole", `arn:aws:iam::*:role/${memberRole}`), allow("organizations:ListAccounts")) });
      const key = newKey(90, 1);
      giveKey(auditor, key);
      caller = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, userName: auditor.userName, accountId: a.id };
      made++;
    }
    for (const login of spec_.people ?? []) {
      const u = addUser(login, 600, { email: `${login}@example.com` });
      human(u, 2 + Math.floor(rand() * 5), true);
      u.groups.push("Developers");
      giveKey(u, newKey(200, 3));
      made++;
    }
    for (let i = made; i < spec_.users; i++) {
      const r = rand();
      const created = 30 + Math.floor(rand() * 1200);
      if (r < 0.55) {
        const person = personName(rand, i);
        const u = addUser(person.login, created, { email: `${person.login}@example.com`, name: `${person.first} ${person.last}` });
        const dormant = chance(rand, 0.12);
        human(u, dormant ? (chance(rand, 0.5) ? null : 200 + Math.floor(rand() * 400)) : Math.floor(rand() * 30), chance(rand, 0.8));
        const g = rand();
        u.groups.push(g < 0.04 ? "Admins" : g < 0.7 ? "Developers" : g < 0.85 ? "ReadOnly" : g < 0.93 ? "Auditors" : g < 0.97 ? "Billing" : "Ops");
        if (chance(rand, 0.15)) u.groups.push("ReadOnly");
        if (chance(rand, 0.25)) giveKey(u, newKey(Math.min(created, 10 + Math.floor(rand() * 500)), chance(rand, 0.7) ? Math.floor(rand() * 60) : null));
      } else if (r < 0.85) {
        const u = addUser(`ci-${pick(rand, ["deploy", "build", "backup", "etl", "metrics"])}-${i}`, created);
        const unused = chance(rand, 0.15);
        giveKey(u, newKey(Math.min(created, 30 + Math.floor(rand() * 700)), unused ? null : Math.floor(rand() * 20)));
        if (chance(rand, 0.15)) giveKey(u, newKey(Math.min(created, 5 + Math.floor(rand() * 30)), chance(rand, 0.5) ? Math.floor(rand() * 5) : null));
        u.attached.push(policyArn(a.id, pick(rand, ["local:CIDeploy", "local:DataReadOnly", "aws:AmazonS3ReadOnlyAccess", "aws:AmazonS3FullAccess"])));
        if (chance(rand, 0.05)) u.attached.push(policyArn(a.id, "local:AssumeAnyRole"));
        if (chance(rand, 0.1)) u.boundary = policyArn(a.id, "local:ReadOnlyBoundary");
      } else if (r < 0.95) {
        const person = personName(rand, i);
        const u = addUser(person.login, created, { email: `${person.login}@example.com` });
        // Dormant: a console password nobody has used, no MFA.
        human(u, null, false);
        u.groups.push("ReadOnly");
        if (chance(rand, 0.3)) giveKey(u, newKey(Math.min(created, 300), null, chance(rand, 0.5)));
      } else {
        const u = addUser(`legacy-admin-${i}`, created);
        // A shadow admin: no group, an inline policy granting everything.
        human(u, chance(rand, 0.5) ? 100 + Math.floor(rand() * 300) : null, chance(rand, 0.3));
        u.inline.push({ name: "break-glass", document: doc(allow("*")) });
        if (chance(rand, 0.5)) giveKey(u, newKey(Math.min(created, 900), 400 + Math.floor(rand() * 300)));
      }
    }

    // Roles
    const addRole = (roleName: string, path: string, trust: object, attached: string[], createdDaysAgo: number, lastUsedDaysAgo: number | null): SimRole => {
      const role: SimRole = {
        roleId: idFrom(rand, "AROA"),
        roleName,
        path,
        arn: `arn:${PARTITION}:iam::${a.id}:role${path}${roleName}`,
        createDate: ago(createdDaysAgo),
        trust: JSON.stringify(trust),
        maxSessionDuration: 3600,
        attached,
        inline: [],
        instanceProfiles: [],
        tags: [],
        ...(lastUsedDaysAgo !== null ? { lastUsed: { date: ago(lastUsedDaysAgo), region: pick(rand, REGIONS) } } : {}),
      };
      a.roles.set(roleName, role);
      return role;
    };
    const trustAccount = (account: string, condition?: object) => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "sts:AssumeRole", ...(condition ? { Condition: condition } : {}) }] });
    const trustService = (service: string) => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
    let roles = 0;
    if (!isMgmt) {
      addRole("OrganizationAccountAccessRole", "/", trustAccount(spec.managementAccountId), [awsManagedArn("AdministratorAccess")], 900, 20);
      roles++;
      if (memberRole !== "OrganizationAccountAccessRole") {
        const parts = memberRole.split("/");
        const roleName = parts.pop()!;
        const path = parts.length ? `/${parts.join("/")}/` : "/";
        addRole(roleName, path, trustAccount(spec.managementAccountId, spec.memberExternalId ? { StringEquals: { "sts:ExternalId": spec.memberExternalId } } : undefined), [awsManagedArn("SecurityAudit"), awsManagedArn("ReadOnlyAccess")], 300, 1);
        roles++;
      }
    }
    addRole("AWSServiceRoleForSupport", "/aws-service-role/support.amazonaws.com/", trustService("support.amazonaws.com"), [awsManagedArn("AWSSupportServiceRolePolicy")], 1000, null);
    addRole("AWSServiceRoleForTrustedAdvisor", "/aws-service-role/trustedadvisor.amazonaws.com/", trustService("trustedadvisor.amazonaws.com"), [awsManagedArn("AWSTrustedAdvisorServiceRolePolicy")], 1000, 1);
    const samlTrust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Federated: `arn:aws:iam::${a.id}:saml-provider/AWSSSO_${samlSuffix}_DO_NOT_DELETE` }, Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"], Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } } }] };
    addRole(`AWSReservedSSO_AdministratorAccess_${idFrom(rand, "", 16).toLowerCase()}`, "/aws-reserved/sso.amazonaws.com/", samlTrust, [awsManagedArn("AdministratorAccess")], 500, 3);
    addRole(`AWSReservedSSO_ReadOnly_${idFrom(rand, "", 16).toLowerCase()}`, "/aws-reserved/sso.amazonaws.com/", samlTrust, [awsManagedArn("ReadOnlyAccess")], 500, 1);
    roles += 4;
    if (spec_.vendorTrust) {
      addRole("DatadogIntegrationRole", "/", trustAccount(VENDOR_ACCOUNT, { StringEquals: { "sts:ExternalId": idFrom(rand, "", 32).toLowerCase() } }), [awsManagedArn("SecurityAudit")], 400, 0);
      roles++;
    }
    const gha = addRole("github-actions-deploy", "/", { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Federated: `arn:aws:iam::${a.id}:oidc-provider/token.actions.githubusercontent.com` }, Action: "sts:AssumeRoleWithWebIdentity", Condition: { StringLike: { "token.actions.githubusercontent.com:sub": "repo:example/*:ref:refs/heads/main" } } }] }, [policyArn(a.id, "local:CIDeploy")], 300, 1);
    gha.tags.push({ Key: "owner", Value: "platform" });
    roles++;
    for (let i = roles; i < spec_.roles; i++) {
      const service = pick(rand, APP_SERVICES);
      const role = addRole(`app-${service.split(".")[0]}-${i}`, "/", trustService(service), [], 20 + Math.floor(rand() * 900), chance(rand, 0.7) ? Math.floor(rand() * 390) : null);
      role.attached.push(service.startsWith("lambda") ? awsManagedArn("AWSLambdaBasicExecutionRole") : service.startsWith("ec2") ? awsManagedArn("AmazonSSMManagedInstanceCore") : policyArn(a.id, "local:DataReadOnly"));
      if (chance(rand, 0.3)) role.attached.push(pick(rand, [awsManagedArn("AmazonS3ReadOnlyAccess"), policyArn(a.id, "local:DataReadOnly"), awsManagedArn("AmazonS3FullAccess")]));
      if (chance(rand, 0.05)) role.inline.push({ name: "too-broad", document: doc(allow(["iam:*", "s3:*"])) });
      if (service.startsWith("ec2")) role.instanceProfiles.push({ name: role.roleName, id: idFrom(rand, "AIPA"), arn: `arn:${PARTITION}:iam::${a.id}:instance-profile/${role.roleName}`, path: "/", createDate: role.createDate });
    }
  }
  if (!caller) throw new Error("the management account must be among the generated accounts");
  return { org, caller };
}

/**
 * The remediation identity of tests and the demo: a user in the caller's account whose keys are not the
 * collector's, allowed `permissions` there and sts:AssumeRole into `roleName`, which every other account gets
 * with exactly those permissions (the least privilege the connector's README lists).
 */
export function addRemediationIdentity(org: SimOrganization, callerAccount: string, roleName: string, permissions: readonly string[]): { accessKeyId: string; secretAccessKey: string } {
  const user = org.createUser(callerAccount, "whohas-remediator", { tags: { purpose: "identity remediation" } });
  user.inline.push({ name: "remediate", document: doc(allow([...permissions]), allow("sts:AssumeRole", `arn:aws:iam::*:role/${roleName}`)) });
  const key = org.createAccessKey(callerAccount, user.userName);
  for (const a of org.accounts.values()) {
    if (a.id === callerAccount) continue;
    const role = org.createRole(a.id, roleName, { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${callerAccount}:root` }, Action: "sts:AssumeRole" }] });
    role.inline.push({ name: "remediate", document: doc(allow([...permissions])) });
  }
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
}

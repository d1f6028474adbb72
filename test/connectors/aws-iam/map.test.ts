// Credential report parsing and record mapping, from report rows and GetAccountAuthorizationDetails
// records shaped like AWS's documented examples (the SDK's output types).
import type { GroupDetail, ManagedPolicyDetail, RoleDetail, UserDetail } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { accountScope, indexGroup, indexManagedPolicy, mapRole, mapRoot, mapUser, type AccountContext } from "../../../connectors/aws-iam/map.js";
import { CredentialReportFormatError, parseCredentialReport } from "../../../connectors/aws-iam/report.js";
import { parseCsv } from "../../../src/csv.js";

const HEADER =
  "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

const REPORT = [
  HEADER,
  "<root_account>,arn:aws:iam::123456789012:root,2014-10-14T19:25:35+00:00,not_supported,2019-04-09T15:46:33+00:00,not_supported,not_supported,true,true,2018-01-12T10:00:00+00:00,2019-03-01T08:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
  "Alice,arn:aws:iam::123456789012:user/Alice,2013-10-14T18:32:24+00:00,TRUE,2019-04-08T09:00:00+00:00,2018-06-01T10:00:00+00:00,N/A,TRUE,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
  "ci-deploy,arn:aws:iam::123456789012:user/ci-deploy,2016-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2016-01-01T00:00:00+00:00,N/A,N/A,N/A,true,2019-02-01T00:00:00+00:00,2019-04-09T12:00:00+00:00,eu-west-1,sts,false,N/A,false,N/A",
  "Dormant,arn:aws:iam::123456789012:user/Dormant,2014-01-01T00:00:00+00:00,true,no_information,2014-01-01T00:00:00+00:00,N/A,false,false,2015-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
  '"svc,legacy",arn:aws:iam::123456789012:user/svc-legacy,2014-01-01T00:00:00+00:00,false,2017-01-01T00:00:00+00:00,N/A,N/A,false,false,2015-01-01T00:00:00+00:00,2016-01-01T00:00:00+00:00,us-east-1,ec2,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
].join("\r\n");

describe("credential report", () => {
  const rows = parseCredentialReport(REPORT);

  it("parses the root row with its not_supported columns", () => {
    const root = rows[0]!;
    expect(root).toMatchObject({ isRoot: true, passwordEnabled: null, mfaActive: true, passwordLastUsed: { at: "2019-04-09T15:46:33.000Z" }, userCreationTime: "2014-10-14T19:25:35.000Z" });
    expect(root.keys).toEqual([{ slot: 1, active: true, lastRotated: "2018-01-12T10:00:00.000Z", lastUsed: { at: "2019-03-01T08:00:00.000Z" }, lastUsedRegion: "us-east-1", lastUsedService: "s3" }]);
  });

  it("keeps N/A and no_information as sentinels, reads booleans case-insensitively", () => {
    const alice = rows[1]!;
    expect(alice).toMatchObject({ passwordEnabled: true, mfaActive: true, keys: [] });
    const ci = rows[2]!;
    expect(ci.keys.map((k) => [k.slot, k.active, k.lastUsed])).toEqual([
      [1, true, { sentinel: "N/A" }],
      [2, true, { at: "2019-04-09T12:00:00.000Z" }],
    ]);
    expect(rows[3]!.passwordLastUsed).toEqual({ sentinel: "no_information" });
    // An inactive key still listed with its creation time.
    expect(rows[3]!.keys).toEqual([{ slot: 1, active: false, lastRotated: "2015-01-01T00:00:00.000Z", lastUsed: { sentinel: "N/A" }, lastUsedRegion: null, lastUsedService: null }]);
  });

  it("reads quoted fields (IAM names may contain commas) and CRLF line ends", () => {
    expect(rows[4]!.user).toBe("svc,legacy");
    expect(parseCsv('a,"b ""c""",d\r\n1,2,3\n').map((r) => r.fields)).toEqual([
      ["a", 'b "c"', "d"],
      ["1", "2", "3"],
    ]);
  });

  it("rejects a report without the columns it relies on", () => {
    expect(() => parseCredentialReport("user,arn\nx,y\n")).toThrow(CredentialReportFormatError);
  });
});

// --- GetAccountAuthorizationDetails records, modelled on the AWS CLI documentation example ---------

const enc = (o: object) => encodeURIComponent(JSON.stringify(o));
const ADMIN_DOC = enc({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });

const POLICIES: ManagedPolicyDetail[] = [
  {
    PolicyName: "AdministratorAccess",
    Arn: "arn:aws:iam::aws:policy/AdministratorAccess",
    DefaultVersionId: "v1",
    PolicyVersionList: [{ Document: ADMIN_DOC, VersionId: "v1", IsDefaultVersion: true }],
  },
  {
    PolicyName: "create-update-delete-set-managed-policies",
    Arn: "arn:aws:iam::123456789012:policy/create-update-delete-set-managed-policies",
    DefaultVersionId: "v1",
    PolicyVersionList: [{ Document: enc({ Version: "2012-10-17", Statement: { Effect: "Allow", Action: ["iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"], Resource: "*" } }), VersionId: "v1", IsDefaultVersion: true }],
  },
  {
    PolicyName: "ReadOnlyBoundary",
    Arn: "arn:aws:iam::123456789012:policy/ReadOnlyBoundary",
    DefaultVersionId: "v2",
    PolicyVersionList: [
      { Document: ADMIN_DOC, VersionId: "v1", IsDefaultVersion: false },
      { Document: enc({ Statement: [{ Effect: "Allow", Action: ["s3:Get*"], Resource: "*" }] }), VersionId: "v2", IsDefaultVersion: true },
    ],
  },
];

const GROUPS: GroupDetail[] = [
  { GroupName: "Admins", GroupId: "AIDACKCEVSQ6C7EXAMPLE", Arn: "arn:aws:iam::123456789012:group/Admins", Path: "/", AttachedManagedPolicies: [{ PolicyName: "AdministratorAccess", PolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess" }], GroupPolicyList: [] },
  { GroupName: "Dev-Test", GroupId: "AIDACKCEVSQ6C8EXAMPLE", Arn: "arn:aws:iam::123456789012:group/Dev-Test", Path: "/", AttachedManagedPolicies: [{ PolicyName: "AdministratorAccess", PolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess" }], GroupPolicyList: [{ PolicyName: "DevTestS3", PolicyDocument: enc({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::dev-test/*" }] }) }] },
];

function context(extra: Partial<AccountContext> = {}): AccountContext {
  const ctx: AccountContext = {
    accountId: "123456789012",
    partition: "aws",
    scope: accountScope("123456789012"),
    accountEmail: "aws-root@example.com",
    policies: new Map(),
    groups: new Map(),
    internalAccounts: new Set(["123456789012"]),
    emailTag: "email",
    ...extra,
  };
  for (const p of POLICIES) {
    const info = indexManagedPolicy(p)!;
    ctx.policies.set(info.arn, info);
  }
  for (const g of GROUPS) {
    const info = indexGroup(ctx, g)!;
    ctx.groups.set(info.name, info);
  }
  return ctx;
}

const rows = new Map(parseCredentialReport(REPORT).map((r) => [r.arn, r]));

describe("mapUser", () => {
  const alice: UserDetail = {
    UserName: "Alice",
    UserId: "AIDA0123456789EXAMPLE",
    Arn: "arn:aws:iam::123456789012:user/Alice",
    Path: "/",
    CreateDate: new Date("2013-10-14T18:32:24Z"),
    GroupList: ["Admins", "Dev-Test"],
    AttachedManagedPolicies: [],
    UserPolicyList: [],
    Tags: [{ Key: "Email", Value: "Alice@Example.com" }],
  };

  it("a user with a console password is human; group policies arrive via=group, merged over groups", () => {
    const m = mapUser(context(), alice, rows.get(alice.Arn!))!;
    expect(m.principal).toMatchObject({ id: "AIDA0123456789EXAMPLE", kind: "human", name: "Alice", email: "alice@example.com", status: "active", mfa: "enabled", createdAt: "2013-10-14T18:32:24.000Z" });
    expect(m.principal.attributes).toMatchObject({ kind_heuristic: "console_password", groups: ["Admins", "Dev-Test"], in_credential_report: true });
    expect(m.principal.lastActive).toEqual({ at: "2019-04-08T09:00:00.000Z", known: true, signal: "credential_report:password_last_used" });
    const admin = m.grants.find((g) => g.privilege === "arn:aws:iam::aws:policy/AdministratorAccess")!;
    expect(admin).toMatchObject({ level: "admin", via: "group", scope: "account:123456789012" });
    expect(admin.attributes!.groups).toEqual(["Admins", "Dev-Test"]);
    expect(m.grants.find((g) => g.privilege === "inline:group/Dev-Test/DevTestS3")).toMatchObject({ level: "write", via: "group" });
    expect(m.grants).toHaveLength(2);
    expect(m.credentials).toEqual([
      expect.objectContaining({ id: "AIDA0123456789EXAMPLE/password", kind: "password", status: "active", createdAt: "2018-06-01T10:00:00.000Z", lastUsed: { at: "2019-04-08T09:00:00.000Z", known: true, signal: "credential_report:password_last_used" } }),
    ]);
  });

  it("a keys-only user is a service; a never-shown last use stays unknown, not never", () => {
    const ci: UserDetail = { UserName: "ci-deploy", UserId: "AIDACIDEPLOYEXAMPLE01", Arn: "arn:aws:iam::123456789012:user/ci-deploy", CreateDate: new Date("2016-01-01T00:00:00Z"), AttachedManagedPolicies: [{ PolicyName: "create-update-delete-set-managed-policies", PolicyArn: "arn:aws:iam::123456789012:policy/create-update-delete-set-managed-policies" }] };
    const m = mapUser(context(), ci, rows.get(ci.Arn!))!;
    expect(m.principal).toMatchObject({ kind: "service", mfa: "not_applicable", status: "active", email: null });
    expect(m.principal.attributes!.kind_heuristic).toBe("access_keys_only");
    const [k1, k2] = m.credentials;
    expect(k1).toMatchObject({ id: "AIDACIDEPLOYEXAMPLE01/access-key/2016-01-01T00:00:00.000Z", kind: "access_key", status: "active", lastUsed: { at: null, known: false } });
    expect(k2!.lastUsed).toEqual({ at: "2019-04-09T12:00:00.000Z", known: true, signal: "credential_report:access_key_2_last_used_date service=sts region=eu-west-1" });
    expect(m.principal.lastActive!.at).toBe("2019-04-09T12:00:00.000Z");
    expect(m.grants).toEqual([expect.objectContaining({ level: "privileged", via: "direct", privilege: "arn:aws:iam::123456789012:policy/create-update-delete-set-managed-policies" })]);
  });

  it("no_information on a password is unknown activity, and without active credentials the user is disabled", () => {
    const dormant: UserDetail = { UserName: "Dormant", UserId: "AIDADORMANTEXAMPLE001", Arn: "arn:aws:iam::123456789012:user/Dormant" };
    const m = mapUser(context(), dormant, rows.get(dormant.Arn!))!;
    expect(m.principal.mfa).toBe("disabled");
    expect(m.principal.lastActive).toMatchObject({ at: null, known: false });
    expect(m.credentials.find((c) => c.kind === "password")!.lastUsed).toEqual({ at: null, known: false, signal: "credential_report:password_last_used=no_information" });
    const legacy = mapUser(context(), { UserName: "svc,legacy", UserId: "AIDALEGACYEXAMPLE0001", Arn: "arn:aws:iam::123456789012:user/svc-legacy" }, rows.get("arn:aws:iam::123456789012:user/svc-legacy"))!;
    expect(legacy.principal).toMatchObject({ status: "disabled", kind: "service" });
    expect(legacy.principal.attributes!.status_reason).toBe("no_active_credentials");
    // The last sign-in of a password since removed still counts as the user's last activity.
    expect(legacy.principal.lastActive!.at).toBe("2017-01-01T00:00:00.000Z");
  });

  it("a user newer than the report: MFA and activity unknown, no credentials claimed", () => {
    const m = mapUser(context(), { UserName: "new", UserId: "AIDANEWUSEREXAMPLE001", Arn: "arn:aws:iam::123456789012:user/new" }, undefined)!;
    expect(m.principal).toMatchObject({ mfa: "unknown", lastActive: { at: null, known: false } });
    expect(m.principal.attributes!.in_credential_report).toBe(false);
    expect(m.credentials).toEqual([]);
  });

  it("a permissions boundary caps the grant levels", () => {
    const bounded: UserDetail = { ...alice, PermissionsBoundary: { PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: "arn:aws:iam::123456789012:policy/ReadOnlyBoundary" } };
    const m = mapUser(context(), bounded, rows.get(alice.Arn!))!;
    const admin = m.grants.find((g) => g.privilege.endsWith("AdministratorAccess"))!;
    expect(admin.level).toBe("read");
    expect(admin.attributes).toMatchObject({ uncapped_level: "admin", capped_by_boundary: "arn:aws:iam::123456789012:policy/ReadOnlyBoundary" });
  });

  it("uses access key ids from ListAccessKeys when given, matched on creation time", () => {
    const ci: UserDetail = { UserName: "ci-deploy", UserId: "AIDACIDEPLOYEXAMPLE01", Arn: "arn:aws:iam::123456789012:user/ci-deploy" };
    const ctx = context({ accessKeys: new Map([["ci-deploy", [{ UserName: "ci-deploy", AccessKeyId: "AKIAIOSFODNN7EXAMPLE", Status: "Active", CreateDate: new Date("2019-02-01T00:00:00Z") }]]]) });
    const m = mapUser(ctx, ci, rows.get(ci.Arn!))!;
    expect(m.credentials.map((c) => c.id)).toEqual(["AIDACIDEPLOYEXAMPLE01/access-key/2016-01-01T00:00:00.000Z", "AKIAIOSFODNN7EXAMPLE"]);
    expect(m.credentials[1]!.attributes).toMatchObject({ access_key_id: "AKIAIOSFODNN7EXAMPLE", key_id_last4: "MPLE" });
  });
});

describe("mapRoot", () => {
  it("root is admin by nature, carries the account email and its keys", () => {
    const m = mapRoot(context(), parseCredentialReport(REPORT)[0]!);
    expect(m.principal).toMatchObject({ id: "arn:aws:iam::123456789012:root", kind: "root", accessLevel: "admin", mfa: "enabled", email: "aws-root@example.com" });
    expect(m.principal.attributes!.root_access_keys_active).toBe(1);
    expect(m.principal.lastActive!.at).toBe("2019-04-09T15:46:33.000Z");
    expect(m.credentials).toHaveLength(1);
  });
});

describe("mapRole", () => {
  const ec2Role: RoleDetail = {
    // The EC2role of the CLI documentation example.
    RoleName: "EC2role",
    RoleId: "AROA1234567890EXAMPLE",
    Arn: "arn:aws:iam::123456789012:role/EC2role",
    Path: "/",
    CreateDate: new Date("2014-07-30T17:09:20Z"),
    AssumeRolePolicyDocument: enc({ Version: "2012-10-17", Statement: [{ Sid: "", Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
    InstanceProfileList: [{ InstanceProfileName: "EC2role", InstanceProfileId: "AIPA1234567890EXAMPLE", Arn: "arn:aws:iam::123456789012:instance-profile/EC2role", Path: "/", CreateDate: new Date("2014-07-30T17:09:20Z"), Roles: [] }],
    AttachedManagedPolicies: [{ PolicyName: "AmazonS3FullAccess", PolicyArn: "arn:aws:iam::aws:policy/AmazonS3FullAccess" }],
    RolePolicyList: [],
    RoleLastUsed: { LastUsedDate: new Date("2019-11-18T05:12:00Z"), Region: "us-east-1" },
  };

  it("a role is a service principal with its last use, instance profiles and trusted services", () => {
    const m = mapRole(context(), ec2Role)!;
    expect(m.principal).toMatchObject({ id: "AROA1234567890EXAMPLE", kind: "service", name: "EC2role", mfa: "not_applicable", lastActive: { at: "2019-11-18T05:12:00.000Z", known: true } });
    expect(m.principal.attributes).toMatchObject({ service_linked: false, trusted_services: ["ec2.amazonaws.com"], instance_profiles: ["EC2role"], third_party: false, last_used_region: "us-east-1" });
    // The AWS managed policy's document was not in the Policies list: classified by name.
    expect(m.grants).toEqual([expect.objectContaining({ level: "write", attributes: expect.objectContaining({ level_basis: "name" }) })]);
    expect(m.external).toEqual([]);
  });

  it("an empty RoleLastUsed is unknown (400-day window), service-linked and SSO roles are marked", () => {
    const slr = mapRole(context(), { ...ec2Role, RoleId: "AROASLR", RoleName: "AWSServiceRoleForSupport", Path: "/aws-service-role/support.amazonaws.com/", RoleLastUsed: {} })!;
    expect(slr.principal.lastActive).toMatchObject({ at: null, known: false });
    expect(slr.principal.attributes!.service_linked).toBe(true);
    const sso = mapRole(context(), { ...ec2Role, RoleId: "AROASSO", RoleName: "AWSReservedSSO_Admin_0123", Path: "/aws-reserved/sso.amazonaws.com/" })!;
    expect(sso.principal.attributes!.sso_permission_set).toBe(true);
  });

  it("a role trusting an outside account yields an external principal eligible for the role's level", () => {
    const vendor: RoleDetail = {
      ...ec2Role,
      RoleName: "VendorAudit",
      RoleId: "AROAVENDOREXAMPLE0001",
      Arn: "arn:aws:iam::123456789012:role/VendorAudit",
      AssumeRolePolicyDocument: enc({ Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::999988887777:root" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "sts:ExternalId": "x" } } }] }),
      AttachedManagedPolicies: [{ PolicyName: "AdministratorAccess", PolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess" }],
    };
    const m = mapRole(context(), vendor)!;
    expect(m.principal.attributes).toMatchObject({ third_party: true, external_trust: ["arn:aws:iam::999988887777:root"] });
    expect(m.external).toHaveLength(1);
    const ext = m.external[0]!;
    expect(ext.principal).toMatchObject({ id: "external:arn:aws:iam::999988887777:root@123456789012", kind: "external", mfa: "unknown" });
    expect(ext.principal.attributes).toMatchObject({ external_account: "999988887777", requires_external_id: true });
    expect(ext.grant).toMatchObject({ principalId: ext.principal.id, privilege: "role:arn:aws:iam::123456789012:role/VendorAudit", level: "admin", via: "eligible" });
  });
});

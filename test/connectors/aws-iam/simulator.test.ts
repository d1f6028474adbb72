// The simulator itself: SigV4 checked against AWS's published example, and the real SDK clients
// (unmodified but for `endpoint`) round-tripping its wire formats, pagination and errors.
import {
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  IAMClient,
  ListAccessKeysCommand,
  paginateGetAccountAuthorizationDetails,
  paginateListUsers,
} from "@aws-sdk/client-iam";
import { OrganizationsClient, paginateListAccounts } from "@aws-sdk/client-organizations";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySigV4 } from "../../../connectors/aws-iam/sigv4.js";
import { fixture, SMALL_ORG, type Fixture } from "./helpers.js";

describe("verifySigV4", () => {
  // AWS General Reference, "Signature Version 4 signing process" example (IAM ListUsers).
  const input = {
    method: "GET",
    url: new URL("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"),
    headers: {
      host: "iam.amazonaws.com",
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      "x-amz-date": "20150830T123600Z",
      authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    },
    body: Buffer.alloc(0),
    secretFor: (id: string) => (id === "AKIDEXAMPLE" ? "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" : undefined),
    now: new Date("2015-08-30T12:40:00Z"),
  };

  it("accepts the documented signature", () => {
    expect(verifySigV4(input)).toMatchObject({ ok: true, auth: { service: "iam", region: "us-east-1", accessKeyId: "AKIDEXAMPLE" } });
  });

  it("rejects a changed query, a wrong secret, an unknown key and a stale date", () => {
    expect(verifySigV4({ ...input, url: new URL("https://iam.amazonaws.com/?Action=ListRoles&Version=2010-05-08") })).toMatchObject({ ok: false, code: "SignatureDoesNotMatch" });
    expect(verifySigV4({ ...input, secretFor: () => "not-the-secret" })).toMatchObject({ ok: false, code: "SignatureDoesNotMatch" });
    expect(verifySigV4({ ...input, secretFor: () => undefined })).toMatchObject({ ok: false, code: "InvalidClientTokenId" });
    expect(verifySigV4({ ...input, now: new Date("2015-08-31T12:40:00Z") })).toMatchObject({ ok: false, code: "RequestExpired" });
    expect(verifySigV4({ ...input, headers: { ...input.headers, authorization: undefined } })).toMatchObject({ ok: false, code: "MissingAuthenticationToken" });
  });
});

describe("simulator wire protocol through the real SDK clients", () => {
  let f: Fixture;
  const client = <T>(Ctor: new (c: object) => T, creds?: object): T =>
    new Ctor({ endpoint: f.sim.url, region: "us-east-1", credentials: creds ?? { accessKeyId: f.caller.accessKeyId, secretAccessKey: f.caller.secretAccessKey }, maxAttempts: 1 });

  beforeAll(async () => {
    f = await fixture(SMALL_ORG, { maxAuthorizationDetailsItems: 5, maxAccountsPerPage: 2 });
  });
  afterAll(() => f.close());

  it("STS GetCallerIdentity and AssumeRole (session credentials then sign IAM calls in the member account)", async () => {
    const sts = client(STSClient);
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me).toMatchObject({ Account: "111111111111", Arn: "arn:aws:iam::111111111111:user/whohas-auditor" });
    const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::222222222222:role/WhohasAudit", RoleSessionName: "test" }));
    expect(assumed.AssumedRoleUser?.Arn).toBe("arn:aws:sts::222222222222:assumed-role/WhohasAudit/test");
    expect(assumed.Credentials?.Expiration).toBeInstanceOf(Date);
    const c = assumed.Credentials!;
    const iam = client(IAMClient, { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken });
    const users: string[] = [];
    for await (const page of paginateListUsers({ client: iam, pageSize: 4 }, {})) users.push(...(page.Users ?? []).map((u) => u.UserName!));
    expect(users).toHaveLength(f.sim.org.account("222222222222").users.size);
    expect(users).toContain("grace.hopper");
    // Without the session token the temporary key is not valid.
    const noToken = client(IAMClient, { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey });
    await expect(noToken.send(new ListAccessKeysCommand({ UserName: "grace.hopper" }))).rejects.toMatchObject({ name: "InvalidClientTokenId" });
  });

  it("AssumeRole errors are STS ErrorResponse documents the SDK turns into AccessDenied", async () => {
    f.sim.org.denyAssumeRole.add("333333333333");
    try {
      await expect(client(STSClient).send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::333333333333:role/WhohasAudit", RoleSessionName: "test" }))).rejects.toMatchObject({
        name: "AccessDenied",
        $metadata: { httpStatusCode: 403 },
      });
    } finally {
      f.sim.org.denyAssumeRole.delete("333333333333");
    }
  });

  it("a request signed with the wrong secret is refused with SignatureDoesNotMatch", async () => {
    const bad = client(IAMClient, { accessKeyId: f.caller.accessKeyId, secretAccessKey: "x".repeat(40) });
    await expect(bad.send(new GetCredentialReportCommand({}))).rejects.toMatchObject({ name: "SignatureDoesNotMatch", $metadata: { httpStatusCode: 403 } });
  });

  it("GetAccountAuthorizationDetails pages with Marker/IsTruncated; the SDK paginator collects every entity once", async () => {
    const iam = client(IAMClient);
    const pages = [];
    for await (const page of paginateGetAccountAuthorizationDetails({ client: iam, pageSize: 1000 }, {})) pages.push(page);
    const account = f.sim.org.account("111111111111");
    const users = pages.flatMap((p) => p.UserDetailList ?? []);
    const roles = pages.flatMap((p) => p.RoleDetailList ?? []);
    const groups = pages.flatMap((p) => p.GroupDetailList ?? []);
    const policies = pages.flatMap((p) => p.Policies ?? []);
    // The simulator returns fewer than MaxItems (5) and stays truncated until the end.
    expect(pages.length).toBe(Math.ceil((users.length + roles.length + groups.length + policies.length) / 5));
    expect(users.map((u) => u.UserName).sort()).toEqual([...account.users.keys()].sort());
    expect(roles).toHaveLength(account.roles.size);
    expect(groups.find((g) => g.GroupName === "Admins")?.AttachedManagedPolicies).toEqual([{ PolicyName: "AdministratorAccess", PolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess" }]);
    const admin = policies.find((p) => p.PolicyName === "AdministratorAccess")!;
    expect(decodeURIComponent(admin.PolicyVersionList![0]!.Document!)).toBe('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}');
    expect(users[0]!.CreateDate).toBeInstanceOf(Date);
  });

  it("credential report: ReportNotPresent, STARTED → COMPLETE, then base64 CSV", async () => {
    const { org } = f.sim;
    const iam = client(IAMClient);
    const acct = org.account("111111111111");
    acct.report = undefined;
    acct.reportPolls = 2;
    await expect(iam.send(new GetCredentialReportCommand({}))).rejects.toMatchObject({ name: "CredentialReportNotPresentException", $metadata: { httpStatusCode: 410 } });
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe("STARTED");
    await expect(iam.send(new GetCredentialReportCommand({}))).rejects.toMatchObject({ name: "CredentialReportNotReadyException", $metadata: { httpStatusCode: 404 } });
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe("INPROGRESS");
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe("COMPLETE");
    const report = await iam.send(new GetCredentialReportCommand({}));
    expect(report.ReportFormat).toBe("text/csv");
    const csv = Buffer.from(report.Content!).toString("utf8");
    expect(csv.split("\n")[0]).toMatch(/^user,arn,user_creation_time,password_enabled,password_last_used/);
    expect(csv).toContain("<root_account>,arn:aws:iam::111111111111:root,");
    expect(report.GeneratedTime).toBeInstanceOf(Date);
  });

  it("Organizations ListAccounts speaks JSON 1.1 with NextToken (and only to the management account)", async () => {
    const org = client(OrganizationsClient);
    const accounts = [];
    for await (const page of paginateListAccounts({ client: org }, {})) accounts.push(...(page.Accounts ?? []));
    expect(accounts.map((a) => a.Id)).toEqual(["111111111111", "222222222222", "333333333333"]);
    expect(accounts[1]).toMatchObject({ Name: "prod", State: "ACTIVE", Arn: expect.stringMatching(/^arn:aws:organizations::111111111111:account\/o-[a-z0-9]+\/222222222222$/) });
    expect(accounts[1]!.JoinedTimestamp).toBeInstanceOf(Date);
    const assumed = (await client(STSClient).send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::222222222222:role/WhohasAudit", RoleSessionName: "tt" }))).Credentials!;
    const member = client(OrganizationsClient, { accessKeyId: assumed.AccessKeyId, secretAccessKey: assumed.SecretAccessKey, sessionToken: assumed.SessionToken });
    await expect(paginateListAccounts({ client: member }, {}).next()).rejects.toMatchObject({ name: "AccessDeniedException" });
  });
});

// Policy classification and trust analysis on policies as AWS documents them.
import { describe, expect, it } from "vitest";
import {
  analyzeTrust,
  classifyDocument,
  classifyManagedPolicy,
  levelFromName,
  parsePolicyDocument,
  principalAccount,
  summarizeDocument,
  type PolicyDocument,
} from "../../../connectors/aws-iam/policy.js";

const d = (...Statement: object[]): PolicyDocument => ({ Version: "2012-10-17", Statement: Statement as PolicyDocument["Statement"] });

describe("classifyDocument", () => {
  it("AdministratorAccess (Allow * on *) is admin", () => {
    const c = classifyDocument(d({ Effect: "Allow", Action: "*", Resource: "*" }));
    expect(c).toMatchObject({ level: "admin", reason: "Allow * on *", conditional: false, hasDeny: false });
  });

  it("* on every ARN spelled out is admin too, * on one bucket is not", () => {
    expect(classifyDocument(d({ Effect: "Allow", Action: "*", Resource: "arn:aws:*:*:*:*" })).level).toBe("admin");
    expect(classifyDocument(d({ Effect: "Allow", Action: "*", Resource: "arn:aws:s3:::logs/*" })).level).toBe("write");
  });

  it("PowerUserAccess as published (NotAction iam/organizations/account on *) is privileged", () => {
    const c = classifyDocument(
      d(
        { Effect: "Allow", NotAction: ["iam:*", "organizations:*", "account:*"], Resource: "*" },
        { Effect: "Allow", Action: ["iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles", "organizations:DescribeOrganization"], Resource: "*" },
      ),
    );
    expect(c.level).toBe("privileged");
    expect(c.reason).toContain("NotAction");
  });

  it("an Allow NotAction that leaves IAM in is admin", () => {
    expect(classifyDocument(d({ Effect: "Allow", NotAction: "s3:DeleteBucket", Resource: "*" })).level).toBe("admin");
  });

  it("IAM writes and PassRole are escalation paths: privileged", () => {
    expect(classifyDocument(d({ Effect: "Allow", Action: "iam:AttachUserPolicy", Resource: "*" })).level).toBe("privileged");
    expect(classifyDocument(d({ Effect: "Allow", Action: "iam:*", Resource: "*" })).level).toBe("privileged");
    expect(classifyDocument(d({ Effect: "Allow", Action: "iam:Put*", Resource: "arn:aws:iam::123456789012:role/app" })).level).toBe("privileged");
    // The AWS documentation's "grant a user permissions to pass a role" example.
    const passRole = d({ Effect: "Allow", Action: ["iam:GetRole", "iam:PassRole"], Resource: "arn:aws:iam::111122223333:role/EC2-roles-for-XYZ-*" });
    expect(classifyDocument(passRole)).toMatchObject({ level: "privileged", reason: "iam:PassRole on arn:aws:iam::111122223333:role/EC2-roles-for-XYZ-*" });
  });

  it("sts:AssumeRole on * is privileged, on a named role it is write", () => {
    expect(classifyDocument(d({ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" })).level).toBe("privileged");
    expect(classifyDocument(d({ Effect: "Allow", Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/deploy" })).level).toBe("write");
  });

  it("self-service credential management on ${aws:username} is write, not an escalation", () => {
    // From the IAM documentation example "allows IAM users to manage their own credentials".
    const c = classifyDocument(
      d(
        { Sid: "AllowViewAccountInfo", Effect: "Allow", Action: ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"], Resource: "*" },
        { Sid: "AllowManageOwnAccessKeys", Effect: "Allow", Action: ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys", "iam:UpdateAccessKey"], Resource: "arn:aws:iam::*:user/${aws:username}" },
      ),
    );
    expect(c.level).toBe("write");
  });

  it("Get/List/Describe wildcards are read; a prefix that also matches Delete is not", () => {
    expect(classifyDocument(d({ Effect: "Allow", Action: ["s3:Get*", "s3:List*", "ec2:Describe*", "iam:GenerateCredentialReport"], Resource: "*" })).level).toBe("read");
    expect(classifyDocument(d({ Effect: "Allow", Action: "ec2:De*", Resource: "*" })).level).toBe("write");
    expect(classifyDocument(d({ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::data" })).level).toBe("write");
  });

  it("reports conditions and denies instead of subtracting them", () => {
    const c = classifyDocument(
      d(
        { Effect: "Allow", Action: "*", Resource: "*", Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } },
        { Effect: "Deny", Action: "iam:*", Resource: "*" },
      ),
    );
    expect(c).toMatchObject({ level: "admin", conditional: true, hasDeny: true });
  });

  it("a deny-only document grants nothing", () => {
    expect(classifyDocument(d({ Effect: "Deny", Action: "*", Resource: "*" }))).toMatchObject({ level: null, hasDeny: true });
  });
});

describe("classifyManagedPolicy", () => {
  it("well-known AWS managed policies are classified by name, whatever their long documents contain", () => {
    const readOnlyDoc = d({ Effect: "Allow", Action: ["cloudformation:Estimate*", "athena:Batch*", "s3:Get*"], Resource: "*" });
    expect(classifyManagedPolicy("arn:aws:iam::aws:policy/ReadOnlyAccess", "ReadOnlyAccess", readOnlyDoc)).toMatchObject({ level: "read", basis: "aws_managed_name" });
    expect(classifyManagedPolicy("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", "ViewOnlyAccess", undefined).level).toBe("read");
    expect(classifyManagedPolicy("arn:aws:iam::aws:policy/PowerUserAccess", "PowerUserAccess", undefined).level).toBe("privileged");
    expect(classifyManagedPolicy("arn:aws-us-gov:iam::aws:policy/SecurityAudit", "SecurityAudit", undefined).level).toBe("read");
  });

  it("a customer policy is judged by its document even when it borrows an AWS name", () => {
    const c = classifyManagedPolicy("arn:aws:iam::123456789012:policy/AdministratorAccess", "AdministratorAccess", d({ Effect: "Allow", Action: "s3:List*", Resource: "*" }));
    expect(c).toMatchObject({ level: "read", basis: "document" });
  });

  it("without a document the name is the last resort", () => {
    expect(classifyManagedPolicy("arn:aws:iam::aws:policy/AmazonS3FullAccess", "AmazonS3FullAccess", undefined)).toMatchObject({ level: "write", basis: "name" });
    expect(levelFromName("AmazonEC2ReadOnlyAccess")).toBe("read");
    expect(levelFromName("AdministratorAccess")).toBe("admin");
  });

  it("a policy named after an Object.prototype member is classified like any other name (found by the property suite)", () => {
    for (const name of ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"]) {
      const c = classifyManagedPolicy(`arn:aws:iam::aws:policy/${name}`, name, undefined);
      expect(c, name).toMatchObject({ level: "write", basis: "name" });
    }
  });
});

describe("parsePolicyDocument", () => {
  it("decodes IAM's RFC 3986 URL encoding and a single statement object", () => {
    const encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D";
    const doc = parsePolicyDocument(encoded);
    expect(doc.Statement).toEqual([{ Effect: "Allow", Action: "*", Resource: "*" }]);
    expect(parsePolicyDocument('{"Statement":[]}').Statement).toEqual([]);
  });
});

describe("analyzeTrust", () => {
  const own = "123456789012";
  const internal = new Set([own, "210987654321"]);

  it("a third-party account with an external id (the AWS confused-deputy example) is external", () => {
    const t = analyzeTrust(
      d({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::111122223333:root" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "sts:ExternalId": "Unique ID Assigned by Example Corp" } } }),
      own,
      internal,
    );
    expect(t.external).toEqual([{ principal: "arn:aws:iam::111122223333:root", account: "111122223333", requiresExternalId: true }]);
    expect(t.public).toBe(false);
  });

  it("accounts of the organization and the role's own account are internal", () => {
    const t = analyzeTrust(d({ Effect: "Allow", Principal: { AWS: ["210987654321", `arn:aws:iam::${own}:role/ci`] }, Action: "sts:AssumeRole" }), own, internal);
    expect(t.external).toEqual([]);
    expect(t.awsPrincipals).toEqual(["210987654321", `arn:aws:iam::${own}:role/ci`]);
  });

  it("collects service and federated principals (EC2 role, GitHub Actions OIDC)", () => {
    const t = analyzeTrust(
      d(
        { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
        { Effect: "Allow", Principal: { Federated: `arn:aws:iam::${own}:oidc-provider/token.actions.githubusercontent.com` }, Action: "sts:AssumeRoleWithWebIdentity" },
      ),
      own,
      internal,
    );
    expect(t.services).toEqual(["ec2.amazonaws.com"]);
    expect(t.federated).toEqual([`arn:aws:iam::${own}:oidc-provider/token.actions.githubusercontent.com`]);
    expect(t.external).toEqual([]);
  });

  it('"AWS": "*" is public unless bound to the organization', () => {
    expect(analyzeTrust(d({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }), own, internal).public).toBe(true);
    expect(analyzeTrust(d({ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" }), own, internal).external[0]?.principal).toBe("*");
    const orgOnly = analyzeTrust(d({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc123" } } }), own, internal);
    expect(orgOnly).toMatchObject({ public: false, external: [] });
  });

  it("the unique id left behind by a deleted principal is external with an unknown account", () => {
    const t = analyzeTrust(d({ Effect: "Allow", Principal: { AWS: "AROAJ4EXAMPLEXYZ12345" }, Action: "sts:AssumeRole" }), own, internal);
    expect(t.external).toEqual([{ principal: "AROAJ4EXAMPLEXYZ12345", account: null, requiresExternalId: false }]);
  });

  it("principalAccount reads ids and ARNs", () => {
    expect(principalAccount("111122223333")).toBe("111122223333");
    expect(principalAccount("arn:aws-cn:iam::111122223333:user/x")).toBe("111122223333");
    expect(principalAccount("arn:aws:sts::111122223333:assumed-role/r/s")).toBe("111122223333");
    expect(principalAccount("AIDAEXAMPLE")).toBeNull();
  });
});

describe("malformed conditions", () => {
  // Found by the property test: a Condition that is a list, or an operator whose block is null, is not what AWS
  // documents but parses as JSON; summarizing or analysing it must name it, never throw.
  it("a Condition list or a null operator block is named in the summary and ignored by the trust analysis", () => {
    const doc = (condition: unknown) => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: condition }] }) as unknown as PolicyDocument;
    expect(summarizeDocument(doc([null])).join("\n")).toMatch(/when \(a condition that is not an object\)/);
    expect(summarizeDocument(doc({ StringEquals: null })).join("\n")).toMatch(/when StringEquals\(\?\)/);
    const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::999999999999:root" }, Action: "sts:AssumeRole", Condition: { StringEquals: null } }] } as unknown as PolicyDocument;
    expect(() => analyzeTrust(trust, "111111111111", new Set())).not.toThrow();
  });
});

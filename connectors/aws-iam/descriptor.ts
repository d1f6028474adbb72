// What whohas knows about aws-iam without loading the AWS SDK.
import { describeConnector } from "../../src/connector.js";
import { awsIamOptions } from "./options.js";
import { AWS_IAM_ACTIONS } from "./actions.js";

export const awsIamDescriptor = describeConnector({
  type: "aws-iam",
  description: "AWS IAM users, roles, groups, root and access keys of one account, a list of accounts, or an AWS Organization",
  options: awsIamOptions,
  actions: AWS_IAM_ACTIONS,
  credentialKeys: ["profile", "role_arn", "external_id", "member_role_name", "member_external_id"],
  feeds: [
    {
      feed: "iam",
      description:
        "IAM changes from CloudTrail event history (LookupEvents, event source iam.amazonaws.com, recorded in us-east-1): users, passwords, access keys, MFA, group and policy changes, with the actor, source IP and user agent",
      permissions: "cloudtrail:LookupEvents in each account (through the member role); iam:ListUsers and iam:ListRoles to resolve targets named only by name",
      retention: "90 days (CloudTrail event history; a trail to S3 keeps longer but is not read)",
    },
    {
      feed: "signin",
      description: "AWS console sign-ins (ConsoleLogin, success and failure, MFAUsed) in the Regions of signin_regions (default us-east-1)",
      permissions: "cloudtrail:LookupEvents in each account and Region read (through the member role)",
      retention: "90 days (CloudTrail event history)",
      signInsOnly: true,
    },
  ],
  load: async () => (await import("./index.js")).awsIamConnector,
});

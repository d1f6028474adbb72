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
  load: async () => (await import("./index.js")).awsIamConnector,
});

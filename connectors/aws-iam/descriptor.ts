// What whohas knows about aws-iam without loading the AWS SDK.
import { describeConnector } from "../../src/connector.js";
import { awsIamOptions } from "./options.js";

export const awsIamDescriptor = describeConnector({
  type: "aws-iam",
  description: "AWS IAM users, roles, groups, root and access keys of one account, a list of accounts, or an AWS Organization",
  options: awsIamOptions,
  load: async () => (await import("./index.js")).awsIamConnector,
});

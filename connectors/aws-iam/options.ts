// The `[[sources]]` keys of an aws-iam source. Imported by config loading: no SDK here.
import { z } from "zod";
import { DEFAULT_RETRY_POLICY } from "../../src/http-policy.js";
import { secretRef } from "../../src/secrets.js";

const accountId = z.string().regex(/^\d{12}$/, { message: "an AWS account id is 12 digits" });
const endpoint = z.url({ protocol: /^https?$/ });

export const awsIamOptions = z
  .strictObject({
    /** Shared config profile for the SDK default credential chain. */
    profile: z.string().min(1).optional(),
    /** Static keys (secret references). Without them the SDK default chain is used. */
    access_key_id: secretRef.optional(),
    secret_access_key: secretRef.optional(),
    session_token: secretRef.optional(),
    /** Hop into an audit account first (then into member accounts from there). */
    role_arn: z.string().regex(/^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/.+$/, { message: "expected arn:<partition>:iam::<account>:role/<name>" }).optional(),
    external_id: z.string().min(2).max(1224).optional(),
    role_session_name: z.string().regex(/^[\w+=,.@-]{2,64}$/).default("whohas"),
    /** Discover accounts with organizations:ListAccounts (active accounts only). */
    organization: z.boolean().default(false),
    /** Accounts to collect; with organization = true, a filter on the organization's accounts. */
    accounts: z.array(accountId).min(1).optional(),
    exclude_accounts: z.array(accountId).default([]),
    /** Role assumed in each account other than the caller's. */
    member_role_name: z.string().regex(/^[\w+=,.@/-]{1,512}$/).default("OrganizationAccountAccessRole"),
    member_external_id: z.string().min(2).max(1224).optional(),
    /** Accounts outside the organization that are yours (their principals are not third parties). */
    known_accounts: z.array(accountId).default([]),
    concurrency: z.number().int().min(1).max(32).default(4),
    partition: z.enum(["aws", "aws-us-gov", "aws-cn"]).default("aws"),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/).optional(),
    /** One endpoint per service; `cloudtrail` serves every Region the feeds read (a VPC endpoint, the simulator). */
    endpoints: z.strictObject({ iam: endpoint.optional(), sts: endpoint.optional(), organizations: endpoint.optional(), cloudtrail: endpoint.optional() }).optional(),
    /**
     * Regions whose CloudTrail the "signin" feed reads: ConsoleLogin is recorded in the Region of the sign-in
     * endpoint used. Default: the partition's main Region (us-east-1), where the global endpoint records.
     */
    signin_regions: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { message: "an AWS Region, e.g. eu-west-1" })).min(1).optional(),
    max_attempts: z.number().int().min(1).max(20).default(DEFAULT_RETRY_POLICY.maxAttempts),
    request_timeout_ms: z.number().int().min(1000).max(600_000).default(DEFAULT_RETRY_POLICY.timeoutMs),
    credential_report: z.boolean().default(true),
    credential_report_max_age_hours: z.number().min(4).max(168).default(4),
    credential_report_wait_seconds: z.number().int().min(1).max(3600).default(300),
    /** One iam:ListAccessKeys per user holding keys, to record key ids (the report has none). */
    access_key_ids: z.boolean().default(false),
    /** User tag holding the person's email address. */
    email_tag: z.string().min(1).default("email"),
  })
  .superRefine((o, ctx) => {
    if ((o.access_key_id === undefined) !== (o.secret_access_key === undefined)) {
      ctx.addIssue({ code: "custom", message: "access_key_id and secret_access_key go together", path: ["access_key_id"] });
    }
    if (o.session_token !== undefined && o.access_key_id === undefined) {
      ctx.addIssue({ code: "custom", message: "session_token needs access_key_id and secret_access_key", path: ["session_token"] });
    }
    if (o.profile !== undefined && o.access_key_id !== undefined) {
      ctx.addIssue({ code: "custom", message: "set either profile or static keys, not both", path: ["profile"] });
    }
    if (o.region !== undefined) {
      const cn = o.region.startsWith("cn-");
      const gov = o.region.startsWith("us-gov-");
      if ((o.partition === "aws-cn") !== cn || (o.partition === "aws-us-gov") !== gov) {
        ctx.addIssue({ code: "custom", message: `region ${o.region} is not in partition ${o.partition}`, path: ["region"] });
      }
    }
    for (const [i, r] of (o.signin_regions ?? []).entries()) {
      if ((o.partition === "aws-cn") !== r.startsWith("cn-") || (o.partition === "aws-us-gov") !== r.startsWith("us-gov-")) {
        ctx.addIssue({ code: "custom", message: `region ${r} is not in partition ${o.partition}`, path: ["signin_regions", i] });
      }
    }
    if (o.role_arn !== undefined && !o.role_arn.startsWith(`arn:${o.partition}:`)) {
      ctx.addIssue({ code: "custom", message: `role_arn is not in partition ${o.partition}`, path: ["role_arn"] });
    }
  });

export type AwsIamOptions = z.infer<typeof awsIamOptions>;

// Shared set-up for the aws-iam tests: a generated organization on the loopback simulator and a
// connector pointed at it with millisecond retry backoff (the SDK's own adaptive strategy, re-timed).
import { AdaptiveRetryStrategy, DefaultRateLimiter } from "@smithy/core/retry";
import { createAwsIamConnector, type AwsIamTuning } from "../../../connectors/aws-iam/index.js";
import { generateOrganization, type OrganizationSpec } from "../../../connectors/aws-iam/sim-tenant.js";
import { startAwsSimulator, type AwsSimulator, type AwsSimulatorOptions } from "../../../connectors/aws-iam/simulator.js";
import { testContext, type TestContext } from "../../helpers/collect.js";
import { awsIamOptions } from "../../../connectors/aws-iam/options.js";

export function fastTuning(extra: Partial<AwsIamTuning> = {}): AwsIamTuning {
  return {
    retryStrategy: (maxAttempts) =>
      new AdaptiveRetryStrategy(maxAttempts, {
        maxAttempts,
        backoff: { computeNextBackoffDelay: (i: number) => 2 * (i + 1), setDelayBase: () => {} },
        // The default limiter drops to 0.5 req/s after a throttle; tests would crawl.
        rateLimiter: new DefaultRateLimiter({ minFillRate: 500, minCapacity: 50 }),
      }),
    reportPollBaseMs: 2,
    reportPollMaxMs: 10,
    ...extra,
  };
}

export interface Fixture {
  sim: AwsSimulator;
  caller: { accessKeyId: string; secretAccessKey: string };
  env: NodeJS.ProcessEnv;
  ctx(): TestContext;
  connector(options?: Record<string, unknown>, tuning?: Partial<AwsIamTuning>): ReturnType<typeof createAwsIamConnector>;
  close(): Promise<void>;
}

export const SMALL_ORG: OrganizationSpec = {
  seed: 7,
  // One clock for every fixture of a test file: generated dates (and so key ids) then match exactly.
  now: new Date(),
  managementAccountId: "111111111111",
  memberRoleName: "WhohasAudit",
  accounts: [
    { id: "111111111111", name: "management", users: 5, roles: 6 },
    { id: "222222222222", name: "prod", users: 12, roles: 9, people: ["grace.hopper"], vendorTrust: true, rootKeys: true },
    { id: "333333333333", name: "sandbox", users: 6, roles: 7, rootMfa: false },
  ],
};

export async function fixture(spec: OrganizationSpec = SMALL_ORG, simOptions: Partial<AwsSimulatorOptions> = {}): Promise<Fixture> {
  const { org, caller } = generateOrganization(spec);
  const sim = await startAwsSimulator({ org, ...simOptions });
  const env = { TEST_AWS_KEY: caller.accessKeyId, TEST_AWS_SECRET: caller.secretAccessKey };
  return {
    sim,
    caller,
    env,
    ctx: () => testContext("aws-test", env),
    connector(options = {}, tuning = {}) {
      const parsed = awsIamOptions.parse({
        access_key_id: "env:TEST_AWS_KEY",
        secret_access_key: "env:TEST_AWS_SECRET",
        endpoints: { iam: sim.url, sts: sim.url, organizations: sim.url },
        member_role_name: spec.memberRoleName ?? "OrganizationAccountAccessRole",
        ...options,
      });
      return createAwsIamConnector("aws-test", parsed, fastTuning(tuning));
    },
    close: () => sim.close(),
  };
}

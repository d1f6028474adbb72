// A store collected from the AWS simulator, a config with a remediate block of its own credentials and
// [[remediate]] entries, and the AWS remediator with millisecond retry backoff: plan → apply → collect → undo
// in-process, through the real @aws-sdk/client-iam.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONNECTORS } from "../../connectors/index.js";
import { AWS_IAM_ACTIONS } from "../../connectors/aws-iam/actions.js";
import { awsIamOptions } from "../../connectors/aws-iam/options.js";
import { createAwsRemediator } from "../../connectors/aws-iam/remediate.js";
import { addRemediationIdentity, generateOrganization, type SimOrganization } from "../../connectors/aws-iam/sim-tenant.js";
import { startAwsSimulator, type AwsSimulator, type AwsSimulatorOptions } from "../../connectors/aws-iam/simulator.js";
import type { Logger } from "../../src/connector.js";
import { collect } from "../../src/collect.js";
import { parseConfig, type Config } from "../../src/config/load.js";
import { applyPlan, undoActions, type ApplyOptions } from "../../src/remediate/apply.js";
import type { RemediatorFactory } from "../../src/remediate/context.js";
import { computePlan, type Plan, type PlanOptions } from "../../src/remediate/plan.js";
import { openStore, type Db } from "../../src/store/db.js";
import { AdaptiveRetryStrategy, DefaultRateLimiter } from "@smithy/core/retry";
import type { AwsIamTuning } from "../../connectors/aws-iam/index.js";

/** The SDK's adaptive strategy with `backoffMs` × attempt between tries. */
function retimed(backoffMs: number): AwsIamTuning {
  return {
    retryStrategy: (maxAttempts) =>
      new AdaptiveRetryStrategy(maxAttempts, {
        maxAttempts,
        backoff: { computeNextBackoffDelay: (i: number) => backoffMs * (i + 1), setDelayBase: () => {} },
        rateLimiter: new DefaultRateLimiter({ minFillRate: 500, minCapacity: 50 }),
      }),
  };
}

export const MGMT = "111111111111";
export const PROD = "222222222222";
export const WRITE_ACTIONS = ["UpdateAccessKey", "AttachUserPolicy", "DetachUserPolicy", "AttachRolePolicy", "DetachRolePolicy", "AddUserToGroup", "RemoveUserFromGroup"];

export interface RemediationFixture {
  dir: string;
  sim: AwsSimulator;
  org: SimOrganization;
  config: Config;
  /** The config as a file, for the built CLI (its secrets are env refs: pass `env` to the child). */
  configFile: string;
  env: NodeJS.ProcessEnv;
  /** The remediate credentials' secret: must never reach the store, a plan or a log. */
  remediateSecret: string;
  logged: string[];
  log: Logger;
  collect(): Promise<{ runId: number; status: string }>;
  plan(opts?: PlanOptions): Plan;
  apply(plan: Plan, opts?: Partial<ApplyOptions>): ReturnType<typeof applyPlan>;
  undo(ref: string): ReturnType<typeof undoActions>;
  db<T>(fn: (db: Db) => T): T;
  /** Write requests the simulator answered (throttled ones included). */
  writes(): number;
  count(action: string): number;
  close(): Promise<void>;
}

export interface FixtureOptions {
  entries?: string;
  sim?: Partial<AwsSimulatorOptions>;
  extraConfig?: string;
  /** Retry backoff of the remediator's SDK clients, ms per attempt (default 2: tests never wait). */
  backoffMs?: number;
}

export const UNUSED_KEYS_ENTRY = `[[remediate]]
name = "unused-keys"
rule = "unused-credential"
action = "deactivate-access-key"
sources = ["aws"]
max_actions_per_run = 1000
`;

export async function remediationFixture(opts: FixtureOptions = {}): Promise<RemediationFixture> {
  const now = new Date();
  const { org, caller } = generateOrganization({
    seed: 11,
    now,
    managementAccountId: MGMT,
    memberRoleName: "WhohasAudit",
    accounts: [
      { id: MGMT, name: "management", users: 3, roles: 5 },
      { id: PROD, name: "prod", users: 6, roles: 7 },
    ],
  });
  const permissions = [...new Set(AWS_IAM_ACTIONS.flatMap((a) => a.permissions))];
  const fixer = addRemediationIdentity(org, MGMT, "WhohasRemediate", permissions);
  // Reports complete on the first request: the collects here wait for nothing.
  for (const a of org.accounts.values()) a.reportPolls = 0;
  const sim = await startAwsSimulator({ org, ...opts.sim });
  const dir = mkdtempSync(join(tmpdir(), "whohas-remediate-"));
  const env = { AUDIT_KEY: caller.accessKeyId, AUDIT_SECRET: caller.secretAccessKey, FIX_KEY: fixer.accessKeyId, FIX_SECRET: fixer.secretAccessKey };
  const text = `[store]
path = "${dir}/whohas.db"
[remediation]
dir = "${dir}/plans"
${opts.extraConfig ?? ""}
[[sources]]
id = "aws"
type = "aws-iam"
access_key_id = "env:AUDIT_KEY"
secret_access_key = "env:AUDIT_SECRET"
member_role_name = "WhohasAudit"
organization = true
endpoints = { iam = "${sim.url}", sts = "${sim.url}", organizations = "${sim.url}" }
[sources.remediate]
access_key_id = "env:FIX_KEY"
secret_access_key = "env:FIX_SECRET"
member_role_name = "WhohasRemediate"

${opts.entries ?? UNUSED_KEYS_ENTRY}`;
  const configFile = join(dir, "whohas.toml");
  writeFileSync(configFile, text, { mode: 0o600 });
  const config = parseConfig(text, configFile, CONNECTORS);
  const logged: string[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void logged.push(`${level} ${JSON.stringify(obj)} ${msg ?? ""}`);
  const log: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  const remediators: RemediatorFactory = (source) => createAwsRemediator(source.id, awsIamOptions.parse(source.remediate!.options), retimed(opts.backoffMs ?? 2));
  const db = <T>(fn: (db: Db) => T): T => {
    const h = openStore(config.store.path);
    try {
      return fn(h);
    } finally {
      h.close();
    }
  };
  const writes = () => WRITE_ACTIONS.reduce((n, a) => n + (sim.actionCounts.get(`iam:${a}`) ?? 0), 0);
  return {
    dir,
    sim,
    org,
    config,
    configFile,
    env,
    remediateSecret: fixer.secretAccessKey,
    logged,
    log,
    async collect() {
      // IAM rebuilds its credential report at most every four hours: age it, as if that much time had passed.
      org.ageCredentialReports(5 * 3_600_000);
      const r = await collect(config, { log, env });
      return { runId: r.runId, status: r.status };
    },
    plan: (o = {}) => db((h) => computePlan(h, config, o)),
    apply: (plan, o = {}) => applyPlan(config, plan, { approver: "alice", log, env, remediators, ...o }),
    undo: (ref) => undoActions(config, ref, { actor: "bob", log, env, remediators }),
    db,
    writes,
    count: (action) => sim.actionCounts.get(`iam:${action}`) ?? 0,
    async close() {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Gives `userName` in `account` an access key created `days` ago, last used 150 days ago: an unused-credential finding. */
export function unusedKey(org: SimOrganization, account: string, userName: string, days = 200): string {
  const created = new Date(Date.now() - days * 86_400_000).toISOString();
  if (!org.account(account).users.has(userName)) org.createUser(account, userName, { createDate: created });
  const id = org.createAccessKey(account, userName, created).accessKeyId;
  org.useAccessKey(account, userName, id, "s3", "us-east-1", new Date(Date.now() - 150 * 86_400_000).toISOString());
  return id;
}

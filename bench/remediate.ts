// `npm run bench -- remediate`: apply of 1,000 access-key deactivations against the AWS simulator at 20 ms
// latency, once sequentially (concurrency 1) and once with the default concurrency, through the real SDK with
// its production (adaptive) retry. The simulator throttles writes per account (`Throttling`), as IAM does;
// reported: wall time, requests per action, throttled writes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONNECTORS } from "../connectors/index.js";
import { AWS_IAM_ACTIONS } from "../connectors/aws-iam/actions.js";
import { addRemediationIdentity, generateOrganization } from "../connectors/aws-iam/sim-tenant.js";
import { startAwsSimulator } from "../connectors/aws-iam/simulator.js";
import type { Logger } from "../src/connector.js";
import { collect } from "../src/collect.js";
import { parseConfig } from "../src/config/load.js";
import { applyPlan } from "../src/remediate/apply.js";
import { computePlan } from "../src/remediate/plan.js";
import { openStore } from "../src/store/db.js";

const KEYS = 1000;
const LATENCY_MS = 20;
const WRITES_PER_SECOND = 25;
const MGMT = "111111111111";
const PROD = "222222222222";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export async function run(): Promise<void> {
  const { org, caller } = generateOrganization({
    seed: 5,
    managementAccountId: MGMT,
    memberRoleName: "WhohasAudit",
    accounts: [
      { id: MGMT, name: "management", users: 2, roles: 5 },
      { id: PROD, name: "prod", users: 2, roles: 6 },
    ],
  });
  const fixer = addRemediationIdentity(org, MGMT, "WhohasRemediate", [...new Set(AWS_IAM_ACTIONS.flatMap((a) => a.permissions))]);
  const created = new Date(Date.now() - 200 * 86_400_000).toISOString();
  const used = new Date(Date.now() - 150 * 86_400_000).toISOString();
  const keys: { user: string; id: string }[] = [];
  for (let i = 0; i < KEYS; i++) {
    const user = `batch-${String(i).padStart(4, "0")}`;
    org.createUser(PROD, user, { createDate: created });
    const id = org.createAccessKey(PROD, user, created).accessKeyId;
    org.useAccessKey(PROD, user, id, "s3", "us-east-1", used);
    keys.push({ user, id });
  }
  for (const a of org.accounts.values()) a.reportPolls = 0;
  const sim = await startAwsSimulator({ org, latencyMs: LATENCY_MS, writesPerSecond: WRITES_PER_SECOND });
  const dir = mkdtempSync(join(tmpdir(), "whohas-bench-remediate-"));
  const env = { AUDIT_KEY: caller.accessKeyId, AUDIT_SECRET: caller.secretAccessKey, FIX_KEY: fixer.accessKeyId, FIX_SECRET: fixer.secretAccessKey };
  const config = parseConfig(
    `[store]\npath = "${dir}/whohas.db"\n[remediation]\ndir = "${dir}/plans"\n[[sources]]\nid = "aws"\ntype = "aws-iam"\naccess_key_id = "env:AUDIT_KEY"\nsecret_access_key = "env:AUDIT_SECRET"\nmember_role_name = "WhohasAudit"\norganization = true\nendpoints = { iam = "${sim.url}", sts = "${sim.url}", organizations = "${sim.url}" }\n[sources.remediate]\naccess_key_id = "env:FIX_KEY"\nsecret_access_key = "env:FIX_SECRET"\nmember_role_name = "WhohasRemediate"\n[[remediate]]\nrule = "unused-credential"\naction = "deactivate-access-key"\nexclude = ["aws/${MGMT}/*"]\nmax_actions_per_run = ${KEYS}\n`,
    join(dir, "whohas.toml"),
    CONNECTORS,
  );
  const counts = () => new Map(sim.actionCounts);
  const delta = (before: Map<string, number>, action: string) => (sim.actionCounts.get(action) ?? 0) - (before.get(action) ?? 0);

  const round = async (concurrency: number) => {
    org.ageCredentialReports(5 * 3_600_000);
    await collect(config, { log: quiet, env });
    const db = openStore(config.store.path);
    const plan = computePlan(db, config);
    db.close();
    config.remediation.concurrency = concurrency;
    const before = counts();
    const throttledBefore = sim.writeThrottled();
    const t0 = performance.now();
    const out = await applyPlan(config, plan, { approver: "bench", log: quiet, env });
    const ms = performance.now() - t0;
    const done = out.outcomes.filter((o) => o.status === "done").length;
    const reads = delta(before, "iam:ListAccessKeys");
    const writes = delta(before, "iam:UpdateAccessKey");
    const sts = delta(before, "sts:GetCallerIdentity") + delta(before, "sts:AssumeRole");
    const throttled = sim.writeThrottled() - throttledBefore;
    console.log(
      `  concurrency ${String(concurrency).padStart(2)}: ${plan.actions.length} actions, ${done} done in ${(ms / 1000).toFixed(1)} s (${(done / (ms / 1000)).toFixed(0)}/s); ` +
        `per action ${(reads / done).toFixed(2)} read + ${((writes - throttled) / done).toFixed(2)} write (+${throttled} throttled write attempts retried, ${sts} STS calls in all)`,
    );
    // Undo at the simulator directly, so the next round starts from the same state without counting.
    for (const k of keys) org.setAccessKeyStatus(PROD, k.user, k.id, "Active");
    return ms;
  };

  console.log(`  ${KEYS} unused keys in one account; simulator latency ${LATENCY_MS} ms, ${WRITES_PER_SECOND} IAM writes/s per account`);
  const sequential = await round(1);
  const parallel = await round(8);
  console.log(`  speed-up with concurrency 8: ${(sequential / parallel).toFixed(2)}×`);
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}

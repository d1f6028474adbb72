// `type = "aws-iam"`: IAM users, roles, groups and root of one account, a list of accounts, or every
// active account of an AWS Organization. One account = one scope; accounts run concurrently.
import { ListAccountsCommand, type Account } from "@aws-sdk/client-organizations";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import pLimit from "p-limit";
import { defineConnector, type CollectContext, type CollectEvent, type Connector, type DemoSetup, type Logger } from "../../src/connector.js";
import { AccountError, collectAccount, type AccountJob } from "./account.js";
import {
  assumeRoleProvider,
  baseCredentials,
  DEFAULT_REGION,
  describeAwsError,
  isCredentialError,
  isTransportError,
  organizationsClient,
  stsClient,
  type ClientSettings,
  type CredentialIdentity,
  type CredentialProvider,
  type SdkTuning,
} from "./client.js";
import { resolveCaller, staticKeysOf } from "./caller.js";
import { createAwsIamEventReader } from "./events.js";
import { principalAccount } from "./policy.js";
import type { AwsIamOptions } from "./options.js";
import { EventQueue } from "./queue.js";
import { createAwsRemediator } from "./remediate.js";

/** Knobs tests turn (retry timing, report polling); not part of the configuration. */
export interface AwsIamTuning extends SdkTuning {
  reportPollBaseMs?: number;
  reportPollMaxMs?: number;
  now?: () => number;
}

const QUEUE_CAPACITY = 8;

interface Plan {
  callerAccount: string;
  callerCredentials: CredentialProvider;
  accounts: AccountJob[];
  internal: Set<string>;
}

/**
 * Whether an account can be collected. `State` replaces the deprecated `Status`; older responses carry only the
 * latter. An account that gives neither is tried: unknown is not inactive, and a failed role hop is named where
 * a skipped account would not be.
 */
function isActive(a: Account): boolean {
  const state = a.State ?? a.Status;
  return state === undefined || state === "ACTIVE";
}

/**
 * The accounts ListAccounts returned that can be scopes: each once, with an id. One without an id (the model
 * makes every member optional) cannot be assumed into or named as a scope: it is skipped and named in the log
 * by what it does carry, so the gap is visible rather than silent.
 */
function usableAccounts(found: Account[], log: Logger): Account[] {
  const seen = new Set<string>();
  const out: Account[] = [];
  const unnamed: string[] = [];
  for (const a of found) {
    if (!a.Id) {
      unnamed.push(a.Arn || a.Name || a.Email || "(an account with no id, ARN, name or email)");
      continue;
    }
    if (seen.has(a.Id)) continue;
    seen.add(a.Id);
    out.push(a);
  }
  if (unnamed.length > 0) log.warn({ accounts: unnamed }, "aws-iam: organizations:ListAccounts returned accounts without an Id; skipped");
  return out;
}

async function discover(opts: AwsIamOptions, settings: ClientSettings, base: CredentialProvider, count: () => void, signal: AbortSignal, sessionName: string, log: Logger): Promise<Plan> {
  const { callerAccount, callerCredentials } = await resolveCaller(opts, settings, base, count, signal, sessionName);

  const excluded = new Set(opts.exclude_accounts);
  const internal = new Set<string>([callerAccount, ...opts.known_accounts]);
  let accounts: AccountJob[];
  if (opts.organization) {
    const org = organizationsClient(settings, callerCredentials, count);
    const found: Account[] = [];
    let token: string | undefined;
    const followed = new Set<string>();
    do {
      try {
        const page = await org.send(new ListAccountsCommand({ MaxResults: 20, ...(token ? { NextToken: token } : {}) }), { abortSignal: signal });
        found.push(...(page.Accounts ?? []));
        token = page.NextToken;
      } catch (err) {
        throw new Error(`organizations:ListAccounts failed: ${describeAwsError(err)}`);
      }
      if (token !== undefined && followed.has(token)) throw new Error("organizations:ListAccounts: a NextToken repeats an earlier page's (pagination loop)");
      if (token !== undefined) followed.add(token);
    } while (token);
    const listed = usableAccounts(found, log);
    for (const a of listed) internal.add(a.Id!);
    const wanted = opts.accounts ? new Set(opts.accounts) : undefined;
    const missing = opts.accounts?.filter((id) => !listed.some((a) => a.Id === id)) ?? [];
    if (missing.length > 0) log.warn({ accounts: missing }, "aws-iam: configured accounts are not in the organization; skipped");
    accounts = listed
      .filter((a) => isActive(a) && !excluded.has(a.Id!) && (!wanted || wanted.has(a.Id!)))
      .map((a) => ({ id: a.Id!, name: a.Name ?? null, email: a.Email ?? null }));
  } else if (opts.accounts) {
    for (const a of opts.accounts) internal.add(a);
    accounts = opts.accounts.filter((a) => !excluded.has(a)).map((id) => ({ id }));
  } else {
    accounts = [{ id: callerAccount }];
  }
  accounts.sort((a, b) => a.id.localeCompare(b.id));
  return { callerAccount, callerCredentials, accounts, internal };
}

export function createAwsIamConnector(sourceId: string, opts: AwsIamOptions, tuning: AwsIamTuning = {}): Connector {
  const region = opts.region ?? DEFAULT_REGION[opts.partition]!;
  const baseSettings: ClientSettings = {
    region,
    endpoints: opts.endpoints ?? {},
    maxAttempts: opts.max_attempts,
    requestTimeoutMs: opts.request_timeout_ms,
    tuning,
  };
  const sessionName = opts.role_session_name;
  return {
    type: "aws-iam",
    async *collect(ctx: CollectContext): AsyncIterable<CollectEvent> {
      // Every SDK client of this collect is destroyed when the engine ends the source.
      const settings: ClientSettings = { ...baseSettings, release: (destroy) => ctx.defer(destroy) };
      const abort = new AbortController();
      const onAbort = () => abort.abort(ctx.signal.reason);
      if (ctx.signal.aborted) onAbort();
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      const signal = abort.signal;
      const queue = new EventQueue<CollectEvent>(QUEUE_CAPACITY);
      try {
        const staticKeys = await staticKeysOf(opts, (ref, key) => ctx.resolveSecret(ref, key));
        // Discovery requests (caller identity, role hop, ListAccounts) happen before any scope is
        // open; they are charged to the caller's account scope (or the first one) once it opens.
        let pendingOverhead = 0;
        let overheadScope: string | undefined;
        const countOverhead = () => {
          if (overheadScope) ctx.countRequest(overheadScope);
          else pendingOverhead++;
        };
        const plan = await discover(opts, settings, baseCredentials(staticKeys, opts.profile), countOverhead, signal, sessionName, ctx.log);
        ctx.log.info({ caller_account: plan.callerAccount, accounts: plan.accounts.length }, "aws-iam: accounts to collect");
        const chargeTo = plan.accounts.some((a) => a.id === plan.callerAccount) ? plan.callerAccount : plan.accounts[0]?.id;

        const limit = pLimit(opts.concurrency);
        const runAccount = async (job: AccountJob) => {
          if (signal.aborted) return;
          const scope = job.id;
          await queue.push({ type: "scope-start", scope, label: job.name ? `${job.name} (${job.id})` : job.id });
          if (scope === chargeTo) {
            overheadScope = scope;
            if (pendingOverhead > 0) ctx.countRequest(scope, pendingOverhead);
            pendingOverhead = 0;
          }
          try {
            const meta = await collectAccount(job, {
              settings,
              partition: opts.partition,
              callerAccount: plan.callerAccount,
              callerCredentials: plan.callerCredentials,
              memberRoleName: opts.member_role_name,
              memberExternalId: opts.member_external_id,
              sessionName,
              internalAccounts: plan.internal,
              emailTag: opts.email_tag,
              report: {
                enabled: opts.credential_report,
                maxAgeMs: opts.credential_report_max_age_hours * 3_600_000,
                waitMs: opts.credential_report_wait_seconds * 1000,
                pollBaseMs: tuning.reportPollBaseMs ?? 1_000,
                pollMaxMs: tuning.reportPollMaxMs ?? 30_000,
              },
              accessKeyIds: opts.access_key_ids,
              signal,
              now: tuning.now ?? Date.now,
              log: ctx.log,
              count: () => ctx.countRequest(scope),
              emit: (ev) => queue.push(ev),
            });
            await queue.push({ type: "scope-end", scope, meta });
          } catch (err) {
            if (signal.aborted) throw err;
            const message = err instanceof AccountError ? err.message : describeAwsError(err);
            await queue.push({ type: "scope-failed", scope, error: `source ${sourceId}, account ${scope}: ${message}` });
          }
        };
        void Promise.all(plan.accounts.map((job) => limit(() => runAccount(job)))).then(
          () => queue.close(),
          (err: unknown) => queue.fail(err),
        );
        for await (const ev of queue) yield ev;
        if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error("aborted");
      } finally {
        ctx.signal.removeEventListener("abort", onAbort);
        // The consumer stopped early or something threw: stop the workers still talking to AWS and
        // release any of them waiting for room in the queue.
        abort.abort();
        queue.close();
      }
    },
  };
}

export const awsIamConnector = defineConnector<AwsIamOptions>({
  create(sourceId, opts): Connector {
    return createAwsIamConnector(sourceId, opts);
  },
  remediator(sourceId, opts) {
    return createAwsRemediator(sourceId, opts);
  },
  events(sourceId, opts) {
    return createAwsIamEventReader(sourceId, opts);
  },
  async demo(dir: string): Promise<DemoSetup> {
    const { startDemo } = await import("./demo.js");
    return startDemo(dir);
  },
});

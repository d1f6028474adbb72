// One AWS account = one scope: credentials into the account, the credential report, two passes of
// GetAccountAuthorizationDetails (policies and groups first, so users and roles stream out already
// classified), records emitted page by page.
import {
  GetAccountAuthorizationDetailsCommand,
  ListAccessKeysCommand,
  type ListAccessKeysCommandOutput,
  type AccessKeyMetadata,
  type EntityType,
  type GetAccountAuthorizationDetailsCommandOutput,
  type GroupDetail,
  type IAMClient,
  type UserDetail,
} from "@aws-sdk/client-iam";
import pLimit from "p-limit";
import { mapEach, type CollectContext, type CollectEvent, type Logger } from "../../src/connector.js";
import { META, type Attributes, type Credential, type Grant, type Principal, type RoleDefinition } from "../../src/model.js";
import { isManagedPolicyGrant, managedPolicyDefinition, unlistedPolicy } from "./roles.js";
import {
  assumeRoleProvider,
  describeAwsError,
  iamClient,
  stsClient,
  type ClientSettings,
  type CredentialProvider,
} from "./client.js";
import { fetchCredentialReport, type FetchedReport } from "./credential-report.js";
import { accountScope, indexGroup, indexManagedPolicy, mapRole, mapRoot, mapRootUnreported, mapUser, type AccountContext, type MappedRole, type MappedUser } from "./map.js";
import { parseCredentialReport, type ReportRow } from "./report.js";

export interface AccountJob {
  id: string;
  name?: string | null;
  email?: string | null;
}

export interface AccountDeps {
  settings: ClientSettings;
  partition: string;
  callerAccount: string;
  callerCredentials: CredentialProvider;
  memberRoleName: string;
  memberExternalId?: string;
  sessionName: string;
  internalAccounts: ReadonlySet<string>;
  emailTag: string;
  report: { enabled: boolean; maxAgeMs: number; waitMs: number; pollBaseMs: number; pollMaxMs: number };
  accessKeyIds: boolean;
  signal: AbortSignal;
  now: () => number;
  log: Logger;
  /** Counts one request against this account's scope. */
  count: () => void;
  emit: (ev: CollectEvent) => Promise<void>;
}

/** A failure of this account, already phrased for the scope's error (AWS code and message included). */
export class AccountError extends Error {
  override name = "AccountError";
}

const PAGE_SIZE = 1000;
const LIST_KEYS_CONCURRENCY = 4;

export function memberRoleArn(partition: string, accountId: string, roleName: string): string {
  // A role name may carry a path ("audit/whohas"): the ARN is role/<path>/<name>.
  return `arn:${partition}:iam::${accountId}:role/${roleName.replace(/^\/+/, "")}`;
}

async function* authorizationDetails(iam: IAMClient, filter: EntityType[], signal: AbortSignal): AsyncGenerator<GetAccountAuthorizationDetailsCommandOutput> {
  let marker: string | undefined;
  const followed = new Set<string>();
  for (;;) {
    let out: GetAccountAuthorizationDetailsCommandOutput;
    try {
      out = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: filter, MaxItems: PAGE_SIZE, ...(marker ? { Marker: marker } : {}) }), { abortSignal: signal });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new AccountError(`iam:GetAccountAuthorizationDetails (${filter.join(",")}) failed: ${describeAwsError(err)}`);
    }
    // The SDK parses any well-formed markup (a proxy's HTML page) into an empty result; IAM always says
    // whether a page is the last. Without that, an empty page would read as "no users".
    if (out.IsTruncated === undefined) {
      throw new AccountError(`iam:GetAccountAuthorizationDetails (${filter.join(",")}) failed: the answer is not an IAM result (no IsTruncated; HTTP ${out.$metadata.httpStatusCode ?? "?"})`);
    }
    yield out;
    marker = nextMarker(`iam:GetAccountAuthorizationDetails (${filter.join(",")})`, out, followed);
    if (marker === undefined) return;
  }
}

/**
 * The Marker of the page after `out`, or undefined after the last page. IAM may return fewer than MaxItems and
 * still be truncated: IsTruncated is the only end marker. A Marker already followed (`followed`, one set per
 * listing) would read the same pages again, forever: the listing fails instead.
 */
function nextMarker(what: string, out: { IsTruncated?: boolean; Marker?: string }, followed: Set<string>): string | undefined {
  if (!out.IsTruncated) return undefined;
  if (!out.Marker) throw new AccountError(`${what}: truncated page without a Marker`);
  if (followed.has(out.Marker)) throw new AccountError(`${what}: the Marker of page ${followed.size + 2} repeats an earlier page's (pagination loop)`);
  followed.add(out.Marker);
  return out.Marker;
}

export type MemberAccess = Pick<AccountDeps, "settings" | "partition" | "callerAccount" | "callerCredentials" | "memberRoleName" | "memberExternalId" | "sessionName" | "signal" | "count">;

/** Credentials inside an account: the caller's own, or the member role assumed from the caller's account. */
export async function accountCredentials(accountId: string, deps: MemberAccess): Promise<{ credentials: CredentialProvider; assumedRole: string | null }> {
  if (accountId === deps.callerAccount) return { credentials: deps.callerCredentials, assumedRole: null };
  const assumedRole = memberRoleArn(deps.partition, accountId, deps.memberRoleName);
  const sts = stsClient(deps.settings, deps.callerCredentials, deps.count);
  const credentials = assumeRoleProvider(sts, { roleArn: assumedRole, externalId: deps.memberExternalId, sessionName: deps.sessionName }, deps.signal);
  try {
    await credentials();
  } catch (err) {
    if (deps.signal.aborted) throw err;
    throw new AccountError(`sts:AssumeRole into ${assumedRole} failed: ${describeAwsError(err)}`);
  }
  return { credentials, assumedRole };
}

export async function collectAccount(job: AccountJob, deps: AccountDeps): Promise<Attributes> {
  const { signal } = deps;
  const scope = job.id;
  const { credentials, assumedRole } = await accountCredentials(job.id, deps);
  const iam = iamClient(deps.settings, credentials, deps.count);

  // The report and the first pass do not depend on each other: run them side by side.
  const reportPromise: Promise<FetchedReport> | undefined = deps.report.enabled
    ? fetchCredentialReport(iam, { ...deps.report, signal, now: deps.now })
    : undefined;
  reportPromise?.catch(() => undefined);

  const ctx: AccountContext = {
    accountId: job.id,
    partition: deps.partition,
    scope: accountScope(job.id),
    accountEmail: job.email ?? null,
    policies: new Map(),
    groups: new Map(),
    internalAccounts: deps.internalAccounts,
    emailTag: deps.emailTag,
  };

  // Pass 1: managed policies and groups (small), so that every user and role can be classified as
  // soon as its page arrives. Groups may come before the policies they use: index them afterwards.
  const rawGroups: GroupDetail[] = [];
  let pages = 0;
  for await (const page of authorizationDetails(iam, ["LocalManagedPolicy", "AWSManagedPolicy", "Group"], signal)) {
    pages++;
    for (const p of page.Policies ?? []) {
      const info = indexManagedPolicy(p);
      if (info) ctx.policies.set(info.arn, info);
    }
    rawGroups.push(...(page.GroupDetailList ?? []));
  }
  for (const g of rawGroups) {
    const info = indexGroup(ctx, g);
    if (info) ctx.groups.set(info.name, info);
  }

  let report: FetchedReport | undefined;
  const rows = new Map<string, ReportRow>();
  if (reportPromise) {
    try {
      report = await reportPromise;
    } catch (err) {
      if (signal.aborted) throw err;
      // Without the report every password and key would look removed: fail the scope instead.
      throw new AccountError(err instanceof Error ? err.message : String(err));
    }
    let parsed: ReportRow[];
    try {
      parsed = parseCredentialReport(report.csv);
    } catch (err) {
      throw new AccountError(`credential report could not be parsed: ${(err as Error).message}`);
    }
    for (const row of parsed) {
      if (row.isRoot) {
        const root = mapRoot(ctx, row);
        await deps.emit({ type: "records", scope, principals: [root.principal], credentials: root.credentials });
      } else rows.set(row.arn, row);
    }
    if (report.stale) deps.log.warn({ account: job.id, generatedAt: report.generatedAt }, "using an older credential report: AWS would not generate a new one in time");
  } else {
    await deps.emit({ type: "records", scope, principals: [mapRootUnreported(ctx)] });
  }

  // Pass 2: users and roles, one batch of records per page.
  const listKeys = pLimit(LIST_KEYS_CONCURRENCY);
  const externalSeen = new Set<string>();
  let users = 0;
  let roleCount = 0;
  let externalTrusts = 0;
  // Definitions already sent this scope: each policy is described once, with the first page that holds it.
  const described = new Set<string>();
  const describe = (roles: RoleDefinition[], grants: Grant[], out: RoleDefinition[]) => {
    for (const r of roles) if (!described.has(r.id)) (described.add(r.id), out.push(r));
    for (const g of grants) {
      if (described.has(g.privilege) || !isManagedPolicyGrant(g)) continue;
      described.add(g.privilege);
      const d = managedPolicyDefinition(ctx.policies.get(g.privilege) ?? unlistedPolicy(g));
      if (d) out.push(d);
    }
  };
  for await (const page of authorizationDetails(iam, ["User", "Role"], signal)) {
    pages++;
    const principals: Principal[] = [];
    const creds: Credential[] = [];
    const grants: Grant[] = [];
    const roles: RoleDefinition[] = [];
    const pageUsers = page.UserDetailList ?? [];
    if (deps.accessKeyIds && report) {
      ctx.accessKeys = await listAccessKeys(iam, pageUsers.flatMap((u) => (u.UserName && (rows.get(u.Arn ?? "")?.keys.length ?? 0) > 0 ? [u.UserName] : [])), listKeys, signal);
    }
    const quarantined: CollectEvent[] = [];
    const mapped = mapPrincipalPage(ctx, page, (u) => (report ? rows.get(u.Arn ?? "") : undefined), {
      quarantine: (s, note) => quarantined.push({ type: "quarantine", scope: s, note }),
    });
    for (const m of mapped.users) {
      users++;
      principals.push(m.principal);
      describe(m.roles ?? [], m.grants, roles);
      // Without the report there is nothing to say about passwords and keys (not "none").
      if (report) creds.push(...m.credentials);
      grants.push(...m.grants);
    }
    for (const m of mapped.roles) {
      roleCount++;
      principals.push(m.principal);
      grants.push(...m.grants);
      describe(m.roles, m.grants, roles);
      for (const e of m.external) {
        externalTrusts++;
        if (!externalSeen.has(e.principal.id)) {
          externalSeen.add(e.principal.id);
          principals.push(e.principal);
        }
        if (e.grant) grants.push(e.grant);
      }
    }
    for (const q of quarantined) await deps.emit(q);
    await deps.emit({ type: "records", scope, principals, credentials: creds, grants, roles });
  }

  const meta: Attributes = {
    account_id: job.id,
    account_name: job.name ?? null,
    partition: deps.partition,
    assumed_role: assumedRole,
    users,
    roles: roleCount,
    groups: ctx.groups.size,
    managed_policies: ctx.policies.size,
    external_trusts: externalTrusts,
    authorization_details_pages: pages,
    credential_report: deps.report.enabled,
  };
  if (report) {
    meta.credential_report_generated_at = report.generatedAt;
    // Last-used values are as fresh as the report: rules say so next to every unused-key finding.
    meta[META.activityAsOf] = report.generatedAt;
    meta.credential_report_age_seconds = Math.max(0, Math.round((deps.now() - Date.parse(report.generatedAt)) / 1000));
    meta.credential_report_generated_now = report.generatedNow;
    meta.credential_report_stale = report.stale;
  }
  return meta;
}

/**
 * The users and roles of one GetAccountAuthorizationDetails page, one at a time (mapEach): a user or role that
 * cannot be mapped is quarantined in the account's scope under its id, and the page's others are kept. The
 * model marks UserId/UserName and RoleId/RoleName optional; skipping such a record would read as one principal
 * fewer (removed), so it is quarantined too.
 */
export function mapPrincipalPage(
  ctx: AccountContext,
  page: Pick<GetAccountAuthorizationDetailsCommandOutput, "UserDetailList" | "RoleDetailList">,
  reportRow: (u: UserDetail) => ReportRow | undefined,
  sink: Pick<CollectContext, "quarantine">,
): { users: MappedUser[]; roles: MappedRole[] } {
  const scope = ctx.accountId;
  const idOf = (id: unknown) => ({ id: typeof id === "string" && id !== "" ? id : null });
  const users = mapEach(sink, scope, "principals", page.UserDetailList ?? [], (u) => mapUser(ctx, u, reportRow(u)) ?? unnamed("user", u.UserId, u.Arn ?? u.UserName), (u) => idOf(u.UserId));
  const roles = mapEach(sink, scope, "principals", page.RoleDetailList ?? [], (r) => mapRole(ctx, r) ?? unnamed("role", r.RoleId, r.Arn ?? r.RoleName), (r) => idOf(r.RoleId));
  return { users, roles };
}

function unnamed(what: "user" | "role", id: string | undefined, where: string | undefined): never {
  const missing = id ? (what === "user" ? "UserName" : "RoleName") : what === "user" ? "UserId" : "RoleId";
  throw new Error(`GetAccountAuthorizationDetails returned a ${what} without ${missing} (${where ?? "no ARN"})`);
}

async function listAccessKeys(
  iam: IAMClient,
  userNames: string[],
  limit: ReturnType<typeof pLimit>,
  signal: AbortSignal,
): Promise<Map<string, AccessKeyMetadata[]>> {
  const out = new Map<string, AccessKeyMetadata[]>();
  await Promise.all(
    userNames.map((userName) =>
      limit(async () => {
        // The model pages ListAccessKeys like every IAM list (IsTruncated/Marker), though AWS allows two keys:
        // a key on a later page would be matched to no report slot and read as removed.
        const keys: AccessKeyMetadata[] = [];
        const followed = new Set<string>();
        let marker: string | undefined;
        do {
          let r: ListAccessKeysCommandOutput;
          try {
            r = await iam.send(new ListAccessKeysCommand({ UserName: userName, ...(marker ? { Marker: marker } : {}) }), { abortSignal: signal });
          } catch (err) {
            if (signal.aborted) throw err;
            throw new AccountError(`iam:ListAccessKeys for ${userName} failed: ${describeAwsError(err)}`);
          }
          for (const k of r.AccessKeyMetadata ?? []) {
            // A key listed under another user would be matched to this user's report slots: a credential on the wrong person.
            if (k.UserName !== undefined && k.UserName !== userName) {
              throw new AccountError(`iam:ListAccessKeys for ${userName} answered about another user (${k.UserName}); not trusted`);
            }
            keys.push(k);
          }
          marker = nextMarker(`iam:ListAccessKeys for ${userName}`, r, followed);
        } while (marker !== undefined);
        out.set(userName, keys);
      }),
    ),
  );
  return out;
}

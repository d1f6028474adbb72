// The aws-iam remediator: deactivate an access key, quarantine a user or role with AWSDenyAll, remove a user
// from a group, each with its undo. Runs with the remediate block's credentials: its own keys, profile or role,
// then the member role (member_role_name of the remediate block) in every account but its own. One read
// (inspect) and one write per action; the key id inspect found is reused by apply.
import {
  AddUserToGroupCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  RemoveUserFromGroupCommand,
  UpdateAccessKeyCommand,
  type IAMClient,
} from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import type { Attributes } from "../../src/model.js";
import type { ActionRequest, ActionType, ApplyResult, ObservedState, RemediationContext, Remediator, UndoResult } from "../../src/remediate/contract.js";
import { memberRoleArn } from "./account.js";
import { assumeRoleProvider, awsErrorCode, baseCredentials, DEFAULT_REGION, describeAwsError, iamClient, stsClient, type ClientSettings, type CredentialIdentity, type CredentialProvider } from "./client.js";
import type { AwsIamTuning } from "./index.js";
import type { AwsIamOptions } from "./options.js";
import { principalAccount } from "./policy.js";

const SUPPORTED: readonly ActionType[] = ["deactivate-access-key", "quarantine-principal", "remove-group-member"];

export class AwsRemediationError extends Error {
  override name = "AwsRemediationError";
}

/** The caller's account and credentials, established once per apply. */
interface Session {
  callerAccount: string;
  callerCredentials: CredentialProvider;
  clients: Map<string, IAMClient>;
}

function requestIdOf(out: { $metadata?: { requestId?: string; httpStatusCode?: number } }): string {
  return `HTTP ${out.$metadata?.httpStatusCode ?? "?"}${out.$metadata?.requestId ? `, request ${out.$metadata.requestId}` : ""}`;
}

function isRole(request: ActionRequest): boolean {
  const arn = request.target.principal.attributes.arn;
  return typeof arn === "string" && /:role\//.test(arn);
}

/** The creation time a key's stored id carries when ListAccessKeys was not used at collect time. */
function createdAtOfKeyId(id: string): number | undefined {
  const m = /\/access-key\/(.+)$/.exec(id);
  if (!m || m[1]!.startsWith("slot-")) return undefined;
  const t = Date.parse(m[1]!);
  return Number.isNaN(t) ? undefined : t;
}

export function createAwsRemediator(sourceId: string, opts: AwsIamOptions, tuning: AwsIamTuning = {}): Remediator {
  const partition = opts.partition;
  const denyAll = `arn:${partition}:iam::aws:policy/AWSDenyAll`;
  let session: Promise<Session> | undefined;
  // Key ids inspect resolved from stored creation times: apply needs no second read.
  const keyIds = new Map<string, string>();

  const settingsOf = (ctx: RemediationContext): ClientSettings => ({
    region: opts.region ?? DEFAULT_REGION[partition]!,
    endpoints: opts.endpoints ?? {},
    maxAttempts: opts.max_attempts,
    requestTimeoutMs: opts.request_timeout_ms,
    ...(tuning.retryStrategy ? { tuning: { retryStrategy: tuning.retryStrategy } } : {}),
    release: (destroy) => ctx.defer(destroy),
  });

  const start = (ctx: RemediationContext, scope: string): Promise<Session> => {
    session ??= (async () => {
      const settings = settingsOf(ctx);
      const count = () => ctx.countRequest(scope);
      let keys: CredentialIdentity | undefined;
      if (opts.access_key_id && opts.secret_access_key) {
        keys = {
          accessKeyId: await ctx.resolveSecret(opts.access_key_id, "access_key_id"),
          secretAccessKey: await ctx.resolveSecret(opts.secret_access_key, "secret_access_key"),
          ...(opts.session_token ? { sessionToken: await ctx.resolveSecret(opts.session_token, "session_token") } : {}),
        };
      }
      const base = baseCredentials(keys, opts.profile);
      if (opts.role_arn) {
        const creds = assumeRoleProvider(stsClient(settings, base, count), { roleArn: opts.role_arn, externalId: opts.external_id, sessionName: opts.role_session_name }, ctx.signal);
        return { callerAccount: principalAccount(opts.role_arn)!, callerCredentials: creds, clients: new Map() };
      }
      const id = await stsClient(settings, base, count).send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal });
      return { callerAccount: id.Account ?? "", callerCredentials: base, clients: new Map() };
    })();
    // A failed start is not cached: the next action tries again.
    session.catch(() => (session = undefined));
    return session;
  };

  const clientFor = async (ctx: RemediationContext, scope: string): Promise<IAMClient> => {
    const s = await start(ctx, scope);
    let client = s.clients.get(scope);
    if (!client) {
      const settings = settingsOf(ctx);
      const count = () => ctx.countRequest(scope);
      let credentials = s.callerCredentials;
      if (scope !== s.callerAccount) {
        const roleArn = memberRoleArn(partition, scope, opts.member_role_name);
        credentials = assumeRoleProvider(stsClient(settings, s.callerCredentials, count), { roleArn, externalId: opts.member_external_id, sessionName: opts.role_session_name }, ctx.signal);
      }
      client = iamClient(settings, credentials, count);
      s.clients.set(scope, client);
    }
    return client;
  };

  const fail = (what: string, err: unknown): never => {
    throw new AwsRemediationError(`source ${sourceId}: ${what}: ${describeAwsError(err)}`);
  };
  const userName = (r: ActionRequest) => r.target.principal.name;

  async function findKey(ctx: RemediationContext, r: ActionRequest): Promise<{ id: string; status: string } | undefined> {
    const iam = await clientFor(ctx, r.target.scope);
    const cred = r.target.credential!;
    const out = await iam.send(new ListAccessKeysCommand({ UserName: userName(r) }), { abortSignal: ctx.signal }).catch((err: unknown) => {
      if (awsErrorCode(err) === "NoSuchEntity") return undefined;
      return fail(`iam:ListAccessKeys ${userName(r)}`, err);
    });
    if (!out) return undefined;
    const known = typeof cred.attributes.access_key_id === "string" ? cred.attributes.access_key_id : keyIds.get(cred.id);
    const created = createdAtOfKeyId(cred.id);
    const match = (out.AccessKeyMetadata ?? []).find((k) => (known ? k.AccessKeyId === known : created !== undefined && k.CreateDate !== undefined && Math.abs(k.CreateDate.getTime() - created) < 1000));
    if (!match?.AccessKeyId) return undefined;
    keyIds.set(cred.id, match.AccessKeyId);
    return { id: match.AccessKeyId, status: match.Status ?? "" };
  }

  async function attached(ctx: RemediationContext, r: ActionRequest): Promise<string[] | undefined> {
    const iam = await clientFor(ctx, r.target.scope);
    const name = r.target.principal.name;
    const arns: string[] = [];
    let marker: string | undefined;
    try {
      do {
        const out = isRole(r)
          ? await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name, MaxItems: 1000, ...(marker ? { Marker: marker } : {}) }), { abortSignal: ctx.signal })
          : await iam.send(new ListAttachedUserPoliciesCommand({ UserName: name, MaxItems: 1000, ...(marker ? { Marker: marker } : {}) }), { abortSignal: ctx.signal });
        for (const p of out.AttachedPolicies ?? []) if (p.PolicyArn) arns.push(p.PolicyArn);
        marker = out.IsTruncated ? out.Marker : undefined;
      } while (marker);
    } catch (err) {
      if (awsErrorCode(err) === "NoSuchEntity") return undefined;
      return fail(`iam:ListAttached${isRole(r) ? "Role" : "User"}Policies ${name}`, err);
    }
    return arns;
  }

  async function groupsOf(ctx: RemediationContext, r: ActionRequest): Promise<string[] | undefined> {
    const iam = await clientFor(ctx, r.target.scope);
    const names: string[] = [];
    let marker: string | undefined;
    try {
      do {
        const out = await iam.send(new ListGroupsForUserCommand({ UserName: userName(r), MaxItems: 1000, ...(marker ? { Marker: marker } : {}) }), { abortSignal: ctx.signal });
        for (const g of out.Groups ?? []) if (g.GroupName) names.push(g.GroupName);
        marker = out.IsTruncated ? out.Marker : undefined;
      } while (marker);
    } catch (err) {
      if (awsErrorCode(err) === "NoSuchEntity") return undefined;
      return fail(`iam:ListGroupsForUser ${userName(r)}`, err);
    }
    return names;
  }

  const groupOf = (r: ActionRequest): string => {
    const g = r.target.grant?.attributes.group;
    if (typeof g !== "string") throw new AwsRemediationError(`source ${sourceId}: remove-group-member needs the group in the target's grant`);
    return g;
  };

  return {
    supports: SUPPORTED,

    async inspect(ctx, r): Promise<ObservedState> {
      switch (r.type) {
        case "deactivate-access-key": {
          if (!r.target.credential) throw new AwsRemediationError("deactivate-access-key needs a credential target");
          const key = await findKey(ctx, r);
          if (!key) return { state: "gone", detail: `no such access key of ${userName(r)} any more` };
          if (key.status === "Inactive") return { state: "already-done", detail: `access key …${key.id.slice(-4)} is Inactive`, undo: { user_name: userName(r), access_key_id: key.id, status: "Active" } };
          return { state: "ready", detail: `access key …${key.id.slice(-4)} is Active` };
        }
        case "quarantine-principal": {
          if (r.target.principal.attributes.service_linked === true) throw new AwsRemediationError(`${r.target.principal.name} is a service-linked role: AWS does not allow attaching policies to it`);
          const arns = await attached(ctx, r);
          if (!arns) return { state: "gone", detail: `${isRole(r) ? "role" : "user"} ${r.target.principal.name} no longer exists` };
          if (arns.includes(denyAll)) return { state: "already-done", detail: "AWSDenyAll is attached", undo: { kind: isRole(r) ? "role" : "user", name: r.target.principal.name, policy_arn: denyAll } };
          return { state: "ready", detail: "AWSDenyAll is not attached" };
        }
        case "remove-group-member": {
          const group = groupOf(r);
          const groups = await groupsOf(ctx, r);
          if (!groups) return { state: "gone", detail: `user ${userName(r)} no longer exists` };
          if (!groups.includes(group)) return { state: "already-done", detail: `${userName(r)} is not in group ${group}`, undo: { user_name: userName(r), group } };
          return { state: "ready", detail: `${userName(r)} is in group ${group}` };
        }
        default:
          throw new AwsRemediationError(`aws-iam cannot take ${r.type}`);
      }
    },

    async apply(ctx, r): Promise<ApplyResult> {
      const iam = await clientFor(ctx, r.target.scope);
      try {
        switch (r.type) {
          case "deactivate-access-key": {
            const key = keyIds.get(r.target.credential!.id) ?? (typeof r.target.credential!.attributes.access_key_id === "string" ? r.target.credential!.attributes.access_key_id : (await findKey(ctx, r))?.id);
            if (!key) throw new AwsRemediationError(`no such access key of ${userName(r)} any more`);
            const out = await iam.send(new UpdateAccessKeyCommand({ UserName: userName(r), AccessKeyId: key, Status: "Inactive" }), { abortSignal: ctx.signal });
            return { status: "done", undo: { user_name: userName(r), access_key_id: key, status: "Active" }, answer: `UpdateAccessKey …${key.slice(-4)} Inactive (${requestIdOf(out)})` };
          }
          case "quarantine-principal": {
            const name = r.target.principal.name;
            const out = isRole(r)
              ? await iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: denyAll }), { abortSignal: ctx.signal })
              : await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: denyAll }), { abortSignal: ctx.signal });
            return { status: "done", undo: { kind: isRole(r) ? "role" : "user", name, policy_arn: denyAll }, answer: `Attach${isRole(r) ? "Role" : "User"}Policy AWSDenyAll (${requestIdOf(out)})` };
          }
          case "remove-group-member": {
            const group = groupOf(r);
            const out = await iam.send(new RemoveUserFromGroupCommand({ UserName: userName(r), GroupName: group }), { abortSignal: ctx.signal });
            return { status: "done", undo: { user_name: userName(r), group }, answer: `RemoveUserFromGroup ${group} (${requestIdOf(out)})` };
          }
          default:
            throw new AwsRemediationError(`aws-iam cannot take ${r.type}`);
        }
      } catch (err) {
        if (err instanceof AwsRemediationError) throw err;
        return fail(`${r.type} ${r.target.principal.name}`, err);
      }
    },

    async undo(ctx, r, undo: Attributes): Promise<UndoResult> {
      const iam = await clientFor(ctx, r.target.scope);
      const str = (k: string) => {
        const v = undo[k];
        if (typeof v !== "string") throw new AwsRemediationError(`undo data of ${r.type} lacks ${k}`);
        return v;
      };
      try {
        switch (r.type) {
          case "deactivate-access-key": {
            const out = await iam.send(new UpdateAccessKeyCommand({ UserName: str("user_name"), AccessKeyId: str("access_key_id"), Status: "Active" }), { abortSignal: ctx.signal });
            return { status: "done", answer: `UpdateAccessKey …${str("access_key_id").slice(-4)} Active (${requestIdOf(out)})` };
          }
          case "quarantine-principal": {
            const out =
              str("kind") === "role"
                ? await iam.send(new DetachRolePolicyCommand({ RoleName: str("name"), PolicyArn: str("policy_arn") }), { abortSignal: ctx.signal })
                : await iam.send(new DetachUserPolicyCommand({ UserName: str("name"), PolicyArn: str("policy_arn") }), { abortSignal: ctx.signal });
            return { status: "done", answer: `Detach${str("kind") === "role" ? "Role" : "User"}Policy AWSDenyAll (${requestIdOf(out)})` };
          }
          case "remove-group-member": {
            const out = await iam.send(new AddUserToGroupCommand({ UserName: str("user_name"), GroupName: str("group") }), { abortSignal: ctx.signal });
            return { status: "done", answer: `AddUserToGroup ${str("group")} (${requestIdOf(out)})` };
          }
          default:
            throw new AwsRemediationError(`aws-iam cannot undo ${r.type}`);
        }
      } catch (err) {
        if (err instanceof AwsRemediationError) throw err;
        if (r.type === "quarantine-principal" && awsErrorCode(err) === "NoSuchEntity") return { status: "already-done", answer: "AWSDenyAll was no longer attached" };
        return fail(`undo ${r.type} ${r.target.principal.name}`, err);
      }
    },
  };
}

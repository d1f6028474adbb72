// `type = "google-workspace"`: users, admin roles, 2-Step Verification, last login, and optionally OAuth
// grants and app passwords of one Google Workspace customer (one scope), read through the Admin SDK
// Directory API with domain-wide delegation; optionally Google Cloud service accounts and keys per project.
import { GoogleAuth, JWT, type AuthClient } from "google-auth-library";
import pLimit from "p-limit";
import { defineConnector, mapEach, type CollectContext, type CollectEvent, type Connector } from "../../src/connector.js";
import { grantId, type Credential, type Grant } from "../../src/model.js";
import { createAuth, parseServiceAccountKey, type AuthResult } from "./auth.js";
import { allRoles, directoryClient, roleAssignmentPages, userAsps, userPages, userTokens, type Directory } from "./client.js";
import { describeGoogleError, type DelegationContext } from "./errors.js";
import { collectProject, IAM_ROOT } from "./gcp.js";
import { mapAsp, mapRoleAssignment, mapToken, mapUser } from "./map.js";
import { adminRoleDefinition } from "./roles.js";
import { directoryScopes, SCOPE_URLS, type GoogleWorkspaceOptions } from "./options.js";
import { collectFetch } from "../../src/collect-fetch.js";
import { googleFeedReader } from "./feed.js";
import { hooksFor } from "./hooks.js";
import { createGoogleRemediator } from "./remediate.js";
import { instrumentTransport, RateGate } from "./transport.js";

export const googleWorkspaceConnector = defineConnector<GoogleWorkspaceOptions>({
  create(sourceId, opts): Connector {
    return {
      type: "google-workspace",
      async *collect(ctx) {
        const http = collectFetch(ctx);
        // Projects first: an admin role held by one of their service accounts then lands on that account
        // (the engine joins a holder to the principal of the same id in a scope this run already collected).
        for (const project of opts.gcp_projects) yield* collectGcp(sourceId, opts, project, ctx, http);
        yield* collectCustomer(sourceId, opts, ctx, http);
      },
    };
  },
  remediator: (_sourceId, opts) => createGoogleRemediator(opts),
  events: (sourceId, options) => googleFeedReader(sourceId, options),
  async demo(dir) {
    const { startDemo } = await import("./demo.js");
    return startDemo(dir);
  },
});

async function* collectCustomer(sourceId: string, opts: GoogleWorkspaceOptions, ctx: CollectContext, http: typeof globalThis.fetch): AsyncGenerator<CollectEvent> {
  const scope = opts.customer;
  yield { type: "scope-start", scope, label: `Google Workspace ${opts.customer} as ${opts.subject}` };
  const scopes = directoryScopes(opts);
  const delegation: DelegationContext = { subject: opts.subject, scopes, customer: opts.customer };
  let stage = "authentication";
  const fail = (err: unknown): CollectEvent => ({
    type: "scope-failed",
    scope,
    error: `source ${sourceId}: Google Workspace customer ${opts.customer}: ${describeGoogleError(stage, err, delegation)}`,
  });
  try {
    const keyJson = opts.credentials ? await ctx.resolveSecret(opts.credentials, "credentials") : undefined;
    // A burst of 1/20 of the minute's budget: any 60 s window stays under requests_per_minute × 1.05.
    const gate = new RateGate(opts.requests_per_minute, Math.max(opts.concurrency, Math.floor(opts.requests_per_minute / 20)));
    const auth: AuthResult = await createAuth(
      { keyJson, serviceAccount: opts.service_account, subject: opts.subject, scopes, iamCredentialsRoot: opts.iam_credentials_url },
      hooksFor(scope, opts, ctx, http, gate),
    );
    delegation.clientId = auth.clientId;
    const dir = directoryClient(auth.client, opts.root_url);

    const meta = {
      customerId: null as string | null,
      users: 0,
      suspended: 0,
      archived: 0,
      superAdmins: 0,
      delegatedAdmins: 0,
      neverLoggedIn: 0,
      withoutTwoStep: 0,
      oauthGrants: 0,
      appPasswords: 0,
      usersGoneDuringCollect: 0,
      roles: 0,
      roleAssignments: 0,
      groupRoleAssignments: 0,
    };
    const limit = pLimit(opts.concurrency);
    stage = "users.list";
    for await (const page of userPages(dir, { customer: opts.customer, pageSize: opts.page_size, customSchemas: opts.custom_schemas })) {
      const principals = mapEach(ctx, scope, "principals", page, mapUser, (u) => ({ id: typeof u?.id === "string" ? u.id : null }));
      for (const u of page) {
        meta.customerId ??= u.customerId ?? null;
        meta.users++;
        if (u.suspended) meta.suspended++;
        if (u.archived) meta.archived++;
        if (u.isAdmin) meta.superAdmins++;
        if (u.isDelegatedAdmin) meta.delegatedAdmins++;
        if (u.isEnrolledIn2Sv === false) meta.withoutTwoStep++;
      }
      for (const p of principals) if (p.lastActive?.known && p.lastActive.at === null) meta.neverLoggedIn++;
      yield { type: "records", scope, principals };
      if (opts.collect_oauth_tokens || opts.collect_app_passwords) {
        stage = "per-user tokens.list / asps.list";
        const credentials = await perUserCredentials(dir, principals.map((p) => p.id), opts, limit, meta, ctx, scope);
        if (credentials.length) yield { type: "records", scope, credentials };
        stage = "users.list";
      }
    }

    stage = "roles.list";
    const roles = await allRoles(dir, opts.customer);
    meta.roles = roles.size;
    stage = "roleAssignments.list";
    const heldRoles = new Set<string>();
    // The first assignment of a holder, role and scope keeps the grant id it had before roleAssignmentId became
    // part of it, so upgrading shows no removed-and-added grants; only a further assignment of the same (each is
    // its own object, deleted alone) is told apart by its roleAssignmentId.
    const firstOfKind = new Set<string>();
    const distinct = (g: Grant): Grant => {
      const base = grantId({ ...g, instance: undefined });
      if (firstOfKind.has(base)) return g;
      firstOfKind.add(base);
      const { instance: _instance, ...first } = g;
      return first;
    };
    for await (const page of roleAssignmentPages(dir, opts.customer)) {
      const grants: Grant[] = mapEach(ctx, scope, "grants", page, (a) => mapRoleAssignment(a, a.roleId ? roles.get(a.roleId) : undefined), (a) => ({
        principalId: typeof a?.assignedTo === "string" ? a.assignedTo : null,
      })).map(distinct);
      for (const g of grants) {
        meta.roleAssignments++;
        if (g.attributes?.assigneeType === "GROUP") meta.groupRoleAssignments++;
      }
      if (grants.length) yield { type: "records", scope, grants };
      for (const g of grants) if (typeof g.attributes?.roleId === "string") heldRoles.add(g.attributes.roleId);
    }
    // What each role somebody holds permits: from roles.list above, no further call.
    const held = [...heldRoles].sort().flatMap((id) => roles.get(id) ?? []);
    const definitions = mapEach(ctx, scope, "roles", held, adminRoleDefinition, (r) => ({ id: r.roleId ? String(r.roleId) : null }));
    if (definitions.length) yield { type: "records", scope, roles: definitions };

    yield {
      type: "scope-end",
      scope,
      meta: {
        ...meta,
        authMode: auth.mode,
        // Absent credentials mean "not collected" when these are false, not "revoked".
        oauthTokensCollected: opts.collect_oauth_tokens,
        appPasswordsCollected: opts.collect_app_passwords,
        // Google documents lastLoginTime as lagging; the store must not treat a regression as dormancy.
        lastLoginLagHours: 24,
      },
    };
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
    yield fail(err);
  }
}

async function perUserCredentials(
  dir: Directory,
  userIds: string[],
  opts: GoogleWorkspaceOptions,
  limit: ReturnType<typeof pLimit>,
  meta: { oauthGrants: number; appPasswords: number; usersGoneDuringCollect: number },
  ctx: Pick<CollectContext, "quarantine" | "signal">,
  scope: string,
): Promise<Credential[]> {
  const signal = ctx.signal;
  const out: Credential[] = [];
  let failure: { error: unknown } | undefined;
  // After the first failure (or an abort) queued calls return at once: one user's failure fails the scope,
  // and spending quota on the rest would be a lost cause. Every task still settles.
  const run = (fn: () => Promise<void>) =>
    limit(async () => {
      if (failure || signal.aborted) return;
      try {
        await fn();
      } catch (error) {
        failure ??= { error };
      }
    });
  const tasks: Promise<void>[] = [];
  for (const id of userIds) {
    if (opts.collect_oauth_tokens) {
      tasks.push(
        run(async () => {
          const tokens = await userTokens(dir, id);
          if (!tokens) return void meta.usersGoneDuringCollect++;
          const mapped = mapEach(ctx, scope, "credentials", tokens, (t) => mapToken(id, t), () => ({ principalId: id, kind: "oauth_grant" }));
          out.push(...mapped);
          meta.oauthGrants += mapped.length;
        }),
      );
    }
    if (opts.collect_app_passwords) {
      tasks.push(
        run(async () => {
          const asps = await userAsps(dir, id);
          if (!asps) return void meta.usersGoneDuringCollect++;
          const mapped = mapEach(ctx, scope, "credentials", asps, (a) => mapAsp(id, a), () => ({ principalId: id, kind: "app_password" }));
          out.push(...mapped);
          meta.appPasswords += mapped.length;
        }),
      );
    }
  }
  await Promise.all(tasks);
  if (signal.aborted) throw signal.reason;
  if (failure) throw failure.error;
  // Per-user calls finish in any order; sort so batches are reproducible.
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

async function* collectGcp(sourceId: string, opts: GoogleWorkspaceOptions, project: string, ctx: CollectContext, http: typeof globalThis.fetch): AsyncGenerator<CollectEvent> {
  const scope = `gcp:${project}`;
  yield { type: "scope-start", scope, label: `Google Cloud project ${project}` };
  try {
    const hooks = hooksFor(scope, opts, ctx, http);
    const scopes = [SCOPE_URLS.cloud];
    let client: AuthClient;
    if (opts.credentials) {
      // The service account's own identity, not the impersonated admin: IAM roles are granted to it.
      const key = parseServiceAccountKey(await ctx.resolveSecret(opts.credentials, "credentials"));
      client = new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, scopes });
    } else {
      client = await new GoogleAuth({ scopes }).getClient();
    }
    instrumentTransport(client, hooks);
    const it = collectProject(client, project, scope, opts.iam_url ?? IAM_ROOT, new Date(), ctx);
    let r = await it.next();
    while (!r.done) {
      yield r.value;
      r = await it.next();
    }
    yield { type: "scope-end", scope, meta: { serviceAccounts: r.value.serviceAccounts, userManagedKeys: r.value.userManagedKeys } };
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
    const msg = describeGoogleError("IAM serviceAccounts / keys list", err, { subject: "(service account identity)", scopes: [SCOPE_URLS.cloud], customer: opts.customer });
    yield {
      type: "scope-failed",
      scope,
      error: `source ${sourceId}: Google Cloud project ${project}: ${msg} (the identity needs roles/iam.serviceAccountViewer on the project)`,
    };
  }
}

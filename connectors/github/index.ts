// `type = "github"`: organizations on GitHub.com / Enterprise Cloud / Enterprise Server. One org is one
// scope; an Enterprise Server instance adds an `instance:HOST` scope for site admins and suspensions.
import { preserveFor } from "./preserve.js";
import { defineConnector, type CollectContext, type CollectEvent, type Connector } from "../../src/connector.js";
import { collectFetch } from "../../src/collect-fetch.js";
import type { Attributes } from "../../src/model.js";
import { withRoleDefinitions } from "./roles.js";
import { DEFAULT_BASE_URL, DEFAULT_DEPS, describeError, type ClientDeps, type GithubClient } from "./client.js";
import { clientMaker, installationIdOf, orgClient, resolveGithubSecret, type GithubSecret } from "./connect.js";
import { createGithubEventReader } from "./events.js";
import { collectInstance, type InstanceUsersMode } from "./instance.js";
import { collectOrg, type OrgSettings } from "./org.js";
import type { GithubOptions } from "./options.js";
import { createGithubRemediator } from "./remediate.js";

function settingsOf(o: GithubOptions): OrgSettings {
  return {
    authKind: o.token !== undefined ? "token" : "app",
    collectTeams: o.collect_teams,
    collectRepoGrants: o.collect_repo_grants,
    collaboratorRepos: o.collaborator_repos,
    collectDeployKeys: o.collect_deploy_keys,
    collectInvitations: o.collect_invitations,
    collectPats: o.collect_pats,
    collectCredentialAuthorizations: o.collect_credential_authorizations,
    collectInstallations: o.collect_installations,
    mfaInsecure: o.mfa_insecure,
    auditLog: o.audit_log,
    auditLogDays: o.audit_log_days,
    auditLogMaxPages: o.audit_log_max_pages,
    concurrency: o.concurrency,
  };
}

/** Everything the connector takes from outside besides options; tests replace the clock and retry base. */
export interface ConnectorDeps extends ClientDeps {
  now: () => Date;
}

const DEFAULTS: ConnectorDeps = { ...DEFAULT_DEPS, now: () => new Date() };

export function createGithubConnector(sourceId: string, opts: GithubOptions, deps: Partial<ConnectorDeps> = {}): Connector {
  const d: ConnectorDeps = { ...DEFAULTS, ...deps };
  const baseUrl = (opts.base_url ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
  const host = new URL(baseUrl).host;
  const settings = settingsOf(opts);

  return {
    type: "github",
    async *collect(ctx: CollectContext): AsyncIterable<CollectEvent> {
      // Connections live as long as this collect (unless a test brought its own fetch).
      const clientDeps: ConnectorDeps = d.fetch === DEFAULT_DEPS.fetch ? { ...d, fetch: collectFetch(ctx) } : d;
      let secret: GithubSecret;
      try {
        secret = await resolveGithubSecret(opts, (ref, key) => ctx.resolveSecret(ref, key));
      } catch (err) {
        for (const org of opts.orgs) {
          yield { type: "scope-start", scope: org, label: `GitHub org ${org}` };
          yield { type: "scope-failed", scope: org, error: `source ${sourceId}, github org "${org}": ${(err as Error).message}` };
        }
        return;
      }

      let enterpriseVersion: string | null = null;
      let rate: { remaining: string | null; limit: string | null; reset: string | null } = { remaining: null, limit: null, reset: null };
      const clientFor = clientMaker(sourceId, opts, baseUrl, ctx, clientDeps, (h) => {
        enterpriseVersion ??= h.get("x-github-enterprise-version");
        if (h.get("x-ratelimit-remaining") !== null && (h.get("x-ratelimit-resource") ?? "core") === "core") {
          rate = { remaining: h.get("x-ratelimit-remaining"), limit: h.get("x-ratelimit-limit"), reset: h.get("x-ratelimit-reset") };
        }
      });

      let anyClient: GithubClient | undefined;
      for (const org of opts.orgs) {
        yield { type: "scope-start", scope: org, label: `GitHub org ${org}${host === "api.github.com" ? "" : ` on ${host}`}` };
        if (ctx.signal.aborted) {
          yield { type: "scope-failed", scope: org, error: `source ${sourceId}, github org "${org}": aborted before collection` };
          continue;
        }
        const meta: Attributes = { auth: settings.authKind, api: baseUrl };
        try {
          const client = await orgClient(opts, secret, clientFor, org);
          anyClient ??= client;
          const batches = collectOrg(client, org, settings, { log: ctx.log, now: d.now, sourceId, quarantine: (scope, note) => ctx.quarantine(scope, note) }, meta);
          for await (const batch of withRoleDefinitions(batches)) yield { type: "records", scope: org, ...batch };
          meta.server = enterpriseVersion ? `GitHub Enterprise Server ${enterpriseVersion}` : "GitHub.com";
          meta.rate_limit_remaining = rate.remaining === null ? null : Number(rate.remaining);
          meta.rate_limit_limit = rate.limit === null ? null : Number(rate.limit);
          meta.collected_at = d.now().toISOString();
          yield { type: "scope-end", scope: org, meta, preserve: preserveFor(meta) };
        } catch (err) {
          const why = ctx.signal.aborted ? "aborted" : describeError(err).message;
          yield { type: "scope-failed", scope: org, error: `source ${sourceId}, github org "${org}": ${why}` };
        }
      }

      const mode: InstanceUsersMode | undefined =
        opts.ghes_users === "off" ? undefined : opts.ghes_users === "auto" ? (enterpriseVersion ? "site_admins" : undefined) : opts.ghes_users;
      if (mode && anyClient && !ctx.signal.aborted) {
        const scope = `instance:${host}`;
        yield { type: "scope-start", scope, label: `GitHub Enterprise Server ${host}` };
        const meta: Attributes = { api: baseUrl, server: enterpriseVersion ? `GitHub Enterprise Server ${enterpriseVersion}` : null };
        try {
          // Counted against the instance scope: a fresh client with the same credentials.
          const client =
            secret.kind === "token"
              ? clientFor(scope, { kind: "token", token: secret.token })
              : clientFor(scope, { kind: "app", appId: opts.app_id!, privateKey: secret.privateKey, installationId: installationIdOf(opts.installation_ids, opts.orgs[0]!) ?? (await installationOf(anyClient)) });
          for await (const batch of withRoleDefinitions(collectInstance(client, host, mode, opts.concurrency, meta))) yield { type: "records", scope, ...batch };
          yield { type: "scope-end", scope, meta };
        } catch (err) {
          yield { type: "scope-failed", scope, error: `source ${sourceId}, github instance ${host}: ${describeError(err).message}` };
        }
      }
    },
  };
}

/** The installation id an org client authenticates as (already cached by auth-app, no request). */
async function installationOf(client: GithubClient): Promise<number> {
  const auth = (await client.auth({ type: "installation" })) as { installationId?: number };
  if (!auth.installationId) throw new Error("no installation id for the instance scope");
  return auth.installationId;
}

export const githubConnector = defineConnector<GithubOptions>({
  create: (sourceId, opts) => createGithubConnector(sourceId, opts),
  remediator: (sourceId, opts) => createGithubRemediator(sourceId, opts),
  events: (sourceId, opts) => createGithubEventReader(sourceId, opts),
  async demo(dir) {
    const { startGithubDemo } = await import("./demo.js");
    return startGithubDemo(dir);
  },
});

// How a github source reaches an org: its secret (a token, or a GitHub App's private key) and, for an App,
// the org's installation. Shared by the collector and the audit-log feed, which use the same credentials.
import type { CollectContext } from "../../src/connector.js";
import { createClient, describeError, type ClientDeps, type GithubAuth, type GithubClient } from "./client.js";
import type { GithubOptions } from "./options.js";

export type GithubSecret = { kind: "token"; token: string } | { kind: "app"; privateKey: string };

export async function resolveGithubSecret(opts: GithubOptions, resolveSecret: (ref: string, key: string) => Promise<string>): Promise<GithubSecret> {
  return opts.token !== undefined ? { kind: "token", token: await resolveSecret(opts.token, "token") } : { kind: "app", privateKey: await resolveSecret(opts.private_key!, "private_key") };
}

/** Own keys only: an org named "constructor" must not find Object's constructor as its installation id. */
export function installationIdOf(ids: Record<string, number> | undefined, org: string): number | undefined {
  return ids && Object.hasOwn(ids, org) ? ids[org] : undefined;
}

/** A client for one scope with these credentials (the caller decides counting, logging, headers). */
export type ClientMaker = (scope: string, auth: GithubAuth) => GithubClient;

/**
 * Makes the clients of one run: the source's base URL, timeouts and rate-limit bounds; the run's signal, deadline,
 * log and request count per scope. `onResponse` sees every answer's headers.
 */
export function clientMaker(
  sourceId: string,
  opts: GithubOptions,
  baseUrl: string,
  ctx: Pick<CollectContext, "signal" | "log" | "countRequest" | "deadlineAt">,
  deps: ClientDeps,
  onResponse?: (headers: Headers) => void,
): ClientMaker {
  return (scope, auth) =>
    createClient(
      {
        baseUrl,
        auth,
        signal: ctx.signal,
        label: `${sourceId}/${scope}`,
        log: ctx.log,
        onRequest: () => ctx.countRequest(scope),
        ...(onResponse ? { onResponse } : {}),
        timeoutMs: opts.request_timeout_seconds * 1000,
        maxRateLimitWaitMs: opts.rate_limit_max_wait_seconds * 1000,
        deadlineAt: ctx.deadlineAt,
      },
      deps,
    );
}

/** The client an org is read with: the token's, or the App's installation on that org (looked up unless configured). */
export async function orgClient(opts: GithubOptions, secret: GithubSecret, clientFor: ClientMaker, org: string): Promise<GithubClient> {
  if (secret.kind === "token") return clientFor(org, { kind: "token", token: secret.token });
  let installationId = installationIdOf(opts.installation_ids, org);
  if (installationId === undefined) {
    const appClient = clientFor(org, { kind: "app", appId: opts.app_id!, privateKey: secret.privateKey });
    try {
      const { data } = await appClient.request("GET /orgs/{org}/installation", { org });
      // The installation's token reads whatever account it belongs to: it must be this org's.
      const account = (data.account as { login?: string } | null)?.login;
      if (typeof account !== "string" || account.toLowerCase() !== org.toLowerCase()) {
        throw new Error(`GET /orgs/${org}/installation answered with an installation on ${JSON.stringify(account ?? null)}, not on ${org}: refused`);
      }
      installationId = data.id;
    } catch (err) {
      const d = describeError(err);
      if (d.status !== 404) throw err;
      throw new Error(`the GitHub App ${opts.app_id} is not installed on this org (${d.message})`);
    }
  }
  return clientFor(org, { kind: "app", appId: opts.app_id!, privateKey: secret.privateKey, installationId });
}

// Remediation in GitHub organizations through @octokit/rest (the collector's client: throttling plugin, shared
// retry of server errors, same-origin guard, request counting): remove an org member (undo re-invites with the
// same role and teams) and revoke a fine-grained PAT's access to the org (irreversible, explicit opt-in).
import { collectFetch } from "../../src/collect-fetch.js";
import type { Attributes } from "../../src/model.js";
import { RecentReads } from "../../src/remediate/recent-reads.js";
import type { ActionRequest, ApplyResult, ObservedState, RecordUndo, RemediationContext, Remediator, UndoResult } from "../../src/remediate/contract.js";
import { createClient, DEFAULT_BASE_URL, DEFAULT_DEPS, describeError, type ClientDeps, type GithubAuth, type GithubClient } from "./client.js";
import type { GithubOptions } from "./options.js";
import { GITHUB_ACTIONS } from "./remediate-actions.js";

/** GitHub logins (Enterprise Managed Users add "_shortcode"; Enterprise Server allows dots); never "/" or "..". */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,99})$/;

/** A target this remediator will not act on, or a state it will not write over; the message says which. */
export class GithubRemediationError extends Error {
  override name = "GithubRemediationError";
}

interface MembershipRead {
  role: "admin" | "member";
  state: string;
  nodeId: string | null;
}

type Read = { membership: MembershipRead | null } | { grantExists: boolean };

type Target =
  | { type: "remove-org-member"; key: string; org: string; login: string; nodeId: string }
  | { type: "revoke-token"; key: string; org: string; grantId: number; name: string };

const statusOf = (err: unknown): number | null => describeError(err).status;

export function createGithubRemediator(sourceId: string, opts: GithubOptions, deps: Partial<ClientDeps> = {}): Remediator {
  const baseUrl = (opts.base_url ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
  const recent = new RecentReads<Read>();
  // One client per engine context and org: its connections close with the context (collectFetch → ctx.defer).
  const sessions = new WeakMap<RemediationContext, Map<string, Promise<GithubClient>>>();

  const clientFor = (ctx: RemediationContext, org: string): Promise<GithubClient> => {
    let byOrg = sessions.get(ctx);
    if (!byOrg) sessions.set(ctx, (byOrg = new Map()));
    let c = byOrg.get(org);
    if (!c) {
      c = open(ctx, org);
      byOrg.set(org, c);
      c.catch(() => byOrg.delete(org));
    }
    return c;
  };

  const open = async (ctx: RemediationContext, org: string): Promise<GithubClient> => {
    const d: ClientDeps = { ...DEFAULT_DEPS, ...deps };
    const clientDeps: ClientDeps = d.fetch === DEFAULT_DEPS.fetch ? { ...d, fetch: collectFetch(ctx) } : d;
    const make = (auth: GithubAuth) =>
      createClient(
        {
          baseUrl,
          auth,
          signal: ctx.signal,
          label: `${sourceId}/${org}`,
          log: ctx.log,
          onRequest: () => ctx.countRequest(org),
          timeoutMs: opts.request_timeout_seconds * 1000,
          maxRateLimitWaitMs: opts.rate_limit_max_wait_seconds * 1000,
          userAgent: "whohas-github-remediator",
        },
        clientDeps,
      );
    if (opts.token !== undefined) return make({ kind: "token", token: await ctx.resolveSecret(opts.token, "token") });
    const privateKey = await ctx.resolveSecret(opts.private_key!, "private_key");
    let installationId = opts.installation_ids && Object.hasOwn(opts.installation_ids, org) ? opts.installation_ids[org] : undefined;
    if (installationId === undefined) {
      const { data } = await make({ kind: "app", appId: opts.app_id!, privateKey }).request("GET /orgs/{org}/installation", { org });
      const account = (data.account as { login?: string } | null)?.login;
      if (typeof account !== "string" || account.toLowerCase() !== org.toLowerCase()) throw new GithubRemediationError(`GET /orgs/${org}/installation answered with an installation on another account: refused`);
      installationId = data.id;
    }
    return make({ kind: "app", appId: opts.app_id!, privateKey, installationId });
  };

  /** One GitHub call; a failure keeps GitHub's status and message (describeError never includes headers). */
  const call = async <T>(ctx: RemediationContext, org: string, run: (c: GithubClient) => Promise<T>): Promise<T> => {
    const client = await clientFor(ctx, org);
    try {
      return await run(client);
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
      throw err;
    }
  };

  const readMembership = async (ctx: RemediationContext, t: Extract<Target, { type: "remove-org-member" }>): Promise<MembershipRead | null> => {
    try {
      const { data } = await call(ctx, t.org, (c) => c.request("GET /orgs/{org}/memberships/{username}", { org: t.org, username: t.login }));
      return { role: data.role === "admin" ? "admin" : "member", state: data.state, nodeId: data.user?.node_id ?? null };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw new GithubRemediationError(explain(err, t.type));
    }
  };

  const readGrant = async (ctx: RemediationContext, t: Extract<Target, { type: "revoke-token" }>): Promise<boolean> => {
    try {
      await call(ctx, t.org, (c) => c.request("GET /orgs/{org}/personal-access-tokens/{pat_id}/repositories", { org: t.org, pat_id: t.grantId, per_page: 1 }));
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw new GithubRemediationError(explain(err, t.type));
    }
  };

  const read = async (ctx: RemediationContext, t: Target): Promise<Read> =>
    t.type === "remove-org-member" ? { membership: await readMembership(ctx, t) } : { grantExists: await readGrant(ctx, t) };

  /** The teams `login` belongs to directly, with the role in each: what undo puts back. */
  const teamsOf = async (ctx: RemediationContext, t: Extract<Target, { type: "remove-org-member" }>): Promise<{ teams: string[]; maintainerTeams: string[] }> => {
    const teams: string[] = [];
    const maintainerTeams: string[] = [];
    const client = await clientFor(ctx, t.org);
    for await (const page of client.paginate.iterator("GET /orgs/{org}/teams", { org: t.org, per_page: 100 })) {
      for (const team of page.data) {
        try {
          const { data } = await client.request("GET /orgs/{org}/teams/{team_slug}/memberships/{username}", { org: t.org, team_slug: team.slug, username: t.login });
          if (data.state !== "active") continue;
          (data.role === "maintainer" ? maintainerTeams : teams).push(team.slug);
        } catch (err) {
          if (statusOf(err) !== 404) throw new GithubRemediationError(explain(err, t.type));
        }
      }
    }
    return { teams, maintainerTeams };
  };

  const inspect = async (ctx: RemediationContext, request: ActionRequest): Promise<ObservedState> => {
    const t = targetOf(request, opts);
    const r = await read(ctx, t);
    recent.put(t.key, r);
    return observe(t, r);
  };

  const apply = async (ctx: RemediationContext, request: ActionRequest, recordUndo?: RecordUndo): Promise<ApplyResult> => {
    const t = targetOf(request, opts);
    const r = recent.take(t.key) ?? (await read(ctx, t));
    const seen = observe(t, r);
    if (seen.state === "changed") throw new GithubRemediationError(`not applied: ${seen.detail}`);
    if (seen.state !== "ready") return { status: "already-done", undo: {}, answer: seen.detail };
    if (t.type === "revoke-token") {
      try {
        await call(ctx, t.org, (c) => c.request("POST /orgs/{org}/personal-access-tokens/{pat_id}", { org: t.org, pat_id: t.grantId, action: "revoke" }));
      } catch (err) {
        if (statusOf(err) === 404) return { status: "already-done", undo: {}, answer: "POST revoke: 404, access already gone" };
        throw new GithubRemediationError(explain(err, t.type));
      }
      return { status: "done", undo: {}, answer: "POST personal-access-tokens revoke: 204 (irreversible)" };
    }
    const membership = (r as { membership: MembershipRead }).membership;
    const { teams, maintainerTeams } = await teamsOf(ctx, t);
    const undoData: Attributes = { role: membership.role, teams, maintainer_teams: maintainerTeams };
    // After the removal GitHub forgets the role and the team memberships: a crash from here on needs this kept.
    recordUndo?.(undoData);
    try {
      await call(ctx, t.org, (c) => c.request("DELETE /orgs/{org}/members/{username}", { org: t.org, username: t.login }));
    } catch (err) {
      if (statusOf(err) === 404) return { status: "already-done", undo: undoData, answer: "DELETE member: 404, no longer a member" };
      throw new GithubRemediationError(explain(err, t.type));
    }
    return { status: "done", undo: undoData, answer: `DELETE /orgs/${t.org}/members/${t.login}: 204` };
  };

  const undo = async (ctx: RemediationContext, request: ActionRequest, data: Attributes): Promise<UndoResult> => {
    const t = targetOf(request, opts);
    if (t.type === "revoke-token") throw new GithubRemediationError("revoke-token cannot be undone: the token's owner requests access again");
    const role = data.role === "admin" ? "admin" : data.role === "member" ? "member" : null;
    if (!role) throw new GithubRemediationError("cannot undo: the stored undo data has no role");
    const slugs = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
    const current = await readMembership(ctx, t);
    let state: string;
    if (current && current.state === "active" && current.role === role) state = "active";
    else {
      try {
        const { data: m } = await call(ctx, t.org, (c) => c.request("PUT /orgs/{org}/memberships/{username}", { org: t.org, username: t.login, role }));
        state = m.state;
      } catch (err) {
        throw new GithubRemediationError(explain(err, t.type));
      }
    }
    const wanted: [string, "member" | "maintainer"][] = [...slugs(data.teams).map((s) => [s, "member"] as [string, "member"]), ...slugs(data.maintainer_teams).map((s) => [s, "maintainer"] as [string, "maintainer"])];
    for (const [slug, teamRole] of wanted) {
      try {
        await call(ctx, t.org, (c) => c.request("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}", { org: t.org, team_slug: slug, username: t.login, role: teamRole }));
      } catch (err) {
        throw new GithubRemediationError(`org membership restored (${state}), but team ${slug}: ${explain(err, t.type)}`);
      }
    }
    const already = current?.state === "active" && current.role === role && wanted.length === 0;
    return {
      status: already ? "already-done" : "done",
      answer: `membership ${role}: ${state}${state === "pending" ? " (re-invited: GitHub reinstates a former member within three months of removal)" : ""}; teams: ${wanted.length}`,
    };
  };

  return { supports: GITHUB_ACTIONS.map((a) => a.type), inspect, apply, undo };
}

function targetOf(request: ActionRequest, opts: GithubOptions): Target {
  const { type, target } = request;
  const org = opts.orgs.find((o) => o.toLowerCase() === target.scope.toLowerCase());
  if (!org) throw new GithubRemediationError(`${type}: scope ${JSON.stringify(target.scope)} is not one of this source's orgs`);
  const p = target.principal;
  if (type === "remove-org-member") {
    if (p.attributes.org_relation === "outside_collaborator") {
      throw new GithubRemediationError(`remove-org-member: ${JSON.stringify(p.name)} is an outside collaborator; whohas removes org members only (remove collaborators in the repositories' settings)`);
    }
    if (!LOGIN.test(p.name) || p.name.includes("..")) throw new GithubRemediationError(`remove-org-member: ${JSON.stringify(p.name)} is not a GitHub login`);
    return { type, key: `${type}|${org}|${p.name.toLowerCase()}`, org, login: p.name, nodeId: p.id };
  }
  if (type === "revoke-token") {
    // Irreversible: the remediate block must opt in to it on top of the [[remediate]] entry's allow_irreversible.
    if (!opts.allow_irreversible.includes("revoke-token")) {
      throw new GithubRemediationError('revoke-token is irreversible: add allow_irreversible = ["revoke-token"] to the source\'s remediate block to allow it');
    }
    const c = target.credential;
    const grantId = c?.attributes.grant_id;
    if (!c || c.kind !== "pat" || typeof grantId !== "number" || !Number.isSafeInteger(grantId) || grantId <= 0 || c.id !== `pat-grant:${grantId}`) {
      throw new GithubRemediationError(`revoke-token: the action names no fine-grained PAT grant (${JSON.stringify(c?.id ?? null)})`);
    }
    return { type, key: `${type}|${org}|${grantId}`, org, grantId, name: c.name ?? String(grantId) };
  }
  throw new GithubRemediationError(`github cannot ${type}; it supports ${GITHUB_ACTIONS.map((x) => x.type).join(", ")}`);
}

function observe(t: Target, r: Read): ObservedState {
  if (t.type === "revoke-token") {
    const exists = "grantExists" in r && r.grantExists;
    // A revocation or removal whose target is gone has reached its end state (ours, when --resume reconciles a crash).
    return exists ? { state: "ready", detail: `token ${JSON.stringify(t.name)} has access to ${t.org}` } : { state: "already-done", detail: `the grant ${t.grantId} no longer exists` };
  }
  const m = "membership" in r ? r.membership : null;
  if (!m) return { state: "already-done", detail: `${JSON.stringify(t.login)} is not a member of ${t.org}` };
  // A login can be renamed and taken by someone else: the plan was made for the account with this node id.
  if (m.nodeId !== null && m.nodeId !== t.nodeId) return { state: "changed", detail: `${JSON.stringify(t.login)} is now another account (${m.nodeId})` };
  if (m.state !== "active") return { state: "changed", detail: `the membership of ${JSON.stringify(t.login)} is ${JSON.stringify(m.state)}` };
  return { state: "ready", detail: `${JSON.stringify(t.login)} is an active ${m.role === "admin" ? "owner" : "member"}` };
}

const PERMISSION_HINT: Record<"remove-org-member" | "revoke-token", string> = {
  "remove-org-member": "the remediate GitHub App needs the organization permission Members: read and write (a token: an org owner's, with admin:org)",
  "revoke-token": "the remediate GitHub App needs the organization permission Personal access tokens: read and write (tokens cannot do this)",
};

function explain(err: unknown, type: "remove-org-member" | "revoke-token"): string {
  const d = describeError(err);
  return d.status === 403 && !d.transient ? `${d.message} — ${PERMISSION_HINT[type]}` : d.message;
}

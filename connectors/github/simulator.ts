// GitHub REST v3 on loopback, close enough to the real wire format that @octokit/rest and
// @octokit/auth-app run against it unmodified: documented paths and query parameters, page/per_page
// with Link headers (next/last/first/prev, org links as /organizations/{id}/…, cursor links for the
// audit log), rate-limit headers on every response, primary and secondary limit responses, GitHub's
// error bodies, App JWT (RS256) verification at POST /app/installations/{id}/access_tokens, and the
// /api/v3 prefix plus x-github-enterprise-version header in Enterprise Server mode; and the writes remediation
// makes (remove a member, set org and team memberships — re-invites for non-members — revoke a PAT grant).
import { createPublicKey, randomBytes, verify, type KeyObject } from "node:crypto";
import type { ServerResponse } from "node:http";
import { sendJson, startSimulator, type SimRequest, type Simulator } from "../../src/simulator/harness.js";
import type {
  SimCredentialAuthorization,
  SimDeployKey,
  SimInstallation,
  SimAuditEvent,
  SimInvitation,
  SimOrg,
  SimPatGrant,
  SimPatRequest,
  SimRepo,
  SimTeam,
  SimTenant,
  SimUser,
} from "./tenant.js";
import { effectiveTeamMembers, mutations, nodeId, recordAudit, type SimAuditActor } from "./tenant.js";

export interface SimApp {
  id: number;
  clientId?: string;
  /** PEM of the App's public key; the simulator verifies JWT signatures with it. */
  publicKey: string;
}

export interface GithubSimulatorOptions {
  tenant: SimTenant;
  app?: SimApp;
  /** Enterprise Server mode: /api/v3 prefix, x-github-enterprise-version, suspended_at on users. */
  ghes?: { version: string };
  latencyMs?: number;
  tls?: boolean;
  /** Primary limits per hour: GitHub gives installations on Enterprise Cloud 15,000, tokens 5,000. */
  installationRateLimit?: number;
  patRateLimit?: number;
  /**
   * Replaces a GET route's answer (after authentication and rate accounting) with one the test supplies, e.g.
   * generated from GitHub's published description. `url` is the request URL on the simulator's origin.
   */
  override?: (path: string, url: URL) => { status?: number; body: unknown; headers?: Record<string, string> } | undefined;
}

export interface SecondaryLimitRule {
  /** How many requests get the secondary-limit answer. */
  times: number;
  status?: 403 | 429;
  /** Seconds for retry-after; null sends none (clients then wait at least a minute). */
  retryAfter?: number | null;
  match?: (method: string, path: string) => boolean;
}

export interface GithubSimulator {
  readonly sim: Simulator;
  /** Origin, e.g. http://127.0.0.1:PORT */
  readonly url: string;
  /** REST root the client should use as base_url (origin, or origin + /api/v3 in GHES mode). */
  readonly baseUrl: string;
  readonly tenant: SimTenant;
  /** Installation access tokens handed out so far. */
  readonly tokensIssued: number;
  /** A personal access token for `login`. Classic tokens may carry scopes (sent back in x-oauth-scopes). */
  issuePat(login: string, opts?: { fineGrained?: boolean; scopes?: string[] }): string;
  /** Sets the primary limit of every bucket (or of one token): `remaining` requests left until `resetInSeconds`. */
  setRateLimit(opts: { limit?: number; remaining: number; resetInSeconds: number; token?: string }): void;
  /** Everybody's quota is full again, as when x-ratelimit-reset passes. */
  resetRateLimits(): void;
  secondaryLimit(rule: SecondaryLimitRule): void;
  close(): Promise<void>;
}

/** A GitHub App's bot account id: a user id of its own, never the app id (kept apart from generated ids). */
const botIdOf = (appId: number) => 900_000_000 + appId;

interface Caller {
  kind: "pat" | "installation" | "jwt";
  bucket: string;
  user?: SimUser;
  installation?: SimInstallation;
  org?: SimOrg;
  scopes?: string[];
  fineGrained?: boolean;
}

interface Bucket {
  limit: number;
  used: number;
  resetAt: number; // epoch s
}

const DOCS = "https://docs.github.com/rest";
const SECONDARY_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID";

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly docs = DOCS,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const notFound = () => new HttpError(404, "Not Found");
const integrationRefused = () => new HttpError(403, "Resource not accessible by integration");

export async function startGithubSimulator(options: GithubSimulatorOptions): Promise<GithubSimulator> {
  const tenant = options.tenant;
  const prefix = options.ghes ? "/api/v3" : "";
  const publicKey: KeyObject | undefined = options.app ? createPublicKey(options.app.publicKey) : undefined;
  const pats = new Map<string, { user: SimUser; scopes: string[]; fineGrained: boolean }>();
  const installationTokens = new Map<string, { installationId: number; expiresAt: number }>();
  const buckets = new Map<string, Bucket>();
  const secondary: SecondaryLimitRule[] = [];
  let tokensIssued = 0;
  let defaultOverride: { limit?: number; remaining: number; resetInSeconds: number } | undefined;
  const cache = new Map<string, unknown[]>();
  let cacheVersion = -1;

  const nowS = () => Math.floor(Date.now() / 1000);

  function bucketOf(caller: Caller): Bucket {
    let b = buckets.get(caller.bucket);
    const limit = caller.kind === "installation" ? (options.installationRateLimit ?? 15_000) : (options.patRateLimit ?? 5_000);
    if (!b) {
      b = defaultOverride
        ? { limit: defaultOverride.limit ?? limit, used: (defaultOverride.limit ?? limit) - defaultOverride.remaining, resetAt: nowS() + defaultOverride.resetInSeconds }
        : { limit, used: 0, resetAt: nowS() + 3600 };
      buckets.set(caller.bucket, b);
    }
    if (nowS() >= b.resetAt) {
      b.used = 0;
      b.resetAt = nowS() + 3600;
    }
    return b;
  }

  function rateHeaders(b: Bucket | undefined): Record<string, string> {
    if (!b) return {};
    return {
      "x-ratelimit-limit": String(b.limit),
      "x-ratelimit-remaining": String(Math.max(0, b.limit - b.used)),
      "x-ratelimit-used": String(b.used),
      "x-ratelimit-reset": String(b.resetAt),
      "x-ratelimit-resource": "core",
    };
  }

  function commonHeaders(caller: Caller | undefined, b: Bucket | undefined): Record<string, string> {
    const h: Record<string, string> = {
      "x-github-media-type": "github.v3; format=json",
      "x-github-api-version-selected": "2022-11-28",
      "x-github-request-id": randomBytes(8).toString("hex").toUpperCase(),
      ...rateHeaders(b),
    };
    if (options.ghes) h["x-github-enterprise-version"] = options.ghes.version;
    if (caller?.kind === "pat" && !caller.fineGrained) {
      h["x-oauth-scopes"] = (caller.scopes ?? []).join(", ");
      h["x-accepted-oauth-scopes"] = "";
    }
    return h;
  }

  function sendError(res: ServerResponse, err: HttpError, headers: Record<string, string>) {
    sendJson(res, err.status, { message: err.message, documentation_url: err.docs, status: String(err.status) }, { ...headers, ...err.headers });
  }

  // --- auth -------------------------------------------------------------------------------------

  function parseAuthorization(req: SimRequest): string | undefined {
    const h = req.headers.authorization;
    if (!h) return undefined;
    const m = /^(?:token|bearer)\s+(\S+)$/i.exec(h);
    return m?.[1];
  }

  function verifyJwt(jwt: string): void {
    if (!options.app || !publicKey) throw new HttpError(401, "A JSON web token could not be decoded");
    const parts = jwt.split(".");
    if (parts.length !== 3) throw new HttpError(401, "A JSON web token could not be decoded");
    let header: { alg?: string };
    let payload: { iss?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8"));
      payload = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    } catch {
      throw new HttpError(401, "A JSON web token could not be decoded");
    }
    const signed = verify("RSA-SHA256", Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2]!, "base64url"));
    if (header.alg !== "RS256" || !signed) throw new HttpError(401, "A JSON web token could not be decoded");
    const iss = String(payload.iss);
    if (iss !== String(options.app.id) && iss !== options.app.clientId) throw new HttpError(401, "A JSON web token could not be decoded");
    const now = nowS();
    if (typeof payload.iat !== "number" || !Number.isInteger(payload.iat) || payload.iat > now + 60) {
      throw new HttpError(401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued");
    }
    if (typeof payload.exp !== "number" || payload.exp <= now) {
      throw new HttpError(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires");
    }
    if (payload.exp - now > 600 + 60) throw new HttpError(401, "'Expiration time' claim ('exp') is too far in the future");
  }

  function installationById(id: number): { inst: SimInstallation; org: SimOrg } | undefined {
    for (const org of tenant.orgs.values()) {
      const inst = org.installations.find((i) => i.id === id && i.app_id === options.app?.id);
      if (inst) return { inst, org };
    }
    return undefined;
  }

  function identify(req: SimRequest): Caller {
    const token = parseAuthorization(req);
    if (!token) throw new HttpError(401, "Requires authentication");
    if (token.split(".").length === 3) {
      verifyJwt(token);
      return { kind: "jwt", bucket: `app:${options.app!.id}` };
    }
    const pat = pats.get(token);
    if (pat) return { kind: "pat", bucket: `pat:${token}`, user: pat.user, scopes: pat.scopes, fineGrained: pat.fineGrained };
    const it = installationTokens.get(token);
    if (it && it.expiresAt > Date.now()) {
      const found = installationById(it.installationId);
      if (found) return { kind: "installation", bucket: `installation:${it.installationId}`, installation: found.inst, org: found.org };
    }
    throw new HttpError(401, "Bad credentials");
  }

  /** What a caller may read in an org. `need` names the App permission GitHub documents for the endpoint. */
  function authorize(caller: Caller, org: SimOrg, need: "members" | "owner" | "org_admin" | "pats" | "pat_requests" | "repo_admin" | "metadata") {
    if (caller.kind === "jwt") throw new HttpError(401, "A JSON web token could not be decoded");
    if (caller.kind === "installation") {
      if (caller.org !== org) throw integrationRefused();
      const perm = {
        members: "members",
        owner: "members",
        org_admin: "organization_administration",
        pats: "organization_personal_access_tokens",
        pat_requests: "organization_personal_access_token_requests",
        repo_admin: "administration",
        metadata: "metadata",
      }[need];
      if (!caller.installation!.permissions[perm]) throw integrationRefused();
      if (caller.installation!.suspended_at) throw new HttpError(403, "This installation has been suspended");
      return;
    }
    const role = org.members.get(caller.user!.id);
    if (need === "pats" || need === "pat_requests") {
      throw new HttpError(403, "Resource not accessible by personal access token", "https://docs.github.com/rest/orgs/personal-access-tokens");
    }
    if (!role) throw new HttpError(403, "You must be a member of this organization to access this resource");
    if ((need === "owner" || need === "org_admin") && role !== "admin") {
      throw new HttpError(403, "You must be an organization owner to access this resource");
    }
    if (need === "repo_admin" && role !== "admin") throw notFound();
  }

  // --- JSON shapes --------------------------------------------------------------------------------

  let origin = "";
  const api = () => `${origin}${prefix}`;
  const web = () => origin;

  function simpleUser(u: SimUser, full = false): Record<string, unknown> {
    const a = api();
    const base: Record<string, unknown> = {
      login: u.login,
      id: u.id,
      node_id: u.node_id,
      avatar_url: `${web()}/avatars/u/${u.id}`,
      gravatar_id: "",
      url: `${a}/users/${u.login}`,
      html_url: `${web()}/${u.login}`,
      followers_url: `${a}/users/${u.login}/followers`,
      following_url: `${a}/users/${u.login}/following{/other_user}`,
      gists_url: `${a}/users/${u.login}/gists{/gist_id}`,
      starred_url: `${a}/users/${u.login}/starred{/owner}{/repo}`,
      subscriptions_url: `${a}/users/${u.login}/subscriptions`,
      organizations_url: `${a}/users/${u.login}/orgs`,
      repos_url: `${a}/users/${u.login}/repos`,
      events_url: `${a}/users/${u.login}/events{/privacy}`,
      received_events_url: `${a}/users/${u.login}/received_events`,
      type: u.type,
      user_view_type: "public",
      site_admin: u.site_admin,
    };
    if (u.email) base.email = u.email;
    if (!full) return base;
    const fullUser: Record<string, unknown> = {
      ...base,
      name: u.name,
      company: null,
      blog: "",
      location: null,
      email: u.email,
      hireable: null,
      bio: null,
      twitter_username: null,
      public_repos: 0,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: u.created_at,
      updated_at: u.created_at,
    };
    if (options.ghes) fullUser.suspended_at = u.suspended_at;
    return fullUser;
  }

  function orgFull(org: SimOrg, admin: boolean): Record<string, unknown> {
    const a = api();
    const o: Record<string, unknown> = {
      login: org.login,
      id: org.id,
      node_id: org.node_id,
      url: `${a}/orgs/${org.login}`,
      repos_url: `${a}/orgs/${org.login}/repos`,
      events_url: `${a}/orgs/${org.login}/events`,
      hooks_url: `${a}/orgs/${org.login}/hooks`,
      issues_url: `${a}/orgs/${org.login}/issues`,
      members_url: `${a}/orgs/${org.login}/members{/member}`,
      public_members_url: `${a}/orgs/${org.login}/public_members{/member}`,
      avatar_url: `${web()}/avatars/o/${org.id}`,
      description: null,
      name: org.name,
      is_verified: true,
      has_organization_projects: true,
      has_repository_projects: true,
      public_repos: org.repos.filter((r) => r.visibility === "public").length,
      public_gists: 0,
      followers: 0,
      following: 0,
      html_url: `${web()}/${org.login}`,
      created_at: org.created_at,
      updated_at: org.created_at,
      archived_at: null,
      type: "Organization",
    };
    if (!admin) return o;
    return {
      ...o,
      total_private_repos: org.repos.filter((r) => r.private).length,
      owned_private_repos: org.repos.filter((r) => r.private).length,
      collaborators: org.outside.size,
      billing_email: `billing@${org.login}.example`,
      plan: { name: org.plan, space: 976_562_499, private_repos: 999_999, filled_seats: org.members.size, seats: org.members.size + 10 },
      default_repository_permission: org.default_repository_permission,
      members_can_create_repositories: true,
      two_factor_requirement_enabled: org.two_factor_requirement_enabled,
      members_allowed_repository_creation_type: "all",
    };
  }

  const userById = (id: number) => {
    const u = tenant.users.get(id);
    if (!u) throw new Error(`dangling user id ${id}`);
    return u;
  };

  function invitation(org: SimOrg, inv: SimInvitation, failed: boolean): Record<string, unknown> {
    const o: Record<string, unknown> = {
      id: inv.id,
      login: inv.login,
      node_id: inv.node_id,
      email: inv.email,
      role: inv.role,
      created_at: inv.created_at,
      inviter: simpleUser(userById(inv.inviterId)),
      team_count: inv.team_count,
      invitation_teams_url: `${api()}/organizations/${org.id}/invitations/${inv.id}/teams`,
      invitation_source: inv.invitation_source,
    };
    if (failed) {
      o.failed_at = inv.failed_at;
      o.failed_reason = inv.failed_reason;
    }
    return o;
  }

  function team(org: SimOrg, t: SimTeam): Record<string, unknown> {
    const a = api();
    const parent = t.parentId ? org.teams.find((x) => x.id === t.parentId) : undefined;
    return {
      id: t.id,
      node_id: t.node_id,
      url: `${a}/organizations/${org.id}/team/${t.id}`,
      html_url: `${web()}/orgs/${org.login}/teams/${t.slug}`,
      name: t.name,
      slug: t.slug,
      description: null,
      privacy: t.privacy,
      notification_setting: "notifications_enabled",
      permission: "pull",
      members_url: `${a}/organizations/${org.id}/team/${t.id}/members{/member}`,
      repositories_url: `${a}/organizations/${org.id}/team/${t.id}/repos`,
      type: "organization",
      organization_id: org.id,
      parent: parent
        ? { id: parent.id, node_id: parent.node_id, url: `${a}/organizations/${org.id}/team/${parent.id}`, html_url: `${web()}/orgs/${org.login}/teams/${parent.slug}`, name: parent.name, slug: parent.slug, description: null, privacy: parent.privacy, notification_setting: "notifications_enabled", permission: "pull", members_url: "", repositories_url: "" }
        : null,
    };
  }

  const ROLE_FLAGS: Record<string, Record<string, boolean>> = {
    admin: { admin: true, maintain: true, push: true, triage: true, pull: true },
    maintain: { admin: false, maintain: true, push: true, triage: true, pull: true },
    write: { admin: false, maintain: false, push: true, triage: true, pull: true },
    triage: { admin: false, maintain: false, push: false, triage: true, pull: true },
    read: { admin: false, maintain: false, push: false, triage: false, pull: true },
  };

  function repository(org: SimOrg, r: SimRepo, role?: string): Record<string, unknown> {
    const a = api();
    const full = `${org.login}/${r.name}`;
    const o: Record<string, unknown> = {
      id: r.id,
      node_id: r.node_id,
      name: r.name,
      full_name: full,
      owner: { login: org.login, id: org.id, node_id: org.node_id, type: "Organization", site_admin: false, url: `${a}/users/${org.login}` },
      private: r.private,
      html_url: `${web()}/${full}`,
      description: null,
      fork: r.fork,
      url: `${a}/repos/${full}`,
      keys_url: `${a}/repos/${full}/keys{/key_id}`,
      collaborators_url: `${a}/repos/${full}/collaborators{/collaborator}`,
      teams_url: `${a}/repos/${full}/teams`,
      hooks_url: `${a}/repos/${full}/hooks`,
      archived: r.archived,
      disabled: false,
      visibility: r.visibility,
      default_branch: "main",
      created_at: r.created_at,
      updated_at: r.created_at,
      pushed_at: r.created_at,
    };
    if (role) {
      o.permissions = ROLE_FLAGS[role] ?? ROLE_FLAGS.read;
      o.role_name = role;
    }
    return o;
  }

  function deployKey(org: SimOrg, r: SimRepo, k: SimDeployKey): Record<string, unknown> {
    return {
      id: k.id,
      key: k.key,
      url: `${api()}/repos/${org.login}/${r.name}/keys/${k.id}`,
      title: k.title,
      verified: k.verified,
      created_at: k.created_at,
      read_only: k.read_only,
      added_by: k.added_by,
      last_used: k.last_used,
      enabled: k.enabled,
    };
  }

  function installation(org: SimOrg, i: SimInstallation): Record<string, unknown> {
    const a = api();
    return {
      id: i.id,
      account: { login: org.login, id: org.id, node_id: org.node_id, type: "Organization", site_admin: false, url: `${a}/users/${org.login}` },
      repository_selection: i.repository_selection,
      access_tokens_url: `${a}/app/installations/${i.id}/access_tokens`,
      repositories_url: `${a}/installation/repositories`,
      html_url: `${web()}/organizations/${org.login}/settings/installations/${i.id}`,
      app_id: i.app_id,
      client_id: i.client_id,
      app_slug: i.app_slug,
      target_id: org.id,
      target_type: "Organization",
      permissions: i.permissions,
      events: i.events,
      created_at: i.created_at,
      updated_at: i.updated_at,
      single_file_name: null,
      has_multiple_single_files: false,
      single_file_paths: [],
      suspended_by: i.suspendedById ? simpleUser(userById(i.suspendedById)) : null,
      suspended_at: i.suspended_at,
    };
  }

  function patGrant(org: SimOrg, g: SimPatGrant): Record<string, unknown> {
    return {
      id: g.id,
      owner: simpleUser(userById(g.ownerId)),
      repository_selection: g.repository_selection,
      repositories_url: `${api()}/organizations/${org.id}/personal-access-tokens/${g.id}/repositories`,
      permissions: g.permissions,
      access_granted_at: g.access_granted_at,
      token_id: g.token_id,
      token_name: g.token_name,
      token_expired: g.token_expires_at !== null && Date.parse(g.token_expires_at) <= Date.now(),
      token_expires_at: g.token_expires_at,
      token_last_used_at: g.token_last_used_at,
    };
  }

  function patRequest(org: SimOrg, r: SimPatRequest): Record<string, unknown> {
    return {
      id: r.id,
      reason: r.reason,
      owner: simpleUser(userById(r.ownerId)),
      repository_selection: r.repository_selection,
      repositories_url: `${api()}/organizations/${org.id}/personal-access-token-requests/${r.id}/repositories`,
      permissions: r.permissions,
      created_at: r.created_at,
      token_id: r.token_id,
      token_name: r.token_name,
      token_expired: r.token_expires_at !== null && Date.parse(r.token_expires_at) <= Date.now(),
      token_expires_at: r.token_expires_at,
      token_last_used_at: r.token_last_used_at,
    };
  }

  function credentialAuthorization(c: SimCredentialAuthorization): Record<string, unknown> {
    const o: Record<string, unknown> = {
      login: userById(c.userId).login,
      credential_id: c.credential_id,
      credential_type: c.credential_type,
      credential_authorized_at: c.credential_authorized_at,
      credential_accessed_at: c.credential_accessed_at,
      authorized_credential_id: c.authorized_credential_id,
    };
    if (c.credential_type === "SSH key") {
      o.fingerprint = c.fingerprint;
      o.authorized_credential_title = c.authorized_credential_title;
    } else {
      o.token_last_eight = c.token_last_eight;
      o.scopes = c.scopes;
      o.authorized_credential_note = c.authorized_credential_note;
      o.authorized_credential_expires_at = c.authorized_credential_expires_at;
    }
    return o;
  }

  // --- listings (cached per tenant version: 50k-member orgs are paged 500 times) ------------------

  function cached<T>(key: string, build: () => T[]): T[] {
    if (cacheVersion !== tenant.version) {
      cache.clear();
      cacheVersion = tenant.version;
    }
    let v = cache.get(key) as T[] | undefined;
    if (!v) {
      v = build();
      cache.set(key, v);
    }
    return v;
  }

  function twoFactorFilter(u: SimUser, filter: string): boolean {
    if (filter === "2fa_disabled") return u.twoFactor === "off";
    if (filter === "2fa_insecure") return u.twoFactor === "insecure";
    return true;
  }

  // --- pagination ---------------------------------------------------------------------------------

  function pageParams(req: SimRequest): { perPage: number; page: number } {
    const perPage = Math.min(100, Math.max(1, Number.parseInt(req.url.searchParams.get("per_page") ?? "30", 10) || 30));
    const page = Math.max(1, Number.parseInt(req.url.searchParams.get("page") ?? "1", 10) || 1);
    return { perPage, page };
  }

  /** Page of `items` with GitHub's Link header; `linkPath` is the canonical path GitHub puts in links. */
  function sendPage<T>(req: SimRequest, res: ServerResponse, headers: Record<string, string>, items: T[], linkPath: string, render: (t: T) => unknown) {
    const { perPage, page } = pageParams(req);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const link = (p: number) => {
      const q = new URLSearchParams(req.url.searchParams);
      q.delete("page");
      q.set("page", String(p));
      return `<${api()}${linkPath}?${q.toString()}>`;
    };
    const rels: string[] = [];
    if (page > 1) rels.push(`${link(page - 1)}; rel="prev"`);
    if (page < last) rels.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
    if (page > 1) rels.push(`${link(1)}; rel="first"`);
    sendJson(res, 200, slice.map(render), rels.length ? { ...headers, link: rels.join(", ") } : headers);
  }

  // --- routing ------------------------------------------------------------------------------------

  function orgOf(key: string, byId: boolean): SimOrg {
    if (byId) {
      for (const o of tenant.orgs.values()) if (String(o.id) === key) return o;
      throw notFound();
    }
    const o = tenant.orgs.get(key.toLowerCase());
    if (!o) throw notFound();
    return o;
  }

  function repoOf(owner: string, name: string, byId?: string): { org: SimOrg; repo: SimRepo } {
    for (const org of tenant.orgs.values()) {
      if (!byId && org.login.toLowerCase() !== owner.toLowerCase()) continue;
      const repo = org.repos.find((r) => (byId ? String(r.id) === byId : r.name.toLowerCase() === name.toLowerCase()));
      if (repo) return { org, repo };
    }
    throw notFound();
  }

  async function route(req: SimRequest, res: ServerResponse, path: string, caller: Caller, headers: Record<string, string>): Promise<void> {
    const q = req.url.searchParams;
    let m: RegExpExecArray | null;

    // App (JWT) routes
    if (req.method === "POST" && (m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path))) {
      if (caller.kind !== "jwt") throw new HttpError(401, "A JSON web token could not be decoded");
      const found = installationById(Number(m[1]));
      if (!found) throw notFound();
      if (found.inst.suspended_at) throw new HttpError(403, "This installation has been suspended");
      const token = `ghs_${randomBytes(18).toString("hex")}`;
      const expiresAt = Date.now() + 3600_000;
      installationTokens.set(token, { installationId: found.inst.id, expiresAt });
      tokensIssued++;
      sendJson(
        res,
        201,
        { token, expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"), permissions: found.inst.permissions, repository_selection: found.inst.repository_selection },
        headers,
      );
      return;
    }
    if (req.method !== "GET") {
      if (caller.kind === "jwt") throw new HttpError(401, "A JSON web token could not be decoded");
      return writeRoute(req, res, path, caller, headers);
    }
    if ((m = /^\/orgs\/([^/]+)\/installation$/.exec(path))) {
      if (caller.kind !== "jwt") throw new HttpError(401, "A JSON web token could not be decoded");
      const org = orgOf(m[1]!, false);
      const inst = org.installations.find((i) => i.app_id === options.app?.id);
      if (!inst) throw notFound();
      return sendJson(res, 200, installation(org, inst), headers);
    }
    if (path === "/app/installations") {
      if (caller.kind !== "jwt") throw new HttpError(401, "A JSON web token could not be decoded");
      const all: [SimOrg, SimInstallation][] = [];
      for (const org of tenant.orgs.values()) for (const i of org.installations) if (i.app_id === options.app?.id) all.push([org, i]);
      return sendPage(req, res, headers, all, "/app/installations", ([o, i]) => installation(o, i));
    }
    if (caller.kind === "jwt") throw new HttpError(401, "A JSON web token could not be decoded");

    // Users (instance-wide; Enterprise Server's site admin view)
    if (path === "/users") {
      const since = Number.parseInt(q.get("since") ?? "0", 10) || 0;
      const { perPage } = pageParams(req);
      const all = cached("users", () => [...tenant.users.values()].sort((a, b) => a.id - b.id));
      const slice = all.filter((u) => u.id > since).slice(0, perPage);
      const h = { ...headers };
      if (slice.length === perPage && all[all.length - 1]!.id > slice[slice.length - 1]!.id) {
        h.link = `<${api()}/users?per_page=${perPage}&since=${slice[slice.length - 1]!.id}>; rel="next", <${api()}/users{?since}>; rel="first"`;
      }
      return sendJson(res, 200, slice.map((u) => simpleUser(u)), h);
    }
    if ((m = /^\/users\/([^/]+)$/.exec(path))) {
      const u = tenant.usersByLogin.get(m[1]!.toLowerCase());
      if (!u) throw notFound();
      return sendJson(res, 200, simpleUser(u, true), headers);
    }

    // Repository routes: /repos/{owner}/{repo}/… or /repositories/{id}/…
    if ((m = /^\/(?:repos\/([^/]+)\/([^/]+)|repositories\/(\d+))\/(keys|collaborators)$/.exec(path))) {
      const { org, repo } = repoOf(m[1] ?? "", m[2] ?? "", m[3]);
      const canonical = `/repositories/${repo.id}/${m[4]}`;
      if (m[4] === "keys") {
        authorize(caller, org, "repo_admin");
        return sendPage(req, res, headers, repo.keys, canonical, (k) => deployKey(org, repo, k));
      }
      if (caller.kind === "pat" && org.members.get(caller.user!.id) !== "admin") {
        throw new HttpError(403, "Must have push access to view repository collaborators.");
      }
      authorize(caller, org, "metadata");
      const affiliation = q.get("affiliation") ?? "all";
      const list = [...repo.collaborators].filter(([uid]) => affiliation !== "outside" || org.outside.has(uid));
      return sendPage(req, res, headers, list, canonical, ([uid, role]) => ({ ...simpleUser(userById(uid)), permissions: ROLE_FLAGS[role] ?? ROLE_FLAGS.read, role_name: role }));
    }

    // Org routes: /orgs/{org}/… or /organizations/{id}/…
    if (!(m = /^\/(orgs|organizations)\/([^/]+)(\/.*)?$/.exec(path))) throw notFound();
    const org = orgOf(m[2]!, m[1] === "organizations");
    const rest = m[3] ?? "";
    const canonical = `/organizations/${org.id}${rest}`;

    if (rest === "") {
      const admin =
        (caller.kind === "pat" && org.members.get(caller.user!.id) === "admin") ||
        (caller.kind === "installation" && caller.org === org && Boolean(caller.installation!.permissions.organization_administration));
      return sendJson(res, 200, orgFull(org, admin), headers);
    }
    if (rest === "/members" || rest === "/outside_collaborators") {
      authorize(caller, org, "members");
      const filter = q.get("filter") ?? "all";
      if (!["all", "2fa_disabled", "2fa_insecure"].includes(filter)) throw new HttpError(422, "Validation Failed");
      if (filter !== "all" && caller.kind === "pat" && org.members.get(caller.user!.id) !== "admin") {
        throw new HttpError(422, "Only owners can use this filter.", "https://docs.github.com/rest/orgs/members#list-organization-members");
      }
      const role = rest === "/members" ? (q.get("role") ?? "all") : "all";
      const ids = cached(`${org.id}${rest}|${role}|${filter}`, () => {
        const source = rest === "/members" ? [...org.members].filter(([, r]) => role === "all" || r === role).map(([id]) => id) : [...org.outside];
        return source.filter((id) => twoFactorFilter(userById(id), filter));
      });
      return sendPage(req, res, headers, ids, canonical, (id) => simpleUser(userById(id)));
    }
    if ((m = /^\/memberships\/([^/]+)$/.exec(rest))) {
      authorize(caller, org, "members");
      const u = tenant.usersByLogin.get(m[1]!.toLowerCase());
      const role = u ? org.members.get(u.id) : undefined;
      if (!u || !role) throw notFound();
      return sendJson(
        res,
        200,
        {
          url: `${api()}/orgs/${org.login}/memberships/${u.login}`,
          state: "active",
          role,
          organization_url: `${api()}/orgs/${org.login}`,
          organization: { login: org.login, id: org.id, node_id: org.node_id, url: `${api()}/orgs/${org.login}` },
          user: simpleUser(u),
        },
        headers,
      );
    }
    if ((m = /^\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(rest))) {
      authorize(caller, org, "members");
      const t = org.teams.find((x) => x.slug === m![1]);
      const u = tenant.usersByLogin.get(m[2]!.toLowerCase());
      if (!t || !u) throw notFound();
      const role = t.members.get(u.id);
      const pending = org.invitations.find((i) => i.login?.toLowerCase() === u.login.toLowerCase())?.pendingTeams?.get(t.slug);
      if (!role && !pending) throw notFound();
      return sendJson(res, 200, teamMembership(org, t, u, role ?? pending!, role ? "active" : "pending"), headers);
    }
    if ((m = /^\/personal-access-tokens\/(\d+)\/repositories$/.exec(rest))) {
      authorize(caller, org, "pats");
      const g = org.patGrants.find((x) => x.id === Number(m![1]));
      if (!g) throw notFound();
      const repos = g.repository_selection === "subset" ? org.repos.slice(0, 1) : [];
      return sendPage(req, res, headers, repos, `${canonical}`, (r) => repository(org, r));
    }
    if (rest === "/invitations" || rest === "/failed_invitations") {
      authorize(caller, org, "owner");
      const failed = rest === "/failed_invitations";
      const role = q.get("role") ?? "all";
      const list = (failed ? org.failedInvitations : org.invitations).filter((i) => role === "all" || i.role === role);
      return sendPage(req, res, headers, list, canonical, (i) => invitation(org, i, failed));
    }
    if (rest === "/teams") {
      authorize(caller, org, "members");
      const visible = org.teams.filter(
        (t) => t.privacy !== "secret" || caller.kind === "installation" || org.members.get(caller.user!.id) === "admin" || t.members.has(caller.user!.id),
      );
      return sendPage(req, res, headers, visible, canonical, (t) => team(org, t));
    }
    if ((m = /^\/(?:teams\/([^/]+)|team\/(\d+))\/(members|repos)$/.exec(rest))) {
      authorize(caller, org, "members");
      const t = org.teams.find((x) => (m![1] ? x.slug === m![1] : String(x.id) === m![2]));
      if (!t) throw notFound();
      const canonicalTeam = `/organizations/${org.id}/team/${t.id}/${m[3]}`;
      if (m[3] === "members") {
        const role = q.get("role") ?? "all";
        const list = cached(`${org.id}|team|${t.id}|${role}`, () => [...effectiveTeamMembers(org, t)].filter(([, r]) => role === "all" || r === role).map(([id]) => id));
        return sendPage(req, res, headers, list, canonicalTeam, (id) => simpleUser(userById(id)));
      }
      const list = [...t.repos].map(([rid, role]) => [org.repos.find((r) => r.id === rid), role] as const).filter((x): x is [SimRepo, string] => x[0] !== undefined);
      return sendPage(req, res, headers, list, canonicalTeam, ([r, role]) => repository(org, r, role));
    }
    if (rest === "/repos") {
      authorize(caller, org, "metadata");
      const type = q.get("type") ?? "all";
      const list = org.repos.filter((r) => type === "all" || (type === "public" ? !r.private : type === "private" ? r.private : type === "forks" ? r.fork : type === "sources" ? !r.fork : true));
      return sendPage(req, res, headers, list, canonical, (r) => repository(org, r));
    }
    if (rest === "/installations") {
      authorize(caller, org, "org_admin");
      const { perPage, page } = pageParams(req);
      const last = Math.max(1, Math.ceil(org.installations.length / perPage));
      const slice = org.installations.slice((page - 1) * perPage, page * perPage);
      const h = { ...headers };
      if (page < last) h.link = `<${api()}${canonical}?per_page=${perPage}&page=${page + 1}>; rel="next", <${api()}${canonical}?per_page=${perPage}&page=${last}>; rel="last"`;
      return sendJson(res, 200, { total_count: org.installations.length, installations: slice.map((i) => installation(org, i)) }, h);
    }
    if (rest === "/personal-access-tokens" || rest === "/personal-access-token-requests") {
      const grants = rest === "/personal-access-tokens";
      authorize(caller, org, grants ? "pats" : "pat_requests");
      let list: (SimPatGrant | SimPatRequest)[] = grants ? org.patGrants : org.patRequests;
      const before = q.get("last_used_before");
      const after = q.get("last_used_after");
      if (before) list = list.filter((g) => g.token_last_used_at !== null && g.token_last_used_at < before);
      if (after) list = list.filter((g) => g.token_last_used_at !== null && g.token_last_used_at > after);
      return sendPage(req, res, headers, list, canonical, (g) => (grants ? patGrant(org, g as SimPatGrant) : patRequest(org, g as SimPatRequest)));
    }
    if (rest === "/credential-authorizations") {
      authorize(caller, org, "org_admin");
      if (!org.saml) throw notFound();
      const login = q.get("login");
      const list = org.credentialAuthorizations.filter((c) => !login || userById(c.userId).login.toLowerCase() === login.toLowerCase());
      return sendPage(req, res, headers, list, canonical, credentialAuthorization);
    }
    if (rest === "/audit-log") {
      authorize(caller, org, "org_admin");
      if (org.plan !== "enterprise") throw notFound();
      return sendAuditLog(req, res, headers, org, canonical);
    }
    throw notFound();
  }

  // --- writes (remediation) ----------------------------------------------------------------------

  function teamMembership(org: SimOrg, t: SimTeam, u: SimUser, role: string, state: "active" | "pending"): Record<string, unknown> {
    return { url: `${api()}/organizations/${org.id}/team/${t.id}/memberships/${u.login}`, role, state };
  }

  function orgMembership(org: SimOrg, u: SimUser, role: string, state: "active" | "pending"): Record<string, unknown> {
    return {
      url: `${api()}/orgs/${org.login}/memberships/${u.login}`,
      state,
      role,
      organization_url: `${api()}/orgs/${org.login}`,
      organization: { login: org.login, id: org.id, node_id: org.node_id, url: `${api()}/orgs/${org.login}` },
      user: simpleUser(u),
    };
  }

  /** What a caller may change: an App needs the write level of the permission, a token an org owner. */
  function authorizeWrite(caller: Caller, org: SimOrg, what: "members" | "pats") {
    if (caller.kind === "installation") {
      if (caller.org !== org) throw integrationRefused();
      const perm = what === "members" ? "members" : "organization_personal_access_tokens";
      if (caller.installation!.permissions[perm] !== "write") throw integrationRefused();
      return;
    }
    if (what === "pats") throw new HttpError(403, "Resource not accessible by personal access token", "https://docs.github.com/rest/orgs/personal-access-tokens");
    if (org.members.get(caller.user!.id) !== "admin") throw new HttpError(403, "You must be an organization owner to access this resource");
  }

  function jsonBody(req: SimRequest): Record<string, unknown> {
    if (req.body.length === 0) return {};
    try {
      const v = JSON.parse(req.body.toString("utf8")) as unknown;
      if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // answered below
    }
    throw new HttpError(400, "Problems parsing JSON");
  }

  /** Who GitHub names as the actor of a write: the token's user, or the App's bot for an installation token. */
  function auditActorOf(req: SimRequest, res: ServerResponse, caller: Caller): SimAuditActor {
    const from = { ip: (res.socket?.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""), userAgent: String(req.headers["user-agent"] ?? "") };
    if (caller.kind === "installation") {
      const inst = caller.installation!;
      return { login: `${inst.app_slug}[bot]`, bot: { id: botIdOf(inst.app_id) }, ...from };
    }
    if (!caller.user) throw new HttpError(401, "A JSON web token could not be decoded");
    return { login: caller.user.login, ...from };
  }

  function writeRoute(req: SimRequest, res: ServerResponse, path: string, caller: Caller, headers: Record<string, string>): void {
    const m = /^\/orgs\/([^/]+)(\/.*)$/.exec(path);
    if (!m) throw notFound();
    const org = orgOf(m[1]!, false);
    const rest = m[2]!;
    const noContent = () => {
      res.writeHead(204, headers);
      res.end();
    };
    let x: RegExpExecArray | null;
    // Every write lands in the org's audit log as GitHub records it: the caller as the actor, from its address.
    const actor = auditActorOf(req, res, caller);
    if (req.method === "DELETE" && (x = /^\/members\/([^/]+)$/.exec(rest))) {
      authorizeWrite(caller, org, "members");
      const u = tenant.usersByLogin.get(x[1]!.toLowerCase());
      if (!u || !org.members.has(u.id)) throw notFound();
      mutations(tenant).removeMember(org.login, u.login, actor);
      return noContent();
    }
    if (req.method === "PUT" && (x = /^\/memberships\/([^/]+)$/.exec(rest))) {
      authorizeWrite(caller, org, "members");
      const body = jsonBody(req);
      const role = body.role ?? "member";
      if (role !== "admin" && role !== "member") throw new HttpError(422, "Validation Failed", "https://docs.github.com/rest/orgs/members#set-organization-membership-for-a-user");
      const u = tenant.usersByLogin.get(x[1]!.toLowerCase());
      if (!u) throw notFound();
      if (org.members.has(u.id)) {
        const before = org.members.get(u.id);
        if (before !== role) mutations(tenant).setRole(org.login, u.login, role, actor);
        return sendJson(res, 200, orgMembership(org, u, role, "active"), headers);
      }
      const existing = org.invitations.find((i) => i.login?.toLowerCase() === u.login.toLowerCase());
      const inv = existing ?? {
        id: tenant.nextId(),
        node_id: nodeId("OrganizationInvitation", tenant.nextId()),
        login: u.login,
        email: null,
        role: "direct_member" as const,
        created_at: new Date().toISOString(),
        inviterId: caller.user?.id ?? [...org.members].find(([, r]) => r === "admin")![0],
        team_count: 0,
        invitation_source: "member" as const,
        failed_at: null,
        failed_reason: null,
      };
      inv.role = role === "admin" ? "admin" : "direct_member";
      if (!existing) {
        org.invitations.push(inv);
        recordAudit(tenant, org, "org.invite_member", actor, { user: u.login, user_id: u.id, permission: role === "admin" ? "admin" : "read" });
      }
      tenant.version++;
      return sendJson(res, 200, orgMembership(org, u, role, "pending"), headers);
    }
    if (req.method === "PUT" && (x = /^\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(rest))) {
      authorizeWrite(caller, org, "members");
      const role = jsonBody(req).role ?? "member";
      if (role !== "member" && role !== "maintainer") throw new HttpError(422, "Validation Failed", "https://docs.github.com/rest/teams/members#add-or-update-team-membership-for-a-user");
      const t = org.teams.find((y) => y.slug === x![1]);
      const u = tenant.usersByLogin.get(x[2]!.toLowerCase());
      if (!t || !u) throw notFound();
      if (org.members.has(u.id)) {
        const before = t.members.get(u.id);
        t.members.set(u.id, role);
        const team = `${org.login}/${t.slug}`;
        if (before === undefined) recordAudit(tenant, org, "team.add_member", actor, { team, user: u.login, user_id: u.id });
        if (role === "maintainer" && before !== "maintainer") recordAudit(tenant, org, "team.promote_maintainer", actor, { team, user: u.login, user_id: u.id });
        if (role === "member" && before === "maintainer") recordAudit(tenant, org, "team.demote_maintainer", actor, { team, user: u.login, user_id: u.id });
        tenant.version++;
        return sendJson(res, 200, teamMembership(org, t, u, role, "active"), headers);
      }
      const inv = org.invitations.find((i) => i.login?.toLowerCase() === u.login.toLowerCase());
      if (!inv) throw new HttpError(422, "Validation Failed", "https://docs.github.com/rest/teams/members#add-or-update-team-membership-for-a-user");
      (inv.pendingTeams ??= new Map()).set(t.slug, role);
      inv.team_count = inv.pendingTeams.size;
      tenant.version++;
      return sendJson(res, 200, teamMembership(org, t, u, role, "pending"), headers);
    }
    if (req.method === "POST" && (x = /^\/personal-access-tokens\/(\d+)$/.exec(rest))) {
      authorizeWrite(caller, org, "pats");
      if (jsonBody(req).action !== "revoke") throw new HttpError(422, "Validation Failed", "https://docs.github.com/rest/orgs/personal-access-tokens#update-the-access-a-fine-grained-personal-access-token-has-to-organization-resources");
      const grant = org.patGrants.find((g) => g.id === Number(x![1]));
      if (!grant) throw notFound();
      org.patGrants = org.patGrants.filter((g) => g !== grant);
      const owner = userById(grant.ownerId);
      recordAudit(tenant, org, "personal_access_token.access_revoked", actor, { user: owner.login, user_id: owner.id, token_id: grant.token_id, token_name: grant.token_name, programmatic_access_type: "Fine-grained personal access token" });
      tenant.version++;
      return noContent();
    }
    throw notFound();
  }

  const actorOf = (e: SimAuditEvent): { login: string; id: number } => (e.actorLogin !== undefined ? { login: e.actorLogin, id: e.actorId } : userById(e.actorId));

  function sendAuditLog(req: SimRequest, res: ServerResponse, headers: Record<string, string>, org: SimOrg, canonical: string) {
    const q = req.url.searchParams;
    const { perPage } = pageParams(req);
    const phrase = q.get("phrase") ?? "";
    let since = Number.NEGATIVE_INFINITY;
    let actor: string | undefined;
    for (const term of phrase.split(/\s+/).filter(Boolean)) {
      const c = /^created:(>=|>)(.+)$/.exec(term);
      if (c) since = Date.parse(c[2]!) + (c[1] === ">" ? 1 : 0);
      const a = /^actor:(.+)$/.exec(term);
      if (a) actor = a[1]!.toLowerCase();
    }
    const events = cached(`${org.id}|audit|${phrase}`, () =>
      org.auditLog.filter((e) => e["@timestamp"] >= since && (!actor || actorOf(e).login.toLowerCase() === actor)),
    );
    const ordered = q.get("order") === "asc" ? [...events].reverse() : events;
    const after = q.get("after");
    const start = after ? Number(Buffer.from(after, "base64").toString("utf8").split("|")[0]) : 0;
    if (!Number.isInteger(start) || start < 0) throw new HttpError(422, "Validation Failed");
    const slice = ordered.slice(start, start + perPage);
    const h = { ...headers };
    if (start + perPage < ordered.length) {
      const cursor = Buffer.from(`${start + perPage}|${slice[slice.length - 1]!._document_id}`).toString("base64");
      const next = new URLSearchParams();
      if (phrase) next.set("phrase", phrase);
      if (q.get("order")) next.set("order", q.get("order")!);
      if (q.get("include")) next.set("include", q.get("include")!);
      next.set("per_page", String(perPage));
      next.set("after", cursor);
      next.set("before", "");
      h.link = `<${api()}${canonical}?${next.toString()}>; rel="next"`;
    }
    sendJson(
      res,
      200,
      slice.map((e) => {
        const u = actorOf(e);
        return { "@timestamp": e["@timestamp"], _document_id: e._document_id, action: e.action, actor: u.login, actor_id: u.id, actor_location: { country_code: "US" }, created_at: e["@timestamp"], org: org.login, org_id: org.id, business: null, ...e.fields };
      }),
      h,
    );
  }

  const sim = await startSimulator({
    tls: options.tls,
    latencyMs: options.latencyMs,
    handler: async (req, res) => {
      let path = req.url.pathname;
      if (prefix) {
        if (!path.startsWith(`${prefix}/`)) return sendJson(res, 404, { message: "Not Found", documentation_url: DOCS, status: "404" });
        path = path.slice(prefix.length);
      }
      let caller: Caller | undefined;
      let bucket: Bucket | undefined;
      try {
        caller = identify(req);
        bucket = bucketOf(caller);
        const sec = secondary.find((r) => r.times > 0 && (!r.match || r.match(req.method, path)));
        if (sec) {
          sec.times--;
          const extra: Record<string, string> = {};
          if (sec.retryAfter !== null) extra["retry-after"] = String(sec.retryAfter ?? 60);
          throw new HttpError(sec.status ?? 403, SECONDARY_MESSAGE, "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits", extra);
        }
        if (bucket.used >= bucket.limit) {
          const what = caller.kind === "installation" ? `installation ID ${caller.installation!.id}` : caller.kind === "pat" ? `user ID ${caller.user!.id}` : "app";
          throw new HttpError(403, `API rate limit exceeded for ${what}.`, "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit");
        }
        bucket.used++;
        const replaced = req.method === "GET" && caller.kind !== "jwt" ? options.override?.(path, req.url) : undefined;
        if (replaced) return sendJson(res, replaced.status ?? 200, replaced.body, { ...commonHeaders(caller, bucket), ...(replaced.headers ?? {}) });
        await route(req, res, path, caller, commonHeaders(caller, bucket));
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        sendError(res, err, commonHeaders(caller, bucket));
      }
    },
  });
  origin = sim.url;

  return {
    sim,
    url: sim.url,
    baseUrl: `${sim.url}${prefix}`,
    tenant,
    get tokensIssued() {
      return tokensIssued;
    },
    issuePat(login, opts = {}) {
      const user = tenant.usersByLogin.get(login.toLowerCase());
      if (!user) throw new Error(`no user ${login}`);
      const token = opts.fineGrained ? `github_pat_${randomBytes(30).toString("hex")}` : `ghp_${randomBytes(18).toString("hex")}`;
      pats.set(token, { user, scopes: opts.scopes ?? ["read:org", "repo"], fineGrained: opts.fineGrained ?? false });
      return token;
    },
    setRateLimit({ limit, remaining, resetInSeconds, token }) {
      if (token) {
        const key = pats.has(token) ? `pat:${token}` : `installation:${installationTokens.get(token)?.installationId}`;
        const l = limit ?? buckets.get(key)?.limit ?? 5000;
        buckets.set(key, { limit: l, used: l - remaining, resetAt: nowS() + resetInSeconds });
        return;
      }
      defaultOverride = { limit, remaining, resetInSeconds };
      for (const b of buckets.values()) {
        if (limit) b.limit = limit;
        b.used = b.limit - remaining;
        b.resetAt = nowS() + resetInSeconds;
      }
    },
    resetRateLimits() {
      defaultOverride = undefined;
      for (const b of buckets.values()) {
        b.used = 0;
        b.resetAt = nowS() + 3600;
      }
    },
    secondaryLimit(rule) {
      secondary.push({ ...rule });
    },
    close: () => sim.close(),
  };
}

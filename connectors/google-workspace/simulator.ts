// Loopback Google: the OAuth 2.0 token endpoint (JWT-bearer grant, RS256 verified against the service
// account's public key, domain-wide delegation checked per client ID and scope), Admin SDK Directory v1
// (users, roles, roleassignments, tokens, asps) with maxResults / pageToken / fields partial responses,
// IAM Credentials signJwt (keyless delegation), IAM service accounts / keys, and the writes remediation makes
// (users.get/update `suspended`, roleAssignments get/delete/insert) — all in Google's wire
// format and Google's error JSON, so the unmodified @googleapis/admin + google-auth-library clients run
// against it. Tenant data and its mutation API live in sim-tenant.ts.
import { createPrivateKey, createPublicKey, randomBytes, sign as rsaSign, verify as rsaVerify } from "node:crypto";
import type http from "node:http";
import { sendJson, startSimulator, type SimRequest, type Simulator } from "../../src/simulator/harness.js";
import { applyFields, FieldSelectionError, parseFields, validateFields, type FieldSchema } from "./sim-fields.js";
import { ACTIVITY_RETENTION_DAYS, REPORT_APPLICATIONS, SCOPES, SimTenant, type SimActivity, type SimUserRecord, type TenantOptions } from "./sim-tenant.js";

export { ADMIN_IP, ATTACKER_IP, NEVER_LOGGED_IN, SCOPES, SimTenant } from "./sim-tenant.js";

/** The audience google-auth-library signs into every service-account assertion. */
export const GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token";
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

export interface GoogleSimulatorOptions extends TenantOptions {
  tenant?: SimTenant;
  latencyMs?: number;
  /** Per-subject request quota, answered with 403 userRateLimitExceeded like the Directory API. */
  rateLimit?: { requests: number; windowMs: number };
  /**
   * Replaces a GET route's answer (after authentication and rate accounting) with one the test supplies, e.g.
   * generated from Google's Discovery documents. `scopes` are the OAuth scopes the caller's token carries.
   */
  override?: (endpoint: Endpoint, url: URL, scopes: ReadonlySet<string>) => { status?: number; body: unknown } | undefined;
}

export type GoogleErrorKind = "userRateLimitExceeded" | "rateLimitExceeded" | "quotaExceeded" | "backendError" | "internalError";

export interface GoogleSimulator {
  readonly tenant: SimTenant;
  readonly sim: Simulator;
  readonly url: string;
  /** For the `root_url` option: the Directory API (and IAM) base. */
  readonly rootUrl: string;
  /** For the `token_url` option. */
  readonly tokenUrl: string;
  readonly stats: SimStats;
  /** Delay before each answer (so request counts cost wall time like a real network). */
  latencyMs: number;
  /** Caps activities.list pages below maxResults (tests use it to force paging on a short log). */
  activitiesPageCap: number | undefined;
  /** Answer the next `times` matching requests with a Google error instead of the real response. */
  injectGoogleError(kind: GoogleErrorKind, opts?: { times?: number; endpoint?: Endpoint; retryAfterSeconds?: number }): void;
  close(): Promise<void>;
}

export type Endpoint =
  | "token"
  | "users"
  | "roles"
  | "roleassignments"
  | "tokens"
  | "asps"
  | "activities"
  | "signJwt"
  | "iam.serviceAccounts"
  | "iam.keys"
  | "users.get"
  | "users.update"
  | "roleassignments.get"
  | "roleassignments.delete"
  | "roleassignments.insert";

export interface SimStats {
  tokensIssued: number;
  calls: Map<string, number>;
  rateLimited: number;
  /** Most requests of one endpoint being answered at the same time (latency included). */
  maxInFlight: Map<string, number>;
}

interface IssuedToken {
  /** The service account the token belongs to. */
  iss: string;
  /** The impersonated user (domain-wide delegation), when there is one. */
  sub?: string;
  scopes: Set<string>;
  expiresAt: number;
}

export function googleErrorBody(
  code: number,
  reason: string,
  message: string,
  opts: { domain?: string; status?: string; location?: string; locationType?: string } = {},
): unknown {
  const item: Record<string, string> = { message, domain: opts.domain ?? "global", reason };
  if (opts.location) item.location = opts.location;
  if (opts.locationType) item.locationType = opts.locationType;
  return { error: { code, message, errors: [item], ...(opts.status ? { status: opts.status } : {}) } };
}

const ERROR_SHAPES: Record<GoogleErrorKind, { status: number; body: unknown }> = {
  userRateLimitExceeded: { status: 403, body: googleErrorBody(403, "userRateLimitExceeded", "User Rate Limit Exceeded", { domain: "usageLimits" }) },
  quotaExceeded: { status: 403, body: googleErrorBody(403, "quotaExceeded", "Quota exceeded for quota group 'default' and limit 'Queries per user per 100 seconds'.", { domain: "usageLimits" }) },
  rateLimitExceeded: {
    status: 429,
    body: googleErrorBody(429, "rateLimitExceeded", "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com'.", { status: "RESOURCE_EXHAUSTED" }),
  },
  backendError: { status: 503, body: googleErrorBody(503, "backendError", "The service is currently unavailable.", { status: "UNAVAILABLE" }) },
  internalError: { status: 500, body: googleErrorBody(500, "internalError", "Internal error encountered.", { status: "INTERNAL" }) },
};

const USER_SCHEMA: FieldSchema = Object.fromEntries(
  [
    "addresses", "agreedToTerms", "aliases", "archivalTime", "archived", "changePasswordAtNextLogin", "creationTime", "customerId",
    "deletionTime", "emails", "etag", "externalIds", "gender", "guestAccountInfo", "hashFunction", "id", "ims",
    "includeInGlobalAddressList", "ipWhitelisted", "isAdmin", "isDelegatedAdmin", "isEnforcedIn2Sv", "isEnrolledIn2Sv", "isGuestUser",
    "isMailboxSetup", "keywords", "kind", "languages", "lastLoginTime", "locations", "nonEditableAliases", "notes", "organizations",
    "orgUnitPath", "password", "phones", "posixAccounts", "primaryEmail", "recoveryEmail", "recoveryPhone", "relations",
    "sshPublicKeys", "suspended", "suspensionReason", "suspensionTime", "thumbnailPhotoEtag", "thumbnailPhotoUrl", "websites",
  ].map((k) => [k, true as const]),
);
/** One user resource (users.get, users.update). */
const USER_RESOURCE_SCHEMA: FieldSchema = { ...(USER_SCHEMA as Record<string, true>), name: { givenName: true, familyName: true, fullName: true, displayName: true }, customSchemas: "any" };
const SCHEMAS: Record<string, FieldSchema> = {
  users: { kind: true, etag: true, nextPageToken: true, trigger_event: true, users: USER_RESOURCE_SCHEMA },
};

export async function startGoogleSimulator(opts: GoogleSimulatorOptions = {}): Promise<GoogleSimulator> {
  const tenant = opts.tenant ?? new SimTenant(opts);
  const tokens = new Map<string, IssuedToken>();
  const stats: SimStats = { tokensIssued: 0, calls: new Map(), rateLimited: 0, maxInFlight: new Map() };
  const recent = new Map<string, number[]>();
  const inFlight = new Map<string, number>();
  let latencyMs = opts.latencyMs ?? 0;
  let activitiesPageCap: number | undefined;

  const handler = async (req: SimRequest, res: http.ServerResponse): Promise<void> => {
    const path = req.url.pathname;
    const route = routeOf(req.method, path);
    if (!route) {
      sendJson(res, 404, googleErrorBody(404, "notFound", `The requested URL ${path} was not found on this server.`));
      return;
    }
    stats.calls.set(route.endpoint, (stats.calls.get(route.endpoint) ?? 0) + 1);
    // Latency is applied here rather than by the harness so concurrent requests can be observed.
    const current = (inFlight.get(route.endpoint) ?? 0) + 1;
    inFlight.set(route.endpoint, current);
    stats.maxInFlight.set(route.endpoint, Math.max(current, stats.maxInFlight.get(route.endpoint) ?? 0));
    try {
      if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
      await answer(req, res, route);
    } finally {
      inFlight.set(route.endpoint, (inFlight.get(route.endpoint) ?? 1) - 1);
    }
  };

  const answer = async (req: SimRequest, res: http.ServerResponse, route: { endpoint: Endpoint; params: string[] }): Promise<void> => {
    if (route.endpoint === "token") return tokenEndpoint(req, res);

    const token = bearer(req);
    if (!token) {
      sendJson(
        res,
        401,
        googleErrorBody(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", {
          status: "UNAUTHENTICATED",
          location: "Authorization",
          locationType: "header",
        }),
        { "www-authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
      );
      return;
    }
    if (opts.rateLimit && overQuota(token.sub ?? token.iss, opts.rateLimit)) {
      stats.rateLimited++;
      sendJson(res, ERROR_SHAPES.userRateLimitExceeded.status, ERROR_SHAPES.userRateLimitExceeded.body);
      return;
    }
    const replaced = req.method === "GET" ? opts.override?.(route.endpoint, req.url, token.scopes) : undefined;
    if (replaced) return sendJson(res, replaced.status ?? 200, replaced.body);
    switch (route.endpoint) {
      case "users":
        return usersList(req, res, token);
      case "roles":
        return rolesList(req, res, token, route.params[0]!);
      case "roleassignments":
        return roleAssignmentsList(req, res, token, route.params[0]!);
      case "tokens":
      case "asps":
        return perUser(req, res, token, route.endpoint, decodeURIComponent(route.params[0]!));
      case "activities":
        return activitiesList(req, res, token, decodeURIComponent(route.params[0]!), decodeURIComponent(route.params[1]!));
      case "signJwt":
        return signJwt(req, res, token, decodeURIComponent(route.params[0]!));
      case "iam.serviceAccounts":
        return iamServiceAccounts(req, res, token, route.params[0]!);
      case "iam.keys":
        return iamKeys(req, res, token, route.params[0]!, decodeURIComponent(route.params[1]!));
      case "users.get":
        return userGet(req, res, token, decodeURIComponent(route.params[0]!));
      case "users.update":
        return userUpdate(req, res, token, decodeURIComponent(route.params[0]!));
      case "roleassignments.get":
      case "roleassignments.delete":
        return roleAssignmentOne(req, res, token, route.endpoint, route.params[0]!, decodeURIComponent(route.params[1]!));
      case "roleassignments.insert":
        return roleAssignmentInsert(req, res, token, route.params[0]!);
    }
  };

  function overQuota(who: string, limit: { requests: number; windowMs: number }): boolean {
    const now = Date.now();
    const times = (recent.get(who) ?? []).filter((t) => now - t < limit.windowMs);
    const over = times.length >= limit.requests;
    if (!over) times.push(now);
    recent.set(who, times);
    return over;
  }

  function bearer(req: SimRequest): IssuedToken | undefined {
    const m = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ""));
    const t = m ? tokens.get(m[1]!) : undefined;
    return t && t.expiresAt > Date.now() ? t : undefined;
  }

  // ---- OAuth 2.0 token endpoint ---------------------------------------------------------------

  function tokenEndpoint(req: SimRequest, res: http.ServerResponse): void {
    const form = new URLSearchParams(req.body.toString("utf8"));
    const oauthError = (status: number, error: string, description: string) => sendJson(res, status, { error, error_description: description });
    if (form.get("grant_type") !== JWT_BEARER) return oauthError(400, "unsupported_grant_type", `Invalid grant_type: ${form.get("grant_type") ?? ""}`);
    const assertion = form.get("assertion") ?? "";
    const parts = assertion.split(".");
    if (parts.length !== 3) return oauthError(400, "invalid_grant", "Invalid JWT: Malformed");
    let header: { alg?: string };
    let claims: { iss?: string; sub?: string; scope?: string; aud?: string; iat?: number; exp?: number };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8"));
      claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    } catch {
      return oauthError(400, "invalid_grant", "Invalid JWT: Malformed");
    }
    const account = claims.iss ? tenant.serviceAccountByEmail(claims.iss) : undefined;
    if (!account) return oauthError(400, "invalid_grant", "Invalid grant: account not found");
    if (header.alg !== "RS256") return oauthError(400, "invalid_grant", "Invalid JWT Signature.");
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    if (!rsaVerify("RSA-SHA256", signed, createPublicKey(account.publicKeyPem), Buffer.from(parts[2]!, "base64url"))) {
      return oauthError(400, "invalid_grant", "Invalid JWT Signature.");
    }
    if (claims.aud !== GOOGLE_TOKEN_AUDIENCE) return oauthError(400, "invalid_grant", "Invalid JWT: Failed audience check.");
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== "number" || typeof claims.exp !== "number" || claims.exp - claims.iat > 3600 || claims.exp < now - 300 || claims.iat > now + 300) {
      return oauthError(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.");
    }
    const scopes = (claims.scope ?? "").split(" ").filter(Boolean);
    if (scopes.length === 0) return oauthError(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.");
    if (claims.sub !== undefined) {
      const subject = tenant.find(claims.sub);
      if (!subject || subject.user.suspended || subject.user.archived) return oauthError(400, "invalid_grant", "Invalid email or User ID");
      const allowed = tenant.delegation.get(account.clientId) ?? new Set<string>();
      if (!scopes.every((s) => allowed.has(s))) {
        return oauthError(
          401,
          "unauthorized_client",
          "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        );
      }
    }
    const accessToken = `ya29.sim-${randomBytes(24).toString("base64url")}`;
    tokens.set(accessToken, { iss: account.email, sub: claims.sub, scopes: new Set(scopes), expiresAt: Date.now() + 3599_000 });
    stats.tokensIssued++;
    sendJson(res, 200, { access_token: accessToken, expires_in: 3599, token_type: "Bearer" });
  }

  // ---- shared checks -------------------------------------------------------------------------

  function hasScope(token: IssuedToken, anyOf: readonly string[]): boolean {
    return anyOf.some((s) => token.scopes.has(s));
  }

  function insufficientScopes(res: http.ServerResponse): void {
    sendJson(res, 403, googleErrorBody(403, "insufficientPermissions", "Request had insufficient authentication scopes.", { status: "PERMISSION_DENIED" }));
  }

  function notAuthorized(res: http.ServerResponse): void {
    sendJson(res, 403, googleErrorBody(403, "forbidden", "Not Authorized to access this resource/api"));
  }

  /**
   * Whether the impersonated user may call a Directory endpoint. Super admins may call everything; a
   * delegated admin needs the matching privilege (roles are super-admin only here, a simplification).
   */
  function adminMay(token: IssuedToken, what: "users" | "roles" | "security"): boolean {
    if (!token.sub) return false;
    const rec = tenant.find(token.sub);
    if (!rec || rec.user.suspended) return false;
    if (tenant.adminFlags(rec.user.id).isAdmin) return true;
    const privs = tenant.privilegesOf(rec.user.id);
    if (what === "users") return privs.has("USERS_RETRIEVE") || privs.has("USERS_ALL");
    if (what === "security") return privs.has("USER_SECURITY_ALL");
    return false;
  }

  function badRequest(res: http.ServerResponse, message: string, reason = "invalid", location?: string): void {
    sendJson(res, 400, googleErrorBody(400, reason, message, location ? { location, locationType: "parameter" } : {}));
  }

  function intParam(req: SimRequest, res: http.ServerResponse, name: string, min: number, max: number, dflt: number): number | undefined {
    const raw = req.url.searchParams.get(name);
    if (raw === null) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      badRequest(res, `Invalid value '${raw}'. Values must be within the range: [${min}, ${max}]`, "invalidParameter", name);
      return undefined;
    }
    return n;
  }

  /** Customer path/query value: `my_customer` or the customer ID; anything else is not this tenant. */
  function customerOk(res: http.ServerResponse, customer: string | null): boolean {
    if (customer === "my_customer" || customer === tenant.customerId) return true;
    badRequest(res, "Bad Request", "badRequest");
    return false;
  }

  /** Fields selection → response, or a 400 like Google's when the selection names unknown fields. */
  function respond(req: SimRequest, res: http.ServerResponse, body: Record<string, unknown>, schema?: FieldSchema): void {
    const fields = req.url.searchParams.get("fields");
    if (!fields) return sendJson(res, 200, body);
    try {
      const selection = parseFields(fields);
      if (schema) validateFields(selection, schema);
      sendJson(res, 200, applyFields(body, selection));
    } catch (err) {
      if (err instanceof FieldSelectionError) return badRequest(res, err.message, "invalidParameter", "fields");
      throw err;
    }
  }

  // Page tokens are opaque to clients; here they carry the next position and what was listed.
  function pageToken(kind: string, pos: number): string {
    return Buffer.from(JSON.stringify({ k: kind, p: pos, r: randomBytes(3).toString("hex") })).toString("base64url");
  }

  function readPageToken(req: SimRequest, res: http.ServerResponse, kind: string): number | undefined {
    const raw = req.url.searchParams.get("pageToken");
    if (!raw) return 0;
    try {
      const t = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as { k?: string; p?: number };
      if (t.k === kind && typeof t.p === "number" && t.p >= 0) return t.p;
    } catch {
      // fall through
    }
    badRequest(res, "Invalid Input: pageToken", "invalid", "pageToken");
    return undefined;
  }

  // ---- Reports API ---------------------------------------------------------------------------

  /**
   * activities.list: newest first, `startTime` / `endTime` (RFC 3339), `maxResults` 1–1000, opaque page
   * tokens holding the position, `customerId`; super admins only; 180 days kept.
   */
  function activitiesList(req: SimRequest, res: http.ServerResponse, token: IssuedToken, userKey: string, app: string): void {
    if (!hasScope(token, [SCOPES.reportsAudit, SCOPES.reportsAuditWrite])) return insufficientScopes(res);
    const rec = token.sub ? tenant.find(token.sub) : undefined;
    if (!rec || rec.user.suspended || !tenant.adminFlags(rec.user.id).isAdmin) {
      return sendJson(res, 401, googleErrorBody(401, "authError", "Access denied. You are not authorized to read activity records.", { location: "Authorization", locationType: "header" }));
    }
    if (!(REPORT_APPLICATIONS as readonly string[]).includes(app)) {
      return badRequest(res, `Invalid value '${app}'. Values must match the following regular expression: '(access_transparency)|(admin)|(calendar)|(chat)|(drive)|(gcp)|(gplus)|(groups)|(groups_enterprise)|(jamboard)|(login)|(meet)|(mobile)|(rules)|(saml)|(token)|(user_accounts)|(context_aware_access)|(chrome)|(data_studio)|(keep)'`, "invalidParameter", "applicationName");
    }
    const q = req.url.searchParams;
    const customer = q.get("customerId");
    if (customer !== null && customer !== tenant.customerId) return badRequest(res, "Bad Request", "badRequest");
    const time = (name: string): number | null | undefined => {
      const raw = q.get(name);
      if (raw === null) return null;
      const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(raw) ? Date.parse(raw) : Number.NaN;
      if (Number.isNaN(t)) {
        badRequest(res, `Invalid value '${raw}' for ${name}`, "invalid", name);
        return undefined;
      }
      return t;
    };
    const start = time("startTime");
    if (start === undefined) return;
    const end = time("endTime");
    if (end === undefined) return;
    const max = intParam(req, res, "maxResults", 1, 1000, 1000);
    if (max === undefined) return;
    const actorKey = userKey === "all" ? undefined : (tenant.find(userKey)?.user.id ?? null);
    if (actorKey === null) return badRequest(res, "Bad Request", "badRequest");
    const keyOf = (a: SimActivity) => `${a.id.time}|${a.id.uniqueQualifier}`;
    let after: string | undefined;
    const rawToken = q.get("pageToken");
    if (rawToken) {
      try {
        const t = JSON.parse(Buffer.from(rawToken, "base64url").toString("utf8")) as { a?: unknown; k?: unknown };
        if (t.a !== app || typeof t.k !== "string") throw new Error("other list");
        after = t.k;
      } catch {
        return badRequest(res, "Invalid Input: pageToken", "invalid", "pageToken");
      }
    }
    const oldest = Date.now() - ACTIVITY_RETENTION_DAYS * 86_400_000;
    const matching = tenant.audit.activities
      .filter((a) => {
        const t = Date.parse(a.id.time);
        return a.id.applicationName === app && t >= oldest && (start === null || t >= start) && (end === null || t <= end) && (actorKey === undefined || a.actor.profileId === actorKey) && (after === undefined || keyOf(a) < after);
      })
      .sort((a, b) => (keyOf(a) < keyOf(b) ? 1 : keyOf(a) > keyOf(b) ? -1 : 0));
    const limit = Math.min(max, activitiesPageCap ?? max);
    const items = matching.slice(0, limit);
    const body: Record<string, unknown> = { kind: "admin#reports#activities", etag: `"${randomBytes(16).toString("hex")}"` };
    // Google leaves `items` out of an empty answer.
    if (items.length > 0) body.items = items;
    if (matching.length > limit) body.nextPageToken = Buffer.from(JSON.stringify({ a: app, k: keyOf(items[items.length - 1]!), r: randomBytes(3).toString("hex") })).toString("base64url");
    respond(req, res, body);
  }

  // ---- Directory API -------------------------------------------------------------------------

  function serveUser(rec: SimUserRecord, projection: string, mask: Set<string>): Record<string, unknown> {
    const { customSchemas, ...u } = rec.user;
    const flags = tenant.adminFlags(u.id);
    const out: Record<string, unknown> = { kind: "admin#directory#user", etag: `"${etagOf(rec)}"`, ...u, ...flags };
    if (customSchemas && projection !== "basic") {
      const selected = Object.fromEntries(Object.entries(customSchemas).filter(([name]) => projection === "full" || mask.has(name)));
      if (Object.keys(selected).length) out.customSchemas = selected;
    }
    return out;
  }

  function usersList(req: SimRequest, res: http.ServerResponse, token: IssuedToken): void {
    if (!hasScope(token, [SCOPES.userReadonly, SCOPES.user, SCOPES.cloudPlatform])) return insufficientScopes(res);
    if (!adminMay(token, "users")) return notAuthorized(res);
    const q = req.url.searchParams;
    const customer = q.get("customer");
    const domain = q.get("domain");
    if (!customer && !domain) return badRequest(res, "Bad Request", "badRequest");
    if (customer && !customerOk(res, customer)) return;
    if (domain && domain !== tenant.domain) return badRequest(res, "Domain not found.", "notFound");
    if (q.get("query")) return badRequest(res, "simulator: query is not implemented", "invalid", "query");
    const max = intParam(req, res, "maxResults", 1, 500, 100);
    if (max === undefined) return;
    const projection = q.get("projection") ?? "basic";
    if (!["basic", "custom", "full"].includes(projection)) {
      return badRequest(res, `Invalid value '${projection}'. Values must be one of: basic, custom, full`, "invalidParameter", "projection");
    }
    const maskRaw = q.get("customFieldMask");
    if (projection === "custom" && !maskRaw) return badRequest(res, "Invalid Input: customFieldMask is required for projection=custom", "invalid", "customFieldMask");
    const mask = new Set((maskRaw ?? "").split(",").filter(Boolean));
    const start = readPageToken(req, res, "users");
    if (start === undefined) return;

    const users: Record<string, unknown>[] = [];
    let slot = start;
    for (; slot < tenant.slotCount && users.length < max; slot++) {
      const rec = tenant.record(slot);
      if (rec) users.push(serveUser(rec, projection, mask));
    }
    // Only hand out a token when another user really follows, as Google does on the last page.
    while (slot < tenant.slotCount && !tenant.record(slot)) slot++;
    const body: Record<string, unknown> = { kind: "admin#directory#users", etag: `"${randomBytes(8).toString("hex")}"` };
    if (users.length) body.users = users;
    if (slot < tenant.slotCount) body.nextPageToken = pageToken("users", slot);
    respond(req, res, body, SCHEMAS.users);
  }

  function rolesList(req: SimRequest, res: http.ServerResponse, token: IssuedToken, customer: string): void {
    if (!hasScope(token, [SCOPES.roleReadonly, SCOPES.role])) return insufficientScopes(res);
    if (!adminMay(token, "roles")) return notAuthorized(res);
    if (!customerOk(res, decodeURIComponent(customer))) return;
    const max = intParam(req, res, "maxResults", 1, 100, 100);
    if (max === undefined) return;
    const start = readPageToken(req, res, "roles");
    if (start === undefined) return;
    const all = tenant.roles;
    const items = all.slice(start, start + max).map((r) => ({ kind: "admin#directory#role", etag: `"${r.roleId}"`, ...r }));
    const body: Record<string, unknown> = { kind: "admin#directory#roles", etag: `"${randomBytes(8).toString("hex")}"`, items };
    if (start + max < all.length) body.nextPageToken = pageToken("roles", start + max);
    respond(req, res, body);
  }

  function roleAssignmentsList(req: SimRequest, res: http.ServerResponse, token: IssuedToken, customer: string): void {
    if (!hasScope(token, [SCOPES.roleReadonly, SCOPES.role])) return insufficientScopes(res);
    if (!adminMay(token, "roles")) return notAuthorized(res);
    if (!customerOk(res, decodeURIComponent(customer))) return;
    const max = intParam(req, res, "maxResults", 1, 200, 100);
    if (max === undefined) return;
    const start = readPageToken(req, res, "roleassignments");
    if (start === undefined) return;
    const q = req.url.searchParams;
    let all = tenant.roleAssignments;
    const roleId = q.get("roleId");
    if (roleId) all = all.filter((a) => a.roleId === roleId);
    const userKey = q.get("userKey");
    if (userKey) {
      const rec = tenant.find(userKey);
      if (!rec) return sendJson(res, 404, googleErrorBody(404, "notFound", "Resource Not Found: userKey"));
      all = all.filter((a) => a.assignedTo === rec.user.id);
    }
    const items = all
      .slice(start, start + max)
      .map((a) => ({ kind: "admin#directory#roleAssignment", etag: `"${a.roleAssignmentId}"`, ...a }));
    const body: Record<string, unknown> = { kind: "admin#directory#roleAssignments", etag: `"${randomBytes(8).toString("hex")}"`, items };
    if (start + max < all.length) body.nextPageToken = pageToken("roleassignments", start + max);
    respond(req, res, body);
  }

  function perUser(req: SimRequest, res: http.ServerResponse, token: IssuedToken, what: "tokens" | "asps", userKey: string): void {
    if (!hasScope(token, [SCOPES.userSecurity])) return insufficientScopes(res);
    if (!adminMay(token, "security")) return notAuthorized(res);
    const rec = tenant.find(userKey);
    if (!rec) return sendJson(res, 404, googleErrorBody(404, "notFound", "Resource Not Found: userKey"));
    const body: Record<string, unknown> =
      what === "tokens"
        ? { kind: "admin#directory#tokenList", etag: `"${etagOf(rec)}"` }
        : { kind: "admin#directory#asps", etag: `"${etagOf(rec)}"` };
    const items =
      what === "tokens"
        ? rec.tokens.map((t) => ({ kind: "admin#directory#token", etag: `"${t.clientId.slice(0, 8)}"`, ...t, userKey: rec.user.id }))
        : rec.asps.map((a) => ({ kind: "admin#directory#asp", etag: `"${a.codeId}"`, ...a, userKey: rec.user.id }));
    // Google leaves `items` out of an empty list.
    if (items.length) body.items = items;
    respond(req, res, body);
  }

  // ---- Directory API writes (remediation) ----------------------------------------------------

  const userNotFound = (res: http.ServerResponse) => sendJson(res, 404, googleErrorBody(404, "notFound", "Resource Not Found: userKey"));

  function userGet(req: SimRequest, res: http.ServerResponse, token: IssuedToken, userKey: string): void {
    if (!hasScope(token, [SCOPES.userReadonly, SCOPES.user])) return insufficientScopes(res);
    if (!adminMay(token, "users")) return notAuthorized(res);
    const rec = tenant.find(userKey);
    if (!rec) return userNotFound(res);
    respond(req, res, serveUser(rec, "basic", new Set()), USER_RESOURCE_SCHEMA);
  }

  /** users.update with patch semantics; only `suspended` is simulated. A delegated admin may not touch a super admin. */
  function userUpdate(req: SimRequest, res: http.ServerResponse, token: IssuedToken, userKey: string): void {
    if (!hasScope(token, [SCOPES.user])) return insufficientScopes(res);
    const body = jsonBody(req, res);
    if (!body) return;
    for (const k of Object.keys(body)) if (k !== "suspended") return badRequest(res, `simulator: users.update only changes suspended, not ${k}`, "invalid");
    if (typeof body.suspended !== "boolean") return badRequest(res, "Invalid Input: suspended", "invalid");
    const caller = token.sub ? tenant.find(token.sub) : undefined;
    if (!caller || caller.user.suspended) return notAuthorized(res);
    const callerIsSuper = tenant.adminFlags(caller.user.id).isAdmin;
    const privs = tenant.privilegesOf(caller.user.id);
    if (!callerIsSuper && !privs.has("USERS_UPDATE") && !privs.has("USERS_ALL")) return notAuthorized(res);
    const rec = tenant.find(userKey);
    if (!rec) return userNotFound(res);
    if (!callerIsSuper && tenant.adminFlags(rec.user.id).isAdmin) return notAuthorized(res);
    const updated = body.suspended ? tenant.suspendUser(rec.user.id) : tenant.unsuspendUser(rec.user.id);
    respond(req, res, serveUser({ ...rec, user: updated }, "basic", new Set()), USER_RESOURCE_SCHEMA);
  }

  function roleAssignmentOne(req: SimRequest, res: http.ServerResponse, token: IssuedToken, endpoint: "roleassignments.get" | "roleassignments.delete", customer: string, id: string): void {
    const read = endpoint === "roleassignments.get";
    if (!hasScope(token, read ? [SCOPES.roleReadonly, SCOPES.role] : [SCOPES.role])) return insufficientScopes(res);
    if (!adminMay(token, "roles")) return notAuthorized(res);
    if (!customerOk(res, decodeURIComponent(customer))) return;
    const a = tenant.roleAssignments.find((x) => x.roleAssignmentId === id);
    if (!a) return sendJson(res, 404, googleErrorBody(404, "notFound", "Does not exist"));
    if (read) return respond(req, res, { kind: "admin#directory#roleAssignment", etag: `"${a.roleAssignmentId}"`, ...a });
    tenant.deleteRoleAssignment(id);
    res.writeHead(204, { "content-length": "0" });
    res.end();
  }

  function roleAssignmentInsert(req: SimRequest, res: http.ServerResponse, token: IssuedToken, customer: string): void {
    if (!hasScope(token, [SCOPES.role])) return insufficientScopes(res);
    if (!adminMay(token, "roles")) return notAuthorized(res);
    if (!customerOk(res, decodeURIComponent(customer))) return;
    const body = jsonBody(req, res);
    if (!body) return;
    const { roleId, assignedTo, scopeType, orgUnitId } = body;
    if (typeof roleId !== "string" || typeof assignedTo !== "string") return badRequest(res, "Invalid Input: roleId and assignedTo are required", "invalid");
    if (scopeType !== "CUSTOMER" && scopeType !== "ORG_UNIT") return badRequest(res, `Invalid value for scopeType: ${String(scopeType)}`, "invalid");
    if (scopeType === "ORG_UNIT" && (typeof orgUnitId !== "string" || ![...tenant.orgUnitIds.values()].includes(orgUnitId))) return badRequest(res, "Invalid Input: orgUnitId", "invalid");
    if (!tenant.roles.some((r) => r.roleId === roleId)) return sendJson(res, 404, googleErrorBody(404, "notFound", "Role not found"));
    const group = tenant.groups.find((g) => g.id === assignedTo);
    if (!group && !tenant.find(assignedTo)) return badRequest(res, "Invalid Input: assignedTo", "invalid");
    const same = tenant.roleAssignments.find(
      (a) => a.roleId === roleId && a.assignedTo === assignedTo && a.scopeType === scopeType && (a.orgUnitId ?? null) === ((orgUnitId as string | undefined) ?? null),
    );
    if (same) return sendJson(res, 409, googleErrorBody(409, "duplicate", "Entity already exists."));
    const created = tenant.insertRoleAssignment({
      roleId,
      assignedTo,
      assigneeType: group ? "GROUP" : "USER",
      scopeType,
      ...(scopeType === "ORG_UNIT" ? { orgUnitId: orgUnitId as string } : {}),
    });
    respond(req, res, { kind: "admin#directory#roleAssignment", etag: `"${created.roleAssignmentId}"`, ...created });
  }

  function jsonBody(req: SimRequest, res: http.ServerResponse): Record<string, unknown> | undefined {
    try {
      const body = JSON.parse(req.body.toString("utf8")) as unknown;
      if (body && typeof body === "object" && !Array.isArray(body)) return body as Record<string, unknown>;
    } catch {
      // answered below
    }
    sendJson(res, 400, { error: { code: 400, message: "Invalid JSON payload received.", status: "INVALID_ARGUMENT" } });
    return undefined;
  }

  // ---- IAM Credentials and IAM ----------------------------------------------------------------

  async function signJwt(req: SimRequest, res: http.ServerResponse, token: IssuedToken, target: string): Promise<void> {
    if (!hasScope(token, [SCOPES.cloudPlatform, SCOPES.iam])) return insufficientScopes(res);
    const account = tenant.serviceAccountByEmail(target);
    const callers = tenant.tokenCreators.get(target);
    if (!account || token.sub || !callers?.has(token.iss)) {
      sendJson(res, 403, {
        error: { code: 403, message: "Permission 'iam.serviceAccounts.signJwt' denied on resource (or it may not exist).", status: "PERMISSION_DENIED" },
      });
      return;
    }
    let payload: string;
    try {
      payload = (JSON.parse(req.body.toString("utf8")) as { payload?: string }).payload ?? "";
      JSON.parse(payload);
    } catch {
      sendJson(res, 400, { error: { code: 400, message: "Invalid JSON payload received.", status: "INVALID_ARGUMENT" } });
      return;
    }
    const head = Buffer.from(JSON.stringify({ alg: "RS256", kid: account.privateKeyId, typ: "JWT" })).toString("base64url");
    const body = Buffer.from(payload).toString("base64url");
    const sig = rsaSign("RSA-SHA256", Buffer.from(`${head}.${body}`), createPrivateKey(account.privateKeyPem)).toString("base64url");
    sendJson(res, 200, { keyId: account.privateKeyId, signedJwt: `${head}.${body}.${sig}` });
  }

  function iamDenied(res: http.ServerResponse, permission: string): void {
    sendJson(res, 403, { error: { code: 403, message: `Permission '${permission}' denied on resource (or it may not exist).`, status: "PERMISSION_DENIED" } });
  }

  // IAM v1's description lists only cloud-platform for these methods; Google refuses a read-only token.
  function iamServiceAccounts(req: SimRequest, res: http.ServerResponse, token: IssuedToken, project: string): void {
    if (!hasScope(token, [SCOPES.cloudPlatform])) return insufficientScopes(res);
    const accounts = tenant.gcpProjects.get(project);
    if (!accounts) return iamDenied(res, "iam.serviceAccounts.list");
    const q = req.url.searchParams;
    const raw = q.get("pageSize");
    const size = raw === null ? 20 : Math.min(100, Math.max(1, Number(raw) || 20));
    const start = readPageToken(req, res, `sa:${project}`);
    if (start === undefined) return;
    const page = accounts.slice(start, start + size).map(({ keys: _keys, ...a }) => ({ ...a, etag: "MDEwMjE5MjA=" }));
    const body: Record<string, unknown> = {};
    if (page.length) body.accounts = page;
    if (start + size < accounts.length) body.nextPageToken = pageToken(`sa:${project}`, start + size);
    respond(req, res, body);
  }

  function iamKeys(req: SimRequest, res: http.ServerResponse, token: IssuedToken, project: string, account: string): void {
    if (!hasScope(token, [SCOPES.cloudPlatform])) return insufficientScopes(res);
    const sa = tenant.gcpProjects.get(project)?.find((a) => a.email === account || a.uniqueId === account);
    if (!sa) return iamDenied(res, "iam.serviceAccountKeys.list");
    const types = req.url.searchParams.getAll("keyTypes");
    const keys = sa.keys.filter((k) => types.length === 0 || types.includes(k.keyType));
    respond(req, res, keys.length ? { keys } : {});
  }

  const sim = await startSimulator({ handler });
  return {
    tenant,
    sim,
    url: sim.url,
    rootUrl: `${sim.url}/`,
    tokenUrl: `${sim.url}/token`,
    stats,
    get latencyMs() {
      return latencyMs;
    },
    set latencyMs(v: number) {
      latencyMs = v;
    },
    get activitiesPageCap() {
      return activitiesPageCap;
    },
    set activitiesPageCap(v: number | undefined) {
      activitiesPageCap = v;
    },
    injectGoogleError(kind, o = {}) {
      const shape = ERROR_SHAPES[kind];
      sim.injectFault({
        fault: {
          kind: "status",
          status: shape.status,
          headers: { "content-type": "application/json; charset=UTF-8", ...(o.retryAfterSeconds !== undefined ? { "retry-after": String(o.retryAfterSeconds) } : {}) },
          body: JSON.stringify(shape.body),
        },
        match: o.endpoint ? (req) => routeOf(req.method, req.url.pathname)?.endpoint === o.endpoint : (req) => routeOf(req.method, req.url.pathname)?.endpoint !== "token",
        times: o.times ?? 1,
      });
    },
    close: () => sim.close(),
  };
}

function etagOf(rec: SimUserRecord): string {
  let h = 2166136261;
  const s = JSON.stringify(rec);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}

const ROUTES: { method: string; re: RegExp; endpoint: Endpoint }[] = [
  { method: "POST", re: /^\/token$/, endpoint: "token" },
  { method: "GET", re: /^\/admin\/directory\/v1\/users$/, endpoint: "users" },
  { method: "GET", re: /^\/admin\/directory\/v1\/customer\/([^/]+)\/roles$/, endpoint: "roles" },
  { method: "GET", re: /^\/admin\/directory\/v1\/customer\/([^/]+)\/roleassignments$/, endpoint: "roleassignments" },
  { method: "GET", re: /^\/admin\/directory\/v1\/users\/([^/]+)\/tokens$/, endpoint: "tokens" },
  { method: "GET", re: /^\/admin\/directory\/v1\/users\/([^/]+)$/, endpoint: "users.get" },
  { method: "PUT", re: /^\/admin\/directory\/v1\/users\/([^/]+)$/, endpoint: "users.update" },
  { method: "GET", re: /^\/admin\/directory\/v1\/customer\/([^/]+)\/roleassignments\/([^/]+)$/, endpoint: "roleassignments.get" },
  { method: "DELETE", re: /^\/admin\/directory\/v1\/customer\/([^/]+)\/roleassignments\/([^/]+)$/, endpoint: "roleassignments.delete" },
  { method: "POST", re: /^\/admin\/directory\/v1\/customer\/([^/]+)\/roleassignments$/, endpoint: "roleassignments.insert" },
  { method: "GET", re: /^\/admin\/directory\/v1\/users\/([^/]+)\/asps$/, endpoint: "asps" },
  { method: "GET", re: /^\/admin\/reports\/v1\/activity\/users\/([^/]+)\/applications\/([^/]+)$/, endpoint: "activities" },
  { method: "POST", re: /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):signJwt$/, endpoint: "signJwt" },
  { method: "GET", re: /^\/v1\/projects\/([^/]+)\/serviceAccounts$/, endpoint: "iam.serviceAccounts" },
  { method: "GET", re: /^\/v1\/projects\/([^/]+)\/serviceAccounts\/([^/]+)\/keys$/, endpoint: "iam.keys" },
];

function routeOf(method: string, path: string): { endpoint: Endpoint; params: string[] } | undefined {
  for (const r of ROUTES) {
    if (r.method !== method) continue;
    const m = r.re.exec(path);
    if (m) return { endpoint: r.endpoint, params: m.slice(1) };
  }
  return undefined;
}

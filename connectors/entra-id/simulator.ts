// Loopback Entra ID + Microsoft Graph speaking the documented wire format, so the real msal-node and
// Graph client run against it unmodified: OpenID metadata and instance discovery, the v2.0 token
// endpoint (client secret, or client-assertion JWT checked against the registered certificate),
// AADSTS-style OAuth errors, and Graph v1.0 collections with $select, $top, $expand=principal,
// opaque $skiptoken nextLinks, Graph error JSON, permission and licence refusals, 429 + Retry-After; and the
// writes remediation makes (accountEnabled, revokeSignInSessions, role assignments) with state collects see.
import { constants, createHmac, createPublicKey, randomBytes, randomUUID, timingSafeEqual, verify } from "node:crypto";
import type http from "node:http";
import { sendJson, startSimulator, type Fault, type SimRequest, type Simulator } from "../../src/simulator/harness.js";
import { matchesTime, parseTimeFilter, type SimDirectoryAudit, type SimSignIn } from "./simulator-audit.js";
import type { SimGroup, SimServicePrincipal, SimTenant, SimUser } from "./simulator-tenant.js";

export * from "./simulator-tenant.js";

/** Token audiences the simulator accepts: the Graph resource of each national cloud. */
const GRAPH_RESOURCES = new Set([
  "https://graph.microsoft.com",
  "https://graph.microsoft.us",
  "https://dod-graph.microsoft.us",
  "https://microsoftgraph.chinacloudapi.cn",
]);

/** Server-chosen page sizes where Graph documents no $top. */
export const SERVER_PAGE_SIZE = { registrationDetails: 1000, roleAssignments: 100, roleEligibilitySchedules: 100, default: 100 } as const;
export const MAX_TOP = { default: 999, usersWithSignInActivity: 500, auditLogs: 1000 } as const;

/** How long Entra keeps audit logs: 7 days without a premium licence, 30 with P1/P2 (sign-ins need P1 at all). */
export const AUDIT_RETENTION_DAYS = { free: 7, premium: 30 } as const;

export interface CostSettings {
  signInActivity?: boolean;
  eligibleRoles?: boolean;
  expandRoleGroups?: boolean;
  mfaRegistration?: boolean;
  /** The simulator's maxPageSize, when a test set one. */
  pageCap?: number;
}

/**
 * The fewest requests a full collect of `t` can take with these settings: OpenID metadata and one
 * token, then one request per page of each list at the largest page Graph allows. The connector's
 * request count is checked against this (tests, bench).
 */
export function minimumRequests(t: SimTenant, o: CostSettings = {}): number {
  const size = (n: number) => (o.pageCap ? Math.min(n, o.pageCap) : n);
  const pages = (count: number, pageSize: number) => Math.max(1, Math.ceil(count / size(pageSize)));
  let enabled = 0;
  for (const u of t.users.values()) if (u.accountEnabled) enabled++;
  const eligible = o.eligibleRoles !== false;
  const roleGroups = new Set<string>();
  for (const a of t.roleAssignments.values()) if (t.groups.get(a.principalId)) roleGroups.add(a.principalId);
  if (eligible && t.pimLicensed) for (const e of t.roleEligibilities.values()) if (t.groups.get(e.principalId)) roleGroups.add(e.principalId);
  let groupPages = 0;
  if (o.expandRoleGroups !== false) for (const id of roleGroups) groupPages += pages(t.groups.get(id)!.members.length, MAX_TOP.default);
  return (
    2 +
    (o.mfaRegistration === false ? 0 : pages(enabled, SERVER_PAGE_SIZE.registrationDetails)) +
    pages(t.users.size, o.signInActivity === false ? MAX_TOP.default : MAX_TOP.usersWithSignInActivity) +
    pages(t.servicePrincipals.size, MAX_TOP.default) +
    pages(t.applications.size, MAX_TOP.default) +
    1 +
    pages(t.roleAssignments.size, SERVER_PAGE_SIZE.roleAssignments) +
    (eligible ? pages(t.roleEligibilities.size, SERVER_PAGE_SIZE.roleEligibilitySchedules) : 0) +
    groupPages
  );
}

export interface TokenRequestRecord {
  tenant: string;
  clientId: string;
  method: "secret" | "assertion" | "none";
  alg?: string;
  thumbprintHeader?: "x5t" | "x5t#S256";
  status: number;
  error?: string;
}

export interface EntraSimulatorOptions {
  tenants: SimTenant[];
  latencyMs?: number;
  /** expires_in of issued tokens; MSAL renews 300 s before expiry, so 301 means "renew after one second". */
  tokenLifetimeSeconds?: number;
  /** Caps every page (tests use it to force paging on small tenants). */
  maxPageSize?: number;
}

export interface EntraSimulator {
  readonly url: string;
  readonly ca: string;
  readonly server: Simulator;
  readonly tokenRequests: readonly TokenRequestRecord[];
  /** Graph requests answered, per path (faults excluded). */
  readonly graphRequests: ReadonlyMap<string, number>;
  /** When revokeSignInSessions last ran, per user id (Graph's signInSessionsValidFromDateTime). */
  readonly sessionsRevokedAt: ReadonlyMap<string, string>;
  tokenLifetimeSeconds: number;
  maxPageSize: number | undefined;
  tenant(idOrDomain: string): SimTenant;
  /** Every token issued so far becomes invalid (Graph answers 401), as after a revocation. */
  revokeTokens(): void;
  /** Answer the next `times` Graph requests whose path starts with `pathPrefix` with a Graph-style 429 (or 503). */
  throttle(pathPrefix: string, opts?: { times?: number; retryAfterSeconds?: number; status?: 429 | 503 }): void;
  close(): Promise<void>;
}

export function graphErrorBody(code: string, message: string, requestId = randomUUID()): string {
  return JSON.stringify({
    error: { code, message, innerError: { date: new Date().toISOString().replace(/\.\d+Z$/, ""), "request-id": requestId, "client-request-id": requestId } },
  });
}

/** A Graph throttling answer for the harness's fault injection. */
export function graphThrottleFault(retryAfterSeconds = 1, status: 429 | 503 = 429): Fault {
  const [code, message] =
    status === 429 ? ["TooManyRequests", "Too many requests"] : ["ServiceUnavailable", "Service is temporarily unavailable"];
  return {
    kind: "status",
    status,
    headers: { "Retry-After": String(retryAfterSeconds), "content-type": "application/json" },
    body: graphErrorBody(code, message),
  };
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

function parseJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signed: string; signature: Buffer } | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as Record<string, unknown>,
      payload: JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Record<string, unknown>,
      signed: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, "base64url"),
    };
  } catch {
    return undefined;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

type Projector<T> = (item: T) => Record<string, unknown>;

interface ListSpec<T> {
  entity: string;
  contextName: string;
  items: (after: string | undefined, limit: number) => { items: T[]; more: boolean; last?: string };
  project: Projector<T>;
  selectable: ReadonlySet<string>;
  defaultSelect?: readonly string[];
  /** undefined: $top is not a supported query option here. */
  maxTop?: (select: readonly string[]) => number;
  serverPageSize: number;
  expand?: Record<string, (item: T) => unknown>;
}

const USER_DEFAULT_SELECT = ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"];

export async function startEntraSimulator(opts: EntraSimulatorOptions): Promise<EntraSimulator> {
  const tokenKey = randomBytes(32);
  const pageKey = randomBytes(32);
  const tokenRequests: TokenRequestRecord[] = [];
  const graphRequests = new Map<string, number>();
  const sessionsRevokedAt = new Map<string, string>();
  let revokedBefore = 0;
  let tokenLifetimeSeconds = opts.tokenLifetimeSeconds ?? 3599;
  let maxPageSize = opts.maxPageSize;
  let base = "";

  const findTenant = (key: string): SimTenant | undefined => {
    const k = key.toLowerCase();
    return opts.tenants.find((t) => t.id === k || t.domains.some((d) => d.toLowerCase() === k));
  };

  // ---------- Entra ID (login) ----------

  const aadError = (res: http.ServerResponse, status: number, error: string, code: number, description: string) => {
    const trace = randomUUID();
    const correlation = randomUUID();
    const ts = new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
    sendJson(res, status, {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${ts}`,
      error_codes: [code],
      timestamp: ts,
      trace_id: trace,
      correlation_id: correlation,
      error_uri: `${base}/error?code=${code}`,
    });
  };

  const openIdConfiguration = (res: http.ServerResponse, tenantKey: string) => {
    const tenant = findTenant(tenantKey);
    if (!tenant) {
      return aadError(res, 400, "invalid_tenant", 90002, `Tenant '${tenantKey}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    const t = tenant.id;
    sendJson(res, 200, {
      token_endpoint: `${base}/${t}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${base}/${t}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: `${base}/${t}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/oidc/userinfo`,
      authorization_endpoint: `${base}/${t}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/${t}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${t}/oauth2/v2.0/logout`,
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "tid"],
      kerberos_endpoint: `${base}/${t}/kerberos`,
      tenant_region_scope: "EU",
      cloud_instance_name: "microsoftonline.com",
      cloud_graph_host_name: "graph.windows.net",
      msgraph_host: "graph.microsoft.com",
      rbac_url: "https://pas.windows.net",
    });
  };

  const instanceDiscovery = (res: http.ServerResponse) => {
    const host = new URL(base).host;
    sendJson(res, 200, {
      tenant_discovery_endpoint: `${base}/common/v2.0/.well-known/openid-configuration`,
      "api-version": "1.1",
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  };

  const issueToken = (tenant: SimTenant, clientId: string, resource: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const client = tenant.clients.get(clientId)!;
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "HS256", kid: "simulator" }));
    const payload = b64url(
      JSON.stringify({
        aud: resource,
        iss: `https://sts.windows.net/${tenant.id}/`,
        iat: now,
        nbf: now,
        exp: now + tokenLifetimeSeconds,
        appid: clientId,
        appidacr: "1",
        idtyp: "app",
        oid: tenant.servicePrincipalByAppId(clientId)?.id ?? clientId,
        roles: [...client.permissions],
        tid: tenant.id,
        ver: "1.0",
        uti: b64url(randomBytes(16)),
        // Millisecond issue time, so revocation cuts exactly between tokens issued in the same second.
        xms_sim_issued: Date.now(),
      }),
    );
    const sig = createHmac("sha256", tokenKey).update(`${header}.${payload}`).digest("base64url");
    return `${header}.${payload}.${sig}`;
  };

  const tokenEndpoint = (req: SimRequest, res: http.ServerResponse, tenantKey: string) => {
    const form = new URLSearchParams(req.body.toString("utf8"));
    const clientId = form.get("client_id") ?? "";
    const record: TokenRequestRecord = { tenant: tenantKey, clientId, method: "none", status: 200 };
    tokenRequests.push(record);
    const fail = (status: number, error: string, code: number, description: string) => {
      record.status = status;
      record.error = `AADSTS${code}`;
      aadError(res, status, error, code, description);
    };
    const tenant = findTenant(tenantKey);
    if (!tenant) return fail(400, "invalid_request", 90002, `Tenant '${tenantKey}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    if (form.get("grant_type") !== "client_credentials") {
      return fail(400, "unsupported_grant_type", 70003, `The app requested an unsupported grant type '${form.get("grant_type") ?? ""}'.`);
    }
    const client = tenant.clients.get(clientId);
    if (!client) {
      return fail(400, "unauthorized_client", 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
    }
    const scope = form.get("scope") ?? "";
    const resource = scope.split(" ").find((s) => s.endsWith("/.default"))?.slice(0, -"/.default".length);
    if (!resource || !GRAPH_RESOURCES.has(resource)) {
      return fail(400, "invalid_scope", 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    if (secret !== null) {
      record.method = "secret";
      if (!client.secrets.some((s) => safeEqual(s, secret))) {
        return fail(401, "invalid_client", 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
      }
    } else if (assertion !== null) {
      record.method = "assertion";
      if (form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
        return fail(400, "invalid_request", 700025, "Client assertion type is not supported.");
      }
      const jwt = parseJwt(assertion);
      if (!jwt) return fail(401, "invalid_client", 50027, "JWT token is invalid or malformed.");
      const alg = String(jwt.header.alg ?? "");
      record.alg = alg;
      const s256 = jwt.header["x5t#S256"];
      const s1 = jwt.header.x5t;
      record.thumbprintHeader = typeof s256 === "string" ? "x5t#S256" : "x5t";
      const thumb = Buffer.from(String(s256 ?? s1 ?? ""), "base64url").toString("hex");
      const cert = client.certificates.find((c) => (typeof s256 === "string" ? c.sha256 : c.sha1) === thumb);
      if (!cert) {
        return fail(401, "invalid_client", 700027, `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumb.toUpperCase()}']`);
      }
      const key = createPublicKey(cert.publicKey);
      let valid = false;
      if (alg === "RS256") valid = verify("sha256", Buffer.from(jwt.signed), key, jwt.signature);
      else if (alg === "PS256") {
        valid = verify("sha256", Buffer.from(jwt.signed), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, jwt.signature);
      }
      if (!valid) return fail(401, "invalid_client", 700027, "Client assertion failed signature validation.");
      const p = jwt.payload;
      if (p.iss !== clientId || p.sub !== clientId) return fail(401, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter.");
      const audiences = [tenantKey, tenant.id, ...tenant.domains].map((t) => `${base}/${t}/oauth2/v2.0/token`.toLowerCase());
      if (typeof p.aud !== "string" || !audiences.includes(p.aud.toLowerCase())) {
        return fail(401, "invalid_client", 700027, `Client assertion contains an invalid audience claim '${String(p.aud)}'.`);
      }
      const now = Date.now() / 1000;
      if (typeof p.exp !== "number" || p.exp < now || (typeof p.nbf === "number" && p.nbf > now + 300)) {
        return fail(401, "invalid_client", 700024, "Client assertion is not within its valid time range.");
      }
    } else {
      return fail(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    sendJson(res, 200, {
      token_type: "Bearer",
      expires_in: tokenLifetimeSeconds,
      ext_expires_in: tokenLifetimeSeconds,
      access_token: issueToken(tenant, clientId, resource),
    });
  };

  // ---------- Microsoft Graph ----------

  const graphError = (res: http.ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) => {
    const requestId = randomUUID();
    const body = graphErrorBody(code, message, requestId);
    res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), "request-id": requestId, ...headers });
    res.end(body);
  };

  /** Validates the bearer token like Graph: signature, lifetime, revocation; returns tenant and granted roles. */
  const authenticate = (req: SimRequest, res: http.ServerResponse): { tenant: SimTenant; roles: Set<string>; oid: string } | undefined => {
    const challenge = { "WWW-Authenticate": `Bearer realm="", authorization_uri="${base}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"` };
    const auth = req.headers.authorization ?? "";
    if (!auth.startsWith("Bearer ")) {
      graphError(res, 401, "InvalidAuthenticationToken", "Access token is empty.", challenge);
      return undefined;
    }
    const jwt = parseJwt(auth.slice(7));
    const expected = jwt && createHmac("sha256", tokenKey).update(jwt.signed).digest();
    if (!jwt || !expected || expected.length !== jwt.signature.length || !timingSafeEqual(expected, jwt.signature)) {
      graphError(res, 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid signature.", challenge);
      return undefined;
    }
    const p = jwt.payload;
    if (typeof p.exp !== "number" || p.exp * 1000 <= Date.now()) {
      graphError(res, 401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.", challenge);
      return undefined;
    }
    if (typeof p.xms_sim_issued !== "number" || p.xms_sim_issued <= revokedBefore) {
      graphError(res, 401, "InvalidAuthenticationToken", "Access token has been revoked.", challenge);
      return undefined;
    }
    const tenant = findTenant(String(p.tid ?? ""));
    if (!tenant) {
      graphError(res, 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid tenant.", challenge);
      return undefined;
    }
    return { tenant, roles: new Set(Array.isArray(p.roles) ? (p.roles as string[]) : []), oid: String(p.oid ?? "") };
  };

  const requirePermission = (res: http.ServerResponse, roles: Set<string>, anyOf: readonly string[]): boolean => {
    if (anyOf.some((r) => roles.has(r))) return true;
    graphError(res, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
    return false;
  };

  const encodeCursor = (path: string, after: string): string => {
    const payload = b64url(JSON.stringify({ p: path, a: after }));
    const mac = createHmac("sha256", pageKey).update(payload).digest("base64url").slice(0, 22);
    return `RFNwdA${payload}.${mac}`;
  };

  const decodeCursor = (path: string, token: string): string | undefined => {
    const m = /^RFNwdA([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token);
    if (!m) return undefined;
    const mac = createHmac("sha256", pageKey).update(m[1]!).digest("base64url").slice(0, 22);
    if (!safeEqual(mac, m[2]!)) return undefined;
    const c = JSON.parse(Buffer.from(m[1]!, "base64url").toString("utf8")) as { p: string; a: string };
    return c.p === path ? c.a : undefined;
  };

  function list<T extends { id: string }>(req: SimRequest, res: http.ServerResponse, spec: ListSpec<T>): void {
    const q = req.url.searchParams;
    for (const key of q.keys()) {
      if (key.startsWith("$") && !["$select", "$top", "$skiptoken", "$expand"].includes(key)) {
        // Real Graph supports more ($filter, $count…); the simulator refuses what it does not implement rather than ignore it.
        return graphError(res, 400, "Request_BadRequest", `Query option '${key.slice(1)}' is not supported by the simulator.`);
      }
    }
    const selectRaw = q.get("$select");
    const select = selectRaw ? selectRaw.split(",").map((s) => s.trim()).filter(Boolean) : undefined;
    for (const prop of select ?? []) {
      if (!spec.selectable.has(prop)) {
        return graphError(res, 400, "BadRequest", `Parsing OData Select and Expand failed: Could not find a property named '${prop}' on type '${spec.entity}'.`);
      }
    }
    const expandRaw = q.get("$expand");
    const expand = expandRaw ? expandRaw.split(",").map((s) => s.trim()) : [];
    for (const e of expand) {
      if (!spec.expand?.[e]) return graphError(res, 400, "BadRequest", `Parsing OData Select and Expand failed: Could not find a property named '${e}' on type '${spec.entity}'.`);
    }
    let limit = spec.serverPageSize;
    const topRaw = q.get("$top");
    if (topRaw !== null) {
      if (!spec.maxTop) return graphError(res, 400, "Request_BadRequest", "Query option 'Top' is not allowed.");
      const top = Number(topRaw);
      if (!Number.isInteger(top) || top < 1 || top > MAX_TOP.default) {
        return graphError(res, 400, "Request_UnsupportedQuery", `Invalid page size specified: '${topRaw}'. Must be between 1 and ${MAX_TOP.default} inclusive.`);
      }
      // Graph silently shortens pages above a property-specific ceiling (signInActivity: 500).
      limit = Math.min(top, spec.maxTop(select ?? []));
    }
    if (maxPageSize !== undefined) limit = Math.min(limit, maxPageSize);
    const path = req.url.pathname;
    let after: string | undefined;
    const skip = q.get("$skiptoken");
    if (skip !== null) {
      after = decodeCursor(path, skip);
      if (after === undefined) {
        return graphError(res, 400, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.");
      }
    }
    const { items, more, last } = spec.items(after, limit);
    const fields = select ?? spec.defaultSelect;
    const value = items.map((item) => {
      const full = spec.project(item);
      const out: Record<string, unknown> = {};
      if (full["@odata.type"]) out["@odata.type"] = full["@odata.type"];
      if (fields) {
        for (const f of fields) out[f] = f in full ? full[f] : null;
        // Graph returns the key of directory objects even when $select leaves it out.
        out.id = full.id;
      } else Object.assign(out, full);
      for (const e of expand) out[e] = spec.expand![e]!(item);
      return out;
    });
    const body: Record<string, unknown> = {
      "@odata.context": `${base}/v1.0/$metadata#${spec.contextName}${select ? `(${select.join(",")})` : ""}`,
    };
    if (more) {
      const cursorAt = last ?? items[items.length - 1]!.id;
      const kept = req.url.search.replace(/^\?/, "").split("&").filter((p) => p && !p.startsWith("$skiptoken=") && !p.startsWith("%24skiptoken="));
      kept.push(`$skiptoken=${encodeCursor(path, cursorAt)}`);
      body["@odata.nextLink"] = `${base}${path}?${kept.join("&")}`;
    }
    body.value = value;
    sendCollection(req, res, body);
  }

  const keysOf = (...objs: object[]) => new Set(objs.flatMap((o) => Object.keys(o)));

  const principalRef = (tenant: SimTenant, id: string): Record<string, unknown> | null => {
    const u = tenant.users.get(id);
    if (u) return { "@odata.type": "#microsoft.graph.user", id: u.id, displayName: u.displayName, userPrincipalName: u.userPrincipalName, accountEnabled: u.accountEnabled, userType: u.userType, mail: u.mail };
    const sp = tenant.servicePrincipals.get(id);
    if (sp) return { "@odata.type": "#microsoft.graph.servicePrincipal", id: sp.id, displayName: sp.displayName, appId: sp.appId, servicePrincipalType: sp.servicePrincipalType, accountEnabled: sp.accountEnabled };
    const g = tenant.groups.get(id);
    if (g) return { "@odata.type": "#microsoft.graph.group", id: g.id, displayName: g.displayName, isAssignableToRole: g.isAssignableToRole, securityEnabled: g.securityEnabled };
    return null;
  };

  const projectUser = (u: SimUser): Record<string, unknown> => {
    const { registration: _r, ...graph } = u;
    return { businessPhones: [], jobTitle: null, mobilePhone: null, officeLocation: null, preferredLanguage: null, ...graph };
  };
  const USER_SELECTABLE = new Set([...Object.keys(projectUser(exampleUser())), "businessPhones", "jobTitle", "mobilePhone", "officeLocation", "preferredLanguage"]);

  const adminIds = (tenant: SimTenant): Set<string> => {
    const ids = new Set<string>();
    for (const a of tenant.roleAssignments.values()) {
      ids.add(a.principalId);
      for (const m of tenant.groups.get(a.principalId)?.members ?? []) ids.add(m);
    }
    return ids;
  };

  // ---------- Graph writes (remediation) and single-object reads ----------

  const ADMIN_ROLES_FOR_SENSITIVE_WRITES = new Set(["7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "62e90394-69f5-4237-9190-012177145e10"]);

  /** Roles `principalId` holds directly or through a role-assignable group. */
  const rolesHeldBy = (tenant: SimTenant, principalId: string): Set<string> => {
    const out = new Set<string>();
    for (const a of tenant.roleAssignments.values()) {
      if (a.principalId === principalId || tenant.groups.get(a.principalId)?.members.includes(principalId)) out.add(a.roleDefinitionId);
    }
    return out;
  };

  const sendEntity = (res: http.ServerResponse, status: number, context: string, entity: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const text = JSON.stringify({ "@odata.context": `${base}/v1.0/$metadata#${context}`, ...entity });
    const requestId = randomUUID();
    res.writeHead(status, { "content-type": "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8", "content-length": String(Buffer.byteLength(text)), "request-id": requestId, ...headers });
    res.end(text);
  };

  const noContent = (res: http.ServerResponse) => {
    res.writeHead(204, { "request-id": randomUUID() });
    res.end();
  };

  const jsonBody = (req: SimRequest, res: http.ServerResponse): Record<string, unknown> | undefined => {
    try {
      const body = JSON.parse(req.body.toString("utf8") || "{}") as unknown;
      if (body && typeof body === "object" && !Array.isArray(body)) return body as Record<string, unknown>;
    } catch {
      // answered below
    }
    graphError(res, 400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.");
    return undefined;
  };

  const notFound = (res: http.ServerResponse, id: string) =>
    graphError(res, 404, "Request_ResourceNotFound", `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

  /** Answers the routes that are not collections; false when `path` is not one of them. */
  const writeRoutes = (req: SimRequest, res: http.ServerResponse, path: string, who: { tenant: SimTenant; roles: Set<string>; oid: string }): boolean => {
    const { tenant, roles } = who;
    let m: RegExpExecArray | null;
    if ((m = /^\/v1\.0\/users\/([^/]+)$/.exec(path))) {
      const id = decodeURIComponent(m[1]!);
      if (req.method === "GET") {
        if (!requirePermission(res, roles, ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"])) return true;
        const u = tenant.users.get(id.toLowerCase());
        if (!u) return notFound(res, id), true;
        const selectRaw = req.url.searchParams.get("$select");
        const select = selectRaw ? selectRaw.split(",").map((x) => x.trim()).filter(Boolean) : USER_DEFAULT_SELECT;
        const full = projectUser(u);
        for (const f of select) if (!USER_SELECTABLE.has(f)) return graphError(res, 400, "BadRequest", `Parsing OData Select and Expand failed: Could not find a property named '${f}' on type 'microsoft.graph.user'.`), true;
        const out: Record<string, unknown> = {};
        for (const f of select) out[f] = full[f] ?? null;
        out.id = u.id;
        sendEntity(res, 200, `users(${select.join(",")})/$entity`, out);
        return true;
      }
      if (req.method === "PATCH") {
        const body = jsonBody(req, res);
        if (!body) return true;
        for (const k of Object.keys(body)) {
          if (k !== "accountEnabled") return graphError(res, 400, "Request_BadRequest", `The simulator only updates accountEnabled, not '${k}'.`), true;
        }
        if (typeof body.accountEnabled !== "boolean") {
          return graphError(res, 400, "Request_BadRequest", "Invalid value specified for property 'accountEnabled' of resource 'User'."), true;
        }
        if (!requirePermission(res, roles, ["User.EnableDisableAccount.All", "User.ReadWrite.All", "Directory.ReadWrite.All"])) return true;
        const u = tenant.users.get(id.toLowerCase());
        if (!u) return notFound(res, id), true;
        // accountEnabled of an admin is a sensitive property: the caller must hold a role above the target's.
        if (rolesHeldBy(tenant, u.id).size > 0 && ![...rolesHeldBy(tenant, who.oid)].some((r) => ADMIN_ROLES_FOR_SENSITIVE_WRITES.has(r))) {
          return graphError(res, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."), true;
        }
        u.accountEnabled = body.accountEnabled;
        noContent(res);
        return true;
      }
      graphError(res, 405, "Request_BadRequest", `Method ${req.method} is not allowed on users.`);
      return true;
    }
    if ((m = /^\/v1\.0\/users\/([^/]+)\/revokeSignInSessions$/.exec(path))) {
      if (req.method !== "POST") return graphError(res, 405, "Request_BadRequest", `Method ${req.method} is not allowed.`), true;
      if (!requirePermission(res, roles, ["User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"])) return true;
      const id = decodeURIComponent(m[1]!);
      const u = tenant.users.get(id.toLowerCase());
      if (!u) return notFound(res, id), true;
      sessionsRevokedAt.set(u.id, new Date().toISOString());
      sendEntity(res, 200, "Edm.Boolean", { value: true });
      return true;
    }
    const ROLE_WRITE = ["RoleManagement.ReadWrite.Directory"];
    if ((m = /^\/v1\.0\/roleManagement\/directory\/roleAssignments\/([^/]+)$/.exec(path))) {
      const id = decodeURIComponent(m[1]!);
      if (req.method === "GET") {
        if (!requirePermission(res, roles, ["RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All", ...ROLE_WRITE])) return true;
        const a = tenant.roleAssignments.get(id);
        if (!a) return notFound(res, id), true;
        sendEntity(res, 200, "roleManagement/directory/roleAssignments/$entity", { ...a });
        return true;
      }
      if (req.method === "DELETE") {
        if (!requirePermission(res, roles, ROLE_WRITE)) return true;
        if (!tenant.roleAssignments.delete(id)) return notFound(res, id), true;
        noContent(res);
        return true;
      }
      graphError(res, 405, "Request_BadRequest", `Method ${req.method} is not allowed on a role assignment.`);
      return true;
    }
    if (path === "/v1.0/roleManagement/directory/roleAssignments" && req.method === "POST") {
      const body = jsonBody(req, res);
      if (!body) return true;
      if (!requirePermission(res, roles, ROLE_WRITE)) return true;
      const { principalId, roleDefinitionId, directoryScopeId } = body;
      if (typeof principalId !== "string" || typeof roleDefinitionId !== "string" || typeof directoryScopeId !== "string") {
        return graphError(res, 400, "Request_BadRequest", "principalId, roleDefinitionId and directoryScopeId are required."), true;
      }
      if (!principalRef(tenant, principalId)) return notFound(res, principalId), true;
      if (!tenant.roleDefinitions.get(roleDefinitionId)) return notFound(res, roleDefinitionId), true;
      for (const a of tenant.roleAssignments.values()) {
        if (a.principalId === principalId && a.roleDefinitionId === roleDefinitionId && a.directoryScopeId === directoryScopeId) {
          return graphError(res, 400, "Request_BadRequest", "A conflicting object with one or more of the specified property values is present in the directory."), true;
        }
      }
      const created = tenant.assignRole(principalId, roleDefinitionId, directoryScopeId);
      sendEntity(res, 201, "roleManagement/directory/roleAssignments/$entity", { ...created }, { location: `${base}/v1.0/roleManagement/directory/roleAssignments/${encodeURIComponent(created.id)}` });
      return true;
    }
    return false;
  };

  const graph = (req: SimRequest, res: http.ServerResponse, path: string): void => {
    graphRequests.set(path, (graphRequests.get(path) ?? 0) + 1);
    const who = authenticate(req, res);
    if (!who) return;
    const { tenant, roles } = who;
    if (writeRoutes(req, res, path, who)) return;
    if (req.method !== "GET") return graphError(res, 405, "Request_BadRequest", "Only GET is simulated.");

    if (path === "/v1.0/users") {
      if (!requirePermission(res, roles, ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"])) return;
      const select = (req.url.searchParams.get("$select") ?? "").split(",").map((s) => s.trim());
      if (select.includes("signInActivity")) {
        if (!roles.has("AuditLog.Read.All")) {
          return graphError(res, 403, "Authentication_MSGraphPermissionMissing", "Calling principal does not have required MSGraph permissions AuditLog.Read.All");
        }
        if (!tenant.licensed) {
          return graphError(res, 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license");
        }
      }
      if (select.includes("employeeLeaveDateTime") && !roles.has("User-LifeCycleInfo.Read.All") && !roles.has("User-LifeCycleInfo.ReadWrite.All")) {
        return graphError(res, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
      }
      return list(req, res, {
        entity: "microsoft.graph.user",
        contextName: "users",
        items: (after, limit) => tenant.users.page(after, limit),
        project: projectUser,
        selectable: USER_SELECTABLE,
        defaultSelect: USER_DEFAULT_SELECT,
        maxTop: (sel) => (sel.includes("signInActivity") ? MAX_TOP.usersWithSignInActivity : MAX_TOP.default),
        serverPageSize: SERVER_PAGE_SIZE.default,
      });
    }

    if (path === "/v1.0/reports/authenticationMethods/userRegistrationDetails") {
      if (!requirePermission(res, roles, ["AuditLog.Read.All"])) return;
      if (!tenant.licensed) {
        return graphError(res, 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license");
      }
      const admins = adminIds(tenant);
      const project = (u: SimUser): Record<string, unknown> => ({
        id: u.id,
        userPrincipalName: u.userPrincipalName,
        userDisplayName: u.displayName,
        userType: u.userType === "Guest" ? "guest" : "member",
        isAdmin: admins.has(u.id),
        isSsprRegistered: u.registration.isMfaRegistered,
        isSsprEnabled: false,
        isSsprCapable: false,
        isMfaRegistered: u.registration.isMfaRegistered,
        isMfaCapable: u.registration.isMfaCapable,
        isPasswordlessCapable: u.registration.methodsRegistered.some((m) => m === "fido2" || m === "windowsHelloForBusiness" || m === "microsoftAuthenticatorPasswordless"),
        methodsRegistered: u.registration.methodsRegistered,
        isSystemPreferredAuthenticationMethodEnabled: true,
        systemPreferredAuthenticationMethods: u.registration.methodsRegistered.slice(0, 1),
        userPreferredMethodForSecondaryAuthentication: u.registration.isMfaRegistered ? "push" : "none",
        lastUpdatedDateTime: tenant.now.toISOString(),
      });
      return list(req, res, {
        entity: "microsoft.graph.userRegistrationDetails",
        contextName: "reports/authenticationMethods/userRegistrationDetails",
        // Entra leaves disabled accounts out of this report.
        items: (after, limit) => pageWhere(tenant.users, after, limit, (u) => u.accountEnabled),
        project,
        selectable: keysOf(project(exampleUser())),
        serverPageSize: SERVER_PAGE_SIZE.registrationDetails,
      });
    }

    if (path === "/v1.0/servicePrincipals" || path === "/v1.0/applications") {
      if (!requirePermission(res, roles, ["Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"])) return;
      if (path === "/v1.0/servicePrincipals") {
        return list(req, res, {
          entity: "microsoft.graph.servicePrincipal",
          contextName: "servicePrincipals",
          items: (after, limit) => tenant.servicePrincipals.page(after, limit),
          project: (sp: SimServicePrincipal) => ({ ...sp }),
          selectable: keysOf(exampleSp()),
          maxTop: () => MAX_TOP.default,
          serverPageSize: SERVER_PAGE_SIZE.default,
        });
      }
      return list(req, res, {
        entity: "microsoft.graph.application",
        contextName: "applications",
        items: (after, limit) => tenant.applications.page(after, limit),
        project: (a) => ({ ...a }),
        selectable: new Set(["id", "appId", "displayName", "createdDateTime", "signInAudience", "publisherDomain", "passwordCredentials", "keyCredentials"]),
        maxTop: () => MAX_TOP.default,
        serverPageSize: SERVER_PAGE_SIZE.default,
      });
    }

    const ROLE_READ = ["RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All", "RoleManagement.ReadWrite.Directory"];
    if (path === "/v1.0/roleManagement/directory/roleDefinitions") {
      if (!requirePermission(res, roles, ROLE_READ)) return;
      return list(req, res, {
        entity: "microsoft.graph.unifiedRoleDefinition",
        contextName: "roleManagement/directory/roleDefinitions",
        items: (after, limit) => tenant.roleDefinitions.page(after, Math.max(limit, tenant.roleDefinitions.size)),
        project: (d) => ({ ...d, inheritsPermissionsFrom: [] }),
        selectable: new Set(["id", "description", "displayName", "isBuiltIn", "isEnabled", "resourceScopes", "templateId", "version", "rolePermissions", "inheritsPermissionsFrom"]),
        serverPageSize: Number.MAX_SAFE_INTEGER,
      });
    }
    if (path === "/v1.0/roleManagement/directory/roleAssignments") {
      if (!requirePermission(res, roles, ROLE_READ)) return;
      return list(req, res, {
        entity: "microsoft.graph.unifiedRoleAssignment",
        contextName: "roleManagement/directory/roleAssignments",
        items: (after, limit) => tenant.roleAssignments.page(after, limit),
        project: (a) => ({ ...a }),
        selectable: new Set(["id", "principalId", "roleDefinitionId", "directoryScopeId", "resourceScope", "appScopeId", "condition"]),
        serverPageSize: SERVER_PAGE_SIZE.roleAssignments,
        expand: { principal: (a) => principalRef(tenant, a.principalId) },
      });
    }
    if (path === "/v1.0/roleManagement/directory/roleEligibilitySchedules") {
      if (!requirePermission(res, roles, ["RoleEligibilitySchedule.Read.Directory", ...ROLE_READ])) return;
      if (!tenant.pimLicensed) {
        return graphError(res, 400, "AadPremiumLicenseRequired", "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.");
      }
      return list(req, res, {
        entity: "microsoft.graph.unifiedRoleEligibilitySchedule",
        contextName: "roleManagement/directory/roleEligibilitySchedules",
        items: (after, limit) => tenant.roleEligibilities.page(after, limit),
        project: (e) => ({ ...e }),
        selectable: new Set(["id", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId", "createdUsing", "createdDateTime", "modifiedDateTime", "status", "memberType", "scheduleInfo"]),
        serverPageSize: SERVER_PAGE_SIZE.roleEligibilitySchedules,
        expand: { principal: (e) => principalRef(tenant, e.principalId) },
      });
    }
    const members = /^\/v1\.0\/groups\/([^/]+)\/(members|transitiveMembers)$/.exec(path);
    if (members) {
      if (!requirePermission(res, roles, ["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"])) return;
      const group: SimGroup | undefined = tenant.groups.get(decodeURIComponent(members[1]!));
      if (!group) {
        return graphError(res, 404, "Request_ResourceNotFound", `Resource '${members[1]}' does not exist or one of its queried reference-property objects are not present.`);
      }
      const objects = new Map<string, Record<string, unknown>>();
      for (const id of group.members) {
        const ref = principalRef(tenant, id);
        if (ref) objects.set(id, ref);
      }
      const sortedIds = [...objects.keys()].sort();
      return list<{ id: string }>(req, res, {
        entity: "microsoft.graph.directoryObject",
        contextName: "directoryObjects",
        items: (after, limit) => {
          const start = after === undefined ? 0 : sortedIds.findIndex((id) => id > after);
          const from = start < 0 ? sortedIds.length : start;
          const ids = sortedIds.slice(from, from + limit);
          return { items: ids.map((id) => ({ id })), more: from + limit < sortedIds.length };
        },
        project: (o) => objects.get(o.id)!,
        selectable: new Set(["id", "displayName", "userPrincipalName", "appId", "mail"]),
        maxTop: () => MAX_TOP.default,
        serverPageSize: SERVER_PAGE_SIZE.default,
      });
    }
    if (path === "/v1.0/auditLogs/directoryAudits" || path === "/v1.0/auditLogs/signIns") {
      if (!roles.has("AuditLog.Read.All")) {
        return graphError(res, 403, "Authentication_MSGraphPermissionMissing", "Calling principal does not have required MSGraph permissions AuditLog.Read.All");
      }
      const retentionMs = (tenant.licensed ? AUDIT_RETENTION_DAYS.premium : AUDIT_RETENTION_DAYS.free) * 86_400_000;
      if (path === "/v1.0/auditLogs/directoryAudits") {
        return auditList<SimDirectoryAudit>(req, res, { contextName: "auditLogs/directoryAudits", timeField: "activityDateTime", records: tenant.audit.directoryAudits, retentionMs });
      }
      if (!tenant.licensed) {
        return graphError(res, 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license");
      }
      return auditList<SimSignIn>(req, res, { contextName: "auditLogs/signIns", timeField: "createdDateTime", records: tenant.audit.signIns, retentionMs });
    }
    graphError(res, 400, "BadRequest", `Resource not found for the segment '${path.split("/").pop() ?? ""}'.`);
  };

  /**
   * An audit log as Graph serves it: newest first, `$filter` on the time property, `$top` up to 1000,
   * opaque `$skiptoken` nextLinks that carry the filter along; entries past retention are gone.
   */
  function auditList<T extends { id: string }>(
    req: SimRequest,
    res: http.ServerResponse,
    spec: { contextName: string; timeField: keyof T & string; records: readonly T[]; retentionMs: number },
  ): void {
    const q = req.url.searchParams;
    for (const key of q.keys()) {
      if (key.startsWith("$") && !["$filter", "$top", "$skiptoken"].includes(key)) {
        return graphError(res, 400, "Request_BadRequest", `Query option '${key.slice(1)}' is not supported by the simulator.`);
      }
    }
    const filterRaw = q.get("$filter");
    const clauses = filterRaw === null ? [] : parseTimeFilter(filterRaw, spec.timeField);
    if (clauses === null) return graphError(res, 400, "Request_UnsupportedQuery", `Invalid filter clause: ${filterRaw}`);
    let limit: number = MAX_TOP.auditLogs;
    const topRaw = q.get("$top");
    if (topRaw !== null) {
      const top = Number(topRaw);
      if (!Number.isInteger(top) || top < 1 || top > MAX_TOP.auditLogs) {
        return graphError(res, 400, "Request_UnsupportedQuery", `Invalid page size specified: '${topRaw}'. Must be between 1 and ${MAX_TOP.auditLogs} inclusive.`);
      }
      limit = top;
    }
    if (maxPageSize !== undefined) limit = Math.min(limit, maxPageSize);
    const path = req.url.pathname;
    const timeOf = (r: T) => Date.parse(String(r[spec.timeField]));
    // Newest first, ties by id: a position in this order survives entries appended while a reader pages.
    const key = (r: T) => `${new Date(timeOf(r)).toISOString()}|${r.id}`;
    let after: string | undefined;
    const skip = q.get("$skiptoken");
    if (skip !== null) {
      after = decodeCursor(path, skip);
      if (after === undefined) return graphError(res, 400, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.");
    }
    const oldest = Date.now() - spec.retentionMs;
    const matching = spec.records
      .filter((r) => timeOf(r) >= oldest && matchesTime(timeOf(r), clauses) && (after === undefined || key(r) < after))
      .sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
    const page = matching.slice(0, limit);
    const body: Record<string, unknown> = { "@odata.context": `${base}/v1.0/$metadata#${spec.contextName}` };
    if (matching.length > limit) {
      const kept = req.url.search.replace(/^\?/, "").split("&").filter((p) => p && !p.startsWith("$skiptoken=") && !p.startsWith("%24skiptoken="));
      kept.push(`$skiptoken=${encodeCursor(path, key(page[page.length - 1]!))}`);
      body["@odata.nextLink"] = `${base}${path}?${kept.join("&")}`;
    }
    body.value = page;
    sendCollection(req, res, body);
  }

  function sendCollection(req: SimRequest, res: http.ServerResponse, body: Record<string, unknown>): void {
    const text = JSON.stringify(body);
    const requestId = randomUUID();
    res.writeHead(200, {
      "content-type": "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
      "content-length": String(Buffer.byteLength(text)),
      "request-id": requestId,
      "client-request-id": String(req.headers["client-request-id"] ?? requestId),
      "x-ms-ags-diagnostic": JSON.stringify({ ServerInfo: { DataCenter: "Loopback", Slice: "E", Ring: "1", ScaleUnit: "000", RoleInstance: "SIM" } }),
    });
    res.end(text);
  }

  const handler = (req: SimRequest, res: http.ServerResponse) => {
    const path = req.url.pathname;
    if (path.startsWith("/v1.0/") || path.startsWith("/beta/")) return graph(req, res, path);
    if (req.method === "GET" && path === "/common/discovery/instance") return instanceDiscovery(res);
    const oidc = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (req.method === "GET" && oidc) return openIdConfiguration(res, decodeURIComponent(oidc[1]!));
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (req.method === "POST" && token) return tokenEndpoint(req, res, decodeURIComponent(token[1]!));
    aadError(res, 404, "not_found", 90100, `The endpoint ${path} does not exist.`);
  };

  const server = await startSimulator({ tls: true, latencyMs: opts.latencyMs, handler });
  base = server.url;

  return {
    url: server.url,
    ca: server.ca!,
    server,
    tokenRequests,
    graphRequests,
    sessionsRevokedAt,
    get tokenLifetimeSeconds() {
      return tokenLifetimeSeconds;
    },
    set tokenLifetimeSeconds(v: number) {
      tokenLifetimeSeconds = v;
    },
    get maxPageSize() {
      return maxPageSize;
    },
    set maxPageSize(v: number | undefined) {
      maxPageSize = v;
    },
    tenant(idOrDomain) {
      const t = findTenant(idOrDomain);
      if (!t) throw new Error(`simulator has no tenant ${idOrDomain}`);
      return t;
    },
    revokeTokens() {
      revokedBefore = Date.now();
    },
    throttle(pathPrefix, o = {}) {
      server.injectFault({
        fault: graphThrottleFault(o.retryAfterSeconds ?? 1, o.status ?? 429),
        match: (r) => r.url.pathname.startsWith(pathPrefix),
        times: o.times ?? 1,
      });
    },
    close: () => server.close(),
  };
}

/** Like Collection.page, but only counting items that pass `keep` (the report skips disabled users). */
function pageWhere<T extends { id: string }>(
  coll: { page(after: string | undefined, limit: number): { items: T[]; more: boolean } },
  after: string | undefined,
  limit: number,
  keep: (item: T) => boolean,
): { items: T[]; more: boolean; last?: string } {
  const out: T[] = [];
  let cursor = after;
  let last: string | undefined;
  for (;;) {
    const chunk = coll.page(cursor, limit);
    for (const item of chunk.items) {
      last = item.id;
      if (!keep(item)) continue;
      if (out.length === limit) return { items: out, more: true, last: out[out.length - 1]!.id };
      out.push(item);
    }
    if (!chunk.more) return { items: out, more: false, last };
    cursor = chunk.items[chunk.items.length - 1]!.id;
  }
}

function exampleUser(): SimUser {
  return {
    id: "",
    userPrincipalName: "",
    mail: null,
    displayName: "",
    givenName: null,
    surname: null,
    accountEnabled: true,
    userType: "Member",
    createdDateTime: "",
    creationType: null,
    externalUserState: null,
    onPremisesSyncEnabled: null,
    employeeLeaveDateTime: null,
    signInActivity: null,
    registration: { isMfaRegistered: false, isMfaCapable: false, methodsRegistered: [] },
  };
}

function exampleSp(): SimServicePrincipal {
  return {
    id: "",
    appId: "",
    displayName: "",
    accountEnabled: true,
    servicePrincipalType: "Application",
    appOwnerOrganizationId: null,
    appDisplayName: "",
    servicePrincipalNames: [],
    tags: [],
    passwordCredentials: [],
    keyCredentials: [],
  };
}

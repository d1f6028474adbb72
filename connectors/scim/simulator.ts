// Loopback SCIM 2.0 service provider (RFC 7644): bearer-token auth, /Users and /Groups with index paging
// (a server-side page cap, like real apps), single resources, /ServiceProviderConfig, SCIM error bodies,
// and the faults the connector must survive: throttling with Retry-After, server errors, short pages,
// pages that do not advance, a list that shifts while it is read.
import type http from "node:http";
import { sendText, startSimulator, type Fault, type SimRequest, type Simulator } from "../../src/simulator/harness.js";
import { indexTenant, renderGroup, renderUser, type ScimTenant, type TenantIndex } from "./sim-tenant.js";
import { SCHEMA, SCIM_MEDIA_TYPE, type ScimListResponse } from "./wire.js";

export { generateTenant, mutations, type ScimTenant } from "./sim-tenant.js";

export interface ScimSimulatorOptions {
  tenant: ScimTenant;
  /** Path of the service root, e.g. "/scim/v2". */
  basePath?: string;
  /** Most resources per page whatever `count` asks, as real apps cap it. */
  maxPageSize?: number;
  latencyMs?: number;
}

export type ResourceName = "Users" | "Groups";

export interface ScimSimulator {
  /** The service root to configure as base_url. */
  readonly baseUrl: string;
  readonly sim: Simulator;
  readonly tenant: ScimTenant;
  /** Answered list requests per resource (faults not included). */
  readonly listCounts: Record<ResourceName, number>;
  /** Every list request's startIndex and count, in order, per resource. */
  readonly pagesAsked: Record<ResourceName, { startIndex: number; count: number }[]>;
  /** The page of `resource` at `startIndex` comes back with only `n` resources, `times` times. */
  shortPage(resource: ResourceName, startIndex: number, n: number, times?: number): void;
  /** The page at `startIndex` comes back empty although totalResults says more remain: a page that does not advance. */
  stallPage(resource: ResourceName, startIndex: number, times?: number): void;
  /** Runs `effect` just before the page at `startIndex` is answered (e.g. delete a user mid-listing). */
  beforePage(resource: ResourceName, startIndex: number, effect: () => void): void;
  /** Drops every shortPage / stallPage / beforePage not yet used up. */
  clearQuirks(): void;
  close(): Promise<void>;
}

/** RFC 7644 §3.12 error body. */
export function scimErrorBody(status: number, detail: string, scimType?: string): string {
  return JSON.stringify({ schemas: [SCHEMA.error], status: String(status), ...(scimType ? { scimType } : {}), detail });
}

/** A 429 the way SCIM apps send it: a SCIM error body and Retry-After in seconds. */
export function scimThrottleFault(retryAfterSeconds: number): Fault {
  return { kind: "status", status: 429, headers: { "content-type": SCIM_MEDIA_TYPE, "retry-after": String(retryAfterSeconds) }, body: scimErrorBody(429, "Too many requests") };
}

export function scimServerErrorFault(): Fault {
  return { kind: "status", status: 500, headers: { "content-type": SCIM_MEDIA_TYPE }, body: scimErrorBody(500, "Internal server error") };
}

/** Matches list requests of `resource` (optionally only at `startIndex`). */
export function listRequest(basePath: string, resource: ResourceName, startIndex?: number): (r: SimRequest) => boolean {
  return (r) => r.url.pathname === `${basePath}/${resource}` && (startIndex === undefined || Number(r.url.searchParams.get("startIndex") ?? "1") === startIndex);
}

interface Quirk {
  resource: ResourceName;
  startIndex: number;
  times: number;
  apply: "short" | "stall" | "effect";
  n?: number;
  effect?: () => void;
}

class ScimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: string,
  ) {
    super(message);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, `${SCIM_MEDIA_TYPE}; charset=utf-8`, JSON.stringify(body), headers);
}

export async function startScimSimulator(options: ScimSimulatorOptions): Promise<ScimSimulator> {
  const { tenant } = options;
  const basePath = (options.basePath ?? "/scim/v2").replace(/\/+$/, "");
  const maxPageSize = options.maxPageSize ?? 200;
  const quirks: Quirk[] = [];
  const listCounts: Record<ResourceName, number> = { Users: 0, Groups: 0 };
  const pagesAsked: Record<ResourceName, { startIndex: number; count: number }[]> = { Users: [], Groups: [] };
  let rootUrl = "";
  // Lookups rebuilt only when the tenant changed: a mutation, or a test editing the lists directly.
  let cached: { key: string; idx: TenantIndex } | undefined;
  const lookups = (): TenantIndex => {
    const key = `${tenant.revision}:${tenant.users.length}:${tenant.groups.length}:${tenant.groups.reduce((n, g) => n + g.members.length, 0)}`;
    if (cached?.key !== key) cached = { key, idx: indexTenant(tenant) };
    return cached.idx;
  };

  const takeQuirk = (resource: ResourceName, startIndex: number): Quirk | undefined => {
    const i = quirks.findIndex((q) => q.resource === resource && q.startIndex === startIndex);
    if (i < 0) return undefined;
    const q = quirks[i]!;
    if (--q.times <= 0) quirks.splice(i, 1);
    return q;
  };

  /** RFC 7644 §3.4.2.4: startIndex < 1 is read as 1; count < 0 as 0; the server may return fewer than asked. */
  const list = <T>(resource: ResourceName, query: URLSearchParams, all: () => T[]): ScimListResponse<T> => {
    const startIndex = Math.max(1, Math.trunc(Number(query.get("startIndex") ?? "1")) || 1);
    const asked = query.has("count") ? Math.max(0, Math.trunc(Number(query.get("count"))) || 0) : maxPageSize;
    listCounts[resource]++;
    pagesAsked[resource].push({ startIndex, count: asked });
    let quirk = takeQuirk(resource, startIndex);
    if (quirk?.apply === "effect") {
      quirk.effect!();
      quirk = undefined;
    }
    const items = all();
    let count = Math.min(asked, maxPageSize);
    if (quirk?.apply === "short") count = Math.min(count, quirk.n!);
    if (quirk?.apply === "stall") count = 0;
    const page = items.slice(startIndex - 1, startIndex - 1 + count);
    return { schemas: [SCHEMA.listResponse], totalResults: items.length, startIndex, itemsPerPage: page.length, Resources: page };
  };

  // The route table: method, path pattern, named handler.
  type Handler = (req: SimRequest, res: http.ServerResponse, params: string[]) => void;
  const listUsers: Handler = (req, res) => {
    const page = list("Users", req.url.searchParams, () => tenant.users);
    const idx = lookups();
    send(res, 200, { ...page, Resources: page.Resources!.map((u) => renderUser(tenant, idx, u, rootUrl)) });
  };
  const listGroups: Handler = (req, res) => {
    const page = list("Groups", req.url.searchParams, () => tenant.groups);
    const idx = lookups();
    send(res, 200, { ...page, Resources: page.Resources!.map((g) => renderGroup(idx, g, rootUrl)) });
  };
  const getUser: Handler = (_req, res, [id]) => {
    const u = lookups().users.get(id!);
    if (!u) throw new ScimError(404, `Resource ${id} not found`);
    send(res, 200, renderUser(tenant, lookups(), u, rootUrl));
  };
  const getGroup: Handler = (_req, res, [id]) => {
    const g = lookups().groups.get(id!);
    if (!g) throw new ScimError(404, `Resource ${id} not found`);
    send(res, 200, renderGroup(lookups(), g, rootUrl));
  };
  const serviceProviderConfig: Handler = (_req, res) => {
    send(res, 200, {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
      patch: { supported: false },
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
      filter: { supported: false, maxResults: maxPageSize },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      authenticationSchemes: [{ type: "oauthbearertoken", name: "OAuth Bearer Token", description: "Authentication with a bearer token", primary: true }],
    });
  };
  const routes: { method: string; path: RegExp; name: string; handle: Handler }[] = [
    { method: "GET", path: /^\/Users$/, name: "listUsers", handle: listUsers },
    { method: "GET", path: /^\/Users\/([^/]+)$/, name: "getUser", handle: getUser },
    { method: "GET", path: /^\/Groups$/, name: "listGroups", handle: listGroups },
    { method: "GET", path: /^\/Groups\/([^/]+)$/, name: "getGroup", handle: getGroup },
    { method: "GET", path: /^\/ServiceProviderConfig$/, name: "serviceProviderConfig", handle: serviceProviderConfig },
  ];

  const sim = await startSimulator({
    latencyMs: options.latencyMs,
    handler: (req, res) => {
      try {
        if (req.headers.authorization !== `Bearer ${tenant.token}`) {
          throw new ScimError(401, "Authorization failure. The authorization header is invalid or missing.", "invalidToken");
        }
        if (!req.url.pathname.startsWith(`${basePath}/`)) throw new ScimError(404, "Endpoint not found");
        const path = req.url.pathname.slice(basePath.length);
        for (const r of routes) {
          const m = r.path.exec(path);
          if (!m) continue;
          if (r.method !== req.method) throw new ScimError(405, `${req.method} is not supported on ${path}`);
          r.handle(req, res, m.slice(1).map(decodeURIComponent));
          return;
        }
        throw new ScimError(404, "Endpoint not found");
      } catch (err) {
        if (!(err instanceof ScimError)) throw err;
        const headers: Record<string, string> = err.status === 401 ? { "www-authenticate": 'Bearer realm="scim"' } : {};
        sendText(res, err.status, `${SCIM_MEDIA_TYPE}; charset=utf-8`, scimErrorBody(err.status, err.message, err.scimType), headers);
      }
    },
  });
  rootUrl = `${sim.url}${basePath}`;

  return {
    baseUrl: rootUrl,
    sim,
    tenant,
    listCounts,
    pagesAsked,
    shortPage: (resource, startIndex, n, times = 1) => void quirks.push({ resource, startIndex, n, times, apply: "short" }),
    stallPage: (resource, startIndex, times = Number.POSITIVE_INFINITY) => void quirks.push({ resource, startIndex, times, apply: "stall" }),
    beforePage: (resource, startIndex, effect) => void quirks.push({ resource, startIndex, times: 1, apply: "effect", effect }),
    clearQuirks: () => void (quirks.length = 0),
    close: () => sim.close(),
  };
}

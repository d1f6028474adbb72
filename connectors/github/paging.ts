// Paging and refusal handling shared by the org phases: every listing is per_page=100 and follows
// GitHub's Link headers through @octokit/plugin-paginate-rest.
import type { Credential, Grant, Principal } from "../../src/model.js";
import { requireOrigin } from "../../src/http-policy.js";
import { describeError, type GithubClient } from "./client.js";

export interface Batch {
  principals?: Principal[];
  credentials?: Credential[];
  grants?: Grant[];
}

/** Larger batches of derived grants are cut to this size so one team × many repositories stays bounded. */
export const MAX_BATCH = 5000;

export type Paginated<T> = AsyncGenerator<T[]>;

export function pages<T>(client: GithubClient, route: string, params: Record<string, unknown>): Paginated<T> {
  return (async function* () {
    for await (const page of linkedPages<T>(client, route, params)) yield page.items;
  })();
}

/** A page and the rel="next" URL that follows it (absent on the last page): cursor-paged listings keep it. */
export interface LinkedPage<T> {
  items: T[];
  next: string | undefined;
}

export function linkedPages<T>(client: GithubClient, route: string, params: Record<string, unknown>): AsyncGenerator<LinkedPage<T>> {
  // Routes outside the api.github.com description (audit log, SAML authorizations) are not in the
  // typed route table; the wire types in wire.ts describe what comes back.
  const it = client.paginate.iterator(route as never, { ...params, per_page: 100 } as never) as AsyncIterable<{
    data: unknown;
    url?: string;
    headers?: { link?: string };
  }>;
  const origin = new URL(client.request.endpoint.DEFAULTS.baseUrl).origin;
  return (async function* () {
    // A Link rel="next" back to a page already read would list the same pages forever.
    const read = new Set<string>();
    for await (const res of it) {
      // @octokit/plugin-paginate-rest answers any 409 with a made-up empty last page (meant for empty
      // git repositories): a conflict on a member listing would read as "no members". Never accept it.
      if (res.url === undefined) throw new Error(`${route}: HTTP 409 Conflict on page ${read.size + 1}; a listing that cannot be read is not an empty one`);
      if (res.url) {
        if (read.has(res.url)) throw new Error(`${route}: page ${read.size + 1} (${res.url}) was already read; the Link header loops (pagination loop)`);
        read.add(res.url);
      }
      // Checked before the iterator follows it (the client's fetch refuses it too): the token goes nowhere else.
      const next = nextLink(res.headers?.link);
      if (next !== undefined) requireOrigin(next, origin, `${route}: Link rel="next"`);
      yield { items: (Array.isArray(res.data) ? res.data : []) as T[], next };
    }
  })();
}

/** The rel="next" target of a Link header, as @octokit/plugin-paginate-rest reads it. */
export function nextLink(link: string | undefined): string | undefined {
  return /<([^<>]+)>;\s*rel="next"/.exec(link ?? "")?.[1];
}

/**
 * A 4xx that is not rate limiting: the token may not read this (owner-only, App-only, plan-only,
 * SAML-only). 400 is included because feature-gated endpoints are not documented to agree on a code.
 */
export function isRefusal(err: unknown): boolean {
  const d = describeError(err);
  return !d.transient && (d.status === 400 || d.status === 403 || d.status === 404 || d.status === 422);
}

/**
 * Iterates an optional listing. A refusal on the first page means "not available to this caller"
 * (recorded, nothing yielded); any later failure fails the scope, since a half-read list would look
 * like removals.
 */
export async function* optionalPages<T>(source: Paginated<T>, onRefused: (reason: string) => void): Paginated<T> {
  let first = true;
  try {
    for await (const page of source) {
      first = false;
      yield page;
    }
  } catch (err) {
    if (first && isRefusal(err)) {
      onRefused(describeError(err).message);
      return;
    }
    throw err;
  }
}

export function* chunks<T>(items: T[], size = MAX_BATCH): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Records why an optional listing is missing: `${feature}_status` in the scope meta, and a warning. */
export type Unavailable = (feature: string) => (reason: string) => void;

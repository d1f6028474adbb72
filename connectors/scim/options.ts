// The `[[sources]]` keys of a scim source. Kept free of anything heavier than zod: config loading and
// check-config read this without loading the connector.
import { z } from "zod";
import { secretRef } from "../../src/secrets.js";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** The SCIM service root, e.g. https://api.slack.com/scim/v2: https, or plain http on loopback only (tests, tunnels). */
const baseUrl = z
  .url({ protocol: /^https?$/, message: "must be an https:// URL" })
  .refine((u) => {
    const url = new URL(u);
    return url.protocol === "https:" || LOOPBACK_HOSTS.has(url.hostname);
  }, { message: "must be https:// (plain http only on a loopback address): the bearer token would travel in clear" })
  .refine((u) => {
    const url = new URL(u);
    return url.search === "" && url.hash === "" && url.username === "" && url.password === "";
  }, { message: "must be the SCIM service root without query, fragment or credentials" });

export const scimOptions = z.strictObject({
  base_url: baseUrl,
  /** Bearer token (secret reference, env:NAME or file:/path). A read-only token where the app offers one. */
  token: secretRef,
  /** How reports name this system, e.g. "Slack"; defaults to the base URL's host and path. */
  label: z.string().min(1).max(200).optional(),
  /** Group displayName globs (`*`, `?`, case-insensitive) whose members hold admin access in the app. */
  admin_groups: z.array(z.string().min(1)).default([]),
  /** Role and entitlement value globs that mean admin access (RFC 7643 `roles`, `entitlements`). */
  admin_roles: z.array(z.string().min(1)).default(["admin", "administrator", "owner", "*super*admin*"]),
  /** `count` asked per page; servers may cap it lower, which is handled. */
  page_size: z.number().int().min(1).max(1000).default(100),
  /** Pages in flight at once once the first page has told the total. */
  concurrency: z.number().int().min(1).max(16).default(4),
  request_timeout_seconds: z.number().int().min(1).max(600).default(60),
  /** Longest Retry-After accepted before the scope fails instead of stalling the run. */
  max_retry_after_seconds: z.number().int().min(0).max(3600).default(300),
});

export type ScimOptions = z.output<typeof scimOptions>;

/** The service root without a trailing slash: resource URLs are built as `${root}/Users`. */
export function serviceRoot(o: Pick<ScimOptions, "base_url">): string {
  return o.base_url.replace(/\/+$/, "");
}

/** The scope id: host and path of the service root, stable across label changes. */
export function scopeOf(o: Pick<ScimOptions, "base_url">): string {
  const url = new URL(serviceRoot(o));
  return `${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

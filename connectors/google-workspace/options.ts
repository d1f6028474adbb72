// The `[[sources]]` keys of a google-workspace source, and the OAuth scopes they imply. No SDK here.
import { z } from "zod";
import { DEFAULT_RETRY_POLICY } from "../../src/http-policy.js";
import { secretRef } from "../../src/secrets.js";

/** users.list's largest page (the Directory API's discovery document maximum). */
export const USERS_PAGE_MAX = 500;

export const SCOPE_URLS = {
  users: "https://www.googleapis.com/auth/admin.directory.user.readonly",
  roles: "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
  // No read-only variant exists for tokens.list / asps.list.
  security: "https://www.googleapis.com/auth/admin.directory.user.security",
  // IAM v1 lists only cloud-platform for serviceAccounts.list and keys.list and refuses a read-only token
  // (403 insufficient scopes); least privilege comes from the IAM role granted (roles/iam.serviceAccountViewer).
  cloud: "https://www.googleapis.com/auth/cloud-platform",
  // Remediation only, requested by the remediate block's credentials for the action at hand.
  usersWrite: "https://www.googleapis.com/auth/admin.directory.user",
  rolesWrite: "https://www.googleapis.com/auth/admin.directory.rolemanagement",
} as const;

/** The audit feeds' only scope; requested by the feed reader's own token, never by the collector's. */
export const REPORTS_SCOPE = "https://www.googleapis.com/auth/admin.reports.audit.readonly";

export const googleWorkspaceOptions = z
  .strictObject({
    /** `my_customer` (the subject's own account) or a customer ID (C0…). */
    customer: z.string().min(1).default("my_customer"),
    /** Admin user the service account impersonates (domain-wide delegation). */
    subject: z.email(),
    /** Service account JSON key. Omit to use Application Default Credentials. */
    credentials: secretRef.optional(),
    /** Keyless: the delegated service account ADC signs as (IAM Credentials signJwt; needs Service Account Token Creator). */
    service_account: z.email().optional(),
    /** Directory API base (private endpoints, simulator). */
    root_url: z.url().optional(),
    /** OAuth token endpoint replacing https://oauth2.googleapis.com/token (private endpoints, simulator). */
    token_url: z.url().optional(),
    /** IAM Credentials base for keyless signing. */
    iam_credentials_url: z.url().optional(),
    /** IAM API base for gcp_projects. */
    iam_url: z.url().optional(),
    /** tokens.list per user: one request per user. */
    collect_oauth_tokens: z.boolean().default(false),
    /** asps.list per user: one request per user. */
    collect_app_passwords: z.boolean().default(false),
    /** Parallel per-user requests. */
    concurrency: z.number().int().min(1).max(50).default(8),
    /** Client-side pace for API requests; the Directory API allows 2,400 per minute per user per project. */
    requests_per_minute: z.number().int().min(1).max(100_000).default(2000),
    /** users.list page size (the API's maximum, 500, unless you have a reason). */
    page_size: z.number().int().min(1).max(USERS_PAGE_MAX).default(USERS_PAGE_MAX),
    /** Custom schema names to read into attributes (projection=custom). */
    custom_schemas: z.array(z.string().min(1)).default([]),
    /** Per-attempt timeout; a request without an answer by then is abandoned and retried like a lost connection. */
    request_timeout_ms: z.number().int().min(1000).max(600_000).default(DEFAULT_RETRY_POLICY.timeoutMs),
    /** Google Cloud projects whose service accounts and user-managed keys to collect (one scope each). */
    gcp_projects: z.array(z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "expected a Google Cloud project ID")).default([]),
    /** Remediation (the `remediate` block): disable-account may suspend a super admin. Off: super admins are refused. */
    suspend_super_admins: z.boolean().default(false),
  })
  .refine((o) => !(o.credentials && o.service_account), {
    message: "set either credentials (a key file) or service_account (keyless signing through IAM), not both",
    path: ["service_account"],
  });

export type GoogleWorkspaceOptions = z.infer<typeof googleWorkspaceOptions>;

export function directoryScopes(o: Pick<GoogleWorkspaceOptions, "collect_oauth_tokens" | "collect_app_passwords">): string[] {
  // Request only what is used: delegation must cover every requested scope or the token is refused.
  return [SCOPE_URLS.users, SCOPE_URLS.roles, ...(o.collect_oauth_tokens || o.collect_app_passwords ? [SCOPE_URLS.security] : [])];
}

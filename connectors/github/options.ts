// The `[[sources]]` keys of a github source. No Octokit here.
import { z } from "zod";
import { secretRef } from "../../src/secrets.js";

export const githubOptions = z
  .strictObject({
    /** Organization logins; each is one scope. */
    orgs: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, "an organization login")).min(1),
    /** REST root: https://HOST/api/v3 for Enterprise Server. */
    base_url: z.url({ protocol: /^https?$/ }).optional(),
    /** Classic or fine-grained PAT (secret reference). Cannot list fine-grained PATs. */
    token: secretRef.optional(),
    /** GitHub App id (or client id) — the recommended auth. */
    app_id: z.union([z.number().int().positive(), z.string().regex(/^(\d+|Iv[0-9A-Za-z.]+)$/)]).optional(),
    /** The App's private key PEM (secret reference, e.g. file:/etc/whohas/app.pem). */
    private_key: secretRef.optional(),
    /** org → installation id; orgs not listed are looked up with GET /orgs/{org}/installation. */
    installation_ids: z.record(z.string(), z.number().int().positive()).optional(),
    collect_teams: z.boolean().default(true),
    /** Expand the repository permissions of each team onto its members (members × team repositories grants). */
    collect_repo_grants: z.boolean().default(false),
    /** Per-repository outside collaborator permissions: one request per repository. */
    collaborator_repos: z.boolean().default(false),
    /** Per-repository deploy keys: one request per repository. */
    collect_deploy_keys: z.boolean().default(false),
    collect_invitations: z.boolean().default(true),
    /** Fine-grained PATs and pending PAT requests (GitHub App auth only). */
    collect_pats: z.boolean().default(true),
    /** SAML SSO credential authorizations (Enterprise Cloud orgs with SAML). */
    collect_credential_authorizations: z.boolean().default(true),
    collect_installations: z.boolean().default(true),
    /** Also list members whose 2FA is SMS-based (filter=2fa_insecure). */
    mfa_insecure: z.boolean().default(false),
    /** Derive last activity from the org audit log (Enterprise Cloud / Server). */
    audit_log: z.boolean().default(false),
    audit_log_days: z.number().int().min(1).max(180).default(30),
    audit_log_max_pages: z.number().int().min(1).max(100_000).default(300),
    /** Enterprise Server instance users: "auto" = site admins when the server says it is GHES. */
    ghes_users: z.enum(["auto", "off", "site_admins", "all"]).default("auto"),
    /** Parallel per-team / per-repository requests. GitHub asks for serial requests; keep this small. */
    concurrency: z.number().int().min(1).max(10).default(3),
    request_timeout_seconds: z.number().int().min(1).max(600).default(60),
    /** Longest rate-limit wait accepted before the org fails instead (a primary reset is at most an hour away). */
    rate_limit_max_wait_seconds: z.number().int().min(0).max(7200).default(3900),
    /** Remediation (the `remediate` block): irreversible actions this source may take; revoke-token needs it. */
    allow_irreversible: z.array(z.enum(["revoke-token"])).default([]),
  })
  .superRefine((o, ctx) => {
    const app = o.app_id !== undefined || o.private_key !== undefined;
    if (o.token !== undefined && app) ctx.addIssue({ code: "custom", message: "set either token or app_id + private_key, not both", path: ["token"] });
    if (o.token === undefined && !app) ctx.addIssue({ code: "custom", message: "set token, or app_id + private_key", path: ["token"] });
    if (app && (o.app_id === undefined || o.private_key === undefined)) {
      ctx.addIssue({ code: "custom", message: "a GitHub App needs both app_id and private_key", path: [o.app_id === undefined ? "app_id" : "private_key"] });
    }
    const seen = new Set<string>();
    for (const org of o.orgs) {
      if (seen.has(org.toLowerCase())) ctx.addIssue({ code: "custom", message: `org "${org}" is listed twice`, path: ["orgs"] });
      seen.add(org.toLowerCase());
    }
    if (o.installation_ids && o.token !== undefined) ctx.addIssue({ code: "custom", message: "installation_ids only apply to app auth", path: ["installation_ids"] });
  });

export type GithubOptions = z.infer<typeof githubOptions>;

// The `[[sources]]` keys of an entra-id source, and where they point.
import { z } from "zod";
import { secretRef } from "../../src/secrets.js";

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const THUMBPRINT = /^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/;

export const CLOUDS = {
  public: { authorityHost: "https://login.microsoftonline.com", graph: "https://graph.microsoft.com" },
  usgov: { authorityHost: "https://login.microsoftonline.us", graph: "https://graph.microsoft.us" },
  "usgov-dod": { authorityHost: "https://login.microsoftonline.us", graph: "https://dod-graph.microsoft.us" },
  china: { authorityHost: "https://login.chinacloudapi.cn", graph: "https://microsoftgraph.chinacloudapi.cn" },
} as const;

export type CloudName = keyof typeof CLOUDS;

const httpsOrigin = z
  .url({ protocol: /^https$/, message: "must be an https:// URL" })
  .refine((u) => new URL(u).pathname.replace(/\/+$/, "") === "", { message: "must be a scheme and host only, without a path" });

export const entraOptions = z
  .strictObject({
    /** Directory (tenant) id, or one of its verified domains. */
    tenant_id: z
      .string()
      .regex(/^[A-Za-z0-9.-]+$/, { message: "expected a tenant GUID or domain name" })
      // Client credentials need one directory; the multi-tenant aliases would sign in nowhere useful.
      .refine((t) => !["common", "organizations", "consumers"].includes(t.toLowerCase()), { message: "must name one tenant, not common/organizations/consumers" }),
    /** Application (client) id of the app registration whohas signs in as. */
    client_id: z.string().regex(GUID, { message: "expected the application (client) id, a GUID" }),
    client_secret: secretRef.optional(),
    /** PEM private key of the app's certificate (PKCS#8 or PKCS#1); may also contain the certificate. */
    certificate_key: secretRef.optional(),
    /** Hex thumbprint of the certificate as the portal shows it: SHA-1 (40) or SHA-256 (64). */
    certificate_thumbprint: z.string().regex(THUMBPRINT, { message: "expected a hex SHA-1 (40) or SHA-256 (64) thumbprint" }).optional(),
    /** PEM certificate (public part); lets whohas compute the SHA-256 thumbprint itself. */
    certificate_file: z.string().min(1).optional(),
    cloud: z.enum(Object.keys(CLOUDS) as [CloudName, ...CloudName[]]).default("public"),
    authority_host: httpsOrigin.optional(),
    graph_base_url: httpsOrigin.optional(),
    /** PEM bundle trusted in addition to the system CAs (TLS-inspecting proxies). */
    ca_file: z.string().min(1).optional(),
    /** Select signInActivity (needs Entra ID P1/P2 and AuditLog.Read.All); pages shrink from 999 to 500 users. */
    sign_in_activity: z.boolean().default(true),
    /** Read /reports/authenticationMethods/userRegistrationDetails for MFA (AuditLog.Read.All). */
    mfa_registration: z.boolean().default(true),
    /** Read PIM eligible role assignments (RoleEligibilitySchedule.Read.Directory; Entra ID P2). */
    eligible_roles: z.boolean().default(true),
    /** Resolve members of role-assignable groups holding a role (GroupMember.Read.All): one call per such group. */
    expand_role_groups: z.boolean().default(true),
    /** Select employeeLeaveDateTime (needs User-LifeCycleInfo.Read.All). */
    employee_leave_date: z.boolean().default(false),
    request_timeout_ms: z.number().int().min(1000).max(600_000).default(60_000),
    max_retries: z.number().int().min(0).max(10).default(5),
  })
  .superRefine((o, ctx) => {
    const hasSecret = o.client_secret !== undefined;
    const hasCert = o.certificate_key !== undefined;
    if (hasSecret === hasCert) {
      ctx.addIssue({ code: "custom", path: ["client_secret"], message: "set exactly one of client_secret or certificate_key" });
    }
    if (!hasCert && (o.certificate_thumbprint || o.certificate_file)) {
      ctx.addIssue({ code: "custom", path: ["certificate_key"], message: "certificate_thumbprint/certificate_file need certificate_key" });
    }
  });

export type EntraOptions = z.output<typeof entraOptions>;

export interface Endpoints {
  authority: string;
  knownAuthorityHost?: string;
  graphBaseUrl: string;
  graphOrigin: string;
  /** The Graph resource of the chosen cloud: the token audience, whatever host requests go to. */
  scope: string;
}

export function endpoints(o: EntraOptions): Endpoints {
  const cloud = CLOUDS[o.cloud];
  const authorityHost = (o.authority_host ?? cloud.authorityHost).replace(/\/+$/, "");
  const graphBaseUrl = (o.graph_base_url ?? cloud.graph).replace(/\/+$/, "");
  return {
    authority: `${authorityHost}/${o.tenant_id}`,
    // MSAL carries metadata for Microsoft's own login hosts; any other host must be declared as known.
    knownAuthorityHost: o.authority_host ? new URL(authorityHost).host : undefined,
    graphBaseUrl,
    graphOrigin: new URL(graphBaseUrl).origin,
    scope: `${cloud.graph}/.default`,
  };
}

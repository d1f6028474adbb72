// Google's error shapes → a retry decision and a message an operator can act on. Two shapes exist:
// the API's `{"error":{"code","message","errors":[{"reason"}],"status"}}` and the OAuth token endpoint's
// `{"error":"invalid_grant","error_description":"…"}`. Messages never carry tokens or key material.

export interface GoogleErrorInfo {
  /** HTTP status, absent when no response arrived. */
  status?: number;
  /** First `errors[].reason` (API) or the OAuth `error` code (token endpoint). */
  reason?: string;
  message: string;
  /** Set for token endpoint errors. */
  oauth?: boolean;
  /** System error code (ECONNRESET, ETIMEDOUT, …) when there was no response. */
  code?: string;
}

/** 403 reasons Google documents as "slow down", unlike authorization 403s. */
const RETRYABLE_403 = new Set(["rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "concurrentLimitExceeded"]);

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  response?: { status?: number; data?: unknown };
}

export function googleErrorInfo(err: unknown): GoogleErrorInfo {
  const e = (err ?? {}) as ErrorLike;
  const status = e.response?.status;
  const data = e.response?.data;
  if (status !== undefined) {
    if (data && typeof data === "object" && "error" in data) {
      const body = data as { error: unknown; error_description?: unknown };
      if (typeof body.error === "string") {
        return { status, reason: body.error, message: typeof body.error_description === "string" ? body.error_description : body.error, oauth: true };
      }
      if (body.error && typeof body.error === "object") {
        const apiErr = body.error as { message?: unknown; status?: unknown; errors?: { reason?: unknown }[] };
        const reason = apiErr.errors?.find((x) => typeof x.reason === "string")?.reason as string | undefined;
        return {
          status,
          reason: reason ?? (typeof apiErr.status === "string" ? apiErr.status : undefined),
          message: typeof apiErr.message === "string" ? apiErr.message : `HTTP ${status}`,
        };
      }
    }
    return { status, message: typeof data === "string" && data.length < 300 && data.trim() ? data.trim() : `HTTP ${status}` };
  }
  const code = typeof e.code === "string" ? e.code : undefined;
  return { code, message: typeof e.message === "string" ? e.message : String(err) };
}

/** Whether another attempt can succeed: throttling, server errors, and lost connections. */
export function isRetryable(info: GoogleErrorInfo): boolean {
  if (info.status === undefined) return true;
  if (info.status === 429 || info.status === 408 || info.status >= 500) return true;
  return info.status === 403 && info.reason !== undefined && RETRYABLE_403.has(info.reason);
}

export interface DelegationContext {
  subject: string;
  clientId?: string;
  scopes: readonly string[];
  customer: string;
}

/** One line naming what failed, Google's code and message, and — for authorization failures — what to fix. */
export function describeGoogleError(what: string, err: unknown, d: DelegationContext): string {
  const info = googleErrorInfo(err);
  const head = info.status !== undefined ? `HTTP ${info.status}${info.reason ? ` ${info.reason}` : ""}: ${info.message}` : `${info.code ? `${info.code}: ` : ""}${info.message}`;
  const client = d.clientId ? `client ID ${d.clientId}` : "the service account's client ID";
  const scopeList = d.scopes.join(",");
  let hint = "";
  if (info.oauth && info.reason === "unauthorized_client") {
    hint =
      ` — domain-wide delegation is not set up for ${client} with these scopes. In the Admin console open Security → Access and data control → ` +
      `API controls → Manage Domain Wide Delegation, and authorize ${client} for exactly: ${scopeList}`;
  } else if (info.oauth && info.reason === "invalid_grant" && /email|user id/i.test(info.message)) {
    hint = ` — the subject ${d.subject} is not an active user of this Google Workspace account; set subject to an admin's primary email`;
  } else if (info.oauth && info.reason === "invalid_grant" && /signature|account not found/i.test(info.message)) {
    hint = " — the service account key was deleted, disabled or belongs to another account; create a new key or check credentials";
  } else if (info.status === 403 && /not authorized to access this resource/i.test(info.message)) {
    hint =
      ` — the subject ${d.subject} lacks the admin privileges for this call, or customer "${d.customer}" is not the subject's account. ` +
      `Use a super admin (reading admin roles needs one); a custom role needs Users → Read for users.list and User Security Management for tokens and app passwords; ` +
      `domain-wide delegation of ${client} must also cover ${scopeList}`;
  } else if (info.status === 403 && info.reason === "insufficientPermissions") {
    hint = ` — the access token lacks a scope this call needs; authorize ${client} for ${scopeList} in domain-wide delegation`;
  } else if (info.status === 401) {
    hint = " — the access token was refused; check the service account key and the token_url / root_url settings";
  } else if (info.status === 400 && /bad request/i.test(info.message)) {
    hint = ` — check customer "${d.customer}" (use my_customer or the C0… customer ID)`;
  }
  // Tokens are fetched lazily by the first API call; name the token exchange, not that call.
  const label = info.oauth ? `access token for ${what} (OAuth token endpoint)` : what;
  return `${label}: ${head}${hint}`;
}

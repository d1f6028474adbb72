// What members are mapped with besides the listing itself: their 2FA state (owner-only filters) and,
// with audit_log, their last activity (through audit-log.ts, the one reader of the org audit log). Both are read before the members are, into id sets / maps.
import { META, type Attributes } from "../../src/model.js";
import { describeError, type GithubClient } from "./client.js";
import type { ActivityKnowledge, MfaKnowledge } from "./map.js";
import type { OrgContext, OrgSettings } from "./org.js";
import { actorActivity, auditLogPages } from "./audit-log.js";
import { isRefusal, optionalPages, pages } from "./paging.js";
import type { GhOrganization, GhSimpleUser } from "./wire.js";

export async function readMfa(
  client: GithubClient,
  org: string,
  path: "/orgs/{org}/members" | "/orgs/{org}/outside_collaborators",
  settings: OrgSettings,
  orgData: GhOrganization,
  meta: Attributes,
  label: string,
): Promise<MfaKnowledge> {
  const collect = async (filter: "2fa_disabled" | "2fa_insecure") => {
    const ids = new Set<number>();
    const params = path.endsWith("/members") ? { org, filter, role: "all" } : { org, filter };
    for await (const page of pages<GhSimpleUser>(client, `GET ${path}`, params)) for (const u of page) ids.add(u.id);
    return ids;
  };
  try {
    const disabled = await collect("2fa_disabled");
    const insecure = settings.mfaInsecure ? await collect("2fa_insecure") : undefined;
    meta[`${label}_without_2fa`] = disabled.size;
    return { kind: "filter", disabled, insecure };
  } catch (err) {
    if (!isRefusal(err)) throw err;
    // Owner-only filter refused. If the org enforces 2FA we still know; otherwise it stays unknown.
    if (orgData.two_factor_requirement_enabled === true) return { kind: "required" };
    return { kind: "unknown", reason: `filter=2fa_disabled refused (${describeError(err).message})` };
  }
}

/** Last activity per actor from the org audit log, read through the same pages as the "audit-log" event feed. */
export async function readAuditLog(client: GithubClient, org: string, settings: OrgSettings, ctx: OrgContext, meta: Attributes): Promise<ActivityKnowledge | undefined> {
  // The window starts at midnight UTC of the first day, as it always has (a day's granularity is enough here).
  const since = new Date(`${new Date(ctx.now().getTime() - settings.auditLogDays * 86_400_000).toISOString().slice(0, 10)}T00:00:00Z`);
  const byActorId = new Map<number, number>();
  const byLogin = new Map<string, number>();
  let windowStart = since.getTime();
  let pagesRead = 0;
  let refused: string | undefined;
  const source = optionalPages(
    (async function* () {
      for await (const page of auditLogPages(client, org, { since })) yield page.items;
    })(),
    (reason) => (refused = reason),
  );
  let oldest = Number.POSITIVE_INFINITY;
  for await (const page of source) {
    pagesRead++;
    for (const ev of page) {
      const a = actorActivity(ev);
      if (!a) continue;
      oldest = Math.min(oldest, a.at);
      if (a.actorId !== undefined && a.at > (byActorId.get(a.actorId) ?? 0)) byActorId.set(a.actorId, a.at);
      if (a.login && a.at > (byLogin.get(a.login.toLowerCase()) ?? 0)) byLogin.set(a.login.toLowerCase(), a.at);
    }
    if (pagesRead >= settings.auditLogMaxPages) {
      // Newest first: stopping early narrows the window to what was read, and says so.
      if (Number.isFinite(oldest)) windowStart = Math.max(windowStart, oldest);
      meta.audit_log_truncated = true;
      break;
    }
  }
  if (refused) {
    meta.last_active = `unknown: audit log not available (${refused})`;
    meta[META.activityUnknownReason] = `the org audit log is not available (${refused})`;
    return undefined;
  }
  meta.last_active = "org audit log";
  meta.audit_log_window_start = new Date(windowStart).toISOString();
  meta.audit_log_pages = pagesRead;
  return { windowStart, byActorId, byLogin };
}

// Reports API activities → whohas AuditEvents. One activity may carry several events; each becomes one
// AuditEvent. Targets use what the collector stores: principals are Google user ids (the Reports API names
// admin targets by email only, so those carry the email as `target.name`), grants are role names, OAuth
// grants are `{userId}/oauth/{clientId}`.
import type { admin_reports_v1 } from "@googleapis/admin";
import type { AuditEvent, EventAction } from "../../src/events/contract.js";
import type { Attributes } from "../../src/model.js";

type Activity = admin_reports_v1.Schema$Activity;
type Parameter = NonNullable<NonNullable<Activity["events"]>[number]["parameters"]>[number];

/** The super admin role's name, as the collector names its grant (roles.list roleName). */
export const SUPER_ADMIN_ROLE = "_SEED_ADMIN_ROLE";

/** Event names of the admin, login and token applications → action; anything else is "other". */
const ACTIONS = new Map<string, EventAction>([
  ["CREATE_USER", "account.create"],
  ["DELETE_USER", "account.delete"],
  ["UNDELETE_USER", "account.create"],
  ["SUSPEND_USER", "account.disable"],
  ["UNSUSPEND_USER", "account.enable"],
  ["ARCHIVE_USER", "account.disable"],
  ["UNARCHIVE_USER", "account.enable"],
  ["CHANGE_PASSWORD", "account.update"],
  ["CHANGE_USER_NAME", "account.update"],
  ["RENAME_USER", "account.update"],
  ["GRANT_ADMIN_PRIVILEGE", "grant.add"],
  ["REVOKE_ADMIN_PRIVILEGE", "grant.remove"],
  ["ASSIGN_ROLE", "grant.add"],
  ["UNASSIGN_ROLE", "grant.remove"],
  ["GRANT_DELEGATED_ADMIN_PRIVILEGES", "grant.add"],
  ["REVOKE_DELEGATED_ADMIN_PRIVILEGES", "grant.remove"],
  ["ADD_TO_TRUSTED_OAUTH2_APPS", "other"],
  // "Application specific password with Id {ASP_ID} issued by user {USER_EMAIL} revoked" (USER_SETTINGS).
  ["REVOKE_ASP", "credential.delete"],
  ["login_success", "signin.success"],
  ["login_failure", "signin.failure"],
  ["suspicious_login", "signin.failure"],
  ["suspicious_login_less_secure_app", "signin.failure"],
  ["suspicious_programmatic_login", "signin.failure"],
  ["authorize", "credential.create"],
  ["revoke", "credential.delete"],
  ["2sv_enroll", "mfa.enable"],
  ["2sv_disable", "mfa.disable"],
]);

/** 2-Step Verification settings: the new value says which way. */
const TWO_STEP_SETTINGS = new Set(["ENFORCE_STRONG_AUTHENTICATION", "ALLOW_STRONG_AUTHENTICATION"]);

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** A parameter as text (value, boolValue, intValue) or a list (multiValue). */
function param(params: Parameter[] | undefined, name: string): string | string[] | null {
  const p = params?.find((x) => x?.name === name);
  if (!p) return null;
  if (Array.isArray(p.multiValue)) return p.multiValue.filter((v): v is string => typeof v === "string");
  if (typeof p.value === "string") return p.value;
  if (typeof p.boolValue === "boolean") return String(p.boolValue);
  if (typeof p.intValue === "string") return p.intValue;
  return null;
}

const one = (v: string | string[] | null): string | null => (Array.isArray(v) ? (v[0] ?? null) : v);

export function eventId(a: Activity, index: number): string {
  const base = `${a.id?.uniqueQualifier ?? ""}:${a.id?.time ?? ""}`;
  return index === 0 ? base : `${base}#${index}`;
}

export function mapActivity(a: Activity): AuditEvent[] {
  const time = text(a.id?.time);
  const at = time && !Number.isNaN(Date.parse(time)) ? new Date(time).toISOString() : null;
  if (!at) throw new Error(`activity ${a.id?.uniqueQualifier ?? "(no id)"} has no valid id.time`);
  if (!text(a.id?.uniqueQualifier)) throw new Error(`activity at ${at} has no id.uniqueQualifier`);
  const app = text(a.id?.applicationName) ?? "unknown";
  const actorEmail = text(a.actor?.email);
  const actorId = text(a.actor?.profileId);
  const actor: AuditEvent["actor"] =
    actorEmail || actorId
      ? { id: actorId, name: actorEmail, kind: "person" }
      : text(a.actor?.key)
        ? { id: null, name: text(a.actor?.key), kind: a.actor?.callerType === "KEY" ? "app" : "provider" }
        : { kind: "unknown" };
  return (a.events ?? []).map((e, index) => {
    const name = text(e?.name) ?? "(unnamed event)";
    const params = (e?.parameters ?? undefined) as Parameter[] | undefined;
    let action: EventAction = ACTIONS.get(name) ?? "other";
    // The Reports API's event names are per application: a "revoke" outside the token log is something else.
    if ((name === "authorize" || name === "revoke") && app !== "token") action = "other";
    if (TWO_STEP_SETTINGS.has(name)) action = one(param(params, "NEW_VALUE")) === "true" ? "mfa.enable" : "mfa.disable";
    const details: Attributes = { application: app, eventType: text(e?.type) };
    const target: NonNullable<AuditEvent["target"]> = {};
    const userEmail = one(param(params, "USER_EMAIL"));
    if (userEmail) target.name = userEmail;
    if (name === "GRANT_ADMIN_PRIVILEGE" || name === "REVOKE_ADMIN_PRIVILEGE") target.privilege = SUPER_ADMIN_ROLE;
    const role = one(param(params, "ROLE_NAME"));
    if (role) target.privilege = role;
    const roleId = one(param(params, "ROLE_ID"));
    if (roleId) details.roleId = roleId;
    const ou = one(param(params, "ORG_UNIT_NAME"));
    if (ou) details.orgUnit = ou;
    const aspId = name === "REVOKE_ASP" ? one(param(params, "ASP_ID")) : null;
    // The collector stores an ASP as {userId}/asp/{codeId}; the admin log names the user by email only, so the
    // id is the suffix attribution matches against the stored one.
    if (aspId) target.credentialId = `asp/${aspId}`;
    if (app === "token") {
      const clientId = one(param(params, "client_id"));
      // OAuth grants are the user's own: the actor is the holder, as the collector keys them.
      if (actorId) target.principalId = actorId;
      if (actorEmail) target.name = actorEmail;
      if (clientId && actorId) target.credentialId = `${actorId}/oauth/${clientId}`;
      if (clientId) details.clientId = clientId;
      const appName = one(param(params, "app_name"));
      if (appName) details.appName = appName;
      const scopes = param(params, "scope");
      if (Array.isArray(scopes) && scopes.length > 0) details.scopes = scopes;
    }
    if (app === "login") {
      if (actorId) target.principalId = actorId;
      if (actorEmail) target.name = actorEmail;
      for (const key of ["login_type", "login_failure_type"]) {
        const v = one(param(params, key));
        if (v) details[key] = v;
      }
      const methods = param(params, "login_challenge_method");
      if (Array.isArray(methods) && methods.length > 0) details.challengeMethods = methods;
      if (name.startsWith("suspicious") || one(param(params, "is_suspicious")) === "true") details.suspicious = true;
    }
    const outcome = action === "signin.failure" ? "failure" : "success";
    return {
      id: eventId(a, index),
      at,
      action,
      providerAction: name,
      // The Reports API logs what happened; a failure is its own event name (login_failure).
      outcome,
      actor,
      ...(Object.keys(target).length > 0 ? { target } : {}),
      ip: text(a.ipAddress),
      userAgent: null,
      details: Object.fromEntries(Object.entries(details).filter(([, v]) => v !== null)) as Attributes,
    };
  });
}

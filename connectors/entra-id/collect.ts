// One tenant = one scope. Order matters: the MFA report is indexed first so users can be mapped page by
// page as they stream; service principals come before applications so app credentials can be attached
// to the principal they authenticate as; grants come last, after the principals they point at.
import { mapEach, type CollectContext, type CollectEvent, type PreserveSelector } from "../../src/connector.js";
import { META, grantId, type Attributes, type Grant, type Principal, type Credential } from "../../src/model.js";
import { GraphCallError } from "./client.js";
import {
  identifyRoleRecord,
  mapApplicationPrincipal,
  mapCredentials,
  mapGroupMemberGrant,
  mapRoleAssignment,
  mapRoleEligibility,
  mapServicePrincipal,
  mapUser,
  mfaFacts,
  type GraphApplication,
  type GraphDirectoryObjectRef,
  type GraphRegistrationDetails,
  type GraphRoleAssignment,
  type GraphRoleDefinition,
  type GraphRoleEligibilitySchedule,
  type GraphServicePrincipal,
  type GraphUser,
  type MfaFacts,
  type SignInAvailability,
} from "./map.js";
import { directoryRoleDefinition, roleName } from "./roles.js";
import type { EntraOptions } from "./options.js";
import { openGraphSession, type GraphSession } from "./session.js";

/** Graph's documented $top ceilings: 999 for directory objects, 500 for users when signInActivity is selected. */
export const PAGE_SIZE = { users: 999, usersWithSignIn: 500, directoryObjects: 999 } as const;

export const USER_FIELDS = [
  "id",
  "userPrincipalName",
  "mail",
  "displayName",
  "accountEnabled",
  "userType",
  "createdDateTime",
  "creationType",
  "externalUserState",
  "onPremisesSyncEnabled",
] as const;
export const SERVICE_PRINCIPAL_FIELDS = [
  "id",
  "appId",
  "displayName",
  "accountEnabled",
  "servicePrincipalType",
  "appOwnerOrganizationId",
  "passwordCredentials",
  "keyCredentials",
] as const;
export const APPLICATION_FIELDS = ["id", "appId", "displayName", "createdDateTime", "signInAudience", "passwordCredentials", "keyCredentials"] as const;
export const ROLE_DEFINITION_FIELDS = ["id", "displayName", "templateId", "isBuiltIn", "rolePermissions"] as const;

/** A refusal that means "this tenant or this app may not read that", as opposed to a fault. */
function isRefusal(err: unknown): err is GraphCallError {
  if (!(err instanceof GraphCallError)) return false;
  if (err.status === 403) return true;
  return err.status === 400 && /License|NonPremium/i.test(err.code);
}

function reasonOf(err: GraphCallError): string {
  return `${err.code}: ${err.graphMessage}`;
}

/** Registration facts for every user, interned: most users share one of a few method combinations. */
class MfaIndex {
  private readonly byUser = new Map<string, number>();
  private readonly shapes: MfaFacts[] = [];
  private readonly shapeIds = new Map<string, number>();

  add(d: GraphRegistrationDetails): void {
    // A registration record without an id cannot be joined to a user: it says nothing about anyone.
    if (typeof d?.id !== "string") return;
    const facts = mfaFacts(d);
    const key = JSON.stringify(facts);
    let idx = this.shapeIds.get(key);
    if (idx === undefined) {
      idx = this.shapes.push(facts) - 1;
      this.shapeIds.set(key, idx);
    }
    this.byUser.set(d.id.toLowerCase(), idx);
  }

  get(userId: string): MfaFacts | undefined {
    const idx = this.byUser.get(userId.toLowerCase());
    return idx === undefined ? undefined : this.shapes[idx];
  }

  get size(): number {
    return this.byUser.size;
  }
}

/** What is known of a directory object that could not be mapped: its id, which is the principal's. */
const idOf = (o: { id?: unknown } | null | undefined) => ({ id: typeof o?.id === "string" ? o.id : null });

/** Drops a grant already yielded in this run (the same user reached through two groups holding one role). */
function fresh(seen: Set<string>, grants: Grant[]): Grant[] {
  return grants.filter((g) => {
    const id = grantId(g);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

export async function* collectTenant(sourceId: string, o: EntraOptions, ctx: CollectContext): AsyncGenerator<CollectEvent> {
  const scope = o.tenant_id.toLowerCase();
  // Reports show an opaque scope id after its label ("Entra ID tenant (<guid>)"): a GUID in the label too would
  // print it twice. A tenant named by its domain keeps the domain, which reads better than any GUID.
  const byGuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(scope);
  yield { type: "scope-start", scope, label: byGuid ? "Entra ID tenant" : `Entra ID tenant ${o.tenant_id}` };
  let session: GraphSession | undefined;
  try {
    session = await openGraphSession(sourceId, o, ctx, scope);
    const { ep, tokens, credential: loaded } = session;
    if (loaded.certificate && Date.parse(loaded.certificate.validTo) - Date.now() < 30 * 86_400_000) {
      ctx.log.warn({ source: sourceId, validTo: loaded.certificate.validTo }, "the client certificate expires within 30 days");
    }
    const tenantGuid = tokens.tenantGuid;
    const list = session.list;
    const now = new Date();
    const meta: Attributes = {
      tenantId: tenantGuid,
      graph: ep.graphBaseUrl,
      dataFreshness: "signInActivity and userRegistrationDetails can lag by up to 24 hours",
    };

    // --- MFA registration report, indexed by user id ---
    let mfa: ((id: string) => MfaFacts | undefined) | undefined;
    if (o.mfa_registration) {
      try {
        const index = new MfaIndex();
        for await (const page of list<GraphRegistrationDetails>("/reports/authenticationMethods/userRegistrationDetails", (c) =>
          c.api("/reports/authenticationMethods/userRegistrationDetails"),
        )) {
          for (const d of page) index.add(d);
        }
        mfa = (id) => index.get(id);
        meta.mfaRegistration = "collected";
      } catch (err) {
        if (!isRefusal(err)) throw err;
        meta.mfaRegistration = `unavailable: ${reasonOf(err)}`;
        ctx.log.warn({ source: sourceId, scope, code: err.code }, "MFA registration report refused; MFA is unknown for every user");
      }
    } else {
      meta.mfaRegistration = "not requested";
    }

    // --- users, degrading once per refused optional property ---
    let signIn: SignInAvailability = o.sign_in_activity ? { available: true } : { available: false, reason: "not requested" };
    let withLeaveDate = o.employee_leave_date;
    let users = 0;
    let guests = 0;
    for (;;) {
      const select: string[] = [...USER_FIELDS];
      if (withLeaveDate) select.push("employeeLeaveDateTime");
      if (signIn.available) select.push("signInActivity");
      const top = signIn.available ? PAGE_SIZE.usersWithSignIn : PAGE_SIZE.users;
      let received = false;
      try {
        for await (const page of list<GraphUser>("/users", (c) => c.api("/users").select(select).top(top))) {
          received = true;
          const principals = mapEach(ctx, scope, "principals", page, (u) => mapUser(u, { signIn, mfa }), idOf);
          users += principals.length;
          guests += principals.filter((p) => p.kind === "guest").length;
          yield { type: "records", scope, principals };
        }
        break;
      } catch (err) {
        // Only the first page tells us a property is refused; later failures are faults.
        if (received || !isRefusal(err)) throw err;
        if (signIn.available) {
          signIn = { available: false, reason: err.code };
          meta.signInActivity = `unavailable: ${reasonOf(err)}`;
          meta[META.activityUnknownReason] = `sign-in activity unavailable (needs Entra ID P1/P2 and AuditLog.Read.All): ${reasonOf(err)}`;
          ctx.log.warn({ source: sourceId, scope, code: err.code }, "signInActivity refused; last sign-in is unknown for every user");
          continue;
        }
        if (withLeaveDate) {
          withLeaveDate = false;
          meta.employeeLeaveDate = `unavailable: ${reasonOf(err)}`;
          continue;
        }
        throw err;
      }
    }
    meta.signInActivity ??= signIn.available ? "collected" : "not requested";
    meta.users = users;
    meta.guests = guests;

    // --- service principals (and their own credentials) ---
    const spByAppId = new Map<string, string>();
    let servicePrincipals = 0;
    let credentials = 0;
    for await (const page of list<GraphServicePrincipal>("/servicePrincipals", (c) =>
      c.api("/servicePrincipals").select([...SERVICE_PRINCIPAL_FIELDS]).top(PAGE_SIZE.directoryObjects),
    )) {
      const principals: Principal[] = [];
      const creds: Credential[] = [];
      principals.push(...mapEach(ctx, scope, "principals", page, (sp) => mapServicePrincipal(sp, tenantGuid), idOf));
      for (const sp of page) {
        if (typeof sp?.id !== "string") continue;
        if (typeof sp.appId === "string") spByAppId.set(sp.appId.toLowerCase(), sp.id);
        // Azure rotates managed-identity certificates itself and nobody can use them outside the resource:
        // recording them would only add churn.
        if (sp.servicePrincipalType === "ManagedIdentity") continue;
        const owner = { principalId: sp.id, objectType: "servicePrincipal" as const, objectId: sp.id, appId: sp.appId ?? null };
        creds.push(...mapEach(ctx, scope, "credentials", [sp], (x) => mapCredentials(x, owner, now), () => ({ principalId: sp.id })).flat());
      }
      servicePrincipals += principals.length;
      credentials += creds.length;
      yield { type: "records", scope, principals, credentials: creds };
    }
    meta.servicePrincipals = servicePrincipals;

    // --- app registrations: their secrets and certificates authenticate as the tenant's service principal ---
    let applications = 0;
    for await (const page of list<GraphApplication>("/applications", (c) =>
      c.api("/applications").select([...APPLICATION_FIELDS]).top(PAGE_SIZE.directoryObjects),
    )) {
      const principals: Principal[] = [];
      const creds: Credential[] = [];
      for (const app of page) {
        const spId = typeof app?.appId === "string" ? spByAppId.get(app.appId.toLowerCase()) : undefined;
        if (!spId) principals.push(...mapEach(ctx, scope, "principals", [app], mapApplicationPrincipal, idOf));
        if (typeof app?.id !== "string") continue;
        const owner = { principalId: spId ?? app.id, objectType: "application" as const, objectId: app.id, appId: app.appId ?? null };
        creds.push(...mapEach(ctx, scope, "credentials", [app], (x) => mapCredentials(x, owner, now), () => ({ principalId: owner.principalId })).flat());
      }
      applications += page.length;
      credentials += creds.length;
      yield { type: "records", scope, principals, credentials: creds };
    }
    spByAppId.clear();
    meta.applications = applications;
    meta.credentials = credentials;

    // --- directory roles: one list of definitions, one of assignments, joined here ---
    const defs = new Map<string, GraphRoleDefinition>();
    for await (const page of list<GraphRoleDefinition>("/roleManagement/directory/roleDefinitions", (c) =>
      c.api("/roleManagement/directory/roleDefinitions").select([...ROLE_DEFINITION_FIELDS]),
    )) {
      for (const d of page) if (typeof d?.id === "string") defs.set(d.id, d);
    }
    const seen = new Set<string>();
    const viaGroups = new Map<string, { name: string | null; grants: Grant[] }>();
    const noteGroup = (principal: GraphDirectoryObjectRef | null | undefined, principalId: string, grant: Grant) => {
      if (principal?.["@odata.type"] !== "#microsoft.graph.group") return;
      const entry = viaGroups.get(principalId) ?? { name: principal.displayName ?? null, grants: [] };
      entry.grants.push(grant);
      viaGroups.set(principalId, entry);
    };
    let assignments = 0;
    for await (const page of list<GraphRoleAssignment>("/roleManagement/directory/roleAssignments", (c) =>
      c.api("/roleManagement/directory/roleAssignments").expand("principal"),
    )) {
      const grants = mapEach(ctx, scope, "grants", page, (a) => {
        const g = mapRoleAssignment(a, defs);
        noteGroup(a.principal, a.principalId, g);
        return g;
      }, identifyRoleRecord);
      assignments += page.length;
      yield { type: "records", scope, grants: fresh(seen, grants) };
    }
    meta.roleAssignments = assignments;

    if (o.eligible_roles) {
      try {
        let eligible = 0;
        for await (const page of list<GraphRoleEligibilitySchedule>("/roleManagement/directory/roleEligibilitySchedules", (c) =>
          c.api("/roleManagement/directory/roleEligibilitySchedules").expand("principal"),
        )) {
          const grants = mapEach(ctx, scope, "grants", page, (s) => {
            const g = mapRoleEligibility(s, defs);
            noteGroup(s.principal, s.principalId, g);
            return g;
          }, identifyRoleRecord);
          eligible += page.length;
          yield { type: "records", scope, grants: fresh(seen, grants) };
        }
        meta.eligibleRoles = "collected";
        meta.eligibleAssignments = eligible;
      } catch (err) {
        if (!isRefusal(err)) throw err;
        meta.eligibleRoles = `unavailable: ${reasonOf(err)}`;
        ctx.log.warn({ source: sourceId, scope, code: err.code }, "PIM eligible assignments refused");
      }
    } else {
      meta.eligibleRoles = "not requested";
    }

    if (o.expand_role_groups && viaGroups.size > 0) {
      try {
        for (const [groupId, group] of viaGroups) {
          const path = `/groups/${encodeURIComponent(groupId)}/transitiveMembers`;
          for await (const page of list<GraphDirectoryObjectRef>(path, (c) => c.api(path).select(["id"]).top(PAGE_SIZE.directoryObjects))) {
            const grants = page
              .filter((m) => m["@odata.type"] !== "#microsoft.graph.group")
              .flatMap((m) => group.grants.map((g) => mapGroupMemberGrant(g, m.id, groupId, group.name)));
            yield { type: "records", scope, grants: fresh(seen, grants) };
          }
        }
        meta.roleGroups = `expanded ${viaGroups.size}`;
      } catch (err) {
        if (!isRefusal(err)) throw err;
        meta.roleGroups = `unavailable: ${reasonOf(err)}`;
        ctx.log.warn({ source: sourceId, scope, code: err.code }, "role-assignable group members refused; grants stay on the groups");
      }
    } else {
      meta.roleGroups = o.expand_role_groups ? "none" : "not requested";
    }
    // What each directory role somebody holds permits: from the definitions listed above, no further call.
    const heldNames = new Set([...seen].map((id) => id.split("\u001f")[1]));
    const held = [...defs.values()].filter((d) => heldNames.has(roleName(d, d.id))).sort((a, b) => a.id.localeCompare(b.id));
    const roles = mapEach(ctx, scope, "roles", held, directoryRoleDefinition, (d) => ({ id: d.id }));
    if (roles.length) yield { type: "records", scope, roles };
    meta.tokenAcquisitions = tokens.acquisitions;
    // A refused optional listing keeps last run's grants of that family instead of reporting them removed.
    const preserve: PreserveSelector[] = [];
    if (String(meta.eligibleRoles).startsWith("unavailable")) preserve.push({ table: "grants", via: "eligible", reason: `PIM eligibility ${meta.eligibleRoles}` });
    if (String(meta.roleGroups).startsWith("unavailable")) preserve.push({ table: "grants", via: "group", reason: `role group members ${meta.roleGroups}` });
    yield { type: "scope-end", scope, meta, preserve };
  } catch (err) {
    // Abort is the run's decision, not this tenant's failure: let it propagate and fail every open scope.
    if (ctx.signal.aborted) throw err;
    const message = (err as Error).message ?? String(err);
    yield { type: "scope-failed", scope, error: `entra-id source "${sourceId}", tenant ${o.tenant_id}: ${message}` };
  } finally {
    await session?.close();
  }
}

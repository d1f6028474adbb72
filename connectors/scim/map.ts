// SCIM resources → the normalized model. Pure functions: no I/O, no clock.
import { type Activity, type Attributes, type Grant, type Principal } from "../../src/model.js";
import { SCHEMA, type ScimGroup, type ScimMultiValue, type ScimUser } from "./wire.js";

/** SCIM describes accounts, not their use: RFC 7643 has no last-login attribute. */
export const ACTIVITY_UNKNOWN_REASON = "SCIM (RFC 7643) has no last-activity attribute; the app's own audit log or the identity provider's sign-in data is needed to tell dormant accounts";

const NO_ACTIVITY: Activity = { at: null, known: false, signal: "none: SCIM has no last-activity attribute" };

export interface MapSettings {
  /** The scope every grant applies to (the service root's host and path). */
  scope: string;
  isAdminGroup(displayName: string): boolean;
  isAdminRole(value: string): boolean;
}

export interface GroupRef {
  id: string;
  displayName: string | null;
  /** `group:<displayName>`, with the id added when two groups share a name. */
  privilege: string;
}

/** Who is in which group, with nested groups expanded: userId → groupId → direct or inherited. */
export interface GroupIndex {
  groups: Map<string, GroupRef>;
  memberships: Map<string, Map<string, "direct" | "inherited">>;
}

/** SCIM timestamps (xsd:dateTime) → ISO-8601 UTC; garbage and years past 9999 → null. */
export function isoUtc(value: unknown): string | null {
  if (typeof value !== "string" || value === "") return null;
  const t = Date.parse(value);
  // Past year 9999 toISOString() writes "+010000-…", which no longer sorts as a timestamp.
  if (Number.isNaN(t) || t < Date.UTC(0, 0, 1) || t >= Date.UTC(10000, 0, 1)) return null;
  return new Date(t).toISOString();
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

export function buildGroupIndex(groups: Iterable<ScimGroup>): GroupIndex {
  const list = [...groups].filter((g): g is ScimGroup & { id: string } => typeof g.id === "string" && g.id !== "");
  const nameCount = new Map<string, number>();
  for (const g of list) {
    const n = str(g.displayName);
    if (n !== undefined) nameCount.set(n, (nameCount.get(n) ?? 0) + 1);
  }
  const refs = new Map<string, GroupRef>();
  for (const g of list) {
    const name = str(g.displayName) ?? null;
    const privilege = name === null ? `group:${g.id}` : (nameCount.get(name) ?? 0) > 1 ? `group:${name} (${g.id})` : `group:${name}`;
    refs.set(g.id, { id: g.id, displayName: name, privilege });
  }

  // child group → groups that list it as a member
  const parents = new Map<string, string[]>();
  const direct = new Map<string, Set<string>>();
  for (const g of list) {
    for (const m of g.members ?? []) {
      const value = str(m?.value);
      if (value === undefined) continue;
      const isGroup = m.type === "Group" || (m.type === undefined && refs.has(value) && value !== g.id);
      if (isGroup) {
        if (value !== g.id) parents.set(value, [...(parents.get(value) ?? []), g.id]);
      } else {
        let s = direct.get(value);
        if (!s) direct.set(value, (s = new Set()));
        s.add(g.id);
      }
    }
  }

  const memberships = new Map<string, Map<string, "direct" | "inherited">>();
  for (const [userId, groupIds] of direct) {
    const mine = new Map<string, "direct" | "inherited">();
    for (const id of groupIds) mine.set(id, "direct");
    // Walk up the nesting; a cycle (A in B in A) ends where a group was already reached.
    const queue = [...groupIds];
    while (queue.length > 0) {
      for (const parent of parents.get(queue.shift()!) ?? []) {
        if (mine.has(parent)) continue;
        mine.set(parent, "inherited");
        queue.push(parent);
      }
    }
    memberships.set(userId, mine);
  }
  return { groups: refs, memberships };
}

/** The primary email, else the work one, else the first with a value. */
export function primaryEmail(emails: ScimMultiValue[] | undefined): string | null {
  if (!Array.isArray(emails)) return null;
  const withValue = emails.filter((e) => str(e?.value) !== undefined);
  const chosen = withValue.find((e) => e.primary === true) ?? withValue.find((e) => e.type === "work") ?? withValue[0];
  return chosen?.value ?? null;
}

function displayNameOf(u: ScimUser): string | null {
  const n = u.name;
  const joined = [str(n?.givenName), str(n?.familyName)].filter(Boolean).join(" ");
  return str(u.displayName) ?? str(n?.formatted) ?? (joined === "" ? null : joined);
}

function userAttributes(u: ScimUser): Attributes {
  const a: Attributes = {};
  const set = (key: string, v: unknown) => {
    const s = str(v);
    if (s !== undefined) a[key] = s;
  };
  set("external_id", u.externalId);
  set("user_type", u.userType);
  set("title", u.title);
  const ent = u[SCHEMA.enterpriseUser];
  if (ent && typeof ent === "object") {
    set("department", ent.department);
    set("division", ent.division);
    set("organization", ent.organization);
    set("cost_center", ent.costCenter);
    set("employee_number", ent.employeeNumber);
    set("manager_id", ent.manager?.value);
    set("manager_name", ent.manager?.displayName);
  }
  // RFC 7643 makes `active` optional; an app that does not send it has no deactivation to report.
  if (typeof u.active !== "boolean") a.active_reported = false;
  if (str(u.userName) === undefined) a.user_name_missing = true;
  return a;
}

function multiValues(values: unknown): ScimMultiValue[] {
  return Array.isArray(values) ? values.filter((v): v is ScimMultiValue => !!v && typeof v === "object") : [];
}

export function mapUser(u: ScimUser, index: GroupIndex, s: MapSettings): { principal: Principal; grants: Grant[] } {
  if (typeof u?.id !== "string" || u.id === "") throw new Error(`/Users returned a user without id (userName ${JSON.stringify(typeof u?.userName === "string" ? u.userName : null)})`);
  const userId = u.id;
  const grants = new Map<string, Grant>();
  const add = (g: Grant) => {
    const key = `${g.privilege}\u001f${g.via}`;
    if (!grants.has(key)) grants.set(key, g);
  };

  const fromGroups = index.memberships.get(userId);
  for (const [groupId, via] of fromGroups ?? []) {
    const ref = index.groups.get(groupId)!;
    add(groupGrant(userId, ref, via, s));
  }
  // The user's own read-only `groups` attribute: groups the /Groups listing did not show (or could not).
  for (const g of multiValues(u.groups)) {
    const id = str(g.value);
    if (id === undefined || fromGroups?.has(id)) continue;
    const ref = index.groups.get(id) ?? { id, displayName: str(g.display) ?? null, privilege: `group:${str(g.display) ?? id}` };
    add(groupGrant(userId, ref, g.type === "indirect" ? "inherited" : "direct", s));
  }
  for (const [kind, list] of [["role", u.roles], ["entitlement", u.entitlements]] as const) {
    for (const r of multiValues(list)) {
      const value = str(r.value) ?? str(r.display);
      if (value === undefined) continue;
      const attributes: Attributes = {};
      if (str(r.type)) attributes.type = r.type!;
      if (r.primary === true) attributes.primary = true;
      add({
        principalId: userId,
        privilege: `${kind}:${value}`,
        level: s.isAdminRole(value) || (str(r.display) !== undefined && s.isAdminRole(r.display!)) ? "admin" : "read",
        scope: s.scope,
        via: "direct",
        ...(Object.keys(attributes).length ? { attributes } : {}),
      });
    }
  }

  const list = [...grants.values()];
  const userType = str(u.userType);
  const principal: Principal = {
    id: userId,
    kind: userType !== undefined && /guest/i.test(userType) ? "guest" : "human",
    name: str(u.userName) ?? userId,
    email: primaryEmail(u.emails),
    displayName: displayNameOf(u),
    // SCIM's only account state: a deactivated account keeps its data but cannot sign in.
    status: u.active === false ? "disabled" : "active",
    // MFA lives with the identity provider that signs users in to the app, not in SCIM.
    mfa: "unknown",
    createdAt: isoUtc(u.meta?.created),
    // An account can use the app; how much more comes from its grants (the reader takes the stronger).
    // Not derived here, so a new admin group shows as a grant added, not as a new version of the account.
    accessLevel: "read",
    lastActive: NO_ACTIVITY,
    attributes: userAttributes(u),
  };
  return { principal, grants: list };
}

function groupGrant(userId: string, ref: GroupRef, via: "direct" | "inherited", s: MapSettings): Grant {
  return {
    principalId: userId,
    privilege: ref.privilege,
    level: ref.displayName !== null && s.isAdminGroup(ref.displayName) ? "admin" : "read",
    scope: s.scope,
    via,
    attributes: { group_id: ref.id },
  };
}

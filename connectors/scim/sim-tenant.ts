// The simulated SCIM service provider's data: users and groups generated from a seed (the same spec gives
// the same tenant), rendered as RFC 7643 resources, plus the changes tests and the demo apply.
import { chance, daysAgo, hexId, personName, pick, seededRandom, type Random } from "../../src/simulator/random.js";
import { SCHEMA, type ScimGroup, type ScimUser } from "./wire.js";

export interface SimUser {
  id: string;
  userName: string;
  givenName: string;
  familyName: string;
  displayName: string;
  email: string;
  active: boolean;
  externalId: string;
  userType: string;
  title: string | null;
  department: string | null;
  employeeNumber: string | null;
  managerId: string | null;
  roles: string[];
  created: string;
  lastModified: string;
}

export interface SimGroup {
  id: string;
  displayName: string;
  /** Member ids: users, or other groups (nesting). */
  members: { value: string; type: "User" | "Group" }[];
  created: string;
  lastModified: string;
}

export interface NamedUser {
  userName: string;
  displayName: string;
  email: string;
  groups?: string[];
  roles?: string[];
  active?: boolean;
}

export interface TenantSpec {
  seed: number;
  users: number;
  /** Extra generated groups besides the fixed Admins and Everyone (nested in Everyone: Engineering). */
  groups?: number;
  /** Share of generated users that are deactivated. */
  inactive?: number;
  /** Users that must exist with these exact values (the demo's cross-source people, hostile names). */
  named?: NamedUser[];
  /** Members of the Admins group among generated users. */
  admins?: number;
}

export interface ScimTenant {
  readonly users: SimUser[];
  readonly groups: SimGroup[];
  /** The bearer token the service accepts. */
  token: string;
  /** Render `groups` on users (RFC 7643 §4.1.2); some apps leave it out. */
  userGroupsAttribute: boolean;
  newId(): string;
  now: Date;
  /** Bumped by every mutation, so the simulator knows when its lookups are stale. */
  revision: number;
}

const DEPARTMENTS = ["Engineering", "Sales", "Finance", "Support", "Marketing", "Legal"];
const TITLES = ["Engineer", "Manager", "Analyst", "Designer", "Specialist", null];

export function generateTenant(spec: TenantSpec): ScimTenant {
  const rand = seededRandom(spec.seed);
  const now = new Date(Date.UTC(2026, 5, 1));
  let counter = 0;
  const newId = () => `${hexId(rand, 8)}-${hexId(rand, 4)}-${hexId(rand, 4)}-${hexId(rand, 4)}-${(++counter).toString(16).padStart(12, "0")}`;
  const tenant: ScimTenant = { users: [], groups: [], token: `scim-${hexId(rand, 40)}`, userGroupsAttribute: true, newId, now, revision: 0 };

  const group = (displayName: string): SimGroup => {
    const created = daysAgo(now, 400 + rand() * 600);
    const g: SimGroup = { id: newId(), displayName, members: [], created, lastModified: created };
    tenant.groups.push(g);
    return g;
  };
  const admins = group("Admins");
  const everyone = group("Everyone");
  const engineering = group("Engineering");
  everyone.members.push({ value: engineering.id, type: "Group" });
  const extra = Array.from({ length: spec.groups ?? 3 }, (_, i) => group(`team-${i + 1}`));

  for (let i = 0; i < spec.users; i++) {
    const u = makeUser(tenant, rand, i);
    u.active = !chance(rand, spec.inactive ?? 0.05);
    tenant.users.push(u);
    everyone.members.push({ value: u.id, type: "User" });
    if (u.department === "Engineering") engineering.members.push({ value: u.id, type: "User" });
    if (extra.length > 0 && chance(rand, 0.5)) pick(rand, extra).members.push({ value: u.id, type: "User" });
    if (i < (spec.admins ?? 2)) admins.members.push({ value: u.id, type: "User" });
  }
  for (const n of spec.named ?? []) addUser(tenant, n);
  // Managers: someone earlier in the list, so the references resolve.
  for (const [i, u] of tenant.users.entries()) if (i > 0 && chance(rand, 0.7)) u.managerId = tenant.users[Math.floor(rand() * i)]!.id;
  return tenant;
}

function makeUser(tenant: ScimTenant, rand: Random, n: number): SimUser {
  const p = personName(rand, n);
  const created = daysAgo(tenant.now, 30 + rand() * 900);
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  return {
    id: tenant.newId(),
    userName: `${p.login}@example.com`,
    givenName: cap(p.first),
    familyName: cap(p.last),
    displayName: `${cap(p.first)} ${cap(p.last)}`,
    email: `${p.login}@example.com`,
    active: true,
    externalId: `00u${hexId(rand, 17)}`,
    userType: "Employee",
    title: pick(rand, TITLES),
    department: pick(rand, DEPARTMENTS),
    employeeNumber: String(10000 + n),
    managerId: null,
    roles: chance(rand, 0.05) ? ["billing"] : [],
    created,
    lastModified: daysAgo(tenant.now, rand() * 30),
  };
}

function findGroup(tenant: ScimTenant, displayName: string): SimGroup {
  const g = tenant.groups.find((x) => x.displayName === displayName);
  if (!g) throw new Error(`simulated SCIM tenant has no group ${JSON.stringify(displayName)}`);
  return g;
}

export function findUser(tenant: ScimTenant, userName: string): SimUser {
  const u = tenant.users.find((x) => x.userName === userName);
  if (!u) throw new Error(`simulated SCIM tenant has no user ${JSON.stringify(userName)}`);
  return u;
}

export function addUser(tenant: ScimTenant, n: NamedUser): SimUser {
  tenant.revision++;
  const at = tenant.now.toISOString();
  const [given, ...rest] = n.displayName.split(" ");
  const u: SimUser = {
    id: tenant.newId(),
    userName: n.userName,
    givenName: given ?? n.displayName,
    familyName: rest.join(" "),
    displayName: n.displayName,
    email: n.email,
    active: n.active ?? true,
    externalId: `ext-${tenant.users.length + 1}`,
    userType: "Employee",
    title: null,
    department: null,
    employeeNumber: null,
    managerId: null,
    roles: n.roles ?? [],
    created: at,
    lastModified: at,
  };
  tenant.users.push(u);
  for (const name of n.groups ?? []) findGroup(tenant, name).members.push({ value: u.id, type: "User" });
  return u;
}

/** Changes the tests and the demo make between two collects. */
export function mutations(tenant: ScimTenant) {
  const touch = (x: { lastModified: string }) => {
    tenant.revision++;
    x.lastModified = new Date(tenant.now.getTime() + 60_000).toISOString();
  };
  return {
    deactivate(userName: string) {
      const u = findUser(tenant, userName);
      u.active = false;
      touch(u);
    },
    addToGroup(userName: string, groupName: string) {
      const u = findUser(tenant, userName);
      const g = findGroup(tenant, groupName);
      g.members.push({ value: u.id, type: "User" });
      touch(g);
    },
    removeUser(userName: string) {
      const u = findUser(tenant, userName);
      tenant.revision++;
      tenant.users.splice(tenant.users.indexOf(u), 1);
      for (const g of tenant.groups) g.members = g.members.filter((m) => m.value !== u.id);
    },
    addUser: (n: NamedUser) => addUser(tenant, n),
  };
}

// ---- rendering as RFC 7643 resources -----------------------------------------------------------------

/** Lookups for rendering, built once per request: a page of users must not scan every group per user. */
export interface TenantIndex {
  users: Map<string, SimUser>;
  groups: Map<string, SimGroup>;
  /** user id → groups listing them directly */
  direct: Map<string, string[]>;
  /** group id → groups listing it as a member */
  parents: Map<string, string[]>;
}

export function indexTenant(tenant: ScimTenant): TenantIndex {
  const idx: TenantIndex = { users: new Map(tenant.users.map((u) => [u.id, u])), groups: new Map(tenant.groups.map((g) => [g.id, g])), direct: new Map(), parents: new Map() };
  for (const g of tenant.groups) {
    for (const m of g.members) {
      const into = m.type === "User" ? idx.direct : idx.parents;
      const list = into.get(m.value);
      if (list) list.push(g.id);
      else into.set(m.value, [g.id]);
    }
  }
  return idx;
}

/** Groups a user is in, direct and through nesting, as the read-only `groups` attribute lists them. */
function groupsOf(idx: TenantIndex, userId: string): { value: string; display: string; type: "direct" | "indirect" }[] {
  const out = new Map<string, "direct" | "indirect">();
  for (const id of idx.direct.get(userId) ?? []) out.set(id, "direct");
  const queue = [...out.keys()];
  while (queue.length > 0) {
    for (const parent of idx.parents.get(queue.shift()!) ?? []) {
      if (out.has(parent)) continue;
      out.set(parent, "indirect");
      queue.push(parent);
    }
  }
  return [...out].map(([id, type]) => ({ value: id, display: idx.groups.get(id)!.displayName, type }));
}

export function renderUser(tenant: ScimTenant, idx: TenantIndex, u: SimUser, baseUrl: string): ScimUser {
  const manager = u.managerId ? idx.users.get(u.managerId) : undefined;
  const enterprise = {
    ...(u.employeeNumber ? { employeeNumber: u.employeeNumber } : {}),
    ...(u.department ? { department: u.department } : {}),
    ...(manager ? { manager: { value: manager.id, $ref: `${baseUrl}/Users/${manager.id}`, displayName: manager.displayName } } : {}),
  };
  const hasEnterprise = Object.keys(enterprise).length > 0;
  return {
    schemas: hasEnterprise ? [SCHEMA.user, SCHEMA.enterpriseUser] : [SCHEMA.user],
    id: u.id,
    externalId: u.externalId,
    userName: u.userName,
    name: { formatted: u.displayName, givenName: u.givenName, familyName: u.familyName },
    displayName: u.displayName,
    userType: u.userType,
    ...(u.title ? { title: u.title } : {}),
    active: u.active,
    emails: [{ value: u.email, type: "work", primary: true }],
    ...(tenant.userGroupsAttribute ? { groups: groupsOf(idx, u.id).map((g) => ({ ...g, $ref: `${baseUrl}/Groups/${g.value}` })) } : {}),
    ...(u.roles.length ? { roles: u.roles.map((r, i) => ({ value: r, primary: i === 0 })) } : {}),
    ...(hasEnterprise ? { [SCHEMA.enterpriseUser]: enterprise } : {}),
    meta: { resourceType: "User", created: u.created, lastModified: u.lastModified, location: `${baseUrl}/Users/${u.id}`, version: `W/"${u.lastModified}"` },
  };
}

export function renderGroup(idx: TenantIndex, g: SimGroup, baseUrl: string): ScimGroup {
  return {
    schemas: [SCHEMA.group],
    id: g.id,
    displayName: g.displayName,
    members: g.members.map((m) => {
      const display = m.type === "User" ? idx.users.get(m.value)?.displayName : idx.groups.get(m.value)?.displayName;
      return { value: m.value, type: m.type, $ref: `${baseUrl}/${m.type === "User" ? "Users" : "Groups"}/${m.value}`, ...(display ? { display } : {}) };
    }),
    meta: { resourceType: "Group", created: g.created, lastModified: g.lastModified, location: `${baseUrl}/Groups/${g.id}` },
  };
}

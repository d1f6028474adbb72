// The simulated Google Workspace customer: a seeded, deterministic directory plus a mutation API.
// Users are generated on demand from (seed, slot) so a 100k- or 1M-user customer costs almost no memory;
// only mutated and added users are stored. Admin flags are derived from role assignments, as Google does.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chance, daysAgo, hexId, personName, pick, seededRandom, type Random } from "../../src/simulator/random.js";
import { SimActivityLog, type SimActivityActor } from "./sim-activities.js";

export * from "./sim-activities.js";

/** Where the simulated admin works from, and where the failed sign-ins come from (documentation ranges). */
export const ADMIN_IP = "203.0.113.7";
export const ATTACKER_IP = "198.51.100.23";

export const NEVER_LOGGED_IN = "1970-01-01T00:00:00.000Z";

export const SCOPES = {
  userReadonly: "https://www.googleapis.com/auth/admin.directory.user.readonly",
  user: "https://www.googleapis.com/auth/admin.directory.user",
  userSecurity: "https://www.googleapis.com/auth/admin.directory.user.security",
  roleReadonly: "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
  role: "https://www.googleapis.com/auth/admin.directory.rolemanagement",
  cloudPlatform: "https://www.googleapis.com/auth/cloud-platform",
  cloudPlatformReadonly: "https://www.googleapis.com/auth/cloud-platform.read-only",
  iam: "https://www.googleapis.com/auth/iam",
  reportsAudit: "https://www.googleapis.com/auth/admin.reports.audit.readonly",
  reportsAuditWrite: "https://www.googleapis.com/auth/admin.reports.audit",
} as const;

export interface SimUserName {
  givenName: string;
  familyName: string;
  fullName: string;
}

/** The stored part of a user; isAdmin / isDelegatedAdmin / kind / etag are derived when served. */
export interface SimUserData {
  id: string;
  primaryEmail: string;
  name: SimUserName;
  lastLoginTime: string;
  creationTime: string;
  agreedToTerms: boolean;
  suspended: boolean;
  suspensionReason?: string;
  archived: boolean;
  changePasswordAtNextLogin: boolean;
  ipWhitelisted: boolean;
  emails: { address: string; primary?: boolean }[];
  aliases?: string[];
  nonEditableAliases?: string[];
  customerId: string;
  orgUnitPath: string;
  isMailboxSetup: boolean;
  isEnrolledIn2Sv: boolean;
  isEnforcedIn2Sv: boolean;
  includeInGlobalAddressList: boolean;
  isGuestUser?: boolean;
  customSchemas?: Record<string, Record<string, unknown>>;
}

export interface SimToken {
  clientId: string;
  displayText: string;
  anonymous: boolean;
  nativeApp: boolean;
  scopes: string[];
}

export interface SimAsp {
  codeId: number;
  name: string;
  /** Epoch milliseconds as a decimal string, as the API sends int64. */
  creationTime: string;
  lastTimeUsed?: string;
}

export interface SimUserRecord {
  user: SimUserData;
  tokens: SimToken[];
  asps: SimAsp[];
}

export interface SimRole {
  roleId: string;
  roleName: string;
  roleDescription: string;
  rolePrivileges: { privilegeName: string; serviceId: string }[];
  isSystemRole: boolean;
  isSuperAdminRole: boolean;
}

export interface SimRoleAssignment {
  roleAssignmentId: string;
  roleId: string;
  assignedTo: string;
  assigneeType: "USER" | "GROUP";
  scopeType: "CUSTOMER" | "ORG_UNIT";
  orgUnitId?: string;
}

export interface SimServiceAccount {
  email: string;
  /** The numeric OAuth client ID an admin authorizes for domain-wide delegation. */
  clientId: string;
  privateKeyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
  projectId: string;
}

export interface SimGcpKey {
  name: string;
  validAfterTime: string;
  validBeforeTime: string;
  keyAlgorithm: string;
  keyOrigin: string;
  keyType: "USER_MANAGED" | "SYSTEM_MANAGED";
  disabled?: boolean;
}

export interface SimGcpServiceAccount {
  name: string;
  projectId: string;
  uniqueId: string;
  email: string;
  displayName: string;
  description?: string;
  oauth2ClientId: string;
  disabled?: boolean;
  keys: SimGcpKey[];
}

export interface TenantOptions {
  seed?: number;
  users?: number;
  domain?: string;
  /** Fixed clock for generated timestamps; tests pass one so results are reproducible. */
  now?: Date;
  /** GCP projects with service accounts, for the optional IAM part. */
  gcpProjects?: string[];
}

const ORG_UNITS = [
  { path: "/", weight: 0.2, enforced2Sv: false },
  { path: "/Engineering", weight: 0.35, enforced2Sv: true },
  { path: "/Sales", weight: 0.25, enforced2Sv: false },
  { path: "/Finance", weight: 0.1, enforced2Sv: true },
  { path: "/Contractors", weight: 0.1, enforced2Sv: false },
] as const;

/** The OAuth apps users grant access to; the scopes are what such apps really ask for. */
const APPS: readonly Omit<SimToken, "clientId">[] = [
  { displayText: "Slack", anonymous: false, nativeApp: false, scopes: ["openid", "https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/calendar.readonly"] },
  { displayText: "Zoom", anonymous: false, nativeApp: false, scopes: ["https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/calendar.events"] },
  { displayText: "Google Drive for desktop", anonymous: false, nativeApp: true, scopes: ["https://www.googleapis.com/auth/drive"] },
  { displayText: "Thunderbird", anonymous: false, nativeApp: true, scopes: ["https://mail.google.com/", "https://www.googleapis.com/auth/carddav"] },
  { displayText: "Free PDF Converter", anonymous: false, nativeApp: false, scopes: ["https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/drive"] },
  { displayText: "Legacy CRM Sync", anonymous: false, nativeApp: false, scopes: ["https://www.googleapis.com/auth/contacts", "https://www.googleapis.com/auth/calendar"] },
];

type RoleKey = "super" | "groups" | "users" | "helpdesk" | "services" | "auditor" | "security";

const ROLE_DEFS: Record<RoleKey, Omit<SimRole, "roleId">> = {
  super: {
    roleName: "_SEED_ADMIN_ROLE",
    roleDescription: "Google Workspace Administrator Seed Role",
    rolePrivileges: ["SUPER_ADMIN", "ROOT_APP_ADMIN", "ADMIN_APIS_ALL", "USERS_ALL", "GROUPS_ALL", "ORGANIZATION_UNITS_ALL", "USER_SECURITY_ALL", "ADMIN_DASHBOARD"].map(priv),
    isSystemRole: true,
    isSuperAdminRole: true,
  },
  groups: {
    roleName: "_GROUPS_ADMIN_ROLE",
    roleDescription: "Groups Administrator",
    rolePrivileges: ["CHANGE_USER_GROUP_MEMBERSHIP", "USERS_RETRIEVE", "GROUPS_ALL", "ADMIN_DASHBOARD", "ORGANIZATION_UNITS_RETRIEVE"].map(priv),
    isSystemRole: true,
    isSuperAdminRole: false,
  },
  users: {
    roleName: "_USER_MANAGEMENT_ADMIN_ROLE",
    roleDescription: "User Management Administrator",
    rolePrivileges: ["USERS_ALL", "ORGANIZATION_UNITS_RETRIEVE", "ADMIN_DASHBOARD"].map(priv),
    isSystemRole: true,
    isSuperAdminRole: false,
  },
  helpdesk: {
    roleName: "_HELP_DESK_ADMIN_ROLE",
    roleDescription: "Help Desk Administrator",
    rolePrivileges: ["USERS_RETRIEVE", "USERS_RESET_PASSWORD", "ORGANIZATION_UNITS_RETRIEVE", "ADMIN_DASHBOARD"].map(priv),
    isSystemRole: true,
    isSuperAdminRole: false,
  },
  services: {
    roleName: "_SERVICES_ADMIN_ROLE",
    roleDescription: "Services Administrator",
    rolePrivileges: ["APP_ADMIN", "ADMIN_DASHBOARD"].map(priv),
    isSystemRole: true,
    isSuperAdminRole: false,
  },
  auditor: {
    roleName: "Directory Auditor",
    roleDescription: "Custom role: read users and org units",
    rolePrivileges: ["USERS_RETRIEVE", "ORGANIZATION_UNITS_RETRIEVE", "ADMIN_DASHBOARD"].map(priv),
    isSystemRole: false,
    isSuperAdminRole: false,
  },
  security: {
    roleName: "Security Reviewer",
    roleDescription: "Custom role: user security settings",
    rolePrivileges: ["USER_SECURITY_ALL", "USERS_RETRIEVE", "ORGANIZATION_UNITS_RETRIEVE"].map(priv),
    isSystemRole: false,
    isSuperAdminRole: false,
  },
};

function priv(privilegeName: string) {
  // Google's obfuscated service ids; the Directory one appears in its documentation.
  return { privilegeName, serviceId: privilegeName === "SUPER_ADMIN" || privilegeName === "ADMIN_DASHBOARD" ? "01ci93xb3tmzyin" : "00haapch16h1ysv" };
}

const DELEGATED_MIX: readonly [RoleKey, number][] = [
  ["users", 0.25],
  ["helpdesk", 0.3],
  ["groups", 0.2],
  ["services", 0.1],
  ["auditor", 0.1],
  ["security", 0.05],
];

/** Stable per-slot seed: the same slot of the same tenant always yields the same user. */
function slotRandom(seed: number, slot: number): Random {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(slot + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return seededRandom(h ^ (h >>> 15));
}

function digits(rand: Random, n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += Math.floor(rand() * 10);
  return out;
}

/** Google matches userKey emails case-insensitively. */
function lowerKey(email: string): string {
  return email.toLowerCase();
}

export class SimTenant {
  readonly seed: number;
  readonly domain: string;
  readonly customerId: string;
  readonly now: Date;
  readonly baseCount: number;
  readonly orgUnitIds: ReadonlyMap<string, string>;
  readonly roles: SimRole[];
  readonly roleIdByKey: Record<RoleKey, string>;
  readonly serviceAccount: SimServiceAccount;
  /** A second identity with no delegation, for Application Default Credentials signing through IAM. */
  readonly runnerAccount: SimServiceAccount;
  readonly groups: { id: string; email: string }[];
  readonly gcpProjects = new Map<string, SimGcpServiceAccount[]>();
  /** Scopes the admin authorized for each client ID under domain-wide delegation. */
  readonly delegation = new Map<string, Set<string>>();
  /** Target service account email → callers allowed to sign JWTs as it (roles/iam.serviceAccountTokenCreator). */
  readonly tokenCreators = new Map<string, Set<string>>();

  private readonly idPrefix: string;
  private readonly overrides = new Map<number, SimUserRecord | null>();
  private readonly emailIndex = new Map<string, number>();
  private extraSlots = 0;
  /** The Reports API activity log; the mutation API below records into it. */
  readonly audit: SimActivityLog;
  private assignments: SimRoleAssignment[] = [];
  private assignmentsByUser = new Map<string, SimRoleAssignment[]>();
  private nextAssignment = 1;
  private nextAsp = 1000;

  constructor(opts: TenantOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.domain = opts.domain ?? "example.com";
    this.now = opts.now ?? new Date();
    this.baseCount = Math.max(2, opts.users ?? 40);
    const rand = seededRandom(this.seed);
    this.idPrefix = `1${digits(rand, 4)}`;
    this.customerId = `C0${hexId(rand, 7)}`;
    this.orgUnitIds = new Map(ORG_UNITS.map((ou) => [ou.path, `id:03ph8a2z${hexId(rand, 8)}`]));
    const roleBase = BigInt(`38942084610${digits(rand, 3)}00`);
    const keys = Object.keys(ROLE_DEFS) as RoleKey[];
    this.roleIdByKey = Object.fromEntries(keys.map((k, i) => [k, String(roleBase + BigInt(i + 1))])) as Record<RoleKey, string>;
    this.roles = keys.map((k) => ({ roleId: this.roleIdByKey[k], ...ROLE_DEFS[k] }));
    this.groups = [
      { id: `03${hexId(rand, 13)}`, email: `it-helpdesk@${this.domain}` },
      { id: `03${hexId(rand, 13)}`, email: `security-team@${this.domain}` },
    ];
    this.serviceAccount = makeServiceAccount("whohas-reader", "whohas-sim", rand);
    this.runnerAccount = makeServiceAccount("whohas-runner", "whohas-sim", rand);
    this.delegation.set(this.serviceAccount.clientId, new Set([SCOPES.userReadonly, SCOPES.roleReadonly, SCOPES.userSecurity, SCOPES.reportsAudit]));
    this.tokenCreators.set(this.serviceAccount.email, new Set([this.runnerAccount.email]));
    this.emailIndex.set(`admin@${this.domain}`, 0);
    this.emailIndex.set(`grace.hopper@${this.domain}`, 1);

    // One cheap pass decides who holds which admin role; users themselves are generated on demand.
    for (let slot = 0; slot < this.baseCount; slot++) {
      const role = this.baseRole(slot);
      if (!role) continue;
      const r = slotRandom(this.seed ^ 0x5bd1e995, slot);
      const scopedToOu = role === "helpdesk" && chance(r, 0.5);
      this.addAssignment({
        roleId: this.roleIdByKey[role],
        assignedTo: this.userId(slot),
        assigneeType: "USER",
        scopeType: scopedToOu ? "ORG_UNIT" : "CUSTOMER",
        orgUnitId: scopedToOu ? this.orgUnitIds.get(pick(r, ["/Sales", "/Engineering"]))! : undefined,
      });
    }
    this.addAssignment({ roleId: this.roleIdByKey.helpdesk, assignedTo: this.groups[0]!.id, assigneeType: "GROUP", scopeType: "CUSTOMER" });
    this.addAssignment({ roleId: this.roleIdByKey.security, assignedTo: this.groups[1]!.id, assigneeType: "GROUP", scopeType: "CUSTOMER" });

    for (const project of opts.gcpProjects ?? []) this.gcpProjects.set(project, makeGcpServiceAccounts(project, seededRandom(this.seed ^ hash(project)), this.now));

    this.audit = new SimActivityLog(this.seed ^ 0x2c1f2abb, this.customerId, this.domain, { email: `admin@${this.domain}`, profileId: this.userId(0), ipAddress: ADMIN_IP });
    // A burst of failed sign-ins against Grace two hours ago, one Google calls suspicious, and the admin's own sign-in.
    const grace = `grace.hopper@${this.domain}`;
    for (let i = 0; i < 4; i++) this.recordLogin(grace, "failure", { at: new Date(this.now.getTime() - (7200 - i * 30) * 1000), ipAddress: ATTACKER_IP });
    this.recordLogin(grace, "suspicious", { at: new Date(this.now.getTime() - 7000 * 1000), ipAddress: ATTACKER_IP });
    this.recordLogin(`admin@${this.domain}`, "success", { at: new Date(this.now.getTime() - 3600 * 1000), ipAddress: ADMIN_IP });
  }

  /** The Reports API actor for a user of this tenant. */
  actorFor(userKey: string, ipAddress = "192.0.2.10"): SimActivityActor {
    const rec = this.find(userKey);
    if (!rec) throw new Error(`simulator: no user ${userKey}`);
    return { email: rec.user.primaryEmail, profileId: rec.user.id, ipAddress };
  }

  /** A sign-in as the login application logs it (login_success / login_failure / suspicious_login). */
  recordLogin(userKey: string, outcome: "success" | "failure" | "suspicious", opts: { at?: Date; ipAddress?: string } = {}): void {
    const actor = this.actorFor(userKey, opts.ipAddress);
    const name = outcome === "success" ? "login_success" : outcome === "failure" ? "login_failure" : "suspicious_login";
    this.audit.record(
      "login",
      "login",
      name,
      [
        { name: "login_type", value: "google_password" },
        { name: "login_challenge_method", multiValue: ["password"] },
        ...(outcome === "failure" ? [{ name: "login_failure_type", value: "login_failure_invalid_password" }] : []),
        { name: "is_suspicious", boolValue: outcome === "suspicious" },
      ],
      { actor, at: opts.at },
    );
  }

  /** An admin password reset, logged as CHANGE_PASSWORD. */
  changePassword(userKey: string): void {
    const rec = this.edit(userKey, (r) => {
      r.user.changePasswordAtNextLogin = true;
    });
    this.audit.record("admin", "USER_SETTINGS", "CHANGE_PASSWORD", [{ name: "USER_EMAIL", value: rec.user.primaryEmail }]);
  }

  /** Which admin role the generated user in `slot` holds, if any. */
  private baseRole(slot: number): RoleKey | undefined {
    if (slot === 0) return "super";
    if (slot === 1) return undefined;
    const r = slotRandom(this.seed, slot)();
    if (r < 0.01) return "super";
    if (r < 0.04) {
      let x = (r - 0.01) / 0.03;
      for (const [key, w] of DELEGATED_MIX) {
        if (x < w) return key;
        x -= w;
      }
      return "helpdesk";
    }
    return undefined;
  }

  userId(slot: number): string {
    return `${this.idPrefix}${String(slot).padStart(16, "0")}`;
  }

  private baseRecord(slot: number): SimUserRecord {
    const rand = slotRandom(this.seed, slot);
    const roll = rand(); // the same first draw baseRole() used
    const named = slot === 0 ? { first: "workspace", last: "admin", login: "admin" } : slot === 1 ? { first: "grace", last: "hopper", login: "grace.hopper" } : undefined;
    const person = named ?? personName(rand, slot);
    const given = cap(person.first);
    const family = cap(person.last);
    const email = `${person.login}@${this.domain}`;
    const ou = slot === 0 ? ORG_UNITS[0] : slot === 1 ? ORG_UNITS[1] : weighted(rand, ORG_UNITS);
    const isAdminish = roll < 0.04 || slot === 0;
    const suspended = !named && !isAdminish && roll >= 0.04 && roll < 0.08;
    const archived = !named && !isAdminish && roll >= 0.08 && roll < 0.09;
    const createdDaysAgo = slot === 1 ? 900 : 7 + rand() * 1500;
    const creation = daysAgo(this.now, createdDaysAgo);
    let lastLogin: string;
    const l = rand();
    if (named) lastLogin = daysAgo(this.now, slot === 0 ? 0.2 : 1.5);
    else if (l < 0.06) lastLogin = NEVER_LOGGED_IN;
    else if (l < 0.16) lastLogin = daysAgo(this.now, Math.min(createdDaysAgo, 95 + rand() * 300));
    else lastLogin = daysAgo(this.now, Math.min(createdDaysAgo, rand() * 30));
    // Super admins get 2SV most of the time; the rest of the company follows OU policy.
    const enforced = ou.enforced2Sv;
    const enrolled = named ? true : enforced ? chance(rand, 0.97) : roll < 0.01 ? chance(rand, 0.6) : chance(rand, 0.55);
    const aliases = chance(rand, 0.1) ? [`${person.first[0]}${person.last}${slot}@${this.domain}`] : undefined;
    const tokens: SimToken[] = [];
    if (slot === 1 || chance(rand, 0.12)) {
      const n = slot === 1 ? 1 : 1 + Math.floor(rand() * 3);
      const used = new Set<number>();
      for (let i = 0; i < n; i++) {
        const a = slot === 1 ? 0 : Math.floor(rand() * APPS.length);
        if (used.has(a)) continue;
        used.add(a);
        tokens.push({ clientId: appClientId(this.seed, a), ...APPS[a]! });
      }
    }
    const asps: SimAsp[] = [];
    if (!named && chance(rand, 0.03)) {
      const created = this.now.getTime() - Math.floor(rand() * 400) * 86_400_000;
      asps.push({
        codeId: 100 + (slot % 1000),
        name: pick(rand, ["Thunderbird on laptop", "iPhone Mail", "Printer scan-to-mail"]),
        creationTime: String(created),
        lastTimeUsed: String(Math.min(this.now.getTime(), created + Math.floor(rand() * 300) * 86_400_000)),
      });
    }
    const user: SimUserData = {
      id: this.userId(slot),
      primaryEmail: email,
      name: { givenName: given, familyName: family, fullName: `${given} ${family}` },
      lastLoginTime: lastLogin,
      creationTime: creation,
      agreedToTerms: lastLogin !== NEVER_LOGGED_IN,
      suspended,
      ...(suspended ? { suspensionReason: "ADMIN" } : {}),
      archived,
      changePasswordAtNextLogin: false,
      ipWhitelisted: false,
      emails: [{ address: email, primary: true }, ...(aliases ?? []).map((a) => ({ address: a }))],
      ...(aliases ? { aliases } : {}),
      nonEditableAliases: [`${person.login}@${this.domain.replace(/\..*$/, "")}.test-google-a.com`],
      customerId: this.customerId,
      orgUnitPath: ou.path,
      isMailboxSetup: true,
      isEnrolledIn2Sv: enrolled,
      isEnforcedIn2Sv: enforced,
      includeInGlobalAddressList: true,
      customSchemas: { Employment: { employeeType: ou.path === "/Contractors" ? "Contractor" : "Employee", costCenter: `CC-${100 + (slot % 40)}` } },
    };
    return { user, tokens, asps };
  }

  /** Number of slots (users ever present, removed ones included); a page walks slots in order. */
  get slotCount(): number {
    return this.baseCount + this.extraSlots;
  }

  /** The user record in `slot`, undefined when the slot is empty or removed. */
  record(slot: number): SimUserRecord | undefined {
    if (slot < 0 || slot >= this.slotCount) return undefined;
    if (this.overrides.has(slot)) return this.overrides.get(slot) ?? undefined;
    return this.baseRecord(slot);
  }

  /** Live users (removed ones excluded); walks every slot, so meant for tests and small tenants. */
  get userCount(): number {
    let n = 0;
    for (let s = 0; s < this.slotCount; s++) if (this.record(s)) n++;
    return n;
  }

  slotOf(userKey: string): number | undefined {
    const key = lowerKey(userKey);
    const candidates: number[] = [];
    const indexed = this.emailIndex.get(key);
    if (indexed !== undefined) candidates.push(indexed);
    if (key.startsWith(this.idPrefix) && /^\d{21}$/.test(key)) candidates.push(Number(key.slice(this.idPrefix.length)));
    const m = /(\d+)@/.exec(key);
    if (m) candidates.push(Number(m[1]));
    for (const slot of candidates) {
      const rec = this.record(slot);
      if (!rec) continue;
      const u = rec.user;
      if (u.id === key || lowerKey(u.primaryEmail) === key || (u.aliases ?? []).some((a) => lowerKey(a) === key)) return slot;
    }
    return undefined;
  }

  find(userKey: string): SimUserRecord | undefined {
    const slot = this.slotOf(userKey);
    return slot === undefined ? undefined : this.record(slot);
  }

  private mustSlot(userKey: string): number {
    const slot = this.slotOf(userKey);
    if (slot === undefined) throw new Error(`simulator: no user ${userKey}`);
    return slot;
  }

  /** Replace a user's record through a function of the current one (copy-on-write). */
  private edit(userKey: string, change: (rec: SimUserRecord) => void): SimUserRecord {
    const slot = this.mustSlot(userKey);
    const current = this.record(slot)!;
    const copy: SimUserRecord = structuredClone(current);
    change(copy);
    this.overrides.set(slot, copy);
    this.emailIndex.set(lowerKey(copy.user.primaryEmail), slot);
    for (const a of copy.user.aliases ?? []) this.emailIndex.set(lowerKey(a), slot);
    return copy;
  }

  /** Admin flags as Google reports them: derived from the user's role assignments. */
  adminFlags(userId: string): { isAdmin: boolean; isDelegatedAdmin: boolean } {
    const mine = this.assignmentsByUser.get(userId) ?? [];
    const superId = this.roleIdByKey.super;
    return { isAdmin: mine.some((a) => a.roleId === superId), isDelegatedAdmin: mine.some((a) => a.roleId !== superId) };
  }

  privilegesOf(userId: string): Set<string> {
    const out = new Set<string>();
    for (const a of this.assignmentsByUser.get(userId) ?? []) {
      const role = this.roles.find((r) => r.roleId === a.roleId);
      for (const p of role?.rolePrivileges ?? []) out.add(p.privilegeName);
    }
    return out;
  }

  get roleAssignments(): readonly SimRoleAssignment[] {
    return this.assignments;
  }

  private addAssignment(a: Omit<SimRoleAssignment, "roleAssignmentId">): SimRoleAssignment {
    const full: SimRoleAssignment = { roleAssignmentId: String(BigInt(this.roleIdByKey.super) + 100_000n + BigInt(this.nextAssignment++)), ...a };
    this.assignments.push(full);
    const list = this.assignmentsByUser.get(a.assignedTo) ?? [];
    list.push(full);
    this.assignmentsByUser.set(a.assignedTo, list);
    return full;
  }

  private dropAssignments(assignedTo: string, roleId?: string): void {
    const keep = (a: SimRoleAssignment) => a.assignedTo !== assignedTo || (roleId !== undefined && a.roleId !== roleId);
    this.assignments = this.assignments.filter(keep);
    const left = (this.assignmentsByUser.get(assignedTo) ?? []).filter(keep);
    if (left.length) this.assignmentsByUser.set(assignedTo, left);
    else this.assignmentsByUser.delete(assignedTo);
  }

  // ---- mutation API -------------------------------------------------------------------------

  addUser(input: {
    givenName: string;
    familyName: string;
    email?: string;
    orgUnitPath?: string;
    lastLoginTime?: string | null;
    isEnrolledIn2Sv?: boolean;
    creationTime?: string;
  }): SimUserData {
    const slot = this.slotCount;
    this.extraSlots++;
    const email = input.email ?? `${input.givenName}.${input.familyName}${slot}@${this.domain}`.toLowerCase();
    const ou = ORG_UNITS.find((o) => o.path === (input.orgUnitPath ?? "/")) ?? ORG_UNITS[0];
    const user: SimUserData = {
      id: this.userId(slot),
      primaryEmail: email,
      name: { givenName: input.givenName, familyName: input.familyName, fullName: `${input.givenName} ${input.familyName}` },
      lastLoginTime: input.lastLoginTime ?? NEVER_LOGGED_IN,
      creationTime: input.creationTime ?? new Date().toISOString(),
      agreedToTerms: false,
      suspended: false,
      archived: false,
      changePasswordAtNextLogin: true,
      ipWhitelisted: false,
      emails: [{ address: email, primary: true }],
      customerId: this.customerId,
      orgUnitPath: ou.path,
      isMailboxSetup: true,
      isEnrolledIn2Sv: input.isEnrolledIn2Sv ?? false,
      isEnforcedIn2Sv: ou.enforced2Sv,
      includeInGlobalAddressList: true,
    };
    this.overrides.set(slot, { user, tokens: [], asps: [] });
    this.emailIndex.set(lowerKey(email), slot);
    this.audit.record("admin", "USER_SETTINGS", "CREATE_USER", [{ name: "USER_EMAIL", value: email }]);
    return user;
  }

  updateUser(userKey: string, patch: Partial<SimUserData>): SimUserData {
    return this.edit(userKey, (rec) => Object.assign(rec.user, patch)).user;
  }

  /** Deleting a user also deletes its role assignments, as Google does. */
  removeUser(userKey: string): void {
    const slot = this.mustSlot(userKey);
    const rec = this.record(slot)!;
    this.dropAssignments(rec.user.id);
    this.overrides.set(slot, null);
    this.audit.record("admin", "USER_SETTINGS", "DELETE_USER", [{ name: "USER_EMAIL", value: rec.user.primaryEmail }]);
  }

  suspendUser(userKey: string, reason = "ADMIN"): SimUserData {
    const user = this.edit(userKey, (rec) => {
      rec.user.suspended = true;
      rec.user.suspensionReason = reason;
    }).user;
    this.audit.record("admin", "USER_SETTINGS", "SUSPEND_USER", [{ name: "USER_EMAIL", value: user.primaryEmail }]);
    return user;
  }

  unsuspendUser(userKey: string): SimUserData {
    return this.edit(userKey, (rec) => {
      rec.user.suspended = false;
      delete rec.user.suspensionReason;
    }).user;
  }

  /** roleAssignments.delete: false when no assignment has that id. */
  deleteRoleAssignment(roleAssignmentId: string): boolean {
    const a = this.assignments.find((x) => x.roleAssignmentId === roleAssignmentId);
    if (!a) return false;
    this.assignments = this.assignments.filter((x) => x !== a);
    const left = (this.assignmentsByUser.get(a.assignedTo) ?? []).filter((x) => x !== a);
    if (left.length) this.assignmentsByUser.set(a.assignedTo, left);
    else this.assignmentsByUser.delete(a.assignedTo);
    return true;
  }

  /** roleAssignments.insert: a new assignment with a new id. */
  insertRoleAssignment(a: Omit<SimRoleAssignment, "roleAssignmentId">): SimRoleAssignment {
    return this.addAssignment(a);
  }

  archiveUser(userKey: string): SimUserData {
    return this.edit(userKey, (rec) => {
      rec.user.archived = true;
    }).user;
  }

  /** `null` sets Google's "never" value (1970-01-01T00:00:00.000Z). */
  setLastLogin(userKey: string, at: string | null): SimUserData {
    return this.updateUser(userKey, { lastLoginTime: at ?? NEVER_LOGGED_IN });
  }

  makeSuperAdmin(userKey: string): SimRoleAssignment {
    const rec = this.find(userKey);
    if (!rec) throw new Error(`simulator: no user ${userKey}`);
    this.audit.record("admin", "USER_SETTINGS", "GRANT_ADMIN_PRIVILEGE", [{ name: "USER_EMAIL", value: rec.user.primaryEmail }]);
    return this.addAssignment({ roleId: this.roleIdByKey.super, assignedTo: rec.user.id, assigneeType: "USER", scopeType: "CUSTOMER" });
  }

  assignRole(userKey: string, roleName: string, orgUnitPath?: string): SimRoleAssignment {
    const rec = this.find(userKey);
    if (!rec) throw new Error(`simulator: no user ${userKey}`);
    const role = this.roles.find((r) => r.roleName === roleName);
    if (!role) throw new Error(`simulator: no role ${roleName}`);
    const orgUnitId = orgUnitPath ? this.orgUnitIds.get(orgUnitPath) : undefined;
    if (orgUnitPath && !orgUnitId) throw new Error(`simulator: no org unit ${orgUnitPath}`);
    this.audit.record("admin", "DELEGATED_ADMIN_SETTINGS", "ASSIGN_ROLE", [
      { name: "ROLE_ID", value: role.roleId },
      { name: "ROLE_NAME", value: role.roleName },
      { name: "USER_EMAIL", value: rec.user.primaryEmail },
      ...(orgUnitPath ? [{ name: "ORG_UNIT_NAME", value: orgUnitPath }] : []),
    ]);
    return this.addAssignment({
      roleId: role.roleId,
      assignedTo: rec.user.id,
      assigneeType: "USER",
      scopeType: orgUnitId ? "ORG_UNIT" : "CUSTOMER",
      ...(orgUnitId ? { orgUnitId } : {}),
    });
  }

  /**
   * An admin role given to any id: a Google Cloud service account's uniqueId (the Directory API allows it), or
   * an id no listing returns (a deleted user). Google reports both as assigneeType USER.
   */
  assignRoleToId(assignedTo: string, roleName: string): SimRoleAssignment {
    const role = this.roles.find((r) => r.roleName === roleName);
    if (!role) throw new Error(`simulator: no role ${roleName}`);
    return this.addAssignment({ roleId: role.roleId, assignedTo, assigneeType: "USER", scopeType: "CUSTOMER" });
  }

  revokeRoles(userKey: string, roleName?: string): void {
    const rec = this.find(userKey);
    if (!rec) throw new Error(`simulator: no user ${userKey}`);
    const roleId = roleName === undefined ? undefined : this.roles.find((r) => r.roleName === roleName)?.roleId;
    for (const a of this.assignmentsByUser.get(rec.user.id) ?? []) {
      if (roleId !== undefined && a.roleId !== roleId) continue;
      const role = this.roles.find((r) => r.roleId === a.roleId);
      this.audit.record("admin", "DELEGATED_ADMIN_SETTINGS", "UNASSIGN_ROLE", [
        { name: "ROLE_ID", value: a.roleId },
        { name: "ROLE_NAME", value: role?.roleName ?? a.roleId },
        { name: "USER_EMAIL", value: rec.user.primaryEmail },
      ]);
    }
    this.dropAssignments(rec.user.id, roleId);
  }

  addOAuthToken(userKey: string, app: { displayText: string; scopes: string[]; nativeApp?: boolean; clientId?: string }): SimToken {
    const token: SimToken = {
      clientId: app.clientId ?? `${digits(seededRandom(hash(app.displayText)), 12)}-${hexId(seededRandom(hash(app.displayText) ^ 7), 32)}.apps.googleusercontent.com`,
      displayText: app.displayText,
      anonymous: false,
      nativeApp: app.nativeApp ?? false,
      scopes: app.scopes,
    };
    this.edit(userKey, (rec) => {
      rec.tokens = rec.tokens.filter((t) => t.clientId !== token.clientId).concat(token);
    });
    // The user grants it, not an admin: the token log names the user as actor.
    this.audit.record(
      "token",
      "auth",
      "authorize",
      [
        { name: "client_id", value: token.clientId },
        { name: "app_name", value: token.displayText },
        { name: "client_type", value: token.nativeApp ? "NATIVE_DESKTOP" : "WEB" },
        { name: "scope", multiValue: token.scopes },
      ],
      { actor: this.actorFor(userKey) },
    );
    return token;
  }

  removeOAuthToken(userKey: string, clientId: string): void {
    let app: string | undefined;
    this.edit(userKey, (rec) => {
      app = rec.tokens.find((t) => t.clientId === clientId)?.displayText;
      rec.tokens = rec.tokens.filter((t) => t.clientId !== clientId);
    });
    this.audit.record("token", "auth", "revoke", [{ name: "client_id", value: clientId }, ...(app ? [{ name: "app_name", value: app }] : [])], { actor: this.actorFor(userKey) });
  }

  addAppPassword(userKey: string, name: string, lastTimeUsed?: Date): SimAsp {
    const asp: SimAsp = {
      codeId: this.nextAsp++,
      name,
      creationTime: String(Date.now()),
      ...(lastTimeUsed ? { lastTimeUsed: String(lastTimeUsed.getTime()) } : {}),
    };
    this.edit(userKey, (rec) => {
      rec.asps.push(asp);
    });
    return asp;
  }

  /**
   * An admin revokes a user's application-specific password (Admin console, or Directory API asps.delete):
   * the admin log records REVOKE_ASP (type USER_SETTINGS) with ASP_ID and USER_EMAIL. Creating one is the
   * user's own doing and no Reports API application documents an event for it: addAppPassword records nothing.
   */
  revokeAppPassword(userKey: string, codeId: number): void {
    let email = "";
    this.edit(userKey, (rec) => {
      if (!rec.asps.some((a) => a.codeId === codeId)) throw new Error(`simulator: ${userKey} has no application-specific password ${codeId}`);
      rec.asps = rec.asps.filter((a) => a.codeId !== codeId);
      email = rec.user.primaryEmail;
    });
    this.audit.record("admin", "USER_SETTINGS", "REVOKE_ASP", [
      { name: "ASP_ID", value: String(codeId) },
      { name: "USER_EMAIL", value: email },
    ]);
  }

  /** What the admin has authorized for the reader service account under domain-wide delegation. */
  setDelegatedScopes(scopes: readonly string[], clientId = this.serviceAccount.clientId): void {
    this.delegation.set(clientId, new Set(scopes));
  }

  /** The JSON key file Google Cloud hands out for a service account. */
  keyFile(account: SimServiceAccount = this.serviceAccount): string {
    return JSON.stringify({
      type: "service_account",
      project_id: account.projectId,
      private_key_id: account.privateKeyId,
      private_key: account.privateKeyPem,
      client_email: account.email,
      client_id: account.clientId,
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: "https://oauth2.googleapis.com/token",
      auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(account.email)}`,
      universe_domain: "googleapis.com",
    });
  }

  serviceAccountByEmail(email: string): SimServiceAccount | undefined {
    return [this.serviceAccount, this.runnerAccount].find((a) => a.email === email);
  }
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function weighted<T extends { weight: number }>(rand: Random, items: readonly T[]): T {
  let x = rand();
  for (const item of items) {
    if (x < item.weight) return item;
    x -= item.weight;
  }
  return items[items.length - 1]!;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function appClientId(seed: number, app: number): string {
  const r = seededRandom(hash(`app${app}`) ^ seed);
  return `${digits(r, 12)}-${hexId(r, 32)}.apps.googleusercontent.com`;
}

function makeServiceAccount(name: string, projectId: string, rand: Random): SimServiceAccount {
  // Key generation is not seeded (node:crypto has no seeded RSA); everything else is.
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    email: `${name}@${projectId}.iam.gserviceaccount.com`,
    clientId: `1${digits(rand, 20)}`,
    privateKeyId: randomBytes(20).toString("hex"),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    projectId,
  };
}

function makeGcpServiceAccounts(project: string, rand: Random, now: Date): SimGcpServiceAccount[] {
  const names = ["deploy-bot", "ci-runner", "bigquery-export", "legacy-backup"];
  return names.map((n, i) => {
    const email = `${n}@${project}.iam.gserviceaccount.com`;
    const keys: SimGcpKey[] = [
      // Every service account has a Google-managed key; only user-managed ones are a leak risk.
      sysKey(project, email, rand, now),
    ];
    const userKeys = i === 0 ? 0 : i === 3 ? 2 : 1;
    for (let k = 0; k < userKeys; k++) {
      const after = daysAgo(now, 30 + rand() * 700);
      keys.push({
        name: `projects/${project}/serviceAccounts/${email}/keys/${hexId(rand, 40)}`,
        validAfterTime: after.replace(/\.\d{3}Z$/, "Z"),
        validBeforeTime: "9999-12-31T23:59:59Z",
        keyAlgorithm: "KEY_ALG_RSA_2048",
        keyOrigin: "GOOGLE_PROVIDED",
        keyType: "USER_MANAGED",
      });
    }
    const uniqueId = `1${digits(rand, 20)}`;
    return {
      name: `projects/${project}/serviceAccounts/${email}`,
      projectId: project,
      uniqueId,
      email,
      displayName: n.replace(/-/g, " "),
      oauth2ClientId: uniqueId,
      ...(n === "legacy-backup" ? { disabled: true } : {}),
      keys,
    };
  });
}

function sysKey(project: string, email: string, rand: Random, now: Date): SimGcpKey {
  const after = new Date(now.getTime() - Math.floor(rand() * 10) * 86_400_000);
  return {
    name: `projects/${project}/serviceAccounts/${email}/keys/${hexId(rand, 40)}`,
    validAfterTime: after.toISOString().replace(/\.\d{3}Z$/, "Z"),
    validBeforeTime: new Date(after.getTime() + 14 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    keyAlgorithm: "KEY_ALG_RSA_2048",
    keyOrigin: "GOOGLE_PROVIDED",
    keyType: "SYSTEM_MANAGED",
  };
}

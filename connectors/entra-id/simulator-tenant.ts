// The simulated directory: Graph-shaped objects for one tenant, a seeded generator and the mutation
// API tests and the demo use to change it between collects. Objects are stored exactly as Graph
// returns them; the wire layer only projects ($select) and pages them.
import { createHash, X509Certificate } from "node:crypto";
import { chance, daysAgo, personName, pick, seededRandom, type Random } from "../../src/simulator/random.js";
import { GLOBAL_ADMINISTRATOR, KNOWN_ROLES } from "./roles.js";
import { encoded, SimAuditLog, type SimModifiedProperty, type SimTargetResource } from "./simulator-audit.js";

export * from "./simulator-audit.js";

export interface SimSignInActivity {
  lastSignInDateTime: string | null;
  lastSignInRequestId: string | null;
  lastNonInteractiveSignInDateTime: string | null;
  lastNonInteractiveSignInRequestId: string | null;
  lastSuccessfulSignInDateTime: string | null;
  lastSuccessfulSignInRequestId: string | null;
}

export interface SimUser {
  id: string;
  userPrincipalName: string;
  mail: string | null;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  accountEnabled: boolean;
  userType: "Member" | "Guest";
  createdDateTime: string;
  creationType: string | null;
  externalUserState: string | null;
  onPremisesSyncEnabled: boolean | null;
  employeeLeaveDateTime: string | null;
  signInActivity: SimSignInActivity | null;
  /** Source of the userRegistrationDetails row (Entra leaves disabled users out of that report). */
  registration: { isMfaRegistered: boolean; isMfaCapable: boolean; methodsRegistered: string[] };
}

export interface SimPasswordCredential {
  customKeyIdentifier: null;
  displayName: string | null;
  endDateTime: string;
  hint: string;
  keyId: string;
  secretText: null;
  startDateTime: string;
}

export interface SimKeyCredential {
  customKeyIdentifier: string | null;
  displayName: string | null;
  endDateTime: string;
  key: null;
  keyId: string;
  startDateTime: string;
  type: "AsymmetricX509Cert" | "Symmetric";
  usage: "Verify" | "Sign";
}

export interface SimApplication {
  id: string;
  appId: string;
  displayName: string;
  createdDateTime: string;
  signInAudience: string;
  publisherDomain: string;
  passwordCredentials: SimPasswordCredential[];
  keyCredentials: SimKeyCredential[];
}

export interface SimServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  accountEnabled: boolean;
  servicePrincipalType: "Application" | "ManagedIdentity" | "Legacy" | "SocialIdp";
  appOwnerOrganizationId: string | null;
  appDisplayName: string;
  servicePrincipalNames: string[];
  tags: string[];
  passwordCredentials: SimPasswordCredential[];
  keyCredentials: SimKeyCredential[];
}

export interface SimGroup {
  id: string;
  displayName: string;
  isAssignableToRole: boolean;
  securityEnabled: boolean;
  mailEnabled: boolean;
  members: string[];
}

export interface SimRoleDefinition {
  id: string;
  description: string;
  displayName: string;
  isBuiltIn: boolean;
  isEnabled: boolean;
  resourceScopes: string[];
  templateId: string;
  version: string | null;
  rolePermissions: { allowedResourceActions: string[]; condition: string | null }[];
}

export interface SimRoleAssignment {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  directoryScopeId: string;
  resourceScope: string;
}

export interface SimRoleEligibility {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  directoryScopeId: string;
  appScopeId: null;
  createdUsing: string;
  createdDateTime: string;
  modifiedDateTime: string;
  status: "Provisioned";
  memberType: "Direct" | "Group";
  scheduleInfo: {
    startDateTime: string;
    recurrence: null;
    expiration: { type: "afterDateTime" | "noExpiration"; endDateTime: string | null; duration: null };
  };
}

/** An app registration allowed to get tokens from this tenant: what the token endpoint checks. */
export interface SimClient {
  clientId: string;
  secrets: string[];
  certificates: { sha1: string; sha256: string; publicKey: string }[];
  /** Application permissions granted with admin consent, e.g. "User.Read.All". */
  permissions: Set<string>;
}

/** A collection kept ordered by id, so paging cursors ("after this id") survive inserts and deletes. */
export class Collection<T extends { id: string }> {
  private readonly byId = new Map<string, T>();
  private sorted: string[] | undefined;

  constructor(items: Iterable<T> = []) {
    for (const item of items) this.byId.set(item.id, item);
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  set(item: T): T {
    if (!this.byId.has(item.id)) this.sorted = undefined;
    this.byId.set(item.id, item);
    return item;
  }

  delete(id: string): boolean {
    const had = this.byId.delete(id);
    if (had) this.sorted = undefined;
    return had;
  }

  values(): IterableIterator<T> {
    return this.byId.values();
  }

  /** Up to `limit` items with id greater than `after`, and whether more follow. */
  page(after: string | undefined, limit: number): { items: T[]; more: boolean } {
    this.sorted ??= [...this.byId.keys()].sort();
    const keys = this.sorted;
    let start = 0;
    if (after !== undefined) {
      let hi = keys.length;
      while (start < hi) {
        const mid = (start + hi) >>> 1;
        if (keys[mid]! <= after) start = mid + 1;
        else hi = mid;
      }
    }
    const slice = keys.slice(start, start + limit);
    return { items: slice.map((k) => this.byId.get(k)!), more: start + limit < keys.length };
  }
}

export function guid(rand: Random): string {
  const h = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16));
  h[12] = "4";
  h[16] = "89ab"[Math.floor(rand() * 4)]!;
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** A role definition as Graph lists it for a built-in role: id = templateId in every tenant. */
function builtInRole(templateId: string, name: string, actions: string[]): SimRoleDefinition {
  return {
    id: templateId,
    description: `Built-in role ${name}.`,
    displayName: name,
    isBuiltIn: true,
    isEnabled: true,
    resourceScopes: ["/"],
    templateId,
    version: "1",
    rolePermissions: [{ allowedResourceActions: actions, condition: null }],
  };
}

const READ_ACTIONS = ["microsoft.directory/users/standard/read", "microsoft.directory/groups/standard/read"];
const WRITE_ACTIONS = ["microsoft.directory/users/basic/update", "microsoft.directory/groups/members/update"];

/** Microsoft's first-party app tenant, as seen in appOwnerOrganizationId. */
export const MICROSOFT_APP_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

export const REQUIRED_PERMISSIONS = [
  "User.Read.All",
  "AuditLog.Read.All",
  "Application.Read.All",
  "RoleManagement.Read.Directory",
  "GroupMember.Read.All",
] as const;

export interface TenantSpec {
  seed: number;
  /** Member and guest users together. */
  users: number;
  guestRatio?: number;
  /** App registrations of this tenant (each with a service principal, except about one in ten). */
  applications?: number;
  managedIdentities?: number;
  thirdPartyApps?: number;
  domain?: string;
  displayName?: string;
  now?: Date;
  /** Entra ID P1/P2: signInActivity and the registration report. */
  licensed?: boolean;
  /** Entra ID P2: PIM eligibility. */
  pimLicensed?: boolean;
}

export class SimTenant {
  readonly id: string;
  readonly displayName: string;
  readonly domains: string[];
  readonly users = new Collection<SimUser>();
  readonly applications = new Collection<SimApplication>();
  readonly servicePrincipals = new Collection<SimServicePrincipal>();
  readonly groups = new Collection<SimGroup>();
  readonly roleDefinitions = new Collection<SimRoleDefinition>();
  readonly roleAssignments = new Collection<SimRoleAssignment>();
  readonly roleEligibilities = new Collection<SimRoleEligibility>();
  readonly clients = new Map<string, SimClient>();
  licensed: boolean;
  pimLicensed: boolean;
  readonly now: Date;
  /** The directory audit and sign-in logs; mutations below are recorded once `audit.recording` is on. */
  readonly audit: SimAuditLog;
  private readonly rand: Random;

  constructor(init: { id: string; displayName: string; domains: string[]; rand: Random; now: Date; licensed: boolean; pimLicensed: boolean }) {
    this.audit = new SimAuditLog(Number.parseInt(init.id.replace(/-/g, "").slice(0, 8), 16) || 1, {
      kind: "app",
      appId: "14d82eec-204b-4c2f-b7e8-296a70dab67e",
      displayName: "Microsoft Graph Command Line Tools",
      servicePrincipalId: null,
    });
    this.id = init.id;
    this.displayName = init.displayName;
    this.domains = init.domains;
    this.rand = init.rand;
    this.now = init.now;
    this.licensed = init.licensed;
    this.pimLicensed = init.pimLicensed;
  }

  get primaryDomain(): string {
    return this.domains[0]!;
  }

  newId(): string {
    return guid(this.rand);
  }

  // ---- mutation API ----

  addUser(u: Partial<SimUser> & { userPrincipalName: string }): SimUser {
    const user: SimUser = {
      id: u.id ?? this.newId(),
      mail: u.userPrincipalName,
      displayName: u.userPrincipalName.split("@")[0]!,
      givenName: null,
      surname: null,
      accountEnabled: true,
      userType: "Member",
      createdDateTime: new Date().toISOString(),
      creationType: null,
      externalUserState: null,
      onPremisesSyncEnabled: null,
      employeeLeaveDateTime: null,
      signInActivity: null,
      registration: { isMfaRegistered: false, isMfaCapable: false, methodsRegistered: [] },
      ...u,
    };
    this.users.set(user);
    this.audit.directory({
      activity: user.userType === "Guest" ? "Invite external user" : "Add user",
      category: "UserManagement",
      operationType: "Add",
      targets: [
        this.target(user.id, [
          prop("AccountEnabled", null, [user.accountEnabled]),
          prop("DisplayName", null, [user.displayName]),
          prop("UserPrincipalName", null, [user.userPrincipalName]),
          prop("UserType", null, [user.userType]),
        ]),
      ],
    });
    return user;
  }

  /** Deletes a user the way Entra does: its role assignments and group memberships go with it. */
  removeUser(idOrUpn: string): SimUser {
    const user = this.user(idOrUpn);
    this.audit.directory({ activity: "Delete user", category: "UserManagement", operationType: "Delete", targets: [this.target(user.id)] });
    this.users.delete(user.id);
    for (const a of [...this.roleAssignments.values()]) if (a.principalId === user.id) this.roleAssignments.delete(a.id);
    for (const e of [...this.roleEligibilities.values()]) if (e.principalId === user.id) this.roleEligibilities.delete(e.id);
    for (const g of this.groups.values()) g.members = g.members.filter((m) => m !== user.id);
    return user;
  }

  user(idOrUpnOrMail: string): SimUser {
    const key = idOrUpnOrMail.toLowerCase();
    const direct = this.users.get(key);
    if (direct) return direct;
    for (const u of this.users.values()) {
      if (u.userPrincipalName.toLowerCase() === key || u.mail?.toLowerCase() === key) return u;
    }
    throw new Error(`simulated tenant has no user ${idOrUpnOrMail}`);
  }

  setAccountEnabled(idOrUpn: string, enabled: boolean): SimUser {
    const user = this.user(idOrUpn);
    const before = user.accountEnabled;
    user.accountEnabled = enabled;
    this.audit.directory({
      activity: enabled ? "Enable account" : "Disable account",
      category: "UserManagement",
      operationType: "Update",
      targets: [this.target(user.id, [prop("AccountEnabled", [before], [enabled])])],
    });
    return user;
  }

  recordSignIn(idOrUpn: string, at: Date, interactive = true): void {
    const user = this.user(idOrUpn);
    const iso = at.toISOString();
    const sa: SimSignInActivity = user.signInActivity ?? {
      lastSignInDateTime: null,
      lastSignInRequestId: null,
      lastNonInteractiveSignInDateTime: null,
      lastNonInteractiveSignInRequestId: null,
      lastSuccessfulSignInDateTime: null,
      lastSuccessfulSignInRequestId: null,
    };
    if (interactive) {
      sa.lastSignInDateTime = iso;
      sa.lastSignInRequestId = this.newId();
    } else {
      sa.lastNonInteractiveSignInDateTime = iso;
      sa.lastNonInteractiveSignInRequestId = this.newId();
    }
    sa.lastSuccessfulSignInDateTime = iso;
    sa.lastSuccessfulSignInRequestId = this.newId();
    user.signInActivity = sa;
    if (this.audit.recording && interactive) this.audit.signIn(user, { at });
  }

  /** A failed interactive sign-in: logged, and the attempt shows in lastSignInDateTime (not the successful one). */
  recordFailedSignIn(idOrUpn: string, at: Date, opts: { errorCode?: number; ipAddress?: string } = {}): void {
    const user = this.user(idOrUpn);
    if (user.signInActivity) {
      user.signInActivity.lastSignInDateTime = at.toISOString();
      user.signInActivity.lastSignInRequestId = this.audit.newId();
    }
    this.audit.signIn(user, { at, errorCode: opts.errorCode ?? 50126, ipAddress: opts.ipAddress });
  }

  /** Changes user properties the way PATCH /users/{id} does, logged as "Update user" with the modified properties. */
  updateUser(idOrUpn: string, patch: Partial<Pick<SimUser, "displayName" | "mail" | "userPrincipalName" | "givenName" | "surname">>): SimUser {
    const user = this.user(idOrUpn);
    const changed: SimModifiedProperty[] = [];
    for (const [k, v] of Object.entries(patch) as [keyof typeof patch, string | null][]) {
      changed.push(prop(k.charAt(0).toUpperCase() + k.slice(1), [user[k]], [v]));
      (user as unknown as Record<string, unknown>)[k] = v;
    }
    this.audit.directory({ activity: "Update user", category: "UserManagement", operationType: "Update", targets: [this.target(user.id, changed)] });
    return user;
  }

  /** A target resource as Graph logs it: the object's id and type (and UPN for users), its modified properties. */
  target(id: string, modifiedProperties: SimModifiedProperty[] = []): SimTargetResource {
    const base = { id, displayName: null, userPrincipalName: null, groupType: null, modifiedProperties };
    const u = this.users.get(id);
    if (u) return { ...base, type: "User", userPrincipalName: u.userPrincipalName };
    const sp = this.servicePrincipals.get(id);
    if (sp) return { ...base, type: "ServicePrincipal", displayName: sp.displayName };
    const g = this.groups.get(id);
    if (g) return { ...base, type: "Group", displayName: g.displayName, groupType: "unknownFutureValue" };
    for (const a of this.applications.values()) if (a.id === id) return { ...base, type: "Application", displayName: a.displayName };
    return { ...base, type: "Other" };
  }

  private roleTargets(principalId: string, def: SimRoleDefinition, adding: boolean): SimTargetResource[] {
    const v = (x: string) => (adding ? [null, x] : [x, null]) as [string | null, string | null];
    const p = (name: string, x: string) => {
      const [o, n] = v(x);
      return { displayName: name, oldValue: o === null ? null : encoded(o), newValue: n === null ? null : encoded(n) };
    };
    return [
      this.target(principalId, [p("Role.ObjectID", def.id), p("Role.DisplayName", def.displayName), p("Role.TemplateId", def.templateId), p("Role.WellKnownObjectName", def.displayName.replace(/\s+/g, ""))]),
      { id: def.id, displayName: null, type: "Role", userPrincipalName: null, groupType: null, modifiedProperties: [] },
    ];
  }

  private credentialsChanged(app: SimApplication, before: string[]): void {
    const after = keyDescriptions(app);
    this.audit.directory({
      activity: "Update application – Certificates and secrets management ",
      category: "ApplicationManagement",
      operationType: "Update",
      targets: [this.target(app.id, [{ displayName: "KeyDescription", oldValue: encoded(before), newValue: encoded(after) }, prop("Included Updated Properties", null, "KeyDescription")])],
    });
  }

  roleDefinition(templateIdOrName: string): SimRoleDefinition {
    for (const d of this.roleDefinitions.values()) {
      if (d.id === templateIdOrName || d.templateId === templateIdOrName || d.displayName === templateIdOrName) return d;
    }
    throw new Error(`simulated tenant has no role ${templateIdOrName}`);
  }

  assignRole(principalId: string, role: string, directoryScopeId = "/"): SimRoleAssignment {
    const def = this.roleDefinition(role);
    // Real ids are opaque base64 strings ending in "-1"; only their uniqueness matters.
    const id = `${createHash("sha256").update(`${def.id}:${principalId}:${directoryScopeId}`).digest("base64url").slice(0, 43)}-1`;
    this.audit.directory({ activity: "Add member to role", category: "RoleManagement", operationType: "Assign", targets: this.roleTargets(principalId, def, true) });
    return this.roleAssignments.set({ id, principalId, roleDefinitionId: def.id, directoryScopeId, resourceScope: directoryScopeId });
  }

  unassignRole(principalId: string, role: string): void {
    const def = this.roleDefinition(role);
    for (const a of [...this.roleAssignments.values()]) {
      if (a.principalId === principalId && a.roleDefinitionId === def.id) this.roleAssignments.delete(a.id);
    }
    this.audit.directory({ activity: "Remove member from role", category: "RoleManagement", operationType: "Unassign", targets: this.roleTargets(principalId, def, false) });
  }

  addEligibility(principalId: string, role: string, endDateTime: string | null, memberType: "Direct" | "Group" = "Direct"): SimRoleEligibility {
    const def = this.roleDefinition(role);
    const id = this.newId();
    this.audit.directory({
      activity: `Add eligible member to role in PIM completed (${endDateTime ? "timebound" : "permanent"})`,
      category: "RoleManagement",
      operationType: "CreateRequestEligibleRole",
      service: "PIM",
      targets: this.roleTargets(principalId, def, true),
    });
    return this.roleEligibilities.set({
      id,
      principalId,
      roleDefinitionId: def.id,
      directoryScopeId: "/",
      appScopeId: null,
      createdUsing: id,
      createdDateTime: daysAgo(this.now, 30),
      modifiedDateTime: "0001-01-01T08:00:00Z",
      status: "Provisioned",
      memberType,
      scheduleInfo: {
        startDateTime: daysAgo(this.now, 30),
        recurrence: null,
        expiration: endDateTime ? { type: "afterDateTime", endDateTime, duration: null } : { type: "noExpiration", endDateTime: null, duration: null },
      },
    });
  }

  addGroup(displayName: string, members: string[], isAssignableToRole = true): SimGroup {
    return this.groups.set({ id: this.newId(), displayName, isAssignableToRole, securityEnabled: true, mailEnabled: false, members: [...members] });
  }

  addApplication(displayName: string, opts: { withServicePrincipal?: boolean; createdDateTime?: string } = {}): { app: SimApplication; sp?: SimServicePrincipal } {
    const appId = this.newId();
    const app = this.applications.set({
      id: this.newId(),
      appId,
      displayName,
      createdDateTime: opts.createdDateTime ?? new Date().toISOString(),
      signInAudience: "AzureADMyOrg",
      publisherDomain: this.primaryDomain,
      passwordCredentials: [],
      keyCredentials: [],
    });
    this.audit.directory({
      activity: "Add application",
      category: "ApplicationManagement",
      operationType: "Add",
      targets: [this.target(app.id, [prop("AppId", null, [appId]), prop("DisplayName", null, [displayName])])],
    });
    if (opts.withServicePrincipal === false) return { app };
    const sp = this.addServicePrincipal({ appId, displayName, appOwnerOrganizationId: this.id });
    return { app, sp };
  }

  addServicePrincipal(p: Partial<SimServicePrincipal> & { appId: string; displayName: string }): SimServicePrincipal {
    const sp = this.servicePrincipals.set({
      id: this.newId(),
      accountEnabled: true,
      servicePrincipalType: "Application",
      appOwnerOrganizationId: null,
      appDisplayName: p.displayName,
      servicePrincipalNames: [p.appId],
      tags: [],
      passwordCredentials: [],
      keyCredentials: [],
      ...p,
    });
    this.audit.directory({
      activity: "Add service principal",
      category: "ApplicationManagement",
      operationType: "Add",
      targets: [this.target(sp.id, [prop("AppPrincipalId", null, [sp.appId]), prop("DisplayName", null, [sp.displayName])])],
    });
    return sp;
  }

  application(idOrAppIdOrName: string): SimApplication {
    for (const a of this.applications.values()) {
      if (a.id === idOrAppIdOrName || a.appId === idOrAppIdOrName || a.displayName === idOrAppIdOrName) return a;
    }
    throw new Error(`simulated tenant has no application ${idOrAppIdOrName}`);
  }

  servicePrincipalByAppId(appId: string): SimServicePrincipal | undefined {
    for (const sp of this.servicePrincipals.values()) if (sp.appId === appId) return sp;
    return undefined;
  }

  /** Adds a client secret's metadata to an app registration (Graph's addPassword; the value is not stored). */
  addApplicationSecret(app: string, displayName: string, startDateTime: string, endDateTime: string): SimPasswordCredential {
    const cred: SimPasswordCredential = {
      customKeyIdentifier: null,
      displayName,
      endDateTime,
      hint: "Zq~",
      keyId: this.newId(),
      secretText: null,
      startDateTime,
    };
    const a = this.application(app);
    const before = keyDescriptions(a);
    a.passwordCredentials.push(cred);
    this.credentialsChanged(a, before);
    return cred;
  }

  addApplicationCertificate(app: string, displayName: string, startDateTime: string, endDateTime: string): SimKeyCredential {
    const cred: SimKeyCredential = {
      customKeyIdentifier: createHash("sha1").update(this.newId()).digest("hex").toUpperCase(),
      displayName,
      endDateTime,
      key: null,
      keyId: this.newId(),
      startDateTime,
      type: "AsymmetricX509Cert",
      usage: "Verify",
    };
    const a = this.application(app);
    const before = keyDescriptions(a);
    a.keyCredentials.push(cred);
    this.credentialsChanged(a, before);
    return cred;
  }

  removeApplicationCredential(app: string, keyId: string): void {
    const a = this.application(app);
    const before = keyDescriptions(a);
    a.passwordCredentials = a.passwordCredentials.filter((c) => c.keyId !== keyId);
    a.keyCredentials = a.keyCredentials.filter((c) => c.keyId !== keyId);
    this.credentialsChanged(a, before);
  }

  /** Registers the app whohas signs in as, with its admin-consented application permissions. */
  registerClient(clientId: string, permissions: Iterable<string> = REQUIRED_PERMISSIONS): SimClient {
    const client: SimClient = { clientId, secrets: [], certificates: [], permissions: new Set(permissions) };
    this.clients.set(clientId, client);
    return client;
  }

  addClientSecret(clientId: string, secret: string): void {
    this.clientOrThrow(clientId).secrets.push(secret);
  }

  addClientCertificate(clientId: string, certPem: string): { sha1: string; sha256: string } {
    const cert = new X509Certificate(certPem);
    const entry = {
      sha1: cert.fingerprint.replace(/:/g, "").toLowerCase(),
      sha256: cert.fingerprint256.replace(/:/g, "").toLowerCase(),
      publicKey: cert.publicKey.export({ type: "spki", format: "pem" }).toString(),
    };
    this.clientOrThrow(clientId).certificates.push(entry);
    return { sha1: entry.sha1, sha256: entry.sha256 };
  }

  setClientPermissions(clientId: string, permissions: Iterable<string>): void {
    this.clientOrThrow(clientId).permissions = new Set(permissions);
  }

  private clientOrThrow(clientId: string): SimClient {
    const c = this.clients.get(clientId);
    if (!c) throw new Error(`simulated tenant has no client ${clientId}`);
    return c;
  }
}

const METHOD_SETS: string[][] = [
  ["microsoftAuthenticatorPush", "softwareOneTimePasscode"],
  ["microsoftAuthenticatorPush"],
  ["mobilePhone"],
  ["fido2", "windowsHelloForBusiness"],
  ["microsoftAuthenticatorPasswordless", "microsoftAuthenticatorPush"],
];

function signInFor(rand: Random, now: Date, newId: () => string): SimSignInActivity | null {
  const r = rand();
  if (r < 0.08) return null; // never signed in since Entra started recording
  const interactiveDaysAgo = r < 0.7 ? rand() * 20 : r < 0.88 ? 60 + rand() * 300 : 400 + rand() * 400;
  const interactive = daysAgo(now, interactiveDaysAgo);
  const nonInteractive = chance(rand, 0.8) ? daysAgo(now, Math.max(0, interactiveDaysAgo - rand() * 5)) : null;
  // Some recent attempts failed: the successful sign-in is older than the latest attempt.
  const failedLately = chance(rand, 0.05);
  const latest = nonInteractive && nonInteractive > interactive ? nonInteractive : interactive;
  const successful = failedLately ? daysAgo(now, interactiveDaysAgo + 30 + rand() * 60) : latest;
  return {
    lastSignInDateTime: interactive,
    lastSignInRequestId: newId(),
    lastNonInteractiveSignInDateTime: nonInteractive,
    lastNonInteractiveSignInRequestId: nonInteractive ? newId() : null,
    lastSuccessfulSignInDateTime: successful,
    lastSuccessfulSignInRequestId: newId(),
  };
}

const BUILT_IN_ACTIONS: Record<string, string[]> = {
  "Global Reader": ["microsoft.directory/users/standard/read", "microsoft.directory/roleAssignments/standard/read"],
  "Security Reader": ["microsoft.directory/auditLogs/allProperties/read"],
  "Directory Readers": READ_ACTIONS,
  "Reports Reader": ["microsoft.directory/signInReports/allProperties/read"],
};

/**
 * A deterministic tenant: the same spec gives the same ids, names and dates. Admin, MFA, guest and
 * credential situations are placed on purpose so every mapping rule has something to bite on.
 */
export function generateTenant(spec: TenantSpec): SimTenant {
  const rand = seededRandom(spec.seed);
  const now = spec.now ?? new Date();
  const domain = spec.domain ?? "example.com";
  const tenant = new SimTenant({
    id: guid(rand),
    displayName: spec.displayName ?? "Example Corp",
    domains: [domain, `examplecorp${spec.seed}.onmicrosoft.com`],
    rand,
    now,
    licensed: spec.licensed ?? true,
    pimLicensed: spec.pimLicensed ?? spec.licensed ?? true,
  });
  const newId = () => guid(rand);

  for (const [templateId, known] of Object.entries(KNOWN_ROLES)) {
    const actions = BUILT_IN_ACTIONS[known.name] ?? (known.level === "read" ? READ_ACTIONS : WRITE_ACTIONS);
    tenant.roleDefinitions.set(builtInRole(templateId, known.name, actions));
  }
  tenant.roleDefinitions.set(builtInRole("b0f54661-2d74-4c50-afa3-1ec803f12efe", "Billing Administrator", ["microsoft.commerce.billing/allEntities/allProperties/allTasks"]));
  const customWrite = newId();
  tenant.roleDefinitions.set({
    ...builtInRole(customWrite, "App Credential Rotators", ["microsoft.directory/applications/credentials/update", "microsoft.directory/applications/basic/read"]),
    isBuiltIn: false,
    templateId: customWrite,
    description: "Custom: rotates app secrets.",
  });
  const customRead = newId();
  tenant.roleDefinitions.set({
    ...builtInRole(customRead, "Sign-in Log Readers", ["microsoft.directory/signInReports/allProperties/read", "microsoft.directory/auditLogs/allProperties/read"]),
    isBuiltIn: false,
    templateId: customRead,
    description: "Custom: reads sign-in logs.",
  });

  const guestRatio = spec.guestRatio ?? 0.1;
  const members: SimUser[] = [];
  for (let n = 1; n <= spec.users; n++) {
    const person = personName(rand, n);
    const isGuest = n > 10 && chance(rand, guestRatio);
    const created = daysAgo(now, 30 + rand() * 1500);
    const registered = chance(rand, 0.8);
    const base = {
      id: newId(),
      displayName: `${cap(person.first)} ${cap(person.last)}`,
      givenName: cap(person.first),
      surname: cap(person.last),
      createdDateTime: created,
      signInActivity: signInFor(rand, now, newId),
      registration: registered
        ? { isMfaRegistered: true, isMfaCapable: true, methodsRegistered: pick(rand, METHOD_SETS) }
        : { isMfaRegistered: false, isMfaCapable: false, methodsRegistered: chance(rand, 0.5) ? ["email"] : [] },
    };
    if (isGuest) {
      const pending = chance(rand, 0.2);
      tenant.addUser({
        ...base,
        userPrincipalName: `${person.login}_partner.example#EXT#@${tenant.domains[1]}`,
        mail: `${person.login}@partner.example`,
        userType: "Guest",
        creationType: "Invitation",
        externalUserState: pending ? "PendingAcceptance" : "Accepted",
        signInActivity: pending ? null : base.signInActivity,
      });
    } else {
      members.push(
        tenant.addUser({
          ...base,
          userPrincipalName: `${person.login}@${domain}`,
          mail: `${person.login}@${domain}`,
          accountEnabled: n <= 10 || !chance(rand, 0.05),
          onPremisesSyncEnabled: chance(rand, 0.3) ? true : null,
        }),
      );
    }
  }

  // Admins on purpose: one Global Administrator without MFA, one with; others spread over the table.
  const pickMember = (i: number) => members[i % Math.max(1, members.length)]!;
  if (members.length > 0) {
    const gaWithMfa = pickMember(0);
    gaWithMfa.registration = { isMfaRegistered: true, isMfaCapable: true, methodsRegistered: ["fido2", "microsoftAuthenticatorPush"] };
    tenant.assignRole(gaWithMfa.id, GLOBAL_ADMINISTRATOR);
    const gaWithoutMfa = pickMember(1);
    gaWithoutMfa.registration = { isMfaRegistered: false, isMfaCapable: false, methodsRegistered: [] };
    tenant.assignRole(gaWithoutMfa.id, GLOBAL_ADMINISTRATOR);
    tenant.assignRole(pickMember(2).id, "Privileged Role Administrator");
    tenant.assignRole(pickMember(3).id, "User Administrator");
    tenant.assignRole(pickMember(4).id, "Global Reader");
    tenant.assignRole(pickMember(5).id, "App Credential Rotators");
    tenant.assignRole(pickMember(6).id, "Sign-in Log Readers");
    tenant.assignRole(pickMember(7).id, "Helpdesk Administrator", "/administrativeUnits/" + newId());
    const tier0 = tenant.addGroup("Tier0 Authentication Admins", [pickMember(8).id, pickMember(9).id]);
    tenant.assignRole(tier0.id, "Privileged Authentication Administrator");
    tenant.addEligibility(pickMember(3).id, GLOBAL_ADMINISTRATOR, new Date(now.getTime() + 180 * 86_400_000).toISOString());
    tenant.addEligibility(pickMember(4).id, "Security Administrator", null);
  }

  // App registrations with secrets and certificates near, past and far from expiry.
  const apps = spec.applications ?? Math.max(3, Math.round(spec.users / 10));
  for (let i = 1; i <= apps; i++) {
    const created = daysAgo(now, 100 + rand() * 900);
    const { app, sp } = tenant.addApplication(`${pick(rand, ["Payroll", "CRM", "Backup", "Build", "Wiki", "Billing"])} Sync ${i}`, {
      withServicePrincipal: i % 10 !== 0,
      createdDateTime: created,
    });
    const r = rand();
    const end = r < 0.2 ? daysAgo(now, 5 + rand() * 100) : r < 0.4 ? daysAgo(now, -(1 + rand() * 20)) : daysAgo(now, -(200 + rand() * 500));
    tenant.addApplicationSecret(app.id, "automation secret", daysAgo(now, 30 + rand() * 300), end);
    if (chance(rand, 0.3)) tenant.addApplicationCertificate(app.id, `CN=${app.displayName}`, daysAgo(now, 60), daysAgo(now, -(300 + rand() * 300)));
    if (sp && i === 1) tenant.assignRole(sp.id, "Application Administrator");
  }
  for (let i = 1; i <= (spec.managedIdentities ?? 2); i++) {
    const appId = newId();
    tenant.addServicePrincipal({
      appId,
      displayName: `vm-batch-${i}`,
      servicePrincipalType: "ManagedIdentity",
      appOwnerOrganizationId: MICROSOFT_APP_TENANT,
      keyCredentials: [
        {
          customKeyIdentifier: createHash("sha1").update(appId).digest("hex").toUpperCase(),
          displayName: `CN=${appId}`,
          endDateTime: daysAgo(now, -80),
          key: null,
          keyId: newId(),
          startDateTime: daysAgo(now, 10),
          type: "AsymmetricX509Cert",
          usage: "Verify",
        },
      ],
    });
  }
  // Microsoft first-party apps every tenant has, and third-party SaaS apps consented by users.
  tenant.addServicePrincipal({ appId: "00000003-0000-0000-c000-000000000000", displayName: "Microsoft Graph", appOwnerOrganizationId: MICROSOFT_APP_TENANT });
  tenant.addServicePrincipal({ appId: "00000002-0000-0ff1-ce00-000000000000", displayName: "Office 365 Exchange Online", appOwnerOrganizationId: MICROSOFT_APP_TENANT });
  for (let i = 1; i <= (spec.thirdPartyApps ?? 3); i++) {
    tenant.addServicePrincipal({ appId: newId(), displayName: `${pick(rand, ["ChatOps", "Signer", "Survey", "Notes"])} SaaS ${i}`, appOwnerOrganizationId: newId() });
  }
  seedAuditLogs(tenant, members, now);
  return tenant;
}

/** Admin address the simulated changes come from, and the address of the failed sign-in burst (documentation ranges). */
export const ADMIN_IP = "203.0.113.7";
export const ATTACKER_IP = "198.51.100.23";

/**
 * Changes after generation are made as the first Global Administrator, from ADMIN_IP. The sign-in log gets
 * each recent successful interactive sign-in the generator gave a member, a burst of failed sign-ins against
 * the Global Administrator without MFA, and one risky success. Uses the log's own random source only.
 */
function seedAuditLogs(tenant: SimTenant, members: SimUser[], now: Date): void {
  const admin = members[0];
  if (admin) tenant.audit.actor = { kind: "user", id: admin.id, userPrincipalName: admin.userPrincipalName, displayName: admin.displayName, ipAddress: ADMIN_IP };
  const horizon = now.getTime() - 30 * 86_400_000;
  for (const u of members.slice(0, 50)) {
    const last = u.signInActivity?.lastSuccessfulSignInDateTime;
    if (last && Date.parse(last) >= horizon && Date.parse(last) <= now.getTime()) tenant.audit.signIn(u, { at: new Date(last) });
  }
  const target = members[1];
  if (target) {
    for (let i = 0; i < 6; i++) tenant.audit.signIn(target, { at: new Date(now.getTime() - (3 * 3600 - i * 40) * 1000), errorCode: i === 5 ? 50053 : 50126, ipAddress: ATTACKER_IP });
  }
  const risky = members[2];
  if (risky) tenant.audit.signIn(risky, { at: new Date(now.getTime() - 5 * 3600 * 1000), ipAddress: ATTACKER_IP, risk: "high" });
  tenant.audit.recording = true;
}

/** A modified property with Graph's JSON-encoded old and new values. */
function prop(displayName: string, oldValue: unknown, newValue: unknown): SimModifiedProperty {
  return { displayName, oldValue: oldValue === null ? null : encoded(oldValue), newValue: newValue === null ? null : encoded(newValue) };
}

/** An application's keys as Entra's audit log describes them in KeyDescription. */
function keyDescriptions(app: SimApplication): string[] {
  return [
    ...app.passwordCredentials.map((c) => `[KeyIdentifier=${c.keyId},KeyType=Password,KeyUsage=Verify,DisplayName=${c.displayName ?? ""}]`),
    ...app.keyCredentials.map((c) => `[KeyIdentifier=${c.keyId},KeyType=${c.type},KeyUsage=${c.usage},DisplayName=${c.displayName ?? ""}]`),
  ];
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

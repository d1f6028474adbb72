// The simulated GitHub world: users, orgs and everything the connector reads, generated from a seed
// so the same spec always gives the same tenant, plus the mutations tests and the demo apply.
import { chance, daysAgo, hexId, personName, pick, seededRandom, type Random } from "../../src/simulator/random.js";

export type TwoFactor = "secure" | "insecure" | "off";

export interface SimUser {
  id: number;
  node_id: string;
  login: string;
  name: string | null;
  /** Public profile email (what the members API shows), null when private. */
  email: string | null;
  type: "User" | "Bot";
  site_admin: boolean;
  created_at: string;
  suspended_at: string | null;
  twoFactor: TwoFactor;
}

export interface SimInvitation {
  id: number;
  node_id: string;
  login: string | null;
  email: string | null;
  role: "admin" | "direct_member" | "billing_manager" | "reinstate";
  created_at: string;
  inviterId: number;
  team_count: number;
  invitation_source: "member" | "scim";
  failed_at: string | null;
  failed_reason: string | null;
  /** Team memberships that start when the invitation is accepted (PUT team membership of a non-member). */
  pendingTeams?: Map<string, "member" | "maintainer">;
}

export interface SimTeam {
  id: number;
  node_id: string;
  slug: string;
  name: string;
  privacy: "closed" | "secret";
  parentId: number | null;
  members: Map<number, "member" | "maintainer">;
  /** repo id → role name */
  repos: Map<number, string>;
}

export interface SimDeployKey {
  id: number;
  key: string;
  title: string;
  verified: boolean;
  created_at: string;
  read_only: boolean;
  added_by: string | null;
  last_used: string | null;
  enabled: boolean;
}

export interface SimRepo {
  id: number;
  node_id: string;
  name: string;
  private: boolean;
  visibility: "public" | "private" | "internal";
  archived: boolean;
  fork: boolean;
  created_at: string;
  /** outside collaborator user id → role name */
  collaborators: Map<number, string>;
  keys: SimDeployKey[];
}

export interface SimInstallation {
  id: number;
  app_id: number;
  app_slug: string;
  client_id: string;
  repository_selection: "all" | "selected";
  permissions: Record<string, string>;
  events: string[];
  created_at: string;
  updated_at: string;
  suspended_at: string | null;
  suspendedById: number | null;
}

export interface SimTokenPermissions {
  organization?: Record<string, string>;
  repository?: Record<string, string>;
  other?: Record<string, string>;
}

export interface SimPatGrant {
  id: number;
  ownerId: number;
  token_id: number;
  token_name: string;
  repository_selection: "none" | "all" | "subset";
  permissions: SimTokenPermissions;
  access_granted_at: string;
  token_expires_at: string | null;
  token_last_used_at: string | null;
}

export interface SimPatRequest extends Omit<SimPatGrant, "access_granted_at"> {
  reason: string | null;
  created_at: string;
}

export interface SimCredentialAuthorization {
  credential_id: number;
  userId: number;
  credential_type: "personal access token" | "SSH key" | "OAuth app token" | "GitHub app token";
  token_last_eight: string | null;
  credential_authorized_at: string;
  scopes: string[];
  fingerprint: string | null;
  credential_accessed_at: string | null;
  authorized_credential_id: number;
  authorized_credential_title: string | null;
  authorized_credential_note: string | null;
  authorized_credential_expires_at: string | null;
}

export interface SimAuditEvent {
  "@timestamp": number;
  action: string;
  actorId: number;
  /** Set when the actor is no user of the tenant: a GitHub App's bot ("slug[bot]") acting with an installation token. */
  actorLogin?: string;
  _document_id: string;
  /** The entry's other fields as GitHub sends them (user, user_id, team, repo, permission, actor_ip, user_agent, …). */
  fields?: Record<string, unknown>;
}

export interface SimOrg {
  id: number;
  node_id: string;
  login: string;
  name: string;
  created_at: string;
  plan: "free" | "team" | "enterprise";
  two_factor_requirement_enabled: boolean;
  default_repository_permission: "read" | "write" | "admin" | "none";
  saml: boolean;
  /** user id → org role, in join order (the order the API lists them) */
  members: Map<number, "admin" | "member">;
  outside: Set<number>;
  invitations: SimInvitation[];
  failedInvitations: SimInvitation[];
  teams: SimTeam[];
  repos: SimRepo[];
  installations: SimInstallation[];
  patGrants: SimPatGrant[];
  patRequests: SimPatRequest[];
  credentialAuthorizations: SimCredentialAuthorization[];
  /** newest first */
  auditLog: SimAuditEvent[];
}

export interface SimTenant {
  now: Date;
  users: Map<number, SimUser>;
  usersByLogin: Map<string, SimUser>;
  orgs: Map<string, SimOrg>;
  /** Bumped by every mutation: the simulator caches derived listings per version. */
  version: number;
  nextId(): number;
  /** When mutations happen, for their audit-log entries (epoch ms; default the real clock). */
  clock?: () => number;
}

/** Who makes a change, for its audit-log entry. */
export interface SimAuditActor {
  login: string;
  ip?: string;
  userAgent?: string;
  /**
   * A GitHub App acting through an installation token: GitHub records its bot account ("slug[bot]", with the
   * bot's own user id) as the actor, and how it authenticated in `programmatic_access_type`.
   */
  bot?: { id: number };
}

export const BROWSER_USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/**
 * Appends an entry to the org's audit log (kept newest first), as GitHub records a change: who, from where,
 * and the fields the action carries.
 */
export function recordAudit(tenant: SimTenant, org: SimOrg, action: string, actor: SimAuditActor, fields: Record<string, unknown> = {}): SimAuditEvent {
  const entry: SimAuditEvent = {
    "@timestamp": tenant.clock ? tenant.clock() : Date.now(),
    action,
    ...(actor.bot ? { actorId: actor.bot.id, actorLogin: actor.login } : { actorId: findUser(tenant, actor.login).id }),
    _document_id: Buffer.from(`${org.id}:${tenant.nextId()}:${action}`).toString("base64url").slice(0, 22).padEnd(22, "A"),
    fields: {
      actor_ip: actor.ip ?? "203.0.113.21",
      user_agent: actor.userAgent ?? BROWSER_USER_AGENT,
      operation_type: operationOf(action),
      ...(actor.bot ? { actor_is_bot: true, programmatic_access_type: "GitHub App server-to-server token" } : {}),
      ...fields,
    },
  };
  org.auditLog.unshift(entry);
  return entry;
}

function operationOf(action: string): string {
  const verb = action.split(".").pop() ?? "";
  if (/^(add|create|grant|access_granted|invite)/.test(verb)) return "create";
  if (/^(remove|delete|destroy|revoke|access_revoked)/.test(verb)) return "remove";
  return "modify";
}

export interface NamedPerson {
  login: string;
  name?: string;
  email?: string;
  role?: "admin" | "member";
  twoFactor?: TwoFactor;
}

export interface OrgSpec {
  login: string;
  members: number;
  owners?: number;
  outsideCollaborators?: number;
  repos: number;
  teams?: number;
  teamSize?: number;
  invitations?: number;
  failedInvitations?: number;
  patGrants?: number;
  patRequests?: number;
  saml?: boolean;
  plan?: SimOrg["plan"];
  twoFactorRequired?: boolean;
  /** Fraction of repositories with deploy keys. */
  deployKeyRepos?: number;
  auditEvents?: number;
  /** People who must exist with these logins (the demo's grace.hopper). */
  named?: NamedPerson[];
}

export interface TenantSpec {
  seed: number;
  now?: Date;
  orgs: OrgSpec[];
  /** Instance users who belong to no org (Enterprise Server). */
  extraUsers?: number;
  siteAdmins?: number;
}

/** Legacy GraphQL node id: base64("0" + len(type) + ":" + type + id), as GitHub issued for years. */
export function nodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString("base64");
}

export function sshPublicKey(rand: Random): string {
  // ssh-ed25519 wire blob: string "ssh-ed25519" + 32 key bytes; the fingerprint code hashes this blob.
  const type = Buffer.from("ssh-ed25519");
  const key = Buffer.from(hexId(rand, 64), "hex");
  const len = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return `ssh-ed25519 ${Buffer.concat([len(type.length), type, len(key.length), key]).toString("base64")}`;
}

const APPS: Omit<SimInstallation, "id" | "created_at" | "updated_at" | "suspended_at" | "suspendedById">[] = [
  {
    app_id: 29110,
    app_slug: "whohas-inventory",
    client_id: "Iv1.8a61f9b3a7aba766",
    repository_selection: "all",
    permissions: {
      members: "read",
      organization_administration: "read",
      organization_personal_access_tokens: "read",
      organization_personal_access_token_requests: "read",
      administration: "read",
      metadata: "read",
    },
    events: [],
  },
  {
    app_id: 51200,
    app_slug: "ci-deployer",
    client_id: "Iv1.3c2f0e1d55aa7b01",
    repository_selection: "all",
    permissions: { contents: "write", administration: "write", workflows: "write", metadata: "read", secrets: "write" },
    events: ["push", "workflow_run"],
  },
  {
    app_id: 80412,
    app_slug: "issue-triage",
    client_id: "Iv1.b1d7fe2a4c9e0d33",
    repository_selection: "selected",
    permissions: { issues: "write", pull_requests: "read", metadata: "read" },
    events: ["issues"],
  },
];

const REPO_WORDS = ["api", "web", "infra", "billing", "auth", "search", "mobile", "docs", "data", "ml", "gateway", "payments", "ops", "terraform", "portal"];
const TEAM_WORDS = ["platform", "security", "frontend", "backend", "sre", "data", "mobile", "growth", "payments", "identity", "docs", "qa"];
const ROLES = ["read", "triage", "write", "maintain", "admin"];

export function generateTenant(spec: TenantSpec): SimTenant {
  const rand = seededRandom(spec.seed);
  const now = spec.now ?? new Date();
  let counter = 1000;
  const tenant: SimTenant = {
    now,
    users: new Map(),
    usersByLogin: new Map(),
    orgs: new Map(),
    version: 0,
    nextId: () => ++counter,
  };
  let personN = 0;
  const newUser = (p?: Partial<NamedPerson>): SimUser => {
    const id = tenant.nextId();
    const n = personName(rand, ++personN);
    const login = p?.login ?? n.login;
    const u: SimUser = {
      id,
      node_id: nodeId("User", id),
      login,
      name: p?.name ?? `${cap(n.first)} ${cap(n.last)}`,
      email: p?.email ?? (chance(rand, 0.3) ? `${login}@example.com` : null),
      type: "User",
      site_admin: false,
      created_at: daysAgo(now, 100 + rand() * 3000),
      suspended_at: null,
      twoFactor: p?.twoFactor ?? (chance(rand, 0.05) ? "off" : chance(rand, 0.03) ? "insecure" : "secure"),
    };
    addUser(tenant, u);
    return u;
  };

  for (const o of spec.orgs) tenant.orgs.set(o.login.toLowerCase(), generateOrg(tenant, rand, o, newUser));
  for (let i = 0; i < (spec.extraUsers ?? 0); i++) newUser();
  // Site admins (Enterprise Server): every 7th user, so they are spread over the /users pages.
  const all = [...tenant.users.values()];
  for (let i = 0, n = 0; i < all.length && n < (spec.siteAdmins ?? 0); i += 7, n++) all[i]!.site_admin = true;
  return tenant;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function addUser(tenant: SimTenant, u: SimUser): void {
  tenant.users.set(u.id, u);
  tenant.usersByLogin.set(u.login.toLowerCase(), u);
}

function generateOrg(tenant: SimTenant, rand: Random, spec: OrgSpec, newUser: (p?: Partial<NamedPerson>) => SimUser): SimOrg {
  const now = tenant.now;
  const id = tenant.nextId();
  const org: SimOrg = {
    id,
    node_id: nodeId("Organization", id),
    login: spec.login,
    name: cap(spec.login),
    created_at: daysAgo(now, 2000),
    plan: spec.plan ?? "enterprise",
    two_factor_requirement_enabled: spec.twoFactorRequired ?? false,
    default_repository_permission: "read",
    saml: spec.saml ?? true,
    members: new Map(),
    outside: new Set(),
    invitations: [],
    failedInvitations: [],
    teams: [],
    repos: [],
    installations: [],
    patGrants: [],
    patRequests: [],
    credentialAuthorizations: [],
    auditLog: [],
  };

  // Members: owners first (some without 2FA, the finding every audit looks for), then members.
  const owners = Math.min(spec.members, spec.owners ?? Math.max(2, Math.round(spec.members * 0.02)));
  for (const p of spec.named ?? []) {
    const u = tenant.usersByLogin.get(p.login.toLowerCase()) ?? newUser(p);
    org.members.set(u.id, p.role ?? "member");
  }
  for (let i = org.members.size; i < spec.members; i++) {
    const u = newUser(i === 1 ? { twoFactor: "off" } : undefined);
    org.members.set(u.id, i < owners ? "admin" : "member");
  }
  const memberIds = [...org.members.keys()];

  const outsideN = spec.outsideCollaborators ?? Math.max(1, Math.round(spec.members * 0.05));
  for (let i = 0; i < outsideN; i++) org.outside.add(newUser().id);
  const outsideIds = [...org.outside];

  // Repositories, with outside collaborators (one of them admin) and deploy keys (never used, stale, write).
  for (let i = 0; i < spec.repos; i++) {
    const rid = tenant.nextId();
    const visibility = chance(rand, 0.2) ? "public" : chance(rand, 0.3) ? "internal" : "private";
    const repo: SimRepo = {
      id: rid,
      node_id: nodeId("Repository", rid),
      name: `${pick(rand, REPO_WORDS)}-${pick(rand, REPO_WORDS)}-${i}`,
      private: visibility !== "public",
      visibility,
      archived: chance(rand, 0.05),
      fork: chance(rand, 0.05),
      created_at: daysAgo(now, 30 + rand() * 1500),
      collaborators: new Map(),
      keys: [],
    };
    if (chance(rand, spec.deployKeyRepos ?? 0.15)) {
      const n = 1 + Math.floor(rand() * 2);
      for (let k = 0; k < n; k++) repo.keys.push(newDeployKey(tenant, rand, now, k === 0 && chance(rand, 0.4) ? "write" : "read"));
    }
    org.repos.push(repo);
  }
  outsideIds.forEach((uid, i) => {
    if (org.repos.length === 0) return;
    const repo = org.repos[i % org.repos.length]!;
    repo.collaborators.set(uid, i === 0 ? "admin" : pick(rand, ["read", "write", "triage"]));
    if (chance(rand, 0.3)) org.repos[(i * 7 + 3) % org.repos.length]!.collaborators.set(uid, "write");
  });

  // Teams: a few nested, each with maintainers and repository roles.
  const teamN = spec.teams ?? Math.max(1, Math.round(spec.members / 25));
  const teamSize = Math.min(memberIds.length, spec.teamSize ?? 8);
  for (let i = 0; i < teamN; i++) {
    const tid = tenant.nextId();
    const word = TEAM_WORDS[i % TEAM_WORDS.length]!;
    const slug = i < TEAM_WORDS.length ? word : `${word}-${i}`;
    const team: SimTeam = {
      id: tid,
      node_id: nodeId("Team", tid),
      slug,
      name: cap(slug.replace(/-/g, " ")),
      privacy: chance(rand, 0.1) ? "secret" : "closed",
      parentId: i > 0 && chance(rand, 0.2) ? org.teams[Math.floor(rand() * org.teams.length)]!.id : null,
      members: new Map(),
      repos: new Map(),
    };
    const start = Math.floor(rand() * memberIds.length);
    for (let k = 0; k < teamSize; k++) team.members.set(memberIds[(start + k * 3) % memberIds.length]!, k < 1 + (i % 2) ? "maintainer" : "member");
    const repoN = Math.min(org.repos.length, 1 + Math.floor(rand() * 4));
    for (let k = 0; k < repoN; k++) team.repos.set(org.repos[Math.floor(rand() * org.repos.length)]!.id, pick(rand, ROLES));
    org.teams.push(team);
  }

  // Invitations: an owner invitation, an email invitation, one about to expire; failed ones expired.
  const inviter = memberIds[0]!;
  for (let i = 0; i < (spec.invitations ?? 3); i++) {
    const iid = tenant.nextId();
    const invitee = personName(rand, 90_000 + iid);
    org.invitations.push({
      id: iid,
      node_id: nodeId("OrganizationInvitation", iid),
      login: i % 3 === 1 ? null : invitee.login,
      email: i % 3 === 1 ? `${invitee.login}@partner.example` : null,
      role: i % 3 === 0 ? "admin" : "direct_member",
      created_at: daysAgo(now, i % 3 === 2 ? 6.5 : 1 + rand()),
      inviterId: inviter,
      team_count: i % 2,
      invitation_source: "member",
      failed_at: null,
      failed_reason: null,
    });
  }
  for (let i = 0; i < (spec.failedInvitations ?? 2); i++) {
    const iid = tenant.nextId();
    const invitee = personName(rand, 95_000 + iid);
    const created = 20 + i * 10;
    org.failedInvitations.push({
      id: iid,
      node_id: nodeId("OrganizationInvitation", iid),
      login: invitee.login,
      email: null,
      role: "direct_member",
      created_at: daysAgo(now, created),
      inviterId: inviter,
      team_count: 0,
      invitation_source: "member",
      failed_at: daysAgo(now, created - 7),
      failed_reason: "Invitation expired. User did not accept this invite for 7 days.",
    });
  }

  // App installations: this inventory app, a CI app with write + administration, a selected-repos app.
  for (const app of APPS) {
    const iid = tenant.nextId();
    org.installations.push({ ...app, id: iid, created_at: daysAgo(now, 200 + rand() * 300), updated_at: daysAgo(now, rand() * 100), suspended_at: null, suspendedById: null });
  }

  // Fine-grained PATs approved for the org: never used, expired, used recently, stale.
  const patN = spec.patGrants ?? Math.max(4, Math.round(spec.members * 0.1));
  for (let i = 0; i < patN; i++) org.patGrants.push(newPatGrant(tenant, rand, now, memberIds[(i * 5) % memberIds.length]!, i));
  for (let i = 0; i < (spec.patRequests ?? 2); i++) {
    const g = newPatGrant(tenant, rand, now, memberIds[(i * 11 + 2) % memberIds.length]!, i);
    org.patRequests.push({ ...g, reason: i === 0 ? "Release automation" : null, created_at: daysAgo(now, 1 + i) });
  }

  // SAML credential authorizations: classic PATs and SSH keys, some never accessed.
  if (org.saml) {
    for (let i = 0; i < memberIds.length; i += 3) {
      const uid = memberIds[i]!;
      const cid = tenant.nextId();
      const ssh = i % 2 === 1;
      const authorized = 5 + rand() * 300;
      org.credentialAuthorizations.push({
        credential_id: cid,
        userId: uid,
        credential_type: ssh ? "SSH key" : "personal access token",
        token_last_eight: ssh ? null : hexId(rand, 8),
        credential_authorized_at: daysAgo(now, authorized),
        scopes: ssh ? [] : pick(rand, [["repo"], ["repo", "read:org"], ["admin:org", "repo", "workflow"]]),
        fingerprint: ssh ? `SHA256:${Buffer.from(hexId(rand, 64), "hex").toString("base64").replace(/=+$/, "")}` : null,
        credential_accessed_at: chance(rand, 0.25) ? null : daysAgo(now, rand() * authorized),
        authorized_credential_id: tenant.nextId(),
        authorized_credential_title: ssh ? `laptop-${i}` : null,
        authorized_credential_note: ssh ? null : pick(rand, ["ci token", "local dev", "terraform"]),
        authorized_credential_expires_at: ssh ? null : chance(rand, 0.3) ? null : daysAgo(now, -30 - rand() * 300),
      });
    }
  }

  // Audit log: members acting over the last 60 days; a tail never acts (no events at all).
  const events = spec.auditEvents ?? spec.members * 2;
  const active = memberIds.slice(0, Math.max(1, Math.floor(memberIds.length * 0.8)));
  const log: SimAuditEvent[] = [];
  for (let i = 0; i < events; i++) {
    log.push({
      "@timestamp": now.getTime() - Math.floor(rand() * 60 * 86_400_000),
      action: pick(rand, ["repo.create", "team.add_member", "org.update_member", "repo.access", "git.push", "protected_branch.update"]),
      actorId: active[Math.floor(rand() * active.length)]!,
      _document_id: hexId(rand, 22),
    });
  }
  org.auditLog = log.sort((a, b) => b["@timestamp"] - a["@timestamp"]);
  return org;
}

export function newDeployKey(tenant: SimTenant, rand: Random, now: Date, mode: "read" | "write"): SimDeployKey {
  const lastUsed = rand();
  return {
    id: tenant.nextId(),
    key: sshPublicKey(rand),
    title: pick(rand, ["deploy", "ci", "backup", "mirror"]) + `-${hexId(rand, 4)}`,
    verified: true,
    created_at: daysAgo(now, 10 + rand() * 700),
    read_only: mode === "read",
    added_by: null,
    last_used: lastUsed < 0.3 ? null : daysAgo(now, lastUsed < 0.5 ? 200 + rand() * 200 : rand() * 10),
    enabled: true,
  };
}

export function newPatGrant(tenant: SimTenant, rand: Random, now: Date, ownerId: number, i: number): SimPatGrant {
  const kind = i % 4; // 0 never used, 1 expired, 2 recently used, 3 stale
  const granted = 20 + rand() * 300;
  return {
    id: tenant.nextId(),
    ownerId,
    token_id: tenant.nextId(),
    token_name: pick(rand, ["deploy-bot", "release", "local-dev", "terraform", "backfill"]) + `-${i}`,
    repository_selection: pick(rand, ["all", "subset", "none"] as const),
    permissions: {
      organization: kind === 2 ? { members: "read" } : {},
      repository: { metadata: "read", contents: kind === 3 ? "write" : "read" },
      other: {},
    },
    access_granted_at: daysAgo(now, granted),
    token_expires_at: kind === 1 ? daysAgo(now, 3) : chance(rand, 0.2) ? null : daysAgo(now, -60 - rand() * 300),
    token_last_used_at: kind === 0 ? null : kind === 2 ? daysAgo(now, rand()) : daysAgo(now, Math.min(granted, 120 + rand() * 100)),
  };
}

export function findOrg(tenant: SimTenant, login: string): SimOrg {
  const org = tenant.orgs.get(login.toLowerCase());
  if (!org) throw new Error(`simulated org ${login} does not exist`);
  return org;
}

export function findUser(tenant: SimTenant, login: string): SimUser {
  const u = tenant.usersByLogin.get(login.toLowerCase());
  if (!u) throw new Error(`simulated user ${login} does not exist`);
  return u;
}

/**
 * The changes tests and the demo make between two collects. Each bumps the tenant version and records the
 * audit-log entry GitHub writes for it; `by` is who made it (default: the org's first owner).
 */
export function mutations(tenant: SimTenant, seed = 7) {
  const rand = seededRandom(seed);
  const touch = () => void tenant.version++;
  const actorIn = (o: SimOrg, by: SimAuditActor | undefined): SimAuditActor => {
    if (by) return by;
    const owner = [...o.members].find(([, role]) => role === "admin");
    if (!owner) throw new Error(`org ${o.login} has no owner to act`);
    return { login: tenant.users.get(owner[0])!.login };
  };
  return {
    touch,
    /** A new account that joins straight as an owner (privilege escalation). */
    addOwner(org: string, person: NamedPerson, by?: SimAuditActor): SimUser {
      const o = findOrg(tenant, org);
      const id = tenant.nextId();
      const u: SimUser = {
        id,
        node_id: nodeId("User", id),
        login: person.login,
        name: person.name ?? null,
        email: person.email ?? null,
        type: "User",
        site_admin: false,
        created_at: tenant.now.toISOString(),
        suspended_at: null,
        twoFactor: person.twoFactor ?? "off",
      };
      addUser(tenant, u);
      o.members.set(id, "admin");
      recordAudit(tenant, o, "org.add_member", actorIn(o, by), { user: u.login, user_id: u.id, permission: "admin", org: o.login });
      touch();
      return u;
    },
    setRole(org: string, login: string, role: "admin" | "member", by?: SimAuditActor): void {
      const o = findOrg(tenant, org);
      const u = findUser(tenant, login);
      const before = o.members.get(u.id);
      o.members.set(u.id, role);
      recordAudit(tenant, o, "org.update_member", actorIn(o, by), { user: u.login, user_id: u.id, permission: role === "admin" ? "admin" : "read", old_permission: before === "admin" ? "admin" : "read" });
      touch();
    },
    /** Removes a member from the org and from its teams, as GitHub does. */
    removeMember(org: string, login: string, by?: SimAuditActor): void {
      const o = findOrg(tenant, org);
      const u = findUser(tenant, login);
      recordAudit(tenant, o, "org.remove_member", actorIn(o, by), { user: u.login, user_id: u.id });
      o.members.delete(u.id);
      for (const t of o.teams) t.members.delete(u.id);
      o.credentialAuthorizations = o.credentialAuthorizations.filter((c) => c.userId !== u.id);
      o.patGrants = o.patGrants.filter((g) => g.ownerId !== u.id);
      touch();
    },
    setTwoFactor(login: string, state: TwoFactor): void {
      findUser(tenant, login).twoFactor = state;
      touch();
    },
    addPatGrant(org: string, login: string, overrides: Partial<SimPatGrant> = {}, by?: SimAuditActor): SimPatGrant {
      const o = findOrg(tenant, org);
      const owner = findUser(tenant, login);
      const g = { ...newPatGrant(tenant, rand, tenant.now, owner.id, 2), ...overrides };
      o.patGrants.push(g);
      recordAudit(tenant, o, "personal_access_token.access_granted", actorIn(o, by), { user: owner.login, user_id: owner.id, token_id: g.token_id, programmatic_access_type: "Fine-grained personal access token" });
      touch();
      return g;
    },
    /** Replaces a repository's first deploy key with a fresh one (a rotation: new id, new key). */
    rotateDeployKey(org: string, repoName: string, by?: SimAuditActor): SimDeployKey {
      const o = findOrg(tenant, org);
      const repo = o.repos.find((r) => r.name === repoName);
      if (!repo) throw new Error(`no repository ${repoName}`);
      const fresh = newDeployKey(tenant, rand, tenant.now, repo.keys[0]?.read_only === false ? "write" : "read");
      fresh.created_at = tenant.now.toISOString();
      fresh.last_used = null;
      const old = repo.keys[0];
      repo.keys.splice(0, 1, fresh);
      const actor = actorIn(o, by);
      if (old) recordAudit(tenant, o, "deploy_key.delete", actor, { repo: `${o.login}/${repo.name}`, deploy_key_id: old.id, title: old.title });
      recordAudit(tenant, o, "deploy_key.create", actor, { repo: `${o.login}/${repo.name}`, deploy_key_id: fresh.id, title: fresh.title, read_only: fresh.read_only });
      touch();
      return fresh;
    },
    addDeployKey(org: string, repoName: string, mode: "read" | "write", by?: SimAuditActor): SimDeployKey {
      const o = findOrg(tenant, org);
      const repo = o.repos.find((r) => r.name === repoName);
      if (!repo) throw new Error(`no repository ${repoName}`);
      const k = newDeployKey(tenant, rand, tenant.now, mode);
      k.created_at = tenant.now.toISOString();
      repo.keys.push(k);
      recordAudit(tenant, o, "deploy_key.create", actorIn(o, by), { repo: `${o.login}/${repo.name}`, deploy_key_id: k.id, title: k.title, read_only: k.read_only });
      touch();
      return k;
    },
    suspendInstallation(org: string, appSlug: string, byLogin: string): void {
      const inst = findOrg(tenant, org).installations.find((i) => i.app_slug === appSlug);
      if (!inst) throw new Error(`no installation of ${appSlug}`);
      inst.suspended_at = tenant.now.toISOString();
      inst.suspendedById = findUser(tenant, byLogin).id;
      const o = findOrg(tenant, org);
      recordAudit(tenant, o, "integration_installation.suspend", { login: byLogin }, { integration: inst.app_slug, installation_id: inst.id });
      touch();
    },
    addOutsideCollaborator(org: string, login: string, repoName: string, role: string, by?: SimAuditActor): SimUser {
      const o = findOrg(tenant, org);
      let u = tenant.usersByLogin.get(login.toLowerCase());
      if (!u) {
        const id = tenant.nextId();
        u = { id, node_id: nodeId("User", id), login, name: null, email: null, type: "User", site_admin: false, created_at: tenant.now.toISOString(), suspended_at: null, twoFactor: "off" };
        addUser(tenant, u);
      }
      o.outside.add(u.id);
      const repo = o.repos.find((r) => r.name === repoName);
      if (!repo) throw new Error(`no repository ${repoName}`);
      repo.collaborators.set(u.id, role);
      recordAudit(tenant, o, "repo.add_member", actorIn(o, by), { user: u.login, user_id: u.id, repo: `${o.login}/${repo.name}`, permission: role });
      touch();
      return u;
    },
    /** The invited user accepts: they join with the invitation's role and its pending team memberships. */
    acceptInvitation(org: string, login: string): void {
      const o = findOrg(tenant, org);
      const u = findUser(tenant, login);
      const inv = o.invitations.find((i) => i.login?.toLowerCase() === login.toLowerCase());
      if (!inv) throw new Error(`no invitation for ${login}`);
      o.invitations = o.invitations.filter((i) => i !== inv);
      const role = inv.role === "admin" ? "admin" : "member";
      o.members.set(u.id, role);
      // GitHub records the join when the invitee accepts, with the invitee as the actor, and the team
      // memberships the invitation carried as they take effect.
      const invitee: SimAuditActor = { login: u.login };
      recordAudit(tenant, o, "org.add_member", invitee, { user: u.login, user_id: u.id, permission: role === "admin" ? "admin" : "read" });
      for (const [slug, teamRole] of inv.pendingTeams ?? []) {
        const t = o.teams.find((x) => x.slug === slug);
        if (!t) continue;
        t.members.set(u.id, teamRole);
        recordAudit(tenant, o, teamRole === "maintainer" ? "team.promote_maintainer" : "team.add_member", invitee, { team: `${o.login}/${slug}`, user: u.login, user_id: u.id });
      }
      touch();
    },
    suspendUser(login: string): void {
      findUser(tenant, login).suspended_at = tenant.now.toISOString();
      touch();
    },
  };
}

/** "Team members will include the members of child teams" (GitHub docs), as plain members. */
export function effectiveTeamMembers(org: SimOrg, t: SimTeam): Map<number, "member" | "maintainer"> {
  const out = new Map(t.members);
  const stack = org.teams.filter((c) => c.parentId === t.id);
  const seen = new Set<number>([t.id]);
  while (stack.length) {
    const child = stack.pop()!;
    if (seen.has(child.id)) continue;
    seen.add(child.id);
    for (const uid of child.members.keys()) if (!out.has(uid)) out.set(uid, "member");
    stack.push(...org.teams.filter((c) => c.parentId === child.id));
  }
  return out;
}

export interface CostSettings {
  auth: "app" | "token";
  /** App auth without installation_ids looks the installation up first. */
  installationLookup: boolean;
  mfaInsecure: boolean;
  collectInvitations: boolean;
  collectTeams: boolean;
  collectRepoGrants: boolean;
  collectInstallations: boolean;
  collectPats: boolean;
  collectCredentialAuthorizations: boolean;
  collectDeployKeys: boolean;
  collaboratorRepos: boolean;
  auditLogSince?: Date;
  auditLogMaxPages?: number;
}

/** The cost settings of the shipped option defaults for an auth mode, with overrides. */
export function costSettings(auth: CostSettings["auth"], overrides: Partial<CostSettings> = {}): CostSettings {
  return {
    auth,
    installationLookup: auth === "app",
    mfaInsecure: false,
    collectInvitations: true,
    collectTeams: true,
    collectRepoGrants: false,
    collectInstallations: true,
    collectPats: true,
    collectCredentialAuthorizations: true,
    collectDeployKeys: false,
    collaboratorRepos: false,
    ...overrides,
  };
}

/**
 * The fewest requests GitHub's API allows for one org with these settings and an owner-level caller:
 * every listing costs max(1, ceil(n / 100)) pages. Tests and the benchmark compare the connector to it.
 */
export function minimumRequests(tenant: SimTenant, orgLogin: string, s: CostSettings): number {
  const org = findOrg(tenant, orgLogin);
  const pages = (n: number) => Math.max(1, Math.ceil(n / 100));
  const user = (id: number) => tenant.users.get(id)!;
  const members = [...org.members];
  let n = 0;
  if (s.auth === "app") n += (s.installationLookup ? 1 : 0) + 1;
  n += 1; // GET /orgs/{org}
  if (s.auditLogSince) {
    const events = org.auditLog.filter((e) => e["@timestamp"] >= Date.parse(s.auditLogSince!.toISOString().slice(0, 10))).length;
    n += Math.min(pages(events), s.auditLogMaxPages ?? Number.POSITIVE_INFINITY);
  }
  n += pages(members.filter(([id]) => user(id).twoFactor === "off").length);
  if (s.mfaInsecure) n += pages(members.filter(([id]) => user(id).twoFactor === "insecure").length);
  n += pages(members.filter(([, r]) => r === "admin").length) + pages(members.filter(([, r]) => r === "member").length);
  n += pages([...org.outside].filter((id) => user(id).twoFactor === "off").length);
  if (s.mfaInsecure) n += pages([...org.outside].filter((id) => user(id).twoFactor === "insecure").length);
  n += pages(org.outside.size);
  if (s.collectInvitations) n += pages(org.invitations.length) + pages(org.failedInvitations.length);
  if (s.collectTeams) {
    n += pages(org.teams.length);
    for (const t of org.teams) {
      const m = [...effectiveTeamMembers(org, t).values()];
      n += pages(m.filter((r) => r === "maintainer").length) + pages(m.filter((r) => r === "member").length);
      if (s.collectRepoGrants && m.length > 0) n += pages(t.repos.size);
    }
  }
  if (s.collectInstallations) n += pages(org.installations.length);
  if (s.collectPats && s.auth === "app") n += pages(org.patGrants.length) + pages(org.patRequests.length);
  if (s.collectCredentialAuthorizations) n += pages(org.credentialAuthorizations.length);
  if (s.collectDeployKeys || s.collaboratorRepos) {
    n += pages(org.repos.length);
    for (const r of org.repos) {
      if (s.collectDeployKeys) n += pages(r.keys.length);
      if (s.collaboratorRepos) n += pages([...r.collaborators.keys()].filter((id) => org.outside.has(id)).length);
    }
  }
  return n;
}

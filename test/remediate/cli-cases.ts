// One case per connector for remediation through the built CLI (test/helpers/remediate-cli.ts): its simulator,
// a collector and a remediate block with credentials of its own, `targets` dormant accounts holding what the
// removal action takes away (an Entra directory role, a Google admin role, GitHub org membership with teams)
// and, with `disable`, one dormant plain account to disable. The fast tier runs each case's round trip; the
// reliability tier kills `whohas apply` in the middle of the removals (test/reliability/apply-crash-removals.test.ts).
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { REQUIRED_PERMISSIONS } from "../../connectors/entra-id/simulator-tenant.js";
import { generateTenant as generateEntraTenant, startEntraSimulator } from "../../connectors/entra-id/simulator.js";
import { SCOPES, startGoogleSimulator } from "../../connectors/google-workspace/simulator.js";
import { startGithubSimulator } from "../../connectors/github/simulator.js";
import { findOrg, findUser, generateTenant as generateGithubTenant, mutations } from "../../connectors/github/tenant.js";
import type { PrincipalView } from "../../src/store/reader.js";
import { APP_ID, appKeys } from "../connectors/github/setup.js";
import { remediationCli, type RemediationCli, type RoundTripChecks } from "../helpers/remediate-cli.js";

const DAY = 86_400_000;
/** Accounts last active this long ago are the only dormant ones: the policy below says 3650 days. */
const LONG_AGO = () => new Date(Date.now() - 4000 * DAY);
const DORMANT_POLICY = "[policy]\ndormant_after_days = 3650\n";

export interface CliCase {
  cli: RemediationCli;
  /** The round trip's expectations (test/helpers/remediate-cli.ts cliRoundTrip). */
  checks: RoundTripChecks;
  /** The removal writes the simulator has seen (DELETE of an assignment, of a membership). */
  removals(): number;
  /** Every request the simulator has seen: the crash test waits until it stops moving. */
  requests(): number;
  /** Every target holds again what the removal took (after undo, and GitHub's invitations accepted). */
  allRestored(): boolean;
  /** GitHub's re-invited members accept (a no-op elsewhere). */
  acceptInvitations(): void;
  close(): Promise<void>;
}

export interface CaseOptions {
  targets: number;
  disable: boolean;
  /** The simulator's latency per request (the crash test: a kill then lands between a write and its answer). */
  latencyMs?: number;
  /** [remediation] concurrency (default the engine's). */
  concurrency?: number;
}

/** Keys of [remediation] (the helper opens that table last) and the policy. */
const settings = (o: CaseOptions, policy: string) => `${o.concurrency ? `concurrency = ${o.concurrency}\n` : ""}${policy}`;

const named = (all: PrincipalView[], name: string) => all.find((p) => p.name === name);
const pad = (i: number) => String(i).padStart(3, "0");

export async function entraCase(o: CaseOptions): Promise<CliCase> {
  const tenant = generateEntraTenant({ seed: 7, users: 12, applications: 1 });
  const collector = tenant.newId();
  tenant.registerClient(collector, REQUIRED_PERMISSIONS);
  const fixer = tenant.newId();
  tenant.registerClient(fixer, ["User.Read.All", "User.EnableDisableAccount.All", "User.RevokeSessions.All", "RoleManagement.ReadWrite.Directory"]);
  const [secret, fixSecret] = [randomBytes(18).toString("base64url"), randomBytes(18).toString("base64url")];
  tenant.addClientSecret(collector, secret);
  tenant.addClientSecret(fixer, fixSecret);
  const sim = await startEntraSimulator({ tenants: [tenant], ...(o.latencyMs ? { latencyMs: o.latencyMs } : {}) });
  const created = new Date(Date.now() - 5000 * DAY).toISOString();
  const ROLE = "Helpdesk Administrator";
  const admins = Array.from({ length: o.targets }, (_, i) => {
    const u = tenant.addUser({ userPrincipalName: `dormant.admin${pad(i)}@example.com`, createdDateTime: created });
    tenant.recordSignIn(u.id, LONG_AGO());
    const a = tenant.assignRole(u.id, ROLE);
    return { user: u, roleDefinitionId: a.roleDefinitionId };
  });
  const plain = o.disable ? tenant.addUser({ userPrincipalName: "dormant.user@example.com", createdDateTime: created }) : undefined;
  if (plain) tenant.recordSignIn(plain.id, LONG_AGO());
  const holds = (a: (typeof admins)[number]) => [...tenant.roleAssignments.values()].some((r) => r.principalId === a.user.id && r.roleDefinitionId === a.roleDefinitionId && r.directoryScopeId === "/");
  const cli = remediationCli((dir) => {
    const caFile = join(dir, "ca.pem");
    writeFileSync(caFile, sim.ca, { mode: 0o600 });
    return {
      sourceId: "aad",
      extraToml: settings(o, DORMANT_POLICY),
      sourceToml: `[[sources]]
id = "aad"
type = "entra-id"
tenant_id = "${tenant.id}"
client_id = "${collector}"
client_secret = "env:AAD_SECRET"
authority_host = "${sim.url}"
graph_base_url = "${sim.url}"
ca_file = "${caFile}"
[sources.remediate]
client_id = "${fixer}"
client_secret = "env:AAD_FIX_SECRET"`,
      // An admin's account is not disabled here: that needs the app to hold Privileged Authentication Administrator.
      entriesToml: `${o.disable ? '[[remediate]]\nname = "disable-dormant"\nrule = "dormant-account"\naction = "disable-account"\nexclude = ["dormant.admin*"]\n\n' : ""}[[remediate]]
name = "unassign-dormant"
rule = "dormant-account"
action = "remove-role-assignment"
max_actions_per_run = 1000`,
      env: { AAD_SECRET: secret, AAD_FIX_SECRET: fixSecret },
    };
  });
  const graph = () => sim.server.requestLog.filter((l) => / \/v1\.0\//.test(l));
  return {
    cli,
    checks: {
      expected: [...(plain ? [`disable-account ${plain.userPrincipalName}`] : []), ...admins.map((a) => `remove-role-assignment ${a.user.userPrincipalName} ${ROLE}`)],
      writes: () => graph().filter((l) => !l.startsWith("GET ")).length,
      applied(all) {
        if (plain) {
          expect(tenant.users.get(plain.id)!.accountEnabled).toBe(false);
          expect(sim.sessionsRevokedAt.has(plain.id)).toBe(true);
          expect(named(all, plain.userPrincipalName)?.status).toBe("disabled");
        }
        expect(admins.filter(holds)).toEqual([]);
        for (const a of admins) expect(named(all, a.user.userPrincipalName)?.grants.map((g) => g.privilege)).not.toContain(ROLE);
      },
      restored(all) {
        if (plain) {
          expect(tenant.users.get(plain.id)!.accountEnabled).toBe(true);
          expect(named(all, plain.userPrincipalName)?.status).toBe("active");
        }
        expect(admins.every(holds)).toBe(true);
        for (const a of admins) expect(named(all, a.user.userPrincipalName)?.grants.map((g) => g.privilege)).toContain(ROLE);
      },
    },
    removals: () => graph().filter((l) => l.startsWith("DELETE /v1.0/roleManagement/directory/roleAssignments/")).length,
    requests: () => sim.server.requestLog.length,
    allRestored: () => admins.every(holds),
    acceptInvitations: () => {},
    async close() {
      cli.close();
      await sim.close();
    },
  };
}

export async function googleCase(o: CaseOptions): Promise<CliCase> {
  const google = await startGoogleSimulator({ seed: 21, users: 12, ...(o.latencyMs ? { latencyMs: o.latencyMs } : {}) });
  const t = google.tenant;
  // The remediate block's service account is the runner's, delegated the two write scopes.
  t.setDelegatedScopes([SCOPES.user, SCOPES.role], t.runnerAccount.clientId);
  const created = new Date(Date.now() - 5000 * DAY).toISOString();
  const ROLE = "_HELP_DESK_ADMIN_ROLE";
  const admins = Array.from({ length: o.targets }, (_, i) => t.addUser({ givenName: "Dormant", familyName: `Admin${pad(i)}`, lastLoginTime: LONG_AGO().toISOString(), creationTime: created }));
  const roleId = t.roles.find((r) => r.roleName === ROLE)!.roleId;
  for (const a of admins) t.assignRole(a.primaryEmail, ROLE, "/Sales");
  const plain = o.disable ? t.addUser({ givenName: "Dormant", familyName: "User", lastLoginTime: LONG_AGO().toISOString(), creationTime: created }) : undefined;
  const holds = (id: string) => t.roleAssignments.filter((r) => r.assignedTo === id).some((r) => r.roleId === roleId && r.scopeType === "ORG_UNIT");
  const cli = remediationCli((dir) => {
    writeFileSync(join(dir, "collector.json"), t.keyFile(), { mode: 0o600 });
    writeFileSync(join(dir, "remediate.json"), t.keyFile(t.runnerAccount), { mode: 0o600 });
    return {
      sourceId: "gws",
      extraToml: settings(o, DORMANT_POLICY),
      sourceToml: `[[sources]]
id = "gws"
type = "google-workspace"
subject = "admin@${t.domain}"
credentials = "file:${join(dir, "collector.json")}"
root_url = "${google.rootUrl}"
token_url = "${google.tokenUrl}"
[sources.remediate]
credentials = "file:${join(dir, "remediate.json")}"`,
      entriesToml: `${o.disable ? '[[remediate]]\nname = "suspend-dormant"\nrule = "dormant-account"\naction = "disable-account"\nexclude = ["dormant.admin*"]\n\n' : ""}[[remediate]]
name = "unassign-dormant"
rule = "dormant-account"
action = "remove-role-assignment"
max_actions_per_run = 1000`,
      env: {},
    };
  });
  const api = () => google.sim.requestLog.filter((l) => l.includes(" /admin/directory/"));
  return {
    cli,
    checks: {
      expected: [...(plain ? [`disable-account ${plain.primaryEmail}`] : []), ...admins.map((a) => `remove-role-assignment ${a.primaryEmail} ${ROLE}`)],
      writes: () => api().filter((l) => !l.startsWith("GET ")).length,
      applied(all) {
        if (plain) {
          expect(t.find(plain.primaryEmail)!.user.suspended).toBe(true);
          expect(named(all, plain.primaryEmail)?.status).toBe("suspended");
        }
        expect(admins.filter((a) => holds(a.id))).toEqual([]);
        for (const a of admins) expect(named(all, a.primaryEmail)?.grants).toEqual([]);
      },
      restored(all) {
        if (plain) {
          expect(t.find(plain.primaryEmail)!.user.suspended).toBe(false);
          expect(named(all, plain.primaryEmail)?.status).toBe("active");
        }
        expect(admins.every((a) => holds(a.id))).toBe(true);
        for (const a of admins) expect(named(all, a.primaryEmail)?.grants.length).toBe(1);
      },
    },
    removals: () => api().filter((l) => /^DELETE \/admin\/directory\/v1\/customer\/[^/]+\/roleassignments\//.test(l)).length,
    requests: () => google.sim.requestLog.length,
    allRestored: () => admins.every((a) => holds(a.id)),
    acceptInvitations: () => {},
    async close() {
      cli.close();
      await google.close();
    },
  };
}

export async function githubCase(o: CaseOptions): Promise<CliCase> {
  const keys = await appKeys();
  // No generated audit events: only the targets' activity is known (120 days ago; dormant after 90).
  const tenant = generateGithubTenant({ seed: 9, orgs: [{ login: "acme", members: 10, owners: 2, outsideCollaborators: 1, repos: 3, teams: 3, teamSize: 3, patGrants: 0, patRequests: 0, auditEvents: 0 }] });
  const gh = await startGithubSimulator({ tenant, app: { id: APP_ID, publicKey: keys.publicKeyPem }, ...(o.latencyMs ? { latencyMs: o.latencyMs } : {}) });
  const org = findOrg(tenant, "acme");
  const change = mutations(tenant);
  const owner = tenant.users.get([...org.members].find(([, role]) => role === "admin")![0])!.login;
  const targets = Array.from({ length: o.targets }, (_, i) => `dormant-dev${pad(i)}`);
  for (const [i, login] of targets.entries()) {
    change.addOwner("acme", { login, name: `Dormant ${i}`, twoFactor: "secure" }, { login: owner });
    change.setRole("acme", login, "member", { login: owner });
    const user = findUser(tenant, login);
    // A member of a team, and maintainer of another: undo must put both back.
    org.teams[i % org.teams.length]!.members.set(user.id, "member");
    org.teams[(i + 1) % org.teams.length]!.members.set(user.id, "maintainer");
    org.auditLog.push({ "@timestamp": Date.now() - 120 * DAY, action: "git.push", actorId: user.id, _document_id: randomBytes(11).toString("hex") });
  }
  org.auditLog.sort((a, b) => b["@timestamp"] - a["@timestamp"]);
  const teamsOf = (login: string) => {
    const id = findUser(tenant, login).id;
    return org.teams.flatMap((team) => (team.members.has(id) ? [`${team.slug}:${team.members.get(id)}`] : [])).sort();
  };
  const before = new Map(targets.map((l) => [l, teamsOf(l)]));
  const isMember = (login: string) => org.members.has(findUser(tenant, login).id);
  const fixToken = gh.issuePat(owner, { scopes: ["admin:org", "read:org", "repo"] });
  const cli = remediationCli(() => ({
    sourceId: "gh",
    extraToml: settings(o, "[policy]\ndormant_after_days = 90\n"),
    sourceToml: `[[sources]]
id = "gh"
type = "github"
orgs = ["acme"]
base_url = "${gh.baseUrl}"
app_id = ${APP_ID}
private_key = "file:${keys.keyFile}"
audit_log = true
audit_log_days = 180
[sources.remediate]
token = "env:GH_FIX_TOKEN"`,
    entriesToml: `[[remediate]]
name = "remove-dormant"
rule = "dormant-account"
action = "remove-org-member"
max_actions_per_run = 1000`,
    env: { GH_FIX_TOKEN: fixToken },
  }));
  const api = () => gh.sim.requestLog.filter((l) => !l.includes("/access_tokens") && !l.endsWith("/installation"));
  return {
    cli,
    checks: {
      expected: targets.map((l) => `remove-org-member ${l}`),
      writes: () => api().filter((l) => !l.startsWith("GET ")).length,
      applied(all) {
        expect(targets.filter(isMember)).toEqual([]);
        expect(targets.flatMap(teamsOf)).toEqual([]);
        for (const l of targets) expect(named(all, l)).toBeUndefined();
      },
      afterUndo() {
        // GitHub re-invites a removed member: the invitation is pending until they accept it.
        for (const l of targets) change.acceptInvitation("acme", l);
      },
      restored(all) {
        for (const l of targets) {
          expect(isMember(l)).toBe(true);
          expect(teamsOf(l)).toEqual(before.get(l));
          expect(named(all, l)?.status).toBe("active");
        }
      },
    },
    removals: () => api().filter((l) => l.startsWith("DELETE /orgs/acme/members/")).length,
    requests: () => gh.sim.requestLog.length,
    allRestored: () => targets.every((l) => isMember(l) && JSON.stringify(teamsOf(l)) === JSON.stringify(before.get(l))),
    acceptInvitations: () => {
      for (const l of targets) if (!isMember(l)) change.acceptInvitation("acme", l);
    },
    async close() {
      cli.close();
      await gh.close();
    },
  };
}

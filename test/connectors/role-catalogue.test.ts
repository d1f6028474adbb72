// The role catalogue each connector emits, through the real SDK clients against each provider's simulator:
// every privilege somebody holds comes with a definition in the provider's own terms, read from the same
// bulk listings as the grants (no extra request), and the definition says what the simulated tenant says.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Grant, RoleDefinition } from "../../src/model.js";
import { entraIdConnector } from "../../connectors/entra-id/index.js";
import { GLOBAL_ADMINISTRATOR } from "../../connectors/entra-id/roles.js";
import { drain, testContext, type ScopeResult } from "../helpers/collect.js";
import { fixture, SMALL_ORG, type Fixture as AwsFixture } from "./aws-iam/helpers.js";
import { SECRET_ENV, startFixture, type Fixture as EntraFixture } from "./entra-id/setup.js";
import { setup as googleSetup, type Setup as GoogleSetup } from "./google-workspace/setup.js";
import { appConnector, appKeys, SMALL, startSim } from "./github/setup.js";

/** Grants whose privilege no definition of the scope describes (a one-holder definition only for its holder). */
function undescribed(s: ScopeResult): Grant[] {
  const shared = new Set(s.roles.filter((r) => !r.holderId).map((r) => r.privilege));
  const owned = new Set(s.roles.filter((r) => r.holderId).map((r) => `${r.privilege}\u001f${r.holderId}`));
  return s.grants.filter((g) => !shared.has(g.privilege) && !owned.has(`${g.privilege}\u001f${g.principalId}`));
}

/** Definitions nobody in the scope holds: the catalogue describes held privileges only. */
function unheld(s: ScopeResult): RoleDefinition[] {
  const held = new Set(s.grants.map((g) => g.privilege));
  return s.roles.filter((r) => !held.has(r.privilege));
}

const uniqueIds = (s: ScopeResult) => new Set(s.roles.map((r) => r.id)).size === s.roles.length;

describe("AWS IAM: managed and inline policies from GetAccountAuthorizationDetails", () => {
  let f: AwsFixture;
  let scopes: Map<string, ScopeResult>;
  beforeAll(async () => {
    f = await fixture(SMALL_ORG);
    scopes = (await drain(f.connector({ organization: true }), f.ctx())).scopes;
  });
  afterAll(() => f.close());

  it("describes every policy somebody holds, once, and none that nobody holds", () => {
    expect(scopes.size).toBe(3);
    for (const s of scopes.values()) {
      expect(s.status).toBe("ok");
      expect(s.roles.length).toBeGreaterThan(0);
      expect(undescribed(s)).toEqual([]);
      expect(unheld(s)).toEqual([]);
      expect(uniqueIds(s)).toBe(true);
    }
  });

  it("summarizes documents by service with wildcards spelled out, and gives the privilege class's reason", () => {
    const all = [...scopes.values()].flatMap((s) => s.roles);
    const admin = all.find((r) => r.privilege === "arn:aws:iam::aws:policy/AdministratorAccess");
    expect(admin).toMatchObject({ kind: "aws_managed_policy", level: "admin", name: "AdministratorAccess" });
    expect(admin!.permissions).toContain("Allow * (every action of every service) on * (any resource)");
    expect(admin!.reason).toBe("AWS managed AdministratorAccess");
    // Every line names an effect and a service (or every action) and where it applies.
    for (const r of all.filter((x) => x.kind !== "aws_assumable_role")) {
      for (const line of r.permissions) expect(line).toMatch(/^(Allow|Deny) .+ on |^document |^no Allow|^… and/);
    }
    const inline = all.filter((r) => r.kind === "aws_inline_policy");
    // A user's or role's inline policy belongs to that principal alone; a group's is shared by its members.
    for (const r of inline) {
      if (r.privilege.startsWith("inline:user/") || r.privilege.startsWith("inline:role/")) expect(r.holderId).toBeTruthy();
      else expect(r.holderId ?? null).toBeNull();
    }
  });

  it("describes a role a third party may assume by the policies it carries", () => {
    const prod = scopes.get("222222222222")!;
    const eligible = prod.grants.filter((g) => g.via === "eligible" && g.privilege.startsWith("role:"));
    expect(eligible.length).toBeGreaterThan(0);
    for (const g of eligible) {
      const def = prod.roles.find((r) => r.privilege === g.privilege)!;
      expect(def.kind).toBe("aws_assumable_role");
      expect(def.level).toBe(g.level);
      expect(def.permissions.every((p) => p.startsWith("assume the role and use "))).toBe(true);
    }
  });
});

describe("Entra ID: roleDefinitions with rolePermissions", () => {
  let f: EntraFixture;
  let scope: ScopeResult;
  beforeAll(async () => {
    f = await startFixture({ seed: 42, users: 60, applications: 5 });
    const { scopes } = await drain(entraIdConnector.create("aad", f.options()), testContext("aad", { [SECRET_ENV]: f.secret }));
    scope = [...scopes.values()][0]!;
  });
  afterAll(() => f.close());

  it("lists each held role's allowed resource actions as Graph returns them", () => {
    expect(scope.status).toBe("ok");
    expect(undescribed(scope)).toEqual([]);
    expect(unheld(scope)).toEqual([]);
    expect(uniqueIds(scope)).toBe(true);
    for (const r of scope.roles) {
      const sim = f.tenant.roleDefinitions.get(r.id)!;
      expect(r.kind).toBe("entra_directory_role");
      expect(r.name).toBe(sim.displayName);
      expect(r.permissions).toEqual([...new Set(sim.rolePermissions.flatMap((p) => p.allowedResourceActions))].sort());
    }
    const ga = scope.roles.find((r) => r.id === GLOBAL_ADMINISTRATOR)!;
    expect(ga).toMatchObject({ level: "admin", name: "Global Administrator" });
    expect(ga.reason).toContain("built-in role Global Administrator");
  });

  it("reads the definitions in the one listing it already made", () => {
    const listings = f.sim.server.requestLog.filter((l) => l.startsWith("GET /v1.0/roleManagement/directory/roleDefinitions"));
    expect(listings).toHaveLength(1);
    expect(listings[0]).toContain("rolePermissions");
  });
});

describe("Google Workspace: roles.list with rolePrivileges", () => {
  let s: GoogleSetup;
  let scope: ScopeResult;
  beforeAll(async () => {
    s = await googleSetup({ users: 30 });
    const { scopes } = await s.run();
    scope = [...scopes.values()].find((x) => x.grants.length > 0)!;
  });
  afterAll(() => s.close());

  it("lists each held role's privileges per service, in Google's names", () => {
    expect(scope.status).toBe("ok");
    expect(undescribed(scope)).toEqual([]);
    expect(unheld(scope)).toEqual([]);
    for (const r of scope.roles) {
      const sim = s.google.tenant.roles.find((x) => x.roleId === r.id)!;
      expect(r.kind).toBe("google_admin_role");
      expect(r.name).toBe(sim.roleName);
      for (const p of sim.rolePrivileges) expect(r.permissions.some((line) => line.startsWith(`service ${p.serviceId}: `) && line.split(": ")[1]!.split(", ").includes(p.privilegeName))).toBe(true);
    }
    const superAdmin = scope.roles.find((r) => r.level === "admin")!;
    expect(superAdmin.reason).toMatch(/super admin|SUPER_ADMIN/);
  });
});

describe("GitHub: the documented org, team and repository roles", () => {
  let scope: ScopeResult;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const keys = await appKeys();
    const gh = await startSim(SMALL, keys);
    close = () => gh.close();
    const { scopes } = await drain(appConnector(gh, keys, undefined, { collect_deploy_keys: true, collaborator_repos: true, collect_repo_grants: true }), testContext("gh-test"));
    scope = scopes.get("acme")!;
  });
  afterAll(() => close());

  it("describes every org, team, repository and deploy-key privilege held, citing GitHub's docs", () => {
    expect(scope.status).toBe("ok");
    expect(undescribed(scope)).toEqual([]);
    expect(unheld(scope)).toEqual([]);
    expect(uniqueIds(scope)).toBe(true);
    const owner = scope.roles.find((r) => r.privilege === "org:owner")!;
    expect(owner).toMatchObject({ kind: "github_org_role", level: "admin" });
    expect(owner.permissions[0]).toBe("complete administrative access to the organization");
    const write = scope.roles.find((r) => r.privilege === "collaborator:write");
    if (write) expect(write.permissions).toContain("push to the repository (branches not protected against it)");
    for (const r of scope.roles) expect(String(r.attributes?.docs)).toMatch(/^https:\/\/docs\.github\.com\//);
    // A definition is as strong as the strongest grant of its privilege.
    for (const r of scope.roles) {
      const levels = scope.grants.filter((g) => g.privilege === r.privilege).map((g) => g.level);
      expect(levels).toContain(r.level);
    }
  });
});

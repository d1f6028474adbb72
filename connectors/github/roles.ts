// Role catalogue entries for GitHub. GitHub's org, team and repository roles are fixed and documented, so
// their permissions come from a static table citing GitHub's docs; the privilege strings map.ts gives grants
// ("org:owner", "team:<slug>:maintainer", "collaborator:write", …) say which role each is. Pure.
import type { Grant, RoleDefinition } from "../../src/model.js";
import { accessRank } from "../../src/model.js";

const DOCS = {
  org: "https://docs.github.com/en/organizations/managing-peoples-access-to-your-organization-with-roles/roles-in-an-organization",
  repo: "https://docs.github.com/en/organizations/managing-user-access-to-your-organizations-repositories/managing-repository-roles/repository-roles-for-an-organization",
  team: "https://docs.github.com/en/organizations/organizing-members-into-teams/assigning-the-team-maintainer-role-to-a-team-member",
  deployKey: "https://docs.github.com/en/authentication/connecting-to-github-with-ssh/managing-deploy-keys#deploy-keys",
  app: "https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps",
  siteAdmin: "https://docs.github.com/en/enterprise-server@latest/admin/managing-accounts-and-repositories/managing-users-in-your-enterprise/promoting-or-demoting-a-site-administrator",
} as const;

/** Repository roles, each including everything of the one before (GitHub's table, "Permissions for each role"). */
const REPO_ROLES: ReadonlyMap<string, string[]> = new Map([
  ["read", ["read and clone the repository", "open and comment on issues and pull requests", "view and download packages"]],
  ["triage", ["everything read allows", "manage issues and pull requests: apply labels, assign, close, reopen, mark duplicates", "no push access to code"]],
  ["write", ["everything triage allows", "push to the repository (branches not protected against it)", "merge pull requests, create releases, manage milestones", "edit and delete comments of others, run and re-run workflows"]],
  ["maintain", ["everything write allows", "manage repository settings except sensitive ones: topics, wikis, pages, merge options, pushes to protected branches", "no access to delete, transfer or change visibility, no access management"]],
  ["admin", ["everything maintain allows", "manage access: add collaborators and teams, change their roles", "manage security and analysis settings, webhooks, deploy keys, secrets", "delete, transfer, archive the repository and change its visibility"]],
]);
const REPO_ALIASES: ReadonlyMap<string, string> = new Map([
  ["pull", "read"],
  ["push", "write"],
]);

const ORG_OWNER = [
  "complete administrative access to the organization",
  "add and remove members, change roles, manage teams and every team's membership",
  "admin on every repository of the organization",
  "manage billing, security settings, GitHub Apps, OAuth app policies and audit log access",
  "delete the organization",
];

function repoRolePermissions(role: string): string[] | undefined {
  return REPO_ROLES.get(REPO_ALIASES.get(role) ?? role);
}

interface Described {
  kind: string;
  name: string;
  reason: string;
  permissions: string[];
  docs: string;
}

function describe(privilege: string, sample: Grant): Described | undefined {
  if (privilege === "org:owner") return { kind: "github_org_role", name: "organization owner", reason: "owners administer the whole organization", permissions: ORG_OWNER, docs: DOCS.org };
  if (privilege === "org:member") {
    const base = typeof sample.attributes?.base_repository_permission === "string" ? sample.attributes.base_repository_permission : null;
    const basePerms = base && base !== "none" ? repoRolePermissions(base) : undefined;
    return {
      kind: "github_org_role",
      name: "organization member",
      reason: base ? `members hold the organization's base repository permission (${base}) on every repository` : "members see the organization and its internal and public repositories",
      permissions: [
        "see the organization's members and visible teams",
        "create repositories and teams where the organization's settings allow it",
        base ? `base permission "${base}" on every repository of the organization${basePerms ? `: ${basePerms.join("; ")}` : ""}` : "base repository permission not reported",
      ],
      docs: DOCS.org,
    };
  }
  if (privilege === "site_admin") {
    return { kind: "github_other", name: "site administrator", reason: "site administrators manage the whole GitHub Enterprise Server instance", permissions: ["manage every user, organization and repository of the instance", "change instance settings and licences"], docs: DOCS.siteAdmin };
  }
  const deployKey = /^deploy_key:(read|write)$/.exec(privilege);
  if (deployKey) {
    const write = deployKey[1] === "write";
    return { kind: "github_other", name: `deploy key (${deployKey[1]})`, reason: write ? "a write deploy key can push" : "a read-only deploy key can only clone", permissions: write ? ["clone and pull the repository", "push to the repository"] : ["clone and pull the repository"], docs: DOCS.deployKey };
  }
  const app = /^app:(.+):(read|write|admin)$/.exec(privilege);
  if (app) {
    return { kind: "github_other", name: `GitHub App permission ${app[1]} (${app[2]})`, reason: `an installed app granted "${app[1]}: ${app[2]}"`, permissions: [`${app[2]} access to ${app[1]} on the repositories the installation covers`], docs: DOCS.app };
  }
  const collaborator = /^collaborator:(.+)$/.exec(privilege);
  if (collaborator) {
    const perms = repoRolePermissions(collaborator[1]!);
    return {
      kind: "github_repo_role",
      name: `repository ${collaborator[1]} (collaborator)`,
      reason: perms ? `GitHub's repository role "${collaborator[1]}"` : `repository role "${collaborator[1]}" is not one GitHub documents (a custom role): classed by its permission flags`,
      permissions: perms ?? ["a custom repository role: see the organization's repository roles"],
      docs: DOCS.repo,
    };
  }
  const team = /^team:([^:]+)(?::(.+))?$/.exec(privilege);
  if (team) {
    const [, slug, role] = team;
    if (role === undefined) {
      return { kind: "github_team_role", name: `team ${slug} (member)`, reason: "team members get the team's repository access", permissions: ["the repository roles the team holds (listed as team grants)", "see the team and its members"], docs: DOCS.team };
    }
    if (role === "maintainer") {
      return {
        kind: "github_team_role",
        name: `team ${slug} (maintainer)`,
        reason: "maintainers choose who gets the team's repository access",
        permissions: ["add and remove team members, promote members to maintainer", "change the team's name, description and visibility", "the team's repository access, as a member"],
        docs: DOCS.team,
      };
    }
    const perms = repoRolePermissions(role);
    return {
      kind: "github_repo_role",
      name: `repository ${role} (through team ${slug})`,
      reason: perms ? `GitHub's repository role "${role}", held through the team` : `repository role "${role}" is not one GitHub documents (a custom role)`,
      permissions: perms ?? ["a custom repository role: see the organization's repository roles"],
      docs: DOCS.repo,
    };
  }
  return undefined;
}

/**
 * Adds to `described` the definitions of the privileges of `grants` it does not hold yet. A privilege held at
 * several levels (a custom role, classed per repository by its flags) is described at the highest.
 */
function describeGrants(grants: readonly Grant[], described: Map<string, RoleDefinition>): void {
  for (const g of grants) {
    const known = described.get(g.privilege);
    if (known) {
      if (accessRank(g.level) > accessRank(known.level)) known.level = g.level;
      continue;
    }
    const d = describe(g.privilege, g);
    if (!d) continue;
    described.set(g.privilege, { id: g.privilege, privilege: g.privilege, name: d.name, kind: d.kind, level: g.level, reason: d.reason, permissions: d.permissions, attributes: { docs: d.docs } });
  }
}

/**
 * A scope's batches passed on as they come, then one batch with the definition of every privilege they
 * granted (GitHub's documented roles): sent after the grants, at the highest level each was held.
 */
export async function* withRoleDefinitions<B extends { grants?: Grant[] }>(batches: AsyncIterable<B>): AsyncGenerator<B | { roles: RoleDefinition[] }> {
  const described = new Map<string, RoleDefinition>();
  for await (const batch of batches) {
    yield batch;
    if (batch.grants) describeGrants(batch.grants, described);
  }
  if (described.size > 0) yield { roles: [...described.values()] };
}

// Per-repository reads: deploy keys (as credentials of the repository) and outside collaborators'
// repository roles. One request per repository and feature, bounded by `concurrency`.
import type { Logger } from "../../src/connector.js";
import type { Attributes, Grant } from "../../src/model.js";
import { describeError, type GithubClient } from "./client.js";
import { mapBounded } from "./concurrency.js";
import { mapCollaboratorGrant, mapDeployKey, mapDeployKeyGrant, mapRepoPrincipal } from "./map.js";
import type { OrgSettings } from "./org.js";
import { isRefusal, pages, type Batch, type Unavailable } from "./paging.js";
import type { Roster } from "./roster.js";
import type { GhCollaborator, GhDeployKey, GhRepository } from "./wire.js";

export async function* collectRepos(
  client: GithubClient,
  org: string,
  settings: OrgSettings,
  meta: Attributes,
  unavailable: Unavailable,
  roster: Roster,
  log: Logger,
): AsyncGenerator<Batch> {
  let repos = 0;
  let unlisted = 0;
  let unknownRoles = 0;
  let keys = 0;
  let collaboratorGrants = 0;
  const hidden = { keys: 0, collaborators: 0 };
  // Once one repository refuses (403/422), all will (same token, same permission): stop spending requests.
  const refused = { keys: !settings.collectDeployKeys, collaborators: !settings.collaboratorRepos };

  /** Reads one per-repository listing. 404 = this token cannot see it there (GitHub hides rather than refuses). */
  const perRepoList = async <T>(feature: "keys" | "collaborators", route: string, params: Record<string, unknown>): Promise<T[] | undefined> => {
    if (refused[feature]) return undefined;
    const out: T[] = [];
    try {
      for await (const page of pages<T>(client, route, params)) out.push(...page);
      return out;
    } catch (err) {
      if (!isRefusal(err)) throw err;
      if (describeError(err).status === 404) {
        hidden[feature]++;
        return undefined;
      }
      if (!refused[feature]) unavailable(feature === "keys" ? "deploy_keys" : "collaborator_repos")(describeError(err).message);
      refused[feature] = true;
      return undefined;
    }
  };

  async function* eachRepo() {
    for await (const page of pages<GhRepository>(client, "GET /orgs/{org}/repos", { org, type: "all" })) for (const r of page) yield r;
  }
  const perRepo = async (repo: GhRepository): Promise<Batch | undefined> => {
    // owner.login and name identify the repository; full_name is for display.
    const owner = repo.owner.login;
    const name = repo.name;
    const deployKeys = await perRepoList<GhDeployKey>("keys", "GET /repos/{owner}/{repo}/keys", { owner, repo: name });
    const collaborators = await perRepoList<GhCollaborator>("collaborators", "GET /repos/{owner}/{repo}/collaborators", {
      owner,
      repo: name,
      affiliation: "outside",
    });
    const batch: Batch = { principals: [], credentials: [], grants: [] };
    if (deployKeys?.length) {
      // Only repositories holding deploy keys become principals; the rest would be noise.
      batch.principals!.push(mapRepoPrincipal(repo));
      const modes = new Map<string, Grant>();
      for (const key of deployKeys) {
        batch.credentials!.push(mapDeployKey(key, repo));
        const g = mapDeployKeyGrant(key, repo);
        modes.set(g.privilege, g);
      }
      batch.grants!.push(...modes.values());
      keys += deployKeys.length;
    }
    for (const c of collaborators ?? []) {
      // On the principal the scope returned for this id. Someone no listing returned keeps the id
      // GitHub gave (the engine attaches an unresolved holder): never another person's.
      const principalId = roster.nodeIdOf(c);
      if (principalId === undefined) unlisted++;
      const grant = mapCollaboratorGrant(c, repo, principalId ?? c.node_id);
      if (grant.attributes?.role_unknown) unknownRoles++;
      batch.grants!.push(grant);
    }
    collaboratorGrants += collaborators?.length ?? 0;
    return batch.principals!.length || batch.grants!.length ? batch : undefined;
  };
  for await (const batch of mapBounded(eachRepo(), settings.concurrency, perRepo)) {
    repos++;
    if (batch) yield batch;
  }
  meta.repositories = repos;
  if (unlisted) {
    meta.collaborator_grants_on_unlisted_principals = unlisted;
    log.warn({ scope: org, grants: unlisted }, "GitHub: repository collaborators that no org listing returned");
  }
  if (unknownRoles) {
    meta.collaborator_grants_role_unknown = unknownRoles;
    log.warn({ scope: org, grants: unknownRoles }, "GitHub: collaborator roles GitHub did not state (neither role_name nor permissions); recorded as unknown");
  }
  if (settings.collectDeployKeys && meta.deploy_keys_status === undefined) meta.deploy_keys = keys;
  if (settings.collaboratorRepos && meta.collaborator_repos_status === undefined) meta.outside_collaborator_repo_grants = collaboratorGrants;
  if (hidden.keys) meta.deploy_keys_not_visible_repositories = hidden.keys;
  if (hidden.collaborators) meta.collaborators_not_visible_repositories = hidden.collaborators;
}

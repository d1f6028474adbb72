// Teams: membership grants per team (maintainers and members, child teams included as GitHub lists
// them) and, with collect_repo_grants, each team's repository roles expanded onto its members.
import type { Attributes, Grant } from "../../src/model.js";
import type { GithubClient } from "./client.js";
import { mapBounded } from "./concurrency.js";
import { mapTeamMembershipGrant, mapTeamRepoGrant } from "./map.js";
import type { OrgSettings } from "./org.js";
import { chunks, MAX_BATCH, optionalPages, pages, type Batch, type Unavailable } from "./paging.js";
import type { Roster } from "./roster.js";
import type { GhRepository, GhSimpleUser, GhTeam } from "./wire.js";

export async function* collectTeams(
  client: GithubClient,
  org: string,
  settings: OrgSettings,
  meta: Attributes,
  roster: Roster,
  unavailable: Unavailable,
): AsyncGenerator<Batch> {
  let teams = 0;
  let notMembers = 0;
  const teamPages = optionalPages(pages<GhTeam>(client, "GET /orgs/{org}/teams", { org }), unavailable("teams"));
  async function* eachTeam() {
    for await (const page of teamPages) for (const t of page) yield t;
  }
  interface TeamResult {
    team: GhTeam;
    late: Batch[];
    grants: Grant[];
    memberIds: string[];
    repos: GhRepository[];
  }
  const perTeam = async (team: GhTeam): Promise<TeamResult> => {
    const r: TeamResult = { team, late: [], grants: [], memberIds: [], repos: [] };
    for (const role of ["maintainer", "member"] as const) {
      for await (const page of pages<GhSimpleUser>(client, "GET /orgs/{org}/teams/{team_slug}/members", { org, team_slug: team.slug, role })) {
        for (const user of page) {
          const nodeId = await roster.resolve(user, (b) => r.late.push(b));
          if (!nodeId) {
            notMembers++;
            continue;
          }
          // The id the scope returned for this person, not the one this listing spells.
          r.grants.push(mapTeamMembershipGrant(nodeId, org, team, role));
          r.memberIds.push(nodeId);
        }
      }
    }
    if (settings.collectRepoGrants && r.memberIds.length > 0) {
      for await (const page of pages<GhRepository>(client, "GET /orgs/{org}/teams/{team_slug}/repos", { org, team_slug: team.slug })) r.repos.push(...page);
    }
    return r;
  };
  for await (const r of mapBounded(eachTeam(), settings.concurrency, perTeam)) {
    teams++;
    yield* r.late;
    for (const c of chunks(r.grants)) yield { grants: c };
    // members × repositories can be large: expand lazily, one bounded batch at a time.
    let derived: Grant[] = [];
    for (const repo of r.repos) {
      for (const id of r.memberIds) {
        derived.push(mapTeamRepoGrant(id, r.team, repo));
        if (derived.length >= MAX_BATCH) {
          yield { grants: derived };
          derived = [];
        }
      }
    }
    if (derived.length) yield { grants: derived };
  }
  if (meta.teams_status === undefined) meta.teams = teams;
  if (notMembers) meta.team_members_not_in_org = notMembers;
}


// Collection of one GitHub organization (one scope): the order of the phases, what is optional, and
// what each phase hands on. Records leave page by page; what is kept per org is the roster (member
// ids and logins, to resolve later listings) and the 2FA / audit-log lookups.
import { mapEach, type CollectContext, type Logger } from "../../src/connector.js";
import { META, type Attributes, type Credential, type Grant, type Principal } from "../../src/model.js";
import type { GithubClient } from "./client.js";
import {
  describeFailedInvitation,
  mapCredentialAuthorization,
  mapInstallation,
  mapInvitation,
  mapOrgRoleGrant,
  mapOrgUser,
  mapPatGrant,
  mapPatRequest,
  type MfaKnowledge,
} from "./map.js";
import { optionalPages, pages, type Batch, type Paginated } from "./paging.js";
import { collectRepos } from "./repos.js";
import { Roster } from "./roster.js";
import { readAuditLog, readMfa } from "./signals.js";
import { collectTeams } from "./teams.js";
import type { GhCredentialAuthorization, GhInstallation, GhInvitation, GhOrganization, GhPatGrant, GhPatRequest, GhSimpleUser } from "./wire.js";


export interface OrgSettings {
  authKind: "app" | "token";
  collectTeams: boolean;
  collectRepoGrants: boolean;
  collaboratorRepos: boolean;
  collectDeployKeys: boolean;
  collectInvitations: boolean;
  collectPats: boolean;
  collectCredentialAuthorizations: boolean;
  collectInstallations: boolean;
  mfaInsecure: boolean;
  auditLog: boolean;
  auditLogDays: number;
  auditLogMaxPages: number;
  concurrency: number;
}

export interface OrgContext extends Pick<CollectContext, "quarantine"> {
  log: Logger;
  now: () => Date;
  /** For logging an unavailable feature once per source and org, not every cycle. */
  sourceId: string;
}

const META_LIST_CAP = 200;

const reportedUnavailable = new Set<string>();

export async function* collectOrg(
  client: GithubClient,
  org: string,
  settings: OrgSettings,
  ctx: OrgContext,
  meta: Attributes,
): AsyncGenerator<Batch> {
  const unavailable = (feature: string) => (reason: string) => {
    // Recorded as coverage every run; logged once per process (a plan that lacks it lacks it every cycle).
    meta[`${feature}_status`] = `unavailable: ${reason}`;
    const key = `${ctx.sourceId}\u001f${org}\u001f${feature}\u001f${reason.replace(/\(x-github-request-id [^)]*\)/, "")}`;
    if (reportedUnavailable.has(key)) return;
    reportedUnavailable.add(key);
    ctx.log.info({ scope: org, feature, reason }, "GitHub: not available to this token or plan; recorded in the scope's coverage");
  };

  const { data: orgData } = (await client.request("GET /orgs/{org}", { org })) as unknown as { data: GhOrganization };
  // Every record of the scope hangs off this answer: one about another org fails the scope.
  if (typeof orgData.login !== "string" || orgData.login.toLowerCase() !== org.toLowerCase()) {
    throw new Error(`GET /orgs/${org} answered about ${JSON.stringify(orgData.login ?? null)}, not ${org}: refused`);
  }
  meta.org_id = orgData.id;
  meta.org_node_id = orgData.node_id;
  meta.org_plan = orgData.plan?.name ?? null;
  meta.two_factor_requirement_enabled = orgData.two_factor_requirement_enabled ?? null;
  meta.default_repository_permission = orgData.default_repository_permission ?? null;
  const basePermission = orgData.default_repository_permission ?? null;

  const activity = settings.auditLog ? await readAuditLog(client, org, settings, ctx, meta) : undefined;
  if (!settings.auditLog) {
    meta.last_active = "unknown: GitHub has no last-login field; audit_log = false";
    meta[META.activityUnknownReason] = "GitHub has no last-login field; set audit_log = true (Enterprise Cloud / Server) to derive it";
  }

  // --- members -------------------------------------------------------------------------------
  const memberMfa = await readMfa(client, org, "/orgs/{org}/members", settings, orgData, meta, "members");
  meta.mfa = memberMfa.kind === "unknown" ? `unknown: ${memberMfa.reason}` : memberMfa.kind;
  const roster = new Roster(client, org, activity, basePermission, (obj, msg) => ctx.log.warn(obj, msg), memberMfa);
  let owners = 0;
  let members = 0;
  // A user the listing gave but that cannot be mapped is quarantined with the org-role grant it would carry,
  // so that neither reads as removed; the rest of the page is stored.
  const unmappable = (withGrant: boolean) => (u: GhSimpleUser) => {
    const id = typeof u?.node_id === "string" && u.node_id !== "" ? u.node_id : null;
    if (withGrant) ctx.quarantine(org, { table: "grants", principalId: id, reason: "the org member holding it could not be mapped" });
    return { id };
  };
  for (const role of ["admin", "member"] as const) {
    const relation = role === "admin" ? "owner" : "member";
    for await (const page of pages<GhSimpleUser>(client, "GET /orgs/{org}/members", { org, role })) {
      const mapped = mapEach(ctx, org, "principals", page, (user) => {
        const principal = mapOrgUser(user, relation, memberMfa, activity);
        // A role change between the two listings can show a user twice; the owner listing ran first.
        if (!roster.add(user)) return null;
        return { principal, grant: mapOrgRoleGrant(user, org, relation, basePermission) };
      }, unmappable(true));
      if (role === "admin") owners += mapped.length;
      else members += mapped.length;
      if (mapped.length) yield { principals: mapped.map((m) => m.principal), grants: mapped.map((m) => m.grant) };
    }
  }
  meta.owners = owners;
  meta.members = members;

  // --- outside collaborators -------------------------------------------------------------------
  const outsideMfa: MfaKnowledge =
    memberMfa.kind === "filter"
      ? await readMfa(client, org, "/orgs/{org}/outside_collaborators", settings, orgData, meta, "outside_collaborators")
      : memberMfa;
  let outside = 0;
  for await (const page of optionalPages(pages<GhSimpleUser>(client, "GET /orgs/{org}/outside_collaborators", { org }), unavailable("outside_collaborators"))) {
    const principals = mapEach(ctx, org, "principals", page, (u) => {
      const principal = mapOrgUser(u, "outside_collaborator", outsideMfa, activity);
      return roster.add(u) ? principal : null;
    }, unmappable(false));
    outside += principals.length;
    if (principals.length) yield { principals };
  }
  meta.outside_collaborators = outside;

  // --- invitations ---------------------------------------------------------------------------
  if (settings.collectInvitations) {
    let pending = 0;
    for await (const page of optionalPages(pages<GhInvitation>(client, "GET /orgs/{org}/invitations", { org }), unavailable("invitations"))) {
      pending += page.length;
      if (page.length) yield { principals: page.map(mapInvitation) };
    }
    meta.pending_invitations = pending;
    const failed: string[] = [];
    let failedCount = 0;
    for await (const page of optionalPages(pages<GhInvitation>(client, "GET /orgs/{org}/failed_invitations", { org }), unavailable("failed_invitations"))) {
      failedCount += page.length;
      for (const inv of page) if (failed.length < META_LIST_CAP) failed.push(describeFailedInvitation(inv));
    }
    meta.failed_invitations = failedCount;
    meta.failed_invitation_list = failed;
  }

  // --- teams ---------------------------------------------------------------------------------
  if (settings.collectTeams) yield* collectTeams(client, org, settings, meta, roster, unavailable);

  // --- GitHub App installations --------------------------------------------------------------
  if (settings.collectInstallations) {
    let n = 0;
    for await (const page of optionalPages(pages<GhInstallation>(client, "GET /orgs/{org}/installations", { org }), unavailable("installations"))) {
      const principals: Principal[] = [];
      const grants: Grant[] = [];
      for (const inst of page) {
        const m = mapInstallation(inst, org);
        principals.push(m.principal);
        grants.push(...m.grants);
      }
      n += principals.length;
      if (principals.length) yield { principals, grants };
    }
    meta.installations = n;
  }

  // --- fine-grained PATs (GitHub Apps only) --------------------------------------------------
  if (settings.collectPats) {
    if (settings.authKind !== "app") {
      meta.pats_status = "unavailable: only a GitHub App can list fine-grained PATs (GET /orgs/{org}/personal-access-tokens)";
    } else {
      // Owners are members or outside collaborators; one who left meanwhile is dropped and counted.
      let orphaned = 0;
      const owned = async function* <T extends GhPatGrant | GhPatRequest>(source: Paginated<T>, map: (t: T, principalId: string) => Credential): AsyncGenerator<Batch> {
        for await (const page of source) {
          const late: Batch[] = [];
          const credentials: Credential[] = [];
          for (const item of page) {
            const principalId = await roster.resolve(item.owner, (b) => late.push(b));
            if (principalId) credentials.push(map(item, principalId));
            else orphaned++;
          }
          yield* late;
          if (credentials.length) yield { credentials };
        }
      };
      let grantsN = 0;
      for await (const b of owned(optionalPages(pages<GhPatGrant>(client, "GET /orgs/{org}/personal-access-tokens", { org }), unavailable("pats")), mapPatGrant)) {
        grantsN += b.credentials?.length ?? 0;
        yield b;
      }
      if (meta.pats_status === undefined) meta.pats = grantsN;
      let requests = 0;
      for await (const b of owned(
        optionalPages(pages<GhPatRequest>(client, "GET /orgs/{org}/personal-access-token-requests", { org }), unavailable("pat_requests")),
        mapPatRequest,
      )) {
        requests += b.credentials?.length ?? 0;
        yield b;
      }
      if (meta.pat_requests_status === undefined) meta.pat_requests_pending = requests;
      if (orphaned) meta.pats_of_non_members = orphaned;
    }
  }

  // --- SAML SSO credential authorizations ----------------------------------------------------
  if (settings.collectCredentialAuthorizations) {
    let n = 0;
    let orphaned = 0;
    for await (const page of optionalPages(
      pages<GhCredentialAuthorization>(client, "GET /orgs/{org}/credential-authorizations", { org }),
      unavailable("credential_authorizations"),
    )) {
      const late: Batch[] = [];
      const credentials: Credential[] = [];
      for (const c of page) {
        const principalId = await roster.resolve({ login: c.login }, (b) => late.push(b));
        // Not a member any more: the authorization opens nothing in this org.
        if (!principalId) {
          orphaned++;
          continue;
        }
        credentials.push(mapCredentialAuthorization(c, principalId, ctx.now()));
      }
      yield* late;
      n += credentials.length;
      if (credentials.length) yield { credentials };
    }
    if (meta.credential_authorizations_status === undefined) meta.credential_authorizations = n;
    if (orphaned) meta.credential_authorizations_of_non_members = orphaned;
  }

  // --- per-repository: deploy keys and outside collaborators' permissions --------------------
  if (settings.collectDeployKeys || settings.collaboratorRepos) yield* collectRepos(client, org, settings, meta, unavailable, roster, ctx.log);
  if (roster.lateJoiners) meta.members_joined_during_collection = roster.lateJoiners;
  if (roster.mismatched) meta.membership_answers_about_another_user = roster.mismatched;
}


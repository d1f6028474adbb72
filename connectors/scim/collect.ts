// One SCIM service is one scope: its groups are read first (who is in which group, nesting expanded),
// then its users page by page, each page handed on as principals with their grants.
import { mapEach, type CollectContext, type PreserveSelector } from "../../src/connector.js";
import { META, type Attributes, type Grant, type Principal } from "../../src/model.js";
import { ScimRequestError, type ScimClient } from "./client.js";
import { ACTIVITY_UNKNOWN_REASON, buildGroupIndex, isoUtc, mapUser, type GroupIndex, type MapSettings } from "./map.js";
import { complete, listResources, type Listing } from "./paging.js";
import type { ScimGroup, ScimListResponse, ScimUser } from "./wire.js";

export interface Batch {
  principals?: Principal[];
  grants?: Grant[];
}

export interface ScopeSettings extends MapSettings {
  pageSize: number;
  concurrency: number;
}

export interface ScopeResult {
  meta: Attributes;
  preserve: PreserveSelector[];
}

/**
 * Statuses that mean "this service has no /Groups for this token" rather than a failure: RFC 7644 lets a
 * service provider leave out Groups (501), and apps answer 403 or 404 for an endpoint they do not offer.
 */
const GROUPS_REFUSED = new Set([403, 404, 501]);

export async function* collectScope(
  client: ScimClient,
  s: ScopeSettings,
  ctx: Pick<CollectContext, "log" | "quarantine">,
  result: ScopeResult,
): AsyncGenerator<Batch> {
  const { log } = ctx;
  const { meta } = result;
  meta.last_active = "unknown: SCIM has no last-activity attribute";
  meta[META.activityUnknownReason] = ACTIVITY_UNKNOWN_REASON;

  const list =
    <T extends { id?: unknown }>(resource: "Users" | "Groups") =>
    (skip?: ReadonlySet<string>): Listing<T> =>
      listResources<T>((startIndex, count) => client.get<ScimListResponse<T>>(resource, { startIndex, count }), {
        what: resource,
        pageSize: s.pageSize,
        concurrency: s.concurrency,
        skip,
      });

  // --- groups: all of them before any user, since a user's access level depends on them.
  const groups = new Map<string, ScimGroup>();
  let groupsRead = true;
  try {
    for await (const page of readAll(list<ScimGroup>("Groups"), "groups", meta)) {
      for (const g of page) {
        if (typeof g?.id === "string" && g.id !== "") groups.set(g.id, g);
        // Whose group it was cannot be told: every stored grant of the scope is kept as it was.
        else ctx.quarantine(s.scope, { table: "grants", reason: `could not be mapped: /Groups returned a group without id (displayName ${JSON.stringify(typeof g?.displayName === "string" ? g.displayName : null)})` });
      }
    }
  } catch (err) {
    if (!(err instanceof ScimRequestError) || err.status === null || !GROUPS_REFUSED.has(err.status) || groups.size > 0) throw err;
    groupsRead = false;
    meta.groups_status = `unavailable: ${err.message}`;
    log.warn({ reason: err.message }, "scim: /Groups not available; group membership comes from the users' groups attribute only");
  }
  const index: GroupIndex = buildGroupIndex(groups.values());
  meta.groups = groupsRead ? groups.size : null;

  // --- users, streamed page by page.
  let newest: string | null = null;
  let withGroupsAttribute = 0;
  let users = 0;
  let deactivated = 0;
  for await (const page of readAll(list<ScimUser>("Users"), "users", meta)) {
    const principals: Principal[] = [];
    const grants: Grant[] = [];
    // A user that cannot be mapped is quarantined; the rest of the page is stored.
    const mapped = mapEach(ctx, s.scope, "principals", page, (u) => mapUser(u, index, s), (u) => ({ id: typeof u?.id === "string" && u.id !== "" ? u.id : null, kind: "human" }));
    for (const m of mapped) {
      principals.push(m.principal);
      grants.push(...m.grants);
      if (m.principal.status !== "active") deactivated++;
    }
    for (const u of page) {
      if (Array.isArray(u?.groups) && u.groups.length > 0) withGroupsAttribute++;
      const modified = isoUtc(u?.meta?.lastModified);
      if (modified && (newest === null || modified > newest)) newest = modified;
    }
    users += principals.length;
    if (principals.length > 0) yield { principals, grants };
  }
  meta.users = users;
  meta.users_deactivated = deactivated;
  // Not stored per user: identity providers re-push accounts and bump it without any change.
  meta.newest_last_modified = newest;

  if (!groupsRead && withGroupsAttribute === 0) {
    // Neither /Groups nor a groups attribute: membership is unknown this run, not gone.
    result.preserve.push({ table: "grants", privilegePrefix: "group:", reason: `group membership unknown: ${meta.groups_status}` });
  }
}

/**
 * Every resource of a list. Index paging over a list that changes while it is read can skip one (a
 * deletion shifts the rest down a place); when a pass saw fewer distinct ids than the server counts, a
 * second pass hands on what the first missed. A second pass that sees exactly the same ids means the
 * server's count is off, not the list (noted in the meta); one that differs again fails the scope, since
 * a skipped account would read as removed.
 */
async function* readAll<T>(make: (skip?: ReadonlySet<string>) => Listing<T>, what: string, meta: Attributes): AsyncGenerator<T[]> {
  const first = make();
  yield* first.pages;
  meta[`${what}_pages`] = first.stats.pages;
  if (first.stats.shortPages) meta[`${what}_short_pages`] = first.stats.shortPages;
  if (first.stats.duplicates) meta[`${what}_duplicates`] = first.stats.duplicates;
  if (complete(first)) return;

  const second = make(first.ids);
  yield* second.pages;
  meta[`${what}_pages`] = first.stats.pages + second.stats.pages;
  meta[`${what}_second_pass`] = `first pass saw ${first.ids.size} distinct of ${first.stats.totalResults}${first.stats.totalChanged ? ", and the count changed while it was read" : ""}`;
  if (complete(second)) return;
  if (second.ids.size === first.ids.size && [...second.ids].every((id) => first.ids.has(id))) {
    meta[`${what}_count_mismatch`] = `the server counts ${second.stats.totalResults} but lists ${second.ids.size}, the same ones twice`;
    return;
  }
  throw new Error(
    `${what}: the list changed while it was read (${first.ids.size} then ${second.ids.size} distinct of ${second.stats.totalResults}); not stored, so that no account looks removed`,
  );
}

// The role catalogue as of a run: every privilege someone holds, what its definition permits, and who holds it.
// A privilege held without a stored definition (a connector that collects none, a role it could not read)
// is still listed, marked as such: the catalogue never hides held access for want of a description.
import { accessRank, type Attributes, type GrantVia, type RoleDefinition } from "../model.js";
import type { Db } from "./db.js";
import { before, HELD_AT_RUN, heldAtRun, scopesAsOf } from "./reader.js";
import type { RoleHolder, RoleSummary, RoleView } from "../views.js";

// The records are defined in src/views.ts (the renderers name them without importing the store).
export type { RoleHolder, RoleSummary, RoleView } from "../views.js";

export interface RoleFilter {
  sources?: string[];
  /** `source/scope` keys. */
  scopes?: Set<string>;
}


type RoleRow = {
  id: string;
  privilege: string;
  name: string;
  kind: string;
  level: RoleView["level"];
  reason: string;
  permissions: string;
  holder_id: string | null;
  attributes: string | null;
  since: string | null;
};
type GrantRow = { principal_id: string; privilege: string; level: RoleView["level"]; grant_scope: string; via: GrantVia };

/** Most privileged first, then the most widely held, then by name. */
export function compareRoles(a: RoleSummary, b: RoleSummary): number {
  return (
    accessRank(b.level) - accessRank(a.level) ||
    b.holderCount - a.holderCount ||
    a.name.localeCompare(b.name) ||
    a.source.localeCompare(b.source) ||
    a.scope.localeCompare(b.scope) ||
    (a.holderId ?? "").localeCompare(b.holderId ?? "")
  );
}

/** Holder order, as SQLite's ORDER BY name, id sorts them (the holder cursor reads them in that order). */
function byHolder(a: RoleHolder, b: RoleHolder): number {
  if (a.name !== b.name) return before(a.name, b.name) ? -1 : 1;
  return a.id === b.id ? 0 : before(a.id, b.id) ? -1 : 1;
}

export interface RoleCatalogue {
  /** Sorted by compareRoles. Definitions nobody holds are left out. */
  roles: RoleSummary[];
  /**
   * Each of `roles` (roles of `roles` above, or copies of them, in any order) with every one of its holders, in
   * holder order: read lazily, so a role's holders are read before the next role is asked for (what is left
   * unread of them is skipped). One sorted read of the grants for all of them, not one scan per role (at 200k
   * principals, 51 roles: 1.2 s against 10.7 s).
   */
  eachRoleHolders<R extends RoleSummary>(roles: R[]): Generator<[R, Iterable<RoleHolder>]>;
  /** How many principals (per scope) hold at least one of `roles` (some of `roles` above, or copies of them). */
  principalsHolding(roles: RoleSummary[]): number;
}

/**
 * The catalogue at run `runId` in one pass over the grants, holding per role its holder count and its first
 * `keep` holders, not every holder: a role held by half a million accounts costs 25 names here, and
 * eachRoleHolders reads the rest by cursor when a caller wants them all (JSON, CSV).
 */
export function roleCatalogueAt(db: Db, runId: number, filter: RoleFilter, keep: number): RoleCatalogue {
  const rolesQ = db.prepare(
    `SELECT id, privilege, name, kind, level, reason, permissions, holder_id, attributes, (SELECT started_at FROM runs WHERE runs.id = roles.from_run) AS since
     FROM roles WHERE sid = @sid AND ${HELD_AT_RUN} ORDER BY id`,
  );
  // Grant ids begin with the principal id and a separator: a principal's grants come together.
  const grantsQ = db.prepare(
    `SELECT g.principal_id, g.privilege, g.level, g.grant_scope, g.via, p.name
     FROM grants g LEFT JOIN principals p ON p.sid = g.sid AND p.id = g.principal_id AND ${heldAtRun("p")}
     WHERE g.sid = @sid AND ${heldAtRun("g")} ORDER BY g.id`,
  );
  const out: RoleSummary[] = [];
  // Principals holding any role, counted as the pass ends each one's grants: the catalogue's own holder total.
  let principals = 0;
  const sids = new Map<string, { sid: number; ownedBy: [privilege: string, holder: string][] }>();
  const ownedKey = (privilege: string, holder: string) => `${privilege}\u001f${holder}`;
  for (const scope of scopesAsOf(db, runId)) {
    if (filter.sources && !filter.sources.includes(scope.source)) continue;
    if (filter.scopes && !filter.scopes.has(`${scope.source}/${scope.scope}`)) continue;
    const params = { sid: scope.sid, run: runId };
    const base = { source: scope.source, sourceType: scope.sourceType, scope: scope.scope };
    // Shared definitions by privilege; one-holder definitions (inline policies) by privilege and holder.
    const shared = new Map<string, RoleSummary>();
    const owned = new Map<string, RoleSummary>();
    for (const r of rolesQ.iterate(params) as Iterable<RoleRow>) {
      const view: RoleSummary = {
        ...base,
        id: r.id,
        privilege: r.privilege,
        name: r.name,
        kind: r.kind,
        level: r.level,
        reason: r.reason,
        permissions: JSON.parse(r.permissions) as string[],
        holderId: r.holder_id,
        attributes: r.attributes ? (JSON.parse(r.attributes) as Attributes) : null,
        since: r.since,
        holderCount: 0,
        firstHolders: [],
      };
      if (r.holder_id === null) shared.set(r.privilege, view);
      else owned.set(ownedKey(r.privilege, r.holder_id), view);
    }
    sids.set(`${scope.source}/${scope.scope}`, { sid: scope.sid, ownedBy: [...owned.values()].map((v) => [v.privilege, v.holderId!]) });
    const undefinedRoles = new Map<string, RoleSummary>();
    const held = new Set<RoleSummary>();
    // The roles the current principal holds, with how; counted and offered to each role's first holders when its grants end.
    let current: string | null = null;
    let mine = new Map<RoleSummary, RoleHolder>();
    const flush = () => {
      if (mine.size > 0) principals++;
      for (const [view, h] of mine) {
        view.holderCount++;
        h.grantScopes.sort();
        view.firstHolders.push(h);
        // Sorted and cut back to `keep` when twice that: n log keep, never a whole role's holders.
        if (view.firstHolders.length >= 2 * keep) view.firstHolders = view.firstHolders.sort(byHolder).slice(0, keep);
        held.add(view);
      }
      mine = new Map();
    };
    for (const g of grantsQ.iterate(params) as Iterable<GrantRow & { name: string | null }>) {
      if (g.principal_id !== current) {
        flush();
        current = g.principal_id;
      }
      let view = owned.get(ownedKey(g.privilege, g.principal_id)) ?? shared.get(g.privilege);
      if (!view) {
        view = undefinedRoles.get(g.privilege);
        if (!view) {
          view = { ...base, id: null, privilege: g.privilege, name: g.privilege, kind: "undefined", level: g.level, reason: "no definition collected for this privilege", permissions: [], holderId: null, attributes: null, since: null, holderCount: 0, firstHolders: [] };
          undefinedRoles.set(g.privilege, view);
        } else if (accessRank(g.level) > accessRank(view.level)) view.level = g.level;
      }
      let h = mine.get(view);
      if (!h) mine.set(view, (h = { id: g.principal_id, name: g.name ?? g.principal_id, via: [], grantScopes: [] }));
      if (!h.via.includes(g.via)) h.via.push(g.via);
      if (!h.grantScopes.includes(g.grant_scope)) h.grantScopes.push(g.grant_scope);
    }
    flush();
    for (const view of held) {
      view.firstHolders = view.firstHolders.sort(byHolder).slice(0, keep);
      out.push(view);
    }
  }
  out.sort(compareRoles);

  // Which role each grant goes to, as two temporary tables the read joins: a holder's own definition of a privilege
  // when there is one (even one not asked for, whose grants then go nowhere), else the shared or undefined role.
  // `slot`: the role's place in the order asked for, NULL for a role not asked for.
  /** Creates and fills the slot tables, returning the scopes they name; dropSlots must follow. */
  function fillSlots(roles: RoleSummary[]): number[] {
    db.exec(`CREATE TEMP TABLE whohas_shared_slot (sid INTEGER NOT NULL, privilege TEXT NOT NULL, slot INTEGER, PRIMARY KEY (sid, privilege)) WITHOUT ROWID;
             CREATE TEMP TABLE whohas_owned_slot (sid INTEGER NOT NULL, privilege TEXT NOT NULL, holder TEXT NOT NULL, slot INTEGER, PRIMARY KEY (sid, privilege, holder)) WITHOUT ROWID`);
    try {
      const shared = db.prepare("INSERT INTO temp.whohas_shared_slot VALUES (?, ?, ?)");
      const owned = db.prepare("INSERT OR REPLACE INTO temp.whohas_owned_slot VALUES (?, ?, ?, ?)");
      const used = new Set<number>();
      roles.forEach((role, slot) => {
        const at = sids.get(`${role.source}/${role.scope}`);
        if (!at) return;
        if (!used.has(at.sid)) {
          used.add(at.sid);
          for (const [privilege, holder] of at.ownedBy) owned.run(at.sid, privilege, holder, null);
        }
        if (role.holderId === null) shared.run(at.sid, role.privilege, slot);
        else owned.run(at.sid, role.privilege, role.holderId, slot);
      });
      return [...used];
    } catch (err) {
      dropSlots();
      throw err;
    }
  }
  function dropSlots(): void {
    db.exec("DROP TABLE temp.whohas_shared_slot; DROP TABLE temp.whohas_owned_slot");
  }
  const slotted = (select: string, order: string) =>
    `SELECT ${select}
     FROM grants g LEFT JOIN principals p ON p.sid = g.sid AND p.id = g.principal_id AND ${heldAtRun("p")}
     LEFT JOIN temp.whohas_owned_slot o ON o.sid = g.sid AND o.privilege = g.privilege AND o.holder = g.principal_id
     LEFT JOIN temp.whohas_shared_slot s ON s.sid = g.sid AND s.privilege = g.privilege AND o.sid IS NULL
     WHERE g.sid IN (SELECT value FROM json_each(@sids)) AND ${heldAtRun("g")} AND COALESCE(o.slot, s.slot) IS NOT NULL ${order}`;

  function* eachRoleHolders<R extends RoleSummary>(roles: R[]): Generator<[R, Iterable<RoleHolder>]> {
    // Roles whose first holders are all of them are not read again.
    const unread = roles.map((r) => (r.firstHolders.length >= r.holderCount ? null : r));
    const used = fillSlots(unread.filter((r) => r !== null));
    try {
      // temp_store is FILE (the store's default and SQLite's build here): the sort spills to disk, not to RSS.
      const rows = db
        .prepare(slotted("COALESCE(o.slot, s.slot) AS slot, g.principal_id AS id, COALESCE(p.name, g.principal_id) AS name, g.via, g.grant_scope", "ORDER BY slot, name, id, g.id"))
        .iterate({ sids: JSON.stringify(used), run: runId }) as Iterator<{ slot: number; id: string; name: string; via: GrantVia; grant_scope: string }>;
      let next = rows.next();
      let slot = -1;
      function* holders(at: number): Generator<RoleHolder> {
        let h: RoleHolder | null = null;
        for (; !next.done && next.value.slot === at; next = rows.next()) {
          const g = next.value;
          if (h && h.id !== g.id) {
            h.grantScopes.sort();
            yield h;
            h = null;
          }
          h ??= { id: g.id, name: g.name, via: [], grantScopes: [] };
          if (!h.via.includes(g.via)) h.via.push(g.via);
          if (!h.grantScopes.includes(g.grant_scope)) h.grantScopes.push(g.grant_scope);
        }
        if (h) {
          h.grantScopes.sort();
          yield h;
        }
      }
      try {
        for (const [i, role] of roles.entries()) {
          if (unread[i] === null) {
            yield [role, role.firstHolders];
            continue;
          }
          slot++;
          yield [role, holders(slot)];
          // What the caller left unread of this role is skipped, not given to the next.
          while (!next.done && next.value.slot === slot) next = rows.next();
        }
      } finally {
        rows.return?.();
      }
    } finally {
      dropSlots();
    }
  }

  function principalsHolding(roles: RoleSummary[]): number {
    // The catalogue's own roles, unfiltered: counted by the pass that built it.
    if (roles.length === out.length) return principals;
    if (roles.length === 0) return 0;
    const used = fillSlots(roles);
    try {
      return db.prepare(`SELECT COUNT(*) FROM (${slotted("DISTINCT g.sid, g.principal_id", "")})`).pluck().get({ sids: JSON.stringify(used), run: runId }) as number;
    } finally {
      dropSlots();
    }
  }

  return { roles: out, eachRoleHolders, principalsHolding };
}

/** Rows the store holds for role definitions of run `runId` (opened in it): what an unchanged run must not add. */
export function roleVersionsOpenedIn(db: Db, runId: number): number {
  return db.prepare("SELECT COUNT(*) FROM roles WHERE from_run = ?").pluck().get(runId) as number;
}

// The role catalogue as of a run: every privilege someone holds, what its definition permits, and who holds it.
// A privilege held without a stored definition (a connector that collects none, a role it could not read)
// is still listed, marked as such: the catalogue never hides held access for want of a description.
import { accessRank, type Attributes, type GrantVia, type RoleDefinition } from "../model.js";
import type { Db } from "./db.js";
import { HELD_AT_RUN, scopesAsOf } from "./reader.js";
import type { RoleHolder, RoleView } from "../views.js";

// The records are defined in src/views.ts (the renderers name them without importing the store).
export type { RoleHolder, RoleView } from "../views.js";

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
export function compareRoles(a: RoleView, b: RoleView): number {
  return (
    accessRank(b.level) - accessRank(a.level) ||
    b.holders.length - a.holders.length ||
    a.name.localeCompare(b.name) ||
    a.source.localeCompare(b.source) ||
    a.scope.localeCompare(b.scope) ||
    (a.holderId ?? "").localeCompare(b.holderId ?? "")
  );
}

/** The catalogue at run `runId`, sorted by compareRoles. Definitions nobody holds are left out. */
export function rolesAt(db: Db, runId: number, filter: RoleFilter = {}): RoleView[] {
  const rolesQ = db.prepare(
    `SELECT id, privilege, name, kind, level, reason, permissions, holder_id, attributes, (SELECT started_at FROM runs WHERE runs.id = roles.from_run) AS since
     FROM roles WHERE sid = @sid AND ${HELD_AT_RUN} ORDER BY id`,
  );
  const grantsQ = db.prepare(`SELECT principal_id, privilege, level, grant_scope, via FROM grants WHERE sid = @sid AND ${HELD_AT_RUN} ORDER BY id`);
  const namesQ = db.prepare(`SELECT id, name FROM principals WHERE sid = @sid AND ${HELD_AT_RUN}`);
  const out: RoleView[] = [];
  for (const scope of scopesAsOf(db, runId)) {
    if (filter.sources && !filter.sources.includes(scope.source)) continue;
    if (filter.scopes && !filter.scopes.has(`${scope.source}/${scope.scope}`)) continue;
    const params = { sid: scope.sid, run: runId };
    const base = { source: scope.source, sourceType: scope.sourceType, scope: scope.scope };
    // Shared definitions by privilege; one-holder definitions (inline policies) by privilege and holder.
    const shared = new Map<string, RoleView>();
    const owned = new Map<string, RoleView>();
    const ownedKey = (privilege: string, holder: string) => `${privilege}\u001f${holder}`;
    for (const r of rolesQ.iterate(params) as Iterable<RoleRow>) {
      const view: RoleView = {
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
        holders: [],
      };
      if (r.holder_id === null) shared.set(r.privilege, view);
      else owned.set(ownedKey(r.privilege, r.holder_id), view);
    }
    const undefinedRoles = new Map<string, RoleView>();
    const holders = new Map<RoleView, Map<string, RoleHolder>>();
    for (const g of grantsQ.iterate(params) as Iterable<GrantRow>) {
      let view = owned.get(ownedKey(g.privilege, g.principal_id)) ?? shared.get(g.privilege);
      if (!view) {
        view = undefinedRoles.get(g.privilege);
        if (!view) {
          view = { ...base, id: null, privilege: g.privilege, name: g.privilege, kind: "undefined", level: g.level, reason: "no definition collected for this privilege", permissions: [], holderId: null, attributes: null, since: null, holders: [] };
          undefinedRoles.set(g.privilege, view);
        } else if (accessRank(g.level) > accessRank(view.level)) view.level = g.level;
      }
      let byHolder = holders.get(view);
      if (!byHolder) holders.set(view, (byHolder = new Map()));
      let h = byHolder.get(g.principal_id);
      if (!h) byHolder.set(g.principal_id, (h = { id: g.principal_id, name: g.principal_id, via: [], grantScopes: [] }));
      if (!h.via.includes(g.via)) h.via.push(g.via);
      if (!h.grantScopes.includes(g.grant_scope)) h.grantScopes.push(g.grant_scope);
    }
    if (holders.size === 0) continue;
    const wanted = new Set<string>();
    for (const byHolder of holders.values()) for (const id of byHolder.keys()) wanted.add(id);
    const names = new Map<string, string>();
    for (const p of namesQ.iterate(params) as Iterable<{ id: string; name: string }>) if (wanted.has(p.id)) names.set(p.id, p.name);
    for (const [view, byHolder] of holders) {
      view.holders = [...byHolder.values()]
        .map((h) => ({ ...h, name: names.get(h.id) ?? h.id, grantScopes: h.grantScopes.sort() }))
        .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
      out.push(view);
    }
  }
  return out.sort(compareRoles);
}

/** Rows the store holds for role definitions of run `runId` (opened in it): what an unchanged run must not add. */
export function roleVersionsOpenedIn(db: Db, runId: number): number {
  return db.prepare("SELECT COUNT(*) FROM roles WHERE from_run = ?").pluck().get(runId) as number;
}

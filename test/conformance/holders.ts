// What every conformance run asserts of the store: no current grant or credential sits on a holder that is not a
// current principal of its scope (a known one or an unresolved stub).
import type { Db } from "../../src/store/db.js";

export function holdersWithoutPrincipal(db: Db): number {
  return db
    .prepare(
      `SELECT COUNT(*) FROM (SELECT sid, principal_id FROM grants WHERE to_run IS NULL UNION SELECT sid, principal_id FROM credentials WHERE to_run IS NULL) h
       WHERE NOT EXISTS (SELECT 1 FROM principals p WHERE p.sid = h.sid AND p.id = h.principal_id AND p.to_run IS NULL)`,
    )
    .pluck()
    .get() as number;
}

/**
 * The served records (role assignments) that no outcome accounts for. Each one is stored as a grant, found by
 * its holding (holder, role, scope: the grant's identity — two assignments of one role to one holder at one
 * scope are one grant, the later record wins in the store), or is one of the `quarantined` (which carry the
 * holder, not the record's id). Returns [] when the records without a stored grant are exactly as many as the
 * quarantined, else the holdings left over.
 */
export function unaccountedRecords<T>(served: readonly T[], storedHoldings: ReadonlySet<string>, holdingOf: (r: T) => string, quarantined: number): string[] {
  const rest = served.map(holdingOf).filter((h) => !storedHoldings.has(h));
  return rest.length === quarantined ? [] : rest;
}

/** Holder, role and scope of every current direct grant; `role` names the attribute holding the provider's role id. */
export function storedHoldings(db: Db, role: string): Set<string> {
  const rows = db.prepare("SELECT principal_id, grant_scope, attributes FROM grants WHERE to_run IS NULL AND via = 'direct'").all() as { principal_id: string; grant_scope: string; attributes: string | null }[];
  return new Set(rows.map((g) => holding(g.principal_id, (JSON.parse(g.attributes ?? "{}") as Record<string, unknown>)[role], g.grant_scope)));
}

export const holding = (holder: unknown, role: unknown, scope: string): string => `${String(holder)}\u001f${String(role)}\u001f${scope}`;

// Questions about principals ("who has admin in account X", "active admins without MFA"): filters over a
// run's inventory, and the scopes a person may name by id, label or source/scope. Values are validated by
// the command line before they get here; this module only matches.
import { ACCESS_LEVELS, type AccessLevel, type MfaState, type PrincipalKind, type PrincipalStatus } from "../model.js";
import type { PrincipalView } from "../store/reader.js";

export interface ScopeRef {
  source: string;
  scope: string;
  /** The provider's name for it, when the connector gave one ("prod (222222222222)"). */
  label: string | null;
}

export interface PrincipalFilter {
  sources?: string[];
  /** `source/scope` keys (see resolveScopes). */
  scopes?: Set<string>;
  kinds?: PrincipalKind[];
  statuses?: PrincipalStatus[];
  mfa?: MfaState[];
  /** At or above this level (admin > privileged > write > read). */
  minLevel?: Exclude<AccessLevel, "none">;
  /** Case-insensitive, in name, email, display name, id and the names of the grants. */
  search?: string;
}

export const scopeKey = (x: { source: string; scope: string }) => `${x.source}/${x.scope}`;

const OPAQUE_ID = /^(?:\d{6,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/**
 * How a scope is named to a person: a label that already carries the id ("prod (222222222222)") as it is;
 * an opaque id (an AWS account number, a tenant GUID) with its label in front; otherwise the scope id,
 * which connectors choose to be readable (a GitHub org, a file source's system name).
 */
export function scopeText(ref: { scope: string; label?: string | null }): string {
  const label = ref.label;
  if (!label || label === ref.scope) return ref.scope;
  if (label.endsWith(`(${ref.scope})`)) return label;
  return OPAQUE_ID.test(ref.scope) ? `${label} (${ref.scope})` : ref.scope;
}

const levelRank = (l: AccessLevel) => ACCESS_LEVELS.length - ACCESS_LEVELS.indexOf(l);

/**
 * The scopes `wanted` names: each matches a scope by its id, its `source/scope`, its label, or the label's
 * name before " (" (`prod` for "prod (222222222222)"), case-insensitively. Names that match nothing come back
 * in `unknown`, so the caller can say which scopes exist.
 */
export function resolveScopes(wanted: string[], known: ScopeRef[]): { keys: Set<string>; unknown: string[] } {
  const keys = new Set<string>();
  const unknown: string[] = [];
  for (const w of wanted) {
    const q = w.toLowerCase();
    const hits = known.filter((s) => {
      const label = s.label?.toLowerCase();
      return s.scope.toLowerCase() === q || scopeKey(s).toLowerCase() === q || label === q || (label !== undefined && label.split(" (")[0] === q);
    });
    if (hits.length === 0) unknown.push(w);
    for (const h of hits) keys.add(scopeKey(h));
  }
  return { keys, unknown };
}

export function principalMatches(p: PrincipalView, f: PrincipalFilter): boolean {
  if (f.sources && !f.sources.includes(p.source)) return false;
  if (f.scopes && !f.scopes.has(scopeKey(p))) return false;
  if (f.kinds && !f.kinds.includes(p.kind)) return false;
  if (f.statuses && !f.statuses.includes(p.status)) return false;
  if (f.mfa && !f.mfa.includes(p.mfa)) return false;
  if (f.minLevel && levelRank(p.accessLevel) < levelRank(f.minLevel)) return false;
  if (f.search) {
    const q = f.search.toLowerCase();
    const hay = [p.name, p.email ?? "", p.displayName ?? "", p.id, ...p.grants.map((g) => g.privilege)];
    if (!hay.some((h) => h.toLowerCase().includes(q))) return false;
  }
  return true;
}

export function* filterPrincipals(principals: Iterable<PrincipalView>, f: PrincipalFilter): Generator<PrincipalView> {
  for (const p of principals) if (principalMatches(p, f)) yield p;
}

/** Sort key for people reading a table: source, scope, strongest access first, then name. */
export function principalSortKey(p: PrincipalView): string {
  return `${p.source}\u0000${p.scope}\u0000${ACCESS_LEVELS.indexOf(p.accessLevel)}\u0000${p.name.toLowerCase()}\u0000${p.id}`;
}

/** The grants that give a principal at least `minLevel` (all of them without it): why it matched. */
export function grantsAtOrAbove(p: PrincipalView, minLevel?: Exclude<AccessLevel, "none">): PrincipalView["grants"] {
  if (!minLevel) return p.grants;
  return p.grants.filter((g) => levelRank(g.level) >= levelRank(minLevel));
}

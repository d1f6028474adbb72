// One person's accounts across every source: the identity matching the rules use (src/diff/identity.ts:
// normalized email, a login that is an email, `[identity] aliases`), asked the other way round.
import { normalizeEmail, personKey } from "../diff/identity.js";
import type { PrincipalView } from "../store/reader.js";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export type PersonMatch =
  /** The person's key (an email) and every account that matches it or was named directly. */
  | { kind: "found"; key: string | null; accounts: PrincipalView[] }
  /** The name is shared by accounts of several people: the caller asks which. */
  | { kind: "ambiguous"; candidates: string[] }
  | { kind: "none" };

/**
 * `query` is an email, an alias key ("github:octocat"), or a name: an account's login, display name, or the
 * part of its email before the @ ("grace.hopper"), case-insensitively. `principals` is called once or twice
 * (a fresh iteration each time), so a large inventory is streamed, not held.
 */
export function findPerson(query: string, principals: () => Iterable<PrincipalView>, aliases: Record<string, string>): PersonMatch {
  const q = query.trim();
  let key: string | null = null;
  if (Object.hasOwn(aliases, q)) key = normalizeEmail(aliases[q]!);
  else if (EMAIL.test(q)) key = normalizeEmail(q);
  const named = (p: PrincipalView) => {
    const lower = q.toLowerCase();
    const local = (v: string | null) => (v && v.includes("@") ? v.slice(0, v.indexOf("@")).toLowerCase() : null);
    return p.name.toLowerCase() === lower || p.displayName?.toLowerCase() === lower || local(p.email) === lower || local(p.name) === lower;
  };
  if (key === null) {
    const keys = new Set<string>();
    for (const p of principals()) {
      if (!named(p)) continue;
      const k = personKey(p, aliases);
      if (k) keys.add(k);
    }
    if (keys.size > 1) return { kind: "ambiguous", candidates: [...keys].sort() };
    key = keys.size === 1 ? [...keys][0]! : null;
  }
  const accounts: PrincipalView[] = [];
  for (const p of principals()) {
    if ((key !== null && personKey(p, aliases) === key) || (key === null && named(p))) accounts.push(p);
  }
  return accounts.length === 0 ? { kind: "none" } : { kind: "found", key, accounts };
}

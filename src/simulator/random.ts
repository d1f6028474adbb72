// Deterministic randomness for seeded tenant generators: the same seed gives the same tenant.

export type Random = () => number;

/** mulberry32: tiny, fast, good enough for test data. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(rand: Random, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

export function chance(rand: Random, probability: number): boolean {
  return rand() < probability;
}

/** Hex id of `length` characters. */
export function hexId(rand: Random, length: number): string {
  let out = "";
  while (out.length < length) out += Math.floor(rand() * 16).toString(16);
  return out;
}

const FIRST = ["ada", "alan", "grace", "linus", "margaret", "ken", "barbara", "dennis", "frances", "edsger", "radia", "whitfield", "hedy", "john", "katherine", "tim", "sophie", "yukihiro", "guido", "anita"];
const LAST = ["lovelace", "turing", "hopper", "torvalds", "hamilton", "thompson", "liskov", "ritchie", "allen", "dijkstra", "perlman", "diffie", "lamarr", "backus", "johnson", "berners", "wilson", "matsumoto", "rossum", "borg"];

/** A person's first and last name, made unique by `n` so generated tenants have no collisions. */
export function personName(rand: Random, n: number): { first: string; last: string; login: string } {
  const first = pick(rand, FIRST);
  const last = pick(rand, LAST);
  return { first, last, login: `${first}.${last}${n}` };
}

/** ISO timestamp `daysAgo` days before `now` (fractional days allowed). */
export function daysAgo(now: Date, days: number): string {
  return new Date(now.getTime() - days * 86_400_000).toISOString();
}

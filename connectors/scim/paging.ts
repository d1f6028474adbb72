// RFC 7644 §3.4.2.4 index paging: `startIndex` (1-based) and `count` in, `totalResults`, `itemsPerPage`
// and `Resources` out. A server may return fewer resources than asked on any page, so the next index is
// always "this index + what came back". After the first page tells the total and the server's real page
// size, up to `concurrency` pages are asked at once; a page that comes back short leaves a gap that is
// filled before anything after it is handed on. Index paging over a list that changes while it is read
// can skip a resource, so a listing reports whether it saw as many distinct ids as the server counts.
import type { ScimListResponse } from "./wire.js";

export type FetchPage<T> = (startIndex: number, count: number) => Promise<ScimListResponse<T>>;

export interface ListStats {
  pages: number;
  /** Pages that came back with fewer resources than asked while more remained. */
  shortPages: number;
  /** Resources whose id had already been handed on (the list shifted while it was read). */
  duplicates: number;
  /** Resources without an id: handed on for the caller to quarantine, counted towards the total. */
  withoutId: number;
  /** The server's last word on how many there are. */
  totalResults: number;
  /** totalResults differed between pages: the list changed while it was read. */
  totalChanged: boolean;
}

export interface ListOptions {
  /** What is listed, for error messages: "Users", "Groups". */
  what: string;
  pageSize: number;
  concurrency: number;
  /** Ids already handed on by an earlier pass over the same list: skipped, not counted as duplicates. */
  skip?: ReadonlySet<string>;
}

export interface Listing<T> {
  pages: AsyncGenerator<T[]>;
  stats: ListStats;
  /** Every distinct id seen in this pass (skipped ones included). */
  ids: Set<string>;
}

export function listResources<T extends { id?: unknown }>(fetchPage: FetchPage<T>, opts: ListOptions): Listing<T> {
  const stats: ListStats = { pages: 0, shortPages: 0, duplicates: 0, withoutId: 0, totalResults: 0, totalChanged: false };
  const ids = new Set<string>();

  const read = async (startIndex: number, count: number): Promise<{ items: T[]; total: number }> => {
    const page = await fetchPage(startIndex, count);
    stats.pages++;
    if (!page || typeof page !== "object" || typeof page.totalResults !== "number" || !Number.isInteger(page.totalResults) || page.totalResults < 0) {
      throw new Error(`${opts.what} startIndex=${startIndex}: not a SCIM ListResponse (no totalResults)`);
    }
    if (page.Resources !== undefined && !Array.isArray(page.Resources)) throw new Error(`${opts.what} startIndex=${startIndex}: Resources is not a list`);
    if (stats.pages > 1 && page.totalResults !== stats.totalResults) stats.totalChanged = true;
    stats.totalResults = page.totalResults;
    return { items: page.Resources ?? [], total: page.totalResults };
  };

  /** Distinct resources of one page; one without an id is handed on as it is, for the caller to quarantine. */
  const fresh = (items: T[]): T[] => {
    const out: T[] = [];
    items.forEach((item) => {
      const id = item && typeof item === "object" ? item.id : undefined;
      if (typeof id !== "string" || id === "") {
        stats.withoutId++;
        out.push(item);
        return;
      }
      if (ids.has(id)) {
        stats.duplicates++;
        return;
      }
      ids.add(id);
      if (!opts.skip?.has(id)) out.push(item);
    });
    return out;
  };

  async function* pages(): AsyncGenerator<T[]> {
    const { items: first, total: firstTotal } = await read(1, opts.pageSize);
    // Resources beyond the first page's total are left for the next run: the loop needs a fixed bound.
    let total = firstTotal;
    yield fresh(first);
    if (first.length === 0) {
      if (total > 0) throw nonAdvancing(opts.what, 1, total);
      return;
    }
    const step = first.length;
    let next = 1 + first.length;
    // A first page below `count` is the server's page cap (RFC 7644 lets it choose), not a short page.

    while (next <= total) {
      const starts: number[] = [];
      for (let s = next; s <= total && starts.length < opts.concurrency; s += step) starts.push(s);
      const window = await Promise.all(starts.map((s) => read(s, step)));
      for (let i = 0; i < starts.length && next <= total; i++) {
        const start = starts[i]!;
        // An earlier page of this window came back short: read what lies between before going on.
        while (next < start && next <= total) {
          const { items: gap, total: gapTotal } = await read(next, Math.min(step, start - next));
          total = Math.min(total, gapTotal);
          if (gap.length === 0) {
            if (next > total) break;
            throw nonAdvancing(opts.what, next, total);
          }
          yield fresh(gap);
          next += gap.length;
        }
        if (next > total) break;
        const { items, total: said } = window[i]!;
        total = Math.min(total, said);
        if (items.length === 0) {
          if (start > total) break;
          throw nonAdvancing(opts.what, start, total);
        }
        if (items.length < step && start + items.length <= total) stats.shortPages++;
        yield fresh(items);
        next = start + items.length;
      }
    }
  }

  return { pages: pages(), stats, ids };
}

function nonAdvancing(what: string, startIndex: number, total: number): Error {
  return new Error(`${what} startIndex=${startIndex}: the server returned no resources although totalResults is ${total} (a page that does not advance)`);
}

/**
 * Whether a pass can be trusted to have seen everything: as many distinct ids as the server counts, and a
 * count that held still while it was read (a deletion before the read position shifts one resource past
 * it while the deleted one is still counted as seen).
 */
export function complete(listing: Pick<Listing<unknown>, "ids" | "stats">): boolean {
  return !listing.stats.totalChanged && listing.ids.size + listing.stats.withoutId >= listing.stats.totalResults;
}

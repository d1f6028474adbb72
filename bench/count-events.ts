// Benchmarks count what a connector yields without keeping it, so RSS is the connector's own.
import type { CollectEvent } from "../src/connector.js";

export interface EventCounts {
  principals: number;
  credentials: number;
  grants: number;
  batches: number;
  /** "ok", "open" (never ended) or "failed: <error>" of the last scope to end. */
  status: string;
  lastScope: string;
}

export async function countEvents(events: AsyncIterable<CollectEvent>): Promise<EventCounts> {
  const c: EventCounts = { principals: 0, credentials: 0, grants: 0, batches: 0, status: "open", lastScope: "" };
  for await (const ev of events) {
    c.lastScope = ev.scope;
    if (ev.type === "records") {
      c.batches++;
      c.principals += ev.principals?.length ?? 0;
      c.credentials += ev.credentials?.length ?? 0;
      c.grants += ev.grants?.length ?? 0;
    } else if (ev.type === "scope-end") c.status = "ok";
    else if (ev.type === "scope-failed") c.status = `failed: ${ev.error}`;
  }
  for (const release of pending.splice(0).reverse()) await release();
  return c;
}

const pending: (() => unknown)[] = [];

/** The engine's ctx.defer for a bench that drives a connector directly: released once its events are counted. */
export function deferRelease(release: () => unknown): void {
  pending.push(release);
}

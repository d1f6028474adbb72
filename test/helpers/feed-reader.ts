// Drives an audit-event feed reader through the contract without the engine: what it yields, per feed.
import type { AuditEvent, EventFeedReader, FeedEvent, FeedRequest } from "../../src/events/contract.js";
import type { TestContext } from "./collect.js";

export interface FeedResult {
  /** "open" when the reader never ended the feed (a contract breach the tests catch). */
  status: "ok" | "unavailable" | "failed" | "open";
  events: AuditEvent[];
  /** Cursor of each events batch, in order. */
  cursors: string[];
  coveredUntil?: string;
  reason?: string;
  error?: string;
}

export async function readFeeds(
  reader: EventFeedReader,
  ctx: TestContext,
  requests: readonly FeedRequest[],
): Promise<{ yielded: FeedEvent[]; feeds: Map<string, FeedResult> }> {
  const yielded: FeedEvent[] = [];
  const feeds = new Map<string, FeedResult>();
  const of = (scope: string, feed: string) => {
    const key = `${scope}/${feed}`;
    let r = feeds.get(key);
    if (!r) feeds.set(key, (r = { status: "open", events: [], cursors: [] }));
    return r;
  };
  try {
    for await (const ev of reader.read(ctx, requests)) {
      yielded.push(ev);
      const r = of(ev.scope, ev.feed);
      if (ev.type === "events") {
        r.events.push(...ev.events);
        r.cursors.push(ev.cursor);
      } else if (ev.type === "feed-end") {
        r.status = "ok";
        r.coveredUntil = ev.coveredUntil;
      } else if (ev.type === "feed-unavailable") {
        r.status = "unavailable";
        r.reason = ev.reason;
      } else if (ev.type === "feed-failed") {
        r.status = "failed";
        r.error = ev.error;
      }
    }
  } finally {
    await ctx.release();
  }
  return { yielded, feeds };
}

/**
 * Waits until the clock has left the current millisecond. A reader's coverage ends at the time it started
 * and the next read includes that instant (the providers' start filters are inclusive), so a change made in
 * the same millisecond as a read's start is rightly read twice; a test asserting an idle poll lets the
 * clock move past its last change first.
 */
export async function clockPastThisMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() <= now) await new Promise((resolve) => setTimeout(resolve, 1));
}

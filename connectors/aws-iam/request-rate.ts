// A request-rate limiter for APIs with a hard per-second quota (CloudTrail LookupEvents: 2 requests per
// second per account and Region). It paces requests so the quota is never exceeded, instead of running into
// ThrottlingException and retrying.
//
// The rule: at most `requests` requests may be "live" at once, where a request is live from the moment it
// starts until `windowMs` after its answer arrived. AWS counts a request when it arrives, which is after we
// start it and before we read its answer, so any `requests + 1` arrivals are more than `windowMs` apart
// whatever the network and event-loop delays were. Sequential paging then runs at `requests` per
// (`windowMs` + one round trip), the theoretical rate but for the latency.
//
// The quota belongs to the account and Region, not to one read: AWS counts every LookupEvents there, whoever
// sends it. A limiter made per read let two reads in a row (a `whohas events` then a watch poll, two sources
// over one organization) start with an empty window while CloudTrail still counted the previous read's
// requests, and the first request of the second read was throttled and retried. `sharedLimiter` hands every
// read in this process the same limiter for the same endpoint, account and Region.
import { sleep } from "../../src/http-policy.js";

export interface RequestRate {
  requests: number;
  windowMs: number;
}

/** CloudTrail LookupEvents' documented quota. */
export const LOOKUP_EVENTS_RATE: RequestRate = { requests: 2, windowMs: 1000 };

export class RequestRateLimiter {
  /** One per live request: when it stops counting (Infinity while in flight). */
  private live: { until: number }[] = [];
  /** Callers wait in order: a later request never overtakes an earlier one. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly rate: RequestRate,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(rate.requests >= 1) || !(rate.windowMs > 0)) throw new Error(`invalid request rate ${rate.requests}/${rate.windowMs} ms`);
  }

  /**
   * Waits for a slot and holds it; call the returned function once the answer (or the failure) arrived.
   * Rejects with the signal's reason when aborted while waiting.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    const turn = this.queue.then(() => this.waitForSlot(signal));
    // The next caller waits for this one's turn, not for its success.
    this.queue = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  private async waitForSlot(signal: AbortSignal | undefined): Promise<() => void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      this.live = this.live.filter((s) => s.until > now);
      if (this.live.length < this.rate.requests) break;
      const soonest = Math.min(...this.live.map((s) => s.until));
      // All in flight: their end is unknown until their answers arrive; look again shortly.
      const waitMs = Number.isFinite(soonest) ? soonest - now : Math.min(this.rate.windowMs, 20);
      // Timers may fire a little early: the loop checks the clock again.
      await sleep(Math.max(1, Math.ceil(waitMs)), signal);
    }
    const slot = { until: Number.POSITIVE_INFINITY };
    this.live.push(slot);
    return () => {
      if (Number.isFinite(slot.until)) return;
      slot.until = this.now() + this.rate.windowMs;
    };
  }
}

const shared = new Map<string, RequestRateLimiter>();

/**
 * The one limiter of this process for a quota `key` (endpoint, account, Region) at `rate`. The map holds one
 * small object per key ever read; the keys are bounded by the configured accounts and Regions.
 */
export function sharedLimiter(key: string, rate: RequestRate): RequestRateLimiter {
  // The rate is part of the key so a test running the quota faster never shares a limiter with a real one.
  const full = `${key}|${rate.requests}/${rate.windowMs}`;
  let l = shared.get(full);
  if (!l) {
    l = new RequestRateLimiter(rate);
    shared.set(full, l);
  }
  return l;
}

// The attribution slot of a change: who made it, from the scope's audit events. Filled in by
// src/events/attribute.ts; declared here, with the diff it annotates, so the differ does not import the
// events engine that reads the diff (the two folders stay one-directional: events → diff).
import type { EventAction } from "../events/contract.js";

export interface AttributionEvent {
  id: string;
  feed: string;
  at: string;
  action: EventAction;
  providerAction: string;
  actor: { id: string | null; name: string | null; kind: string };
  ip: string | null;
  userAgent: string | null;
}

export type Attribution =
  | { status: "attributed"; events: AttributionEvent[] }
  /** The feeds covered the whole window and no event explains the change. */
  | { status: "unexplained"; window: { from: string; until: string }; feeds: string[] }
  /** The feeds did not cover the window (down, unavailable, not yet polled that far). */
  | { status: "no-coverage"; window: { from: string; until: string }; reason: string };

// whohas events [--source ...] [--since ...] [--until ...] [--actor ...] [--target ...] [--action ...] [--outcome ...]
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import type { EventAction, EventOutcome } from "../events/contract.js";
import { writeOutput } from "../report/output.js";
import { writeEvents, writeFeeds, type EventFormat } from "../report/events.js";
import { feedStates, queryEvents } from "../store/events.js";
import { openRowSpill } from "../store/spill.js";
import { withStore } from "./common.js";
import { CliUsageError } from "./exit.js";

export interface EventsOptions {
  config?: string;
  source?: string[];
  scope?: string;
  since?: string;
  until?: string;
  actor?: string;
  target?: string;
  action?: EventAction[];
  outcome?: EventOutcome[];
  limit?: string;
  feeds?: boolean;
  format: EventFormat;
  out?: string;
}

const UNITS = new Map([
  ["m", 60_000],
  ["h", 3_600_000],
  ["d", 86_400_000],
]);

/** An ISO date or date-time, or a time ago: "30m", "24h", "7d". */
export function parseTime(value: string, what: string, now = Date.now()): string {
  const rel = /^(\d+)([mhd])$/.exec(value.trim());
  if (rel) return new Date(now - Number(rel[1]) * UNITS.get(rel[2]!)!).toISOString();
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const t = Date.parse(value.trim().replace(" ", "T"));
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  throw new CliUsageError(`${what}: expected an ISO date or date-time (2026-11-27, 2026-11-27T14:00Z) or a time ago (30m, 24h, 7d), got "${value}"`);
}

export const action = (opts: EventsOptions) => {
  const config = loadConfig(opts.config, CONNECTORS);
  const valid = config.sources.map((s) => s.id);
  const unknown = (opts.source ?? []).filter((s) => !valid.includes(s));
  if (unknown.length > 0) throw new CliUsageError(`--source: unknown source ${unknown.join(", ")}; configured: ${valid.join(", ") || "none"}`);
  const since = opts.since !== undefined ? parseTime(opts.since, "--since") : undefined;
  const until = opts.until !== undefined ? parseTime(opts.until, "--until") : undefined;
  if (since && until && since >= until) throw new CliUsageError(`--since (${since}) must be before --until (${until})`);
  let limit: number | undefined;
  if (opts.limit !== undefined) {
    if (!/^[1-9]\d*$/.test(opts.limit)) throw new CliUsageError(`--limit: expected a positive integer, got "${opts.limit}"`);
    limit = Number(opts.limit);
  }
  withStore(config, (db) => {
    writeOutput(opts.out, (sink) => {
      if (opts.feeds) {
        const feeds = feedStates(db).filter((f) => !opts.source?.length || opts.source.includes(f.source));
        writeFeeds(sink, feeds, opts.format);
        return;
      }
      writeEvents(
        sink,
        queryEvents(db, {
          ...(opts.source?.length ? { sources: opts.source } : {}),
          ...(opts.scope ? { scope: opts.scope } : {}),
          ...(since ? { since } : {}),
          ...(until ? { until } : {}),
          ...(opts.actor ? { actor: opts.actor } : {}),
          ...(opts.target ? { target: opts.target } : {}),
          ...(opts.action?.length ? { actions: opts.action } : {}),
          ...(opts.outcome?.length ? { outcomes: opts.outcome } : {}),
          ...(limit ? { limit } : {}),
        }),
        opts.format,
        { spill: { open: openRowSpill } },
      );
    });
  });
};

// The `file` connector's event feed: an audit export (CSV or JSON) of a system without an API. The whole file
// is validated before anything is yielded; events are read from the engine's `since` and de-duplicated by id
// (an export carries no real cursor: the cursor is the position of the last stored event, for `whohas events feeds`).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { z } from "zod";
import { parseCsv } from "../../src/csv.js";
import { ACTOR_KINDS, EVENT_ACTIONS, EVENT_OUTCOMES, type AuditEvent, type EventFeedReader, type FeedContext, type FeedEvent, type FeedRequest } from "../../src/events/contract.js";
import { shown } from "../../src/safe-text.js";
import { isoProblem } from "../../src/store/validate.js";
import type { FileOptions } from "./options.js";

export const FILE_FEED = "export";

export class EventExportError extends Error {
  override name = "EventExportError";
}

const EVENT_COLUMNS = ["id", "time", "actor", "actor_kind", "action", "provider_action", "target", "privilege", "credential", "outcome", "ip", "user_agent"] as const;

const iso = z.string().refine((v) => isoProblem(v) === null && !Number.isNaN(Date.parse(v)), { message: "expected an ISO-8601 date-time such as 2026-11-27T14:02:00Z" });
const optional = z.string().nullable().optional().transform((v) => (v ? v : null));

const rowSchema = z.strictObject({
  id: optional,
  time: iso,
  actor: z.string().min(1),
  actor_kind: z.enum(ACTOR_KINDS).default("person"),
  action: z.enum(EVENT_ACTIONS),
  provider_action: optional,
  target: optional,
  privilege: optional,
  credential: optional,
  outcome: z.enum(EVENT_OUTCOMES).default("success"),
  ip: optional,
  user_agent: optional,
});
type Row = z.infer<typeof rowSchema>;

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** An export row without an id gets one from its content: the same row exported again is the same event. */
function contentId(r: Row): string {
  const h = createHash("sha256").update(JSON.stringify([r.time, r.actor, r.action, r.provider_action, r.target, r.privilege, r.credential, r.outcome, r.ip]));
  return `sha256:${h.digest("hex").slice(0, 32)}`;
}

function toEvent(r: Row): AuditEvent {
  return {
    id: r.id ?? contentId(r),
    at: new Date(r.time).toISOString(),
    action: r.action,
    providerAction: r.provider_action ?? r.action,
    outcome: r.outcome,
    actor: { id: r.actor, name: r.actor, kind: r.actor_kind },
    ...(r.target || r.privilege || r.credential ? { target: { principalId: r.target, name: r.target, privilege: r.privilege, credentialId: r.credential } } : {}),
    ip: r.ip,
    userAgent: r.user_agent,
  };
}

export function parseEventExport(text: string, format: "csv" | "json"): AuditEvent[] {
  const rows: { row: Row; where: string }[] = [];
  if (format === "csv") {
    const lines = parseCsv(text);
    const header = lines.shift();
    if (!header) throw new EventExportError("the event export is empty: expected a header row");
    const columns = header.fields.map((f) => f.trim().toLowerCase());
    const unknown = columns.filter((c) => !(EVENT_COLUMNS as readonly string[]).includes(c));
    if (unknown.length > 0) {
      throw new EventExportError(`line ${header.line}: unknown column(s) ${unknown.map((c) => shown(c, 64)).join(", ")}; expected some of ${EVENT_COLUMNS.join(", ")}`);
    }
    for (const required of ["time", "actor", "action"]) {
      if (!columns.includes(required)) throw new EventExportError(`line ${header.line}: the header has no "${required}" column`);
    }
    for (const line of lines) {
      if (line.fields.length !== columns.length) throw new EventExportError(`line ${line.line}: expected ${columns.length} fields, found ${line.fields.length}`);
      const raw: Record<string, string> = {};
      columns.forEach((c, i) => {
        const v = line.fields[i]!.trim();
        if (v !== "") raw[c] = v;
      });
      const parsed = rowSchema.safeParse(raw);
      if (!parsed.success) throw new EventExportError(`line ${line.line}: ${describe(parsed.error.issues[0]!)}`);
      rows.push({ row: parsed.data, where: `line ${line.line}` });
    }
  } else {
    let data: unknown;
    const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    try {
      data = JSON.parse(json);
    } catch (err) {
      throw new EventExportError(`not valid JSON: ${shown((err as Error).message, 200)}`);
    }
    if (!Array.isArray(data)) throw new EventExportError("expected a JSON array of events at the top level");
    data.forEach((item, i) => {
      const parsed = rowSchema.safeParse(item);
      if (!parsed.success) throw new EventExportError(`[${i}] ${describe(parsed.error.issues[0]!)}`);
      rows.push({ row: parsed.data, where: `[${i}]` });
    });
  }
  const seen = new Map<string, string>();
  const events: AuditEvent[] = [];
  for (const { row, where } of rows) {
    const e = toEvent(row);
    const earlier = seen.get(e.id);
    if (earlier !== undefined) {
      if (row.id) throw new EventExportError(`${where}: event id "${shown(e.id, 64)}" already appears at ${earlier}`);
      continue; // the same content twice without ids: one event
    }
    seen.set(e.id, where);
    events.push(e);
  }
  return events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function eventFormatOf(opts: FileOptions): "csv" | "json" | undefined {
  if (opts.events_format) return opts.events_format;
  const ext = extname(opts.events_path ?? "").toLowerCase();
  return ext === ".csv" ? "csv" : ext === ".json" ? "json" : undefined;
}

export function fileEventReader(sourceId: string, opts: FileOptions, scopeOf: (opts: FileOptions) => string): EventFeedReader {
  const pageSize = opts.events_page_size ?? 500;
  return {
    feeds: [FILE_FEED],
    async *read(ctx: FeedContext, requests: readonly FeedRequest[]): AsyncIterable<FeedEvent> {
      const own = scopeOf(opts);
      for (const req of requests) {
        const { scope, feed } = req;
        yield { type: "feed-start", scope, feed };
        if (feed !== FILE_FEED || scope !== own) {
          yield { type: "feed-unavailable", scope, feed, reason: `source ${sourceId} exports events of scope "${own}" only` };
          continue;
        }
        if (!opts.events_path) {
          yield { type: "feed-unavailable", scope, feed, reason: "no event export configured (events_path)" };
          continue;
        }
        const format = eventFormatOf(opts);
        if (!format) {
          yield { type: "feed-failed", scope, feed, error: `${opts.events_path}: cannot tell the format from the extension; set events_format = "csv" or "json"` };
          continue;
        }
        let events: AuditEvent[];
        try {
          ctx.countRequest(scope);
          events = parseEventExport(await readFile(opts.events_path, "utf8"), format);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          const reason = e.code ? `cannot read the file (${e.code})` : e.message;
          yield { type: "feed-failed", scope, feed, error: `source ${sourceId}: ${opts.events_path}: ${reason}` };
          continue;
        }
        const since = Date.parse(req.since);
        const fresh = events.filter((e) => Date.parse(e.at) >= since);
        for (let i = 0; i < fresh.length; i += pageSize) {
          if (ctx.signal.aborted) return;
          const page = fresh.slice(i, i + pageSize);
          const last = page[page.length - 1]!;
          yield { type: "events", scope, feed, events: page, cursor: `${last.at}|${last.id}` };
        }
        // The export is taken to hold every event up to when it is read (regenerate it with the inventory export).
        yield { type: "feed-end", scope, feed, coveredUntil: new Date().toISOString() };
      }
    },
  };
}

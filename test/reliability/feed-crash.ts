// A crash between two pages of an audit-event feed, the same for every connector: the built CLI
// (`whohas watch --once`, a child process) polls a source whose simulator never answers the feed's page k+1;
// once pages 1..k are seen committed in the store it is SIGKILLed. Then: the stored events are the provider's
// (no stranger, none twice), the feed's covered window did not move and its cursor is the one committed with
// the last stored page; a second poll ends with exactly the provider's events, page by page, no gap.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "smol-toml";
import { expect } from "vitest";
import type { SimRequest, Simulator } from "../../src/simulator/harness.js";
import { Database } from "../../src/store/sqlite.js";
import type { Db } from "../../src/store/db.js";
import { runCli } from "./cli-process.js";

export interface FeedLab {
  /** Connector type, e.g. "aws-iam". */
  type: string;
  /** The source's options as written in whohas.toml (secret refs, endpoints pointed at the simulator). */
  options: Record<string, unknown>;
  env: Record<string, string>;
  scope: string;
  /** The feed the crash lands in, and how many events a full page of it holds as served. */
  feed: string;
  pageSize: number;
  sim: Simulator;
  /** A request for one page of `feed` in `scope` (the first page included). */
  isFeedPage(req: SimRequest): boolean;
  /** The provider's events per feed that a poll must end with: whohas event ids. */
  expected(): Map<string, Set<string>>;
  close(): Promise<void>;
}

interface WatchJson {
  poll: { sources: { source: string; skipped?: string; feeds: { feed: string; status: string; reason?: string; inserted: number; duplicates: number }[] }[] };
}

interface FeedRow {
  feed: string;
  status: string;
  cursor: string | null;
  coveredUntil: string | null;
}

const SOURCE = "crash";

function storedIds(db: Db): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of db.prepare("SELECT feed, event_id AS id FROM events ORDER BY eid").all() as { feed: string; id: string }[]) {
    out.set(r.feed, [...(out.get(r.feed) ?? []), r.id]);
  }
  return out;
}

function readStore<T>(path: string, read: (db: Db) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const feedRows = (db: Db) => db.prepare("SELECT feed, status, cursor, covered_until AS coveredUntil FROM feed_state ORDER BY feed").all() as FeedRow[];

/** Polls with the CLI, killing it after `pagesBeforeKill` committed pages of the lab's feed, then polls again. */
export async function crashBetweenPages(lab: FeedLab, pagesBeforeKill = 2): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "whohas-feed-crash-"));
  try {
    const dbPath = join(dir, "whohas.db");
    const config = join(dir, "whohas.toml");
    // The look-back reaches past every provider's retention, so a poll's events are exactly what the provider keeps.
    const source = { id: SOURCE, type: lab.type, ...lab.options, events: { lookback_days: 400, overlap_minutes: 15, scopes: [lab.scope] } };
    writeFileSync(config, stringify({ store: { path: dbPath }, sources: [source] }), { mode: 0o600 });
    const expected = lab.expected();
    const target = expected.get(lab.feed) ?? new Set<string>();
    // The crash must land between two full pages, with a page after them.
    expect(target.size, `${lab.type}: the ${lab.feed} feed needs more than ${pagesBeforeKill} pages`).toBeGreaterThan(pagesBeforeKill * lab.pageSize);

    // Page k+1 of the feed is never answered; the simulator counts the feed's page requests to find it.
    let pageRequests = 0;
    let held = false;
    lab.sim.injectFault({
      fault: { kind: "hang" },
      match: (req) => {
        if (!lab.isFeedPage(req)) return false;
        held = ++pageRequests === pagesBeforeKill + 1;
        return held;
      },
      times: 1,
    });
    let db: Db | undefined;
    const committed = () => {
      try {
        db ??= new Database(dbPath, { readonly: true, fileMustExist: true });
        return db.prepare("SELECT COUNT(*) FROM events WHERE feed = ?").pluck().get(lab.feed) as number;
      } catch {
        return 0; // not created yet, or the writer holds an exclusive moment
      }
    };
    const killed = await runCli(["watch", "--once", "--config", config, "--format", "json"], {
      env: lab.env,
      killWhen: () => held && committed() >= pagesBeforeKill * lab.pageSize,
      timeoutMs: 180_000,
    });
    db?.close();
    lab.sim.clearFaults();
    expect(killed.killed, `${lab.type}: the poll ended before the kill (code ${killed.code}, ${pageRequests} page requests):\n${killed.stdout}\n${killed.stderr}`).toBe(true);
    expect(killed.signal).toBe("SIGKILL");
    expect(pageRequests).toBe(pagesBeforeKill + 1);

    const afterKill = readStore(dbPath, (d) => ({ ids: storedIds(d), feeds: feedRows(d) }));
    const stored = afterKill.ids.get(lab.feed) ?? [];
    // Pages 1..k and nothing of page k+1: each event once, every one the provider's.
    expect(stored).toHaveLength(pagesBeforeKill * lab.pageSize);
    expect(new Set(stored).size).toBe(stored.length);
    expect(stored.filter((id) => !target.has(id))).toEqual([]);
    // The cursor moved with the committed pages only; no window is claimed for a poll that never finished.
    const state = afterKill.feeds.find((f) => f.feed === lab.feed);
    expect(state).toMatchObject({ status: "polling", coveredUntil: null });
    expect(state?.cursor).toEqual(expect.any(String));

    const again = await runCli(["watch", "--once", "--config", config, "--format", "json"], { env: lab.env, timeoutMs: 180_000 });
    expect(again.code, `${lab.type}: the poll after the crash failed:\n${again.stdout}\n${again.stderr}`).toBe(0);
    const poll = JSON.parse(again.stdout.trim().split("\n").pop()!) as WatchJson;
    const result = poll.poll.sources.find((s) => s.source === SOURCE)?.feeds.find((f) => f.feed === lab.feed);
    // The committed pages are read again (the window did not move) and dropped as duplicates: nothing doubled.
    expect(result).toMatchObject({ status: "ok", inserted: target.size - stored.length, duplicates: stored.length });

    const final = readStore(dbPath, (d) => ({ ids: storedIds(d), feeds: feedRows(d) }));
    for (const [feed, ids] of expected) {
      const got = final.ids.get(feed) ?? [];
      expect(got.length, `${lab.type} ${feed}: a duplicate`).toBe(new Set(got).size);
      expect([...got].sort(), `${lab.type} ${feed}`).toEqual([...ids].sort());
    }
    expect([...final.ids.keys()].filter((f) => !expected.has(f))).toEqual([]);
    expect(final.feeds.every((f) => f.status === "ok" && f.coveredUntil !== null)).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The event-feed engine driven through the file connector's event export: cursor and coverage, the overlap
// window's duplicates, a failure between pages (no event lost or doubled), health that is not "no events",
// and the evidence digest over events.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { fileConnector } from "../../connectors/file/index.js";
import { collect } from "../../src/collect.js";
import { ConfigError, parseConfig, type Config } from "../../src/config/load.js";
import type { EventFeedReader, FeedEvent } from "../../src/events/contract.js";
import { pollEvents } from "../../src/events/engine.js";
import { openStore, type Db } from "../../src/store/db.js";
import { countEvents, feedStates, pruneEvents, queryEvents } from "../../src/store/events.js";
import { verifyChain } from "../../src/store/integrity.js";

const log = { debug() {}, info() {}, warn() {}, error() {} };
const INVENTORY = "username,email,role,access_level\nann,ann@example.com,erp-admin,admin\nbob,bob@example.com,viewer,read\n";
const HEADER = "id,time,actor,action,target,privilege,outcome,ip";

function row(i: number, at: string, action = "signin.success", target = "bob"): string {
  return `e${String(i).padStart(4, "0")},${at},ann,${action},${target},,success,203.0.113.7`;
}

function minutesAgo(n: number): string {
  return new Date(Date.now() - n * 60_000).toISOString();
}

function setup(extra = "", pageSize = 3): { dir: string; config: Config; events: string } {
  const dir = mkdtempSync(join(tmpdir(), "whohas-events-"));
  writeFileSync(join(dir, "erp.csv"), INVENTORY);
  const events = join(dir, "erp-events.csv");
  const text = `[store]\npath = "${join(dir, "w.db")}"\n[[sources]]\nid = "erp"\ntype = "file"\npath = "${join(dir, "erp.csv")}"\nsystem = "erp"\nevents_path = "${events}"\nevents_page_size = ${pageSize}\n[sources.events]\nlookback_days = 2\noverlap_minutes = 15\n${extra}`;
  return { dir, config: parseConfig(text, join(dir, "w.toml"), CONNECTORS), events };
}

const ids = (db: Db) => [...queryEvents(db)].map((e) => e.id);

afterEach(() => vi.restoreAllMocks());

describe("event feed engine", () => {
  it("collect stores the export's events after the snapshot; the feed's covered window and cursor follow; a second poll adds only what is new", async () => {
    const { config, events } = setup();
    // 6 events in the look-back, one older than it (3 days) that is not read.
    writeFileSync(events, [HEADER, row(0, minutesAgo(3 * 1440)), ...[1, 2, 3, 4, 5, 6].map((i) => row(i, minutesAgo(300 - i)))].join("\n") + "\n");
    await collect(config, { log });
    let db = openStore(config.store.path);
    expect(ids(db)).toEqual(["e0001", "e0002", "e0003", "e0004", "e0005", "e0006"]);
    let [state] = feedStates(db);
    expect(state).toMatchObject({ source: "erp", scope: "erp", feed: "export", status: "ok", cursor: expect.stringMatching(/\|e0006$/) });
    const firstUntil = state!.coveredUntil!;
    expect(Date.parse(state!.coveredFrom!)).toBeLessThan(Date.parse(minutesAgo(2 * 1440 - 1)));

    // Delivery lag: e0007 arrives late with a time inside the overlap window, e0008 is new.
    writeFileSync(events, [HEADER, ...[1, 2, 3, 4, 5, 6].map((i) => row(i, minutesAgo(300 - i))), row(7, new Date(Date.parse(firstUntil) - 5 * 60_000).toISOString()), row(8, minutesAgo(0))].join("\n") + "\n");
    const r = await pollEvents(db, config, { log });
    const feed = r.sources[0]!.feeds[0]!;
    expect(feed).toMatchObject({ status: "ok", inserted: 2 });
    expect(ids(db)).toEqual(["e0001", "e0002", "e0003", "e0004", "e0005", "e0006", "e0007", "e0008"]);
    [state] = feedStates(db);
    expect(Date.parse(state!.coveredUntil!)).toBeGreaterThanOrEqual(Date.parse(firstUntil));
    db.close();
    // An idle poll: nothing new, one request for the feed.
    db = openStore(config.store.path);
    const idle = await pollEvents(db, config, { log });
    expect(idle.sources[0]!.feeds[0]).toMatchObject({ status: "ok", inserted: 0, requests: 1 });
    expect(countEvents(db)).toBe(8);
    db.close();
  });

  it("a reader that fails between pages leaves the stored pages and their cursor; the next poll neither loses nor doubles an event", async () => {
    const { config, events } = setup("", 2);
    writeFileSync(events, [HEADER, ...[1, 2, 3, 4, 5, 6, 7].map((i) => row(i, minutesAgo(100 - i)))].join("\n") + "\n");
    await collect(config, { log: log, sources: ["erp"] });
    const db = openStore(config.store.path);
    db.prepare("DELETE FROM events").run();
    db.prepare("DELETE FROM feed_state").run();
    // The real reader, interrupted after its second page (a crash of the reader mid-feed).
    const real = fileConnector.events!;
    const spy = vi.spyOn(fileConnector, "events").mockImplementation((sourceId, opts): EventFeedReader => {
      const reader = real(sourceId, opts);
      return {
        feeds: reader.feeds,
        async *read(ctx, requests): AsyncIterable<FeedEvent> {
          let pages = 0;
          for await (const ev of reader.read(ctx, requests)) {
            if (ev.type === "events" && ++pages === 3) throw new Error("connection reset between pages");
            yield ev;
          }
        },
      };
    });
    const failed = await pollEvents(db, config, { log });
    expect(failed.sources[0]!.feeds[0]).toMatchObject({ status: "failed", inserted: 4, reason: expect.stringContaining("connection reset between pages") });
    let [state] = feedStates(db);
    expect(state).toMatchObject({ status: "failed", cursor: expect.stringMatching(/\|e0004$/), coveredUntil: null });
    expect(ids(db)).toEqual(["e0001", "e0002", "e0003", "e0004"]);
    spy.mockRestore();
    const again = await pollEvents(db, config, { log });
    expect(again.sources[0]!.feeds[0]).toMatchObject({ status: "ok", inserted: 3, duplicates: 4 });
    expect(ids(db)).toEqual(["e0001", "e0002", "e0003", "e0004", "e0005", "e0006", "e0007"]);
    [state] = feedStates(db);
    expect(state).toMatchObject({ status: "ok", cursor: expect.stringMatching(/\|e0007$/) });
    db.close();
  });

  it("an export that is not configured is 'unavailable' and a malformed one 'failed': health, never 'no events'; the coverage stays where it was", async () => {
    const { config, events } = setup();
    writeFileSync(events, [HEADER, row(1, minutesAgo(10))].join("\n") + "\n");
    await collect(config, { log });
    const db = openStore(config.store.path);
    const covered = feedStates(db)[0]!.coveredUntil;
    writeFileSync(events, [HEADER, row(1, minutesAgo(10)), "e0002,yesterday,ann,grant.add,bob,,success,"].join("\n") + "\n");
    const bad = await pollEvents(db, config, { log });
    expect(bad.sources[0]!.feeds[0]).toMatchObject({ status: "failed", reason: expect.stringMatching(/line 3: time: expected an ISO-8601/) });
    expect(feedStates(db)[0]).toMatchObject({ status: "failed", coveredUntil: covered });

    const unconfigured = parseConfig(
      `[store]\npath = "${config.store.path}"\n[[sources]]\nid = "erp"\ntype = "file"\npath = "x.csv"\nsystem = "erp"\n[sources.events]\n`,
      config.file,
      CONNECTORS,
    );
    const none = await pollEvents(db, unconfigured, { log });
    expect(none.sources[0]!.feeds[0]).toMatchObject({ status: "unavailable", reason: expect.stringContaining("events_path") });
    expect(feedStates(db)[0]).toMatchObject({ status: "unavailable", coveredUntil: covered });
    db.close();
  });

  it("a source with no collected scope is skipped with the reason; configured scopes are polled before the first collect", async () => {
    const { config, events } = setup();
    writeFileSync(events, [HEADER, row(1, minutesAgo(10))].join("\n") + "\n");
    const db = openStore(config.store.path);
    expect((await pollEvents(db, config, { log })).sources[0]!.skipped).toMatch(/no scope collected yet/);
    const withScopes = setup('scopes = ["erp"]\n');
    writeFileSync(withScopes.events, [HEADER, row(1, minutesAgo(10))].join("\n") + "\n");
    const db2 = openStore(withScopes.config.store.path);
    expect((await pollEvents(db2, withScopes.config, { log })).sources[0]!.feeds[0]).toMatchObject({ status: "ok", inserted: 1 });
    db.close();
    db2.close();
  });

  it("the next run's digest covers the events stored since the last seal; an edited event fails verify; retention keeps the chain verifiable", async () => {
    const { config, events } = setup();
    writeFileSync(events, [HEADER, row(1, minutesAgo(60 * 30)), row(2, minutesAgo(10))].join("\n") + "\n");
    await collect(config, { log });
    let db = openStore(config.store.path);
    expect(db.prepare("SELECT COUNT(*) FROM events WHERE sealed_run = 1").pluck().get()).toBe(2);
    expect(verifyChain(db)).toEqual({ ok: true, checked: 1 });
    // Retention drops the older event; its row sum is kept, so the run still verifies.
    expect(pruneEvents(db, minutesAgo(60))).toBe(1);
    expect(verifyChain(db)).toMatchObject({ ok: true, checked: 1 });
    expect(Date.parse(feedStates(db)[0]!.coveredFrom!)).toBeGreaterThan(Date.parse(minutesAgo(61)));
    db.prepare("UPDATE events SET actor_name = 'mallory' WHERE event_id = 'e0002'").run();
    expect(verifyChain(db)).toMatchObject({ ok: false, firstBad: { runId: 1, reason: expect.stringContaining("no longer matches") } });
    db.close();
    db = openStore(config.store.path);
    db.prepare("UPDATE events SET actor_name = 'ann' WHERE event_id = 'e0002'").run();
    expect(verifyChain(db).ok).toBe(true);
    db.close();
  });

  it("config: [sources.events] is strict, and an events table on a connector without feeds is refused", () => {
    const base = `[[sources]]\nid = "erp"\ntype = "file"\npath = "x.csv"\n[sources.events]\n`;
    expect(() => parseConfig(`${base}overlap = 5\n`, "w.toml", CONNECTORS)).toThrow(/w\.toml: sources\[0\]\.events\.overlap: unknown key/);
    expect(() => parseConfig(`${base}lookback_days = -1\n`, "w.toml", CONNECTORS)).toThrow(/sources\[0\]\.events\.lookback_days/);
    const noFeeds = CONNECTORS.find((c) => !c.feeds?.length);
    if (noFeeds) {
      expect(() => parseConfig(`[[sources]]\nid = "x"\ntype = "${noFeeds.type}"\n[sources.events]\n`, "w.toml", CONNECTORS)).toThrow(ConfigError);
    }
    const off = parseConfig(`${base}enabled = false\n`, "w.toml", CONNECTORS);
    expect(off.sources[0]!.events).toBeUndefined();
  });
});

// `whohas status` reports each audit-event feed's health from feed_state: last poll, the covered window and a
// state that never reads as "no events" when the feed could not be read (not available, cannot assess, failing).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { parseConfig, type Config } from "../../src/config/load.js";
import { buildStatus, renderStatusText } from "../../src/daemon/status.js";
import { openStore } from "../../src/store/db.js";
import { endFeed, feedNotOk, startFeedPoll, storeEventPage } from "../../src/store/events.js";
import { sidFor } from "../../src/store/writer.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function config(): Config {
  dir = mkdtempSync(join(tmpdir(), "whohas-status-feeds-"));
  writeFileSync(join(dir, "erp.csv"), "username,email\nann,ann@example.com\n");
  const text = `[store]\npath = "${join(dir, "w.db")}"\n[[sources]]\nid = "erp"\ntype = "file"\npath = "${join(dir, "erp.csv")}"\nsystem = "erp"\n`;
  return parseConfig(text, join(dir, "w.toml"), CONNECTORS);
}

describe("whohas status: event feeds", () => {
  it("shows each (source, scope, feed) with its last poll, covered window and state; a failing feed is a problem, the others are not", () => {
    const cfg = config();
    const db = openStore(cfg.store.path);
    const ok = sidFor(db, "aws", "aws-iam", "111111111111");
    const gh = sidFor(db, "gh", "github", "acme\u001b[31m");
    const entra = sidFor(db, "entra", "entra-id", "tenant-1");
    startFeedPoll(db, ok, "iam", "2026-12-01T10:00:00.000Z");
    storeEventPage(db, ok, "iam", [], "cursor-1", "2026-12-01T10:00:01.000Z");
    endFeed(db, ok, "iam", "2026-11-30T10:00:00.000Z", "2026-12-01T10:00:00.000Z", "2026-12-01T10:00:02.000Z");
    // Read once, then the next poll dies between pages: the window stays, and nothing is claimed since.
    startFeedPoll(db, ok, "signin", "2026-12-01T09:00:00.000Z");
    endFeed(db, ok, "signin", "2026-11-30T09:00:00.000Z", "2026-12-01T09:00:00.000Z", "2026-12-01T09:00:01.000Z");
    startFeedPoll(db, ok, "signin", "2026-12-01T10:00:00.000Z");
    startFeedPoll(db, gh, "audit-log", "2026-12-01T10:00:00.000Z");
    feedNotOk(db, gh, "audit-log", "unavailable", "the organization audit log is not available to this organization (Enterprise Cloud only)", "2026-12-01T10:00:01.000Z");
    startFeedPoll(db, entra, "signIns", "2026-12-01T10:00:00.000Z");
    feedNotOk(db, entra, "signIns", "failed", "HTTP 503 after 4 attempts", "2026-12-01T10:00:01.000Z");
    db.close();

    const status = buildStatus(cfg, { now: new Date("2026-12-01T10:30:00.000Z") });
    expect(status.feeds).toEqual([
      { source: "aws", scope: "111111111111", feed: "iam", state: "ok", reason: null, lastPollAt: "2026-12-01T10:00:02.000Z", lastOkAt: "2026-12-01T10:00:02.000Z", coveredFrom: "2026-11-30T10:00:00.000Z", coveredUntil: "2026-12-01T10:00:00.000Z" },
      {
        source: "aws",
        scope: "111111111111",
        feed: "signin",
        state: "cannot assess",
        reason: "the poll started 2026-12-01T10:00:00.000Z has not finished (running now, or interrupted)",
        lastPollAt: "2026-12-01T10:00:00.000Z",
        lastOkAt: "2026-12-01T09:00:01.000Z",
        coveredFrom: "2026-11-30T09:00:00.000Z",
        coveredUntil: "2026-12-01T09:00:00.000Z",
      },
      { source: "entra", scope: "tenant-1", feed: "signIns", state: "failing", reason: "HTTP 503 after 4 attempts", lastPollAt: "2026-12-01T10:00:01.000Z", lastOkAt: null, coveredFrom: null, coveredUntil: null },
      {
        source: "gh",
        scope: "acme\u001b[31m",
        feed: "audit-log",
        state: "not available",
        reason: "the organization audit log is not available to this organization (Enterprise Cloud only)",
        lastPollAt: "2026-12-01T10:00:01.000Z",
        lastOkAt: null,
        coveredFrom: null,
        coveredUntil: null,
      },
    ]);
    const feedProblems = status.problems.filter((p) => p.startsWith("event feed"));
    expect(feedProblems).toEqual(["event feed entra/tenant-1/signIns failing (never ok): HTTP 503 after 4 attempts"]);

    const text = renderStatusText(status);
    const section = text.slice(text.indexOf("Event feeds"));
    const lines = section.split("\n").filter((l) => !/^[- ]+$/.test(l));
    expect(lines[1]).toMatch(/^SOURCE\s+SCOPE\s+FEED\s+STATE\s+LAST POLL\s+COVERED FROM\s+COVERED UNTIL\s+REASON$/);
    expect(lines[2]).toMatch(/^aws\s+111111111111\s+iam\s+ok\s+30 min ago\s+2026-11-30T10:00:00.000Z\s+2026-12-01T10:00:00.000Z\s*$/);
    expect(lines[3]).toMatch(/^aws\s+111111111111\s+signin\s+cannot assess\s+30 min ago\s+2026-11-30T09:00:00.000Z\s+2026-12-01T09:00:00.000Z\s+the poll started/);
    expect(lines[4]).toMatch(/^entra\s+tenant-1\s+signIns\s+failing\s+30 min ago\s+-\s+-\s+HTTP 503/);
    expect(lines[5]).toMatch(/^gh\s+acme\\x1b\[31m\s+audit-log\s+not available\s/);
    // Provider text reaches the terminal escaped.
    expect(text).not.toContain("\u001b");
    expect(text).toMatch(/PROBLEMS\n(  .*\n)*  event feed entra\/tenant-1\/signIns failing/);
  });

  it("says nothing about feeds when none was ever polled", () => {
    const cfg = config();
    openStore(cfg.store.path).close();
    const status = buildStatus(cfg);
    expect(status.feeds).toEqual([]);
    expect(renderStatusText(status)).not.toContain("Event feeds");
  });
});

// The stop bound when a collect does not honour the abort: the daemon waits --stop-timeout, then marks the
// run failed itself (undoing what its open scope wrote) and releases the lock, so the next collect is fine.
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fileConnector } from "../../connectors/file/index.js";
import type { Connector } from "../../src/connector.js";
import { runCycle } from "../../src/daemon/cycle.js";
import { Daemon } from "../../src/daemon/daemon.js";
import type { Job, Scheduler } from "../../src/daemon/scheduler.js";
import { openStore } from "../../src/store/db.js";
import { inventoryAt, listRuns, scopeRuns } from "../../src/store/reader.js";
import { Fixture, recordingLog, until } from "./helpers.js";

const noScheduler: Scheduler = { schedule: (): Job => ({ stop() {}, nextRun: () => null }) };

afterEach(() => {
  vi.restoreAllMocks();
});

/** A connector stuck after writing part of a scope, deaf to the abort signal. */
function stuckConnector(): Connector {
  return {
    type: "file",
    async *collect() {
      yield { type: "scope-start", scope: "erp" };
      yield { type: "records", scope: "erp", principals: [{ id: "zed", kind: "human", name: "zed", status: "active", mfa: "enabled", accessLevel: "admin" }] };
      await new Promise(() => {});
    },
  };
}

describe("stop timeout", () => {
  it("a connector deaf to the abort does not hold the stop: its scope ends 'aborted by shutdown', its writes undone", async () => {
    const fx = new Fixture('[schedule]\ncollect = "0 2 * * *"');
    const log = recordingLog();
    const daemon = new Daemon({ configPath: fx.config, log, scheduler: noScheduler });
    await daemon.start();
    await daemon.runCollect("first");
    vi.spyOn(fileConnector, "create").mockImplementation(() => stuckConnector());
    void daemon.runCollect("second");
    await until("run 2 to be collecting", () => {
      const d = openStore(fx.db, { readonly: true });
      try {
        return scopeRuns(d, 2).some((s) => s.status === "running");
      } finally {
        d.close();
      }
    });
    expect(await daemon.stop("SIGTERM", 60_000)).toBe("clean");
    const d = openStore(fx.db, { readonly: true });
    try {
      expect(listRuns(d).map((r) => `${r.id}:${r.status}`)).toEqual(["2:failed", "1:ok"]);
      expect(scopeRuns(d, 2).map((s) => `${s.source}/${s.scope}:${s.status}:${s.error}`)).toEqual(["erp/erp:failed:source erp: aborted by shutdown", "hr/erp:failed:source hr: aborted by shutdown"]);
      expect([...inventoryAt(d, 2)].some((p) => p.id === "zed")).toBe(false);
    } finally {
      d.close();
    }
  });

  it("abandons a collect that ignores the abort: run failed, its writes undone, lock released", async () => {
    const fx = new Fixture('[schedule]\ncollect = "0 2 * * *"');
    const log = recordingLog();
    // A collect that never sees the daemon's abort (the engine itself stuck, not just a connector).
    const deaf = new AbortController().signal;
    const daemon = new Daemon({ configPath: fx.config, log, scheduler: noScheduler, cycle: (config, o) => runCycle(config, { ...o, signal: deaf }) });
    await daemon.start();
    await daemon.runCollect("first");

    vi.spyOn(fileConnector, "create").mockImplementation(() => stuckConnector());
    void daemon.runCollect("second");
    const db = () => openStore(fx.db, { readonly: true });
    await until("run 2 to have written its partial scope", () => {
      const d = db();
      try {
        return [...inventoryAt(d, 2)].some((p) => p.id === "zed") || scopeRuns(d, 2).some((s) => s.status === "running");
      } finally {
        d.close();
      }
    });
    expect(existsSync(`${fx.db}.lock`)).toBe(true);

    expect(await daemon.stop("SIGTERM", 300)).toBe("forced");
    expect(existsSync(`${fx.db}.lock`)).toBe(false);
    expect(log.lines.find((l) => l.msg === "run did not stop in time: marked failed")).toMatchObject({ run: 2 });

    const d = db();
    try {
      expect(listRuns(d).map((r) => `${r.id}:${r.status}`)).toEqual(["2:failed", "1:ok"]);
      // What the stuck scope wrote is gone: run 2 reads as run 1 did.
      expect([...inventoryAt(d, 2)].some((p) => p.id === "zed")).toBe(false);
      expect([...inventoryAt(d, 1)].map((p) => p.name).sort()).toEqual(["ada", "ada", "bob", "bob", "carol", "carol", "dave"]);
    } finally {
      d.close();
    }

    vi.restoreAllMocks();
    const next = new Daemon({ configPath: fx.config, log, scheduler: noScheduler });
    await next.start();
    await next.runCollect("after the restart");
    await next.stop("test", 1000);
    const e = db();
    try {
      expect(listRuns(e)[0]).toMatchObject({ id: 3, status: "ok" });
    } finally {
      e.close();
    }
  });
});

// [store] keep_runs after each daemon run: the store keeps the newest runs, and the report files and delivery
// records of pruned runs go with them.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../../src/config/load.js";
import { runCycle } from "../../src/daemon/cycle.js";
import { recentDeliveries } from "../../src/store/deliveries.js";
import { openStore } from "../../src/store/db.js";
import { listRuns } from "../../src/store/reader.js";
import { Fixture, recordingLog } from "./helpers.js";

describe("retention", () => {
  it("keeps keep_runs runs, their reports and deliveries; older ones are removed", async () => {
    const fx = new Fixture('[report]\nformats = ["html", "json"]');
    // keep_runs lives in [store], which the fixture writes first.
    writeFileSync(fx.config, readFileSync(fx.config, "utf8").replace('[store]\npath = "store/whohas.db"', '[store]\npath = "store/whohas.db"\nkeep_runs = 2'));
    const config = loadConfig(fx.config, CONNECTORS);
    expect(config.store.keepRuns).toBe(2);
    const log = recordingLog();
    for (let i = 0; i < 4; i++) {
      if (i === 2) fx.mutate();
      await runCycle(config, { log, signal: new AbortController().signal, email: false });
    }
    const db = openStore(config.store.path, { readonly: true });
    try {
      expect(listRuns(db).map((r) => r.id)).toEqual([4, 3]);
      expect([...new Set(recentDeliveries(db, 100).map((d) => d.runId))].sort()).toEqual([3, 4]);
    } finally {
      db.close();
    }
    expect(readdirSync(config.report.dir).sort()).toEqual(["run-3-vs-2.findings.csv", "run-3-vs-2.html", "run-3-vs-2.json", "run-4-vs-3.findings.csv", "run-4-vs-3.html", "run-4-vs-3.json"]);
    expect(log.lines.filter((l) => l.msg === "reports of pruned runs removed").flatMap((l) => l.removed as string[]).sort()).toEqual([
      "run-1.findings.csv",
      "run-1.html",
      "run-1.json",
      "run-2-vs-1.findings.csv",
      "run-2-vs-1.html",
      "run-2-vs-1.json",
    ]);
  });
});


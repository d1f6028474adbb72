// The collect engine owns each source's lifetime: a source past its deadline ends "timed out" while the others
// are stored, shutdown ends open scopes "aborted by shutdown", and whatever a connector deferred (SDK clients,
// HTTP agents) is released however the source ended — even when the connector itself never returns.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { fileConnector } from "../../connectors/file/index.js";
import { collect } from "../../src/collect.js";
import { parseConfig } from "../../src/config/load.js";
import type { CollectContext, CollectEvent, Connector } from "../../src/connector.js";
import type { Principal } from "../../src/model.js";
import { openStore } from "../../src/store/db.js";
import { inventoryAt, scopeRuns } from "../../src/store/reader.js";
import { testContext } from "../helpers/collect.js";

const person = (id: string): Principal => ({ id, kind: "human", name: id, status: "active", mfa: "enabled" });

afterEach(() => vi.restoreAllMocks());

/** Two sources: "quick" always answers; "slow" answers the first time and then, when told, hangs ignoring its signal. */
function setup(slowDeadline = "") {
  const dir = mkdtempSync(join(tmpdir(), "whohas-lifecycle-"));
  const config = parseConfig(
    `[store]\npath = "${join(dir, "w.db")}"\n[collect]\ndeadline_seconds = 600\n` +
      `[[sources]]\nid = "quick"\ntype = "file"\npath = "q.csv"\n[[sources]]\nid = "slow"\ntype = "file"\npath = "s.csv"\n${slowDeadline}\n`,
    join(dir, "w.toml"),
    CONNECTORS,
  );
  const state = { hang: false, released: [] as string[], started: 0, quickUsers: ["q1"] };
  let onStarted: () => void = () => {};
  const started = new Promise<void>((r) => (onStarted = r));
  vi.spyOn(fileConnector, "create").mockImplementation((sourceId): Connector => ({
    type: "file",
    async *collect(ctx: CollectContext): AsyncIterable<CollectEvent> {
      ctx.defer(() => void state.released.push(`${sourceId}:client`));
      ctx.defer(async () => void state.released.push(`${sourceId}:agent`));
      const scope = sourceId === "quick" ? "q" : "s";
      yield { type: "scope-start", scope };
      if (sourceId === "slow" && state.hang) {
        state.started++;
        onStarted();
        // A request that never completes and a connector that does not listen to its signal.
        await new Promise(() => {});
      }
      const users = sourceId === "quick" ? state.quickUsers : ["s1", "s2"];
      yield { type: "records", scope, principals: users.map(person) };
      yield { type: "scope-end", scope };
    },
  }));
  return { dir, config, state, started, db: join(dir, "w.db") };
}

describe("collect deadlines and releases", () => {
  it("ends a hung source as timed out at its deadline, keeps its previous state, stores the others, and releases every client", async () => {
    const s = setup("deadline_seconds = 0.2");
    const { log } = testContext();
    const first = await collect(s.config, { log });
    expect(first.status).toBe("ok");
    expect(s.state.released.sort()).toEqual(["quick:agent", "quick:client", "slow:agent", "slow:client"]);

    s.state.hang = true;
    s.state.released = [];
    s.state.quickUsers = ["q1", "q2"];
    const second = await collect(s.config, { log });
    expect(s.state.started).toBe(1);
    expect(second.status).toBe("partial");
    const db = openStore(s.db, { readonly: true });
    try {
      const scopes = scopeRuns(db, second.runId);
      expect(scopes.map((r) => `${r.source}/${r.scope}:${r.status}`)).toEqual(["quick/q:ok", "slow/s:failed"]);
      expect(scopes[1]!.error).toBe("source slow: timed out: the source did not finish within its collect deadline (0.2 s); previous state kept");
      // The slow source's accounts are still there (not removed); the quick one's change is stored.
      expect([...inventoryAt(db, second.runId)].map((p) => `${p.source}/${p.id}`)).toEqual(["quick/q1", "quick/q2", "slow/s1", "slow/s2"]);
    } finally {
      db.close();
    }
    // Released even though the hung connector never returned; newest first.
    expect(s.state.released.filter((r) => r.startsWith("slow"))).toEqual(["slow:agent", "slow:client"]);
    expect(s.state.released.filter((r) => r.startsWith("quick"))).toEqual(["quick:agent", "quick:client"]);
  });

  it("ends open scopes 'aborted by shutdown' when the caller's signal fires, and releases the clients", async () => {
    const s = setup();
    const { log } = testContext();
    await collect(s.config, { log });
    s.state.hang = true;
    s.state.released = [];
    const stop = new AbortController();
    const running = collect(s.config, { log, signal: stop.signal });
    await s.started;
    stop.abort(new Error("stopped by SIGTERM"));
    const result = await running;
    expect(result.status).toBe("failed");
    const db = openStore(s.db, { readonly: true });
    try {
      const slow = scopeRuns(db, result.runId).find((r) => r.source === "slow")!;
      expect(slow.status).toBe("failed");
      expect(slow.error).toBe("source slow: aborted by shutdown");
      expect([...inventoryAt(db, result.runId)].filter((p) => p.source === "slow").map((p) => p.id)).toEqual(["s1", "s2"]);
    } finally {
      db.close();
    }
    expect(s.state.released).toContain("slow:client");
    expect(s.state.released).toContain("slow:agent");
  });
});

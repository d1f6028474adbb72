// Ctrl-C / SIGTERM during `collect`: against a SCIM endpoint that never answers, the child stops, says which
// run it marks failed, the run is failed in the store and nothing is logged at error level. A second Ctrl-C
// records the run failed too. The exit time is printed, not asserted (shared machine).
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/db.js";
import { listRuns } from "../../src/store/reader.js";
import { CLI } from "../helpers/cli.js";

describe("collect interrupted", () => {
  const dir = mkdtempSync(join(tmpdir(), "whohas-interrupt-"));
  let server: Server;
  let requests = 0;
  let onRequest: () => void = () => {};

  beforeAll(async () => {
    // Accepts every request and never answers: a provider that hangs.
    server = createServer(() => {
      requests++;
      onRequest();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    writeFileSync(join(dir, "whohas.toml"), `[store]\npath = "w.db"\n[[sources]]\nid = "slow"\ntype = "scim"\nbase_url = "http://127.0.0.1:${port}/scim/v2"\ntoken = "env:WHOHAS_TEST_SCIM_TOKEN"\n`);
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  async function interrupted(signals: NodeJS.Signals[]) {
    const child = spawn(process.execPath, [CLI, "collect", "--config", join(dir, "whohas.toml"), "--log-format", "json", "--log-level", "debug"], {
      env: { ...process.env, WHOHAS_TEST_SCIM_TOKEN: "t0k3n", NO_COLOR: "1" },
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    await new Promise<void>((r) => {
      onRequest = r;
      if (requests > 0) r();
    });
    const sentAt = performance.now();
    for (const s of signals) child.kill(s);
    const code = await exited;
    const ms = performance.now() - sentAt;
    console.log(`collect exited ${ms.toFixed(0)} ms after ${signals.join("+")}`);
    return { code, stderr, ms };
  }

  it("one Ctrl-C: the run is failed in the store, named on stderr, with no error-level log line", async () => {
    const { code, stderr } = await interrupted(["SIGINT"]);
    expect(code).toBe(130);
    const db = openStore(join(dir, "w.db"), { readonly: true });
    const [run] = listRuns(db, 1);
    db.close();
    expect(run!.status).toBe("failed");
    expect(stderr).toContain(`SIGINT: stopping; run ${run!.id} will be marked failed`);
    expect(stderr).toContain(`run ${run!.id} marked failed: interrupted`);
    const logs = stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((l) => typeof l.level === "string")).toBe(true);
    expect(logs.filter((l) => l.level === "error" || l.level === "fatal")).toEqual([]);
  });

  it("SIGTERM then a second signal: the run is still recorded failed", async () => {
    requests = 0;
    const { code } = await interrupted(["SIGTERM", "SIGINT"]);
    expect([130, 1]).toContain(code);
    const db = openStore(join(dir, "w.db"), { readonly: true });
    const runs = listRuns(db, 5);
    db.close();
    expect(runs.every((r) => r.status === "failed")).toBe(true);
    expect(runs).toHaveLength(2);
  });
});

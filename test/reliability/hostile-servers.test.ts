// Every provider endpoint turned hostile at once: each simulator answers every request — token requests
// included — with a 307 to another origin (a second loopback server that records whatever reaches it).
// Through the real collect engine and store: nothing reaches the other origin, every provider source
// fails with a named refusal, and no canary secret is in the store (database and WAL) or the logs.
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Simulator } from "../../src/simulator/harness.js";
import { startForeignOrigin, type ForeignOrigin } from "../helpers/foreign-origin.js";
import { startLab, type Lab } from "./lab.js";
import { timedCollect } from "./run.js";

let lab: Lab;
let foreign: ForeignOrigin;

beforeAll(async () => {
  lab = await startLab();
  foreign = await startForeignOrigin();
}, 120_000);
afterAll(async () => {
  await lab?.close();
  await foreign?.close();
});

it("every connector: a 307 to another origin on every request sends nothing there and stores no secret", async () => {
  const sims: Simulator[] = [lab.aws.sim, lab.entraA.sim.server, lab.entraB.sim.server, lab.googleA.sim, lab.googleB.sim, lab.github.sim, lab.scimA.sim, lab.scimB.sim];
  for (const sim of sims) sim.injectFault({ fault: { kind: "status", status: 307, headers: { location: `${foreign.origin}/elsewhere` } } });
  try {
    const run = await timedCollect(lab.config, lab.env);
    expect(run.hung).toBe(false);
    expect(foreign.received).toEqual([]);
    const provider = run.result.scopes.filter((s) => s.sourceType !== "file");
    expect(new Set(provider.map((s) => s.sourceType))).toEqual(new Set(["aws-iam", "entra-id", "google-workspace", "github", "scim"]));
    for (const s of provider) {
      expect(s.status, `${s.source}/${s.scope}`).toBe("failed");
      expect(s.error ?? "", `${s.source}/${s.scope}`).toMatch(/(ForeignOriginError|RedirectRefusedError)\b.*HTTP 307 redirect/);
    }
    const stored = [lab.config.store.path, `${lab.config.store.path}-wal`].filter(existsSync).map((p) => readFileSync(p).toString("latin1"));
    const logs = JSON.stringify(run.logs);
    for (const c of lab.canaries) {
      expect(stored.some((b) => b.includes(c)), `canary in the store`).toBe(false);
      expect(logs.includes(c), `canary in the logs`).toBe(false);
    }
  } finally {
    for (const sim of sims) sim.clearFaults();
  }
}, 120_000);

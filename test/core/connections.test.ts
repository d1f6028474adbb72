// Clients live as long as their collect: after repeated collects of every provider in one process, no
// connection to any simulator stays open, even though the simulators (like a proxy) would keep idle
// connections for ten minutes and the process-wide fetch pool would too.
import { setGlobalDispatcher, getGlobalDispatcher, Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect } from "../../src/collect.js";
import type { Simulator } from "../../src/simulator/harness.js";
import { startLab, type Lab } from "../reliability/lab.js";
import { testContext } from "../helpers/collect.js";
import { until } from "../daemon/helpers.js";

// Two: a client kept past its collect shows after the first; the second shows a fresh collect releases its own too.
const COLLECTS = 2;
const TEN_MINUTES = 600_000;

describe("connections after collects", () => {
  let lab: Lab;
  let sims: [string, Simulator][];
  const previousDispatcher = getGlobalDispatcher();

  beforeAll(async () => {
    lab = await startLab();
    sims = [
      ["aws", lab.aws.sim],
      ["entra-a", lab.entraA.sim.server],
      ["entra-b", lab.entraB.sim.server],
      ["google-a", lab.googleA.sim],
      ["google-b", lab.googleB.sim],
      ["github", lab.github.sim],
      ["scim-a", lab.scimA.sim],
      ["scim-b", lab.scimB.sim],
    ];
    for (const [, sim] of sims) sim.keepAliveTimeoutMs = TEN_MINUTES;
    // The process-wide fetch pool keeps idle sockets as long as the server allows: a connector that used it
    // would leave its connections open after the collect.
    setGlobalDispatcher(new Agent({ keepAliveTimeout: TEN_MINUTES, keepAliveMaxTimeout: TEN_MINUTES }));
    Object.assign(process.env, lab.env);
  }, 120_000);

  afterAll(async () => {
    setGlobalDispatcher(previousDispatcher);
    await lab?.close();
  });

  it(`leaves no connection open to any provider after each of ${COLLECTS} collects`, async () => {
    const { log } = testContext();
    const requests = () => sims.map(([, s]) => s.requestCount);
    for (let i = 1; i <= COLLECTS; i++) {
      const before = requests();
      const result = await collect(lab.config, { log, env: { ...process.env, ...lab.env } });
      expect(result.scopes.filter((s) => s.status !== "ok").map((s) => `${s.source}/${s.scope}: ${s.error}`)).toEqual([]);
      // Every provider was talked to in this collect.
      expect(requests().map((n, k) => n > before[k]!)).toEqual(sims.map(() => true));
      // The releases have run when collect() returns; the server sees each close once its event arrives.
      const open = await until(
        `connections to close after collect ${i}`,
        () => (sims.every(([, s]) => s.openConnections === 0) ? "closed" : undefined),
        10_000,
      ).catch(() => Object.fromEntries(sims.map(([name, s]) => [name, s.openConnections])));
      expect(open).toBe("closed");
    }
  }, 300_000);
});

// One hung provider does not hold the others: GitHub accepts connections and never answers (its own request
// timeout is a minute), yet the daemon's cycle ends before the next scheduled collect with the GitHub scope
// "timed out" (its accounts kept), the file sources stored, the report written and the alert sent; the next
// scheduled collect runs instead of being skipped, and the hung connections are closed.
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { startGithubSimulator, type GithubSimulator } from "../../connectors/github/simulator.js";
import { findOrg, generateTenant } from "../../connectors/github/tenant.js";
import { loadConfig } from "../../src/config/load.js";
import { Daemon } from "../../src/daemon/daemon.js";
import type { Job, Scheduler } from "../../src/daemon/scheduler.js";
import { openStore } from "../../src/store/db.js";
import { inventoryAt, listRuns, scopeRuns } from "../../src/store/reader.js";
import { recentDeliveries } from "../../src/store/deliveries.js";
import { Fixture, recordingLog, startWebhookReceiver, until, type WebhookReceiver } from "./helpers.js";

/** A schedule whose next collect is always `intervalMs` away (the test may change it); the test fires the ticks itself. */
function everyMs(intervalMs: number): Scheduler & { fire(): void; intervalMs: number } {
  let fire: () => void = () => {};
  const s = {
    intervalMs,
    schedule: (_name: string, _expr: string, _tz: string | undefined, f: () => void): Job => {
      fire = f;
      return { stop() {}, nextRun: () => new Date(Date.now() + s.intervalMs) };
    },
    fire: () => fire(),
  };
  return s;
}

describe("a provider that never answers", () => {
  let gh: GithubSimulator;
  let hook: WebhookReceiver;
  let fx: Fixture;

  beforeAll(async () => {
    const tenant = generateTenant({ seed: 3, orgs: [{ login: "acme", members: 8, owners: 2, repos: 1, teams: 1 }] });
    gh = await startGithubSimulator({ tenant, app: { id: 1, publicKey: generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString() } });
    const owner = [...findOrg(tenant, "acme").members].find(([, role]) => role === "admin")!;
    hook = await startWebhookReceiver();
    fx = new Fixture();
    writeFileSync(join(fx.dir, "gh-token"), gh.issuePat(tenant.users.get(owner[0])!.login), { mode: 0o600 });
    fx.writeConfig(`[schedule]\ncollect = "* * * * *"\n\n[[alerts]]\nname = "soc"\nurl = "${hook.url}"\n\n[[sources]]\nid = "gh"\ntype = "github"\norgs = ["acme"]\nbase_url = "${gh.baseUrl}"\ntoken = "file:${join(fx.dir, "gh-token")}"\nrequest_timeout_seconds = 60\n`);
  });
  afterAll(async () => {
    await Promise.all([gh?.close(), hook?.close()]);
  });

  it("ends the hung source before the next scheduled collect; the others are reported and alerted on time", async () => {
    const log = recordingLog();
    const scheduler = everyMs(6_000);
    const daemon = new Daemon({ configPath: fx.config, log, scheduler, minCycleMs: 0 });
    await daemon.start();
    // The baseline collect gets a minute (a loaded machine took over 5 s); the hung one below gets 6 s.
    scheduler.intervalMs = 60_000;
    await daemon.runCollect("first");
    scheduler.intervalMs = 6_000;
    const ghAccounts = (db: ReturnType<typeof openStore>, run: number) => [...inventoryAt(db, run)].filter((p) => p.source === "gh").length;
    let db = openStore(fx.db, { readonly: true });
    const before = ghAccounts(db, 1);
    const firstScopes = JSON.stringify(scopeRuns(db, 1).map((s) => [s.source, s.scope, s.status, s.error]));
    db.close();
    expect(before, `run 1's scopes: ${firstScopes}`).toBeGreaterThan(0);

    gh.sim.injectFault({ fault: { kind: "hang" } });
    fx.mutate();
    const requestsBefore = gh.sim.requestCount;
    scheduler.fire();
    await until("the hung collect to reach GitHub", () => gh.sim.requestCount > requestsBefore);
    await until("the cycle to end", () => log.lines.some((l) => l.msg === "alert sent" && l.run === 2), 30_000);
    // The next tick finds no collect running: it is not skipped. GitHub answers again by then, so that
    // collect ends on its own instead of waiting out a second deadline, and the scope recovers.
    gh.sim.clearFaults();
    scheduler.fire();
    await until("run 3 to be reported", () => log.lines.some((l) => l.msg === "report built" && l.run === 3), 30_000);
    await daemon.stop("test", 10_000);

    db = openStore(fx.db, { readonly: true });
    try {
      expect(listRuns(db).map((r) => `${r.id}:${r.status}`)).toEqual(["3:ok", "2:partial", "1:ok"]);
      const run2 = scopeRuns(db, 2);
      expect(run2.filter((s) => s.status === "ok").map((s) => s.source).sort()).toEqual(["erp", "hr"]);
      const late = run2.find((s) => s.source === "gh")!;
      expect(late.status).toBe("failed");
      expect(late.error).toMatch(/^source gh: timed out: the source did not finish within its collect deadline \([\d.]+ s\); previous state kept$/);
      // GitHub's accounts are kept, not removed.
      expect(ghAccounts(db, 2)).toBe(before);
      expect(scopeRuns(db, 3).find((s) => s.source === "gh")!.status).toBe("ok");
      // The file sources' changes were reported and alerted in the cycle the hung provider was in.
      const run2Deliveries = recentDeliveries(db, 50).filter((d) => d.runId === 2);
      expect(run2Deliveries.map((d) => `${d.channel}:${d.status}`).sort()).toEqual(["file:ok", "webhook:ok"]);
    } finally {
      db.close();
    }
    expect(log.lines.filter((l) => String(l.msg).includes("skipped"))).toEqual([]);
    expect(JSON.parse(hook.requests[0]!.body).run.id).toBe(2);
    // The engine closed the connections the hung requests were waiting on.
    await until("hung connections to close", () => gh.sim.openConnections === 0);
    expect(loadConfig(fx.config, CONNECTORS).collect.deadlineSeconds).toBe(3600);
  }, 60_000);
});

// A Google scope whose every attempt times out (issue #12: a timeout in one Google scope took the whole
// collect down, an unhandled AbortError from node-fetch's body stream): with a 1 s per-attempt timeout
// against a simulator that answers in 1.5 s, the scope fails after its retries, the other source is
// stored and the run is partial. Six attempts with backoff take about 13 s, so this runs in the reliability
// tier (`npm run test:reliability`); the fast tier keeps the token-timeout case
// (test/connectors/google-workspace/timeout.test.ts) and the fault matrix's timed-out page request.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { startGoogleSimulator, type GoogleSimulator } from "../../connectors/google-workspace/simulator.js";
import { collect } from "../../src/collect.js";
import { parseConfig } from "../../src/config/load.js";
import { openStore } from "../../src/store/db.js";
import { inventoryAt } from "../../src/store/reader.js";
import { testContext } from "../helpers/collect.js";

let google: GoogleSimulator | undefined;
let dir: string | undefined;
afterEach(async () => {
  await google?.close();
  google = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

it("with a 1 s timeout against a slow simulator, the Google scope fails and the other source is stored: the run is partial", async () => {
  google = await startGoogleSimulator({ users: 5, latencyMs: 1500 });
  dir = await mkdtemp(join(tmpdir(), "whohas-gws-timeout-"));
  await writeFile(join(dir, "key.json"), google.tenant.keyFile(), { mode: 0o600 });
  await writeFile(join(dir, "erp.csv"), "username,email,status,mfa,role,access_level\nada,ada@example.com,active,enabled,erp-admin,admin\n");
  const config = parseConfig(
    `[store]\npath = "${join(dir, "w.db")}"\n` +
      `[[sources]]\nid = "google"\ntype = "google-workspace"\nsubject = "admin@${google.tenant.domain}"\ncredentials = "file:${join(dir, "key.json")}"\n` +
      `root_url = "${google.rootUrl}"\ntoken_url = "${google.tokenUrl}"\nrequest_timeout_ms = 1000\n` +
      `[[sources]]\nid = "erp"\ntype = "file"\npath = "${join(dir, "erp.csv")}"\n`,
    join(dir, "w.toml"),
    CONNECTORS,
  );
  const ctx = testContext("unused");
  const r = await collect(config, { log: ctx.log });
  expect(r.status).toBe("partial");
  expect(r.scopes.map((s) => [s.source, s.status])).toEqual([
    ["erp", "ok"],
    ["google", "failed"],
  ]);
  expect(r.scopes.find((s) => s.source === "google")!.error).toMatch(/^source google: Google Workspace customer my_customer: .*ETIMEDOUT: no response within 1000 ms/);
  const db = openStore(config.store.path, { readonly: true });
  try {
    expect([...inventoryAt(db, r.runId)].map((p) => `${p.source}/${p.name}`)).toEqual(["erp/ada"]);
  } finally {
    db.close();
  }
}, 120_000);

// The per-attempt timeout (request_timeout_ms) must fail an attempt, never the process. gaxios' own fetch,
// node-fetch, handed a signal that already fired, destroys the stream of a POST's body that no one listens
// to, an uncatchable AbortError (node-fetch#1801); the timeout could fire before the fetch while gaxios
// imported node-fetch on first use and another source's synchronous work held the loop. The transport now
// always sends through the collect's fetch (TransportHooks.fetch is required).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { CONNECTORS } from "../../../connectors/index.js";
import { startGoogleSimulator, type GoogleSimulator } from "../../../connectors/google-workspace/simulator.js";
import { collect } from "../../../src/collect.js";
import { parseConfig } from "../../../src/config/load.js";
import { openStore } from "../../../src/store/db.js";
import { inventoryAt } from "../../../src/store/reader.js";
import { dist, runScript } from "../../helpers/child-script.js";
import { testContext } from "../../helpers/collect.js";

let google: GoogleSimulator | undefined;
let dir: string | undefined;
afterEach(async () => {
  await google?.close();
  google = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

it("a token request whose timeout fires before it is sent fails that attempt, never the process", () => {
  // A fresh process where node-fetch takes 1.5 s to load, longer than the 1 s timeout: when gaxios fell back
  // to it, it imported it between our adapter (which starts the timeout) and the fetch, and the fetch then got
  // a signal that had already fired. The transport is wired the way the connector wires it, with a fetch of
  // its own (here Node's; in a collect, src/collect-fetch.ts).
  const r = runScript(`
import { createRequire, register } from "node:module";
register("data:text/javascript," + encodeURIComponent('export async function resolve(s, c, next) { if (s === "node-fetch") await new Promise((r) => setTimeout(r, 1500)); return next(s, c); }'));
const { startGoogleSimulator, SCOPES } = await import(${JSON.stringify(dist("connectors/google-workspace/simulator.js"))});
const { instrumentTransport } = await import(${JSON.stringify(dist("connectors/google-workspace/transport.js"))});
const { JWT } = createRequire(${JSON.stringify(dist("src/cli.js"))})("google-auth-library");
const google = await startGoogleSimulator({ users: 3 });
const sa = google.tenant.serviceAccount;
const jwt = new JWT({ email: sa.email, key: sa.privateKeyPem, subject: "admin@" + google.tenant.domain, scopes: [SCOPES.userReadonly] });
const log = { debug() {}, info() {}, warn() {}, error() {} };
const policy = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100, timeoutMs: 1000 };
let attempts = 0;
instrumentTransport(jwt, { scope: "s", countRequest: () => attempts++, signal: new AbortController().signal, log, policy, tokenUrl: google.tokenUrl, fetch: globalThis.fetch });
const token = await jwt.getAccessToken().then((t) => Boolean(t.token), (e) => e.message);
console.log(JSON.stringify({ token, attempts, tokenRequestsServed: google.stats.calls.get("token") ?? 0 }));
await google.close();
`);
  expect(r.stderr).not.toMatch(/Unhandled 'error' event/);
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { token: boolean; attempts: number; tokenRequestsServed: number };
  expect(out.token).toBe(true);
  // Every attempt counted was sent or refused before sending; only the last one reached the token endpoint.
  expect(out.tokenRequestsServed).toBe(1);
  expect(out.attempts).toBeGreaterThanOrEqual(1);
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

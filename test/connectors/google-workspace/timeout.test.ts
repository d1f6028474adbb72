// The per-attempt timeout (request_timeout_ms) must fail an attempt, never the process. gaxios' own fetch,
// node-fetch, handed a signal that already fired, destroys the stream of a POST's body that no one listens
// to, an uncatchable AbortError (node-fetch#1801); the timeout could fire before the fetch while gaxios
// imported node-fetch on first use and another source's synchronous work held the loop. The transport now
// always sends through the collect's fetch (TransportHooks.fetch is required).
// A Google scope whose every attempt times out (six attempts with backoff, 13 s) is in
// test/reliability/google-timeout.test.ts; the fast tier's fault matrix times out a Google page request
// inside a collect (its "timeout" row).
import { expect, it } from "vitest";
import { dist, runScript } from "../../helpers/child-script.js";

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

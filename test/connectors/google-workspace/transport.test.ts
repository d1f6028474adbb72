// The transporter hooks on their own, with a short policy: a request that gets no answer is abandoned after
// the per-attempt timeout and retried; the token URL is only redirected when configured.
import { admin } from "@googleapis/admin";
import { JWT } from "google-auth-library";
import { afterEach, expect, it, vi } from "vitest";
import { instrumentTransport, RateGate } from "../../../connectors/google-workspace/transport.js";
import { SCOPES, startGoogleSimulator, type GoogleSimulator } from "../../../connectors/google-workspace/simulator.js";
import { DEFAULT_RETRY_POLICY } from "../../../src/http-policy.js";
import { testContext } from "../../helpers/collect.js";

let google: GoogleSimulator | undefined;
afterEach(async () => {
  await google?.close();
  google = undefined;
});

function client(g: GoogleSimulator, timeoutMs: number, tokenUrl: string | undefined) {
  const ctx = testContext("t");
  const sa = g.tenant.serviceAccount;
  const jwt = new JWT({ email: sa.email, key: sa.privateKeyPem, subject: `admin@${g.tenant.domain}`, scopes: [SCOPES.userReadonly] });
  instrumentTransport(jwt, { scope: "s", countRequest: (s) => ctx.countRequest(s), signal: ctx.signal, log: ctx.log, policy: { ...DEFAULT_RETRY_POLICY, timeoutMs, baseDelayMs: 10 }, tokenUrl, fetch: globalThis.fetch });
  return { ctx, dir: admin({ version: "directory_v1", auth: jwt as never, rootUrl: g.rootUrl }) };
}

it("abandons an attempt with no answer after the timeout and retries it", async () => {
  google = await startGoogleSimulator({ users: 3 });
  google.sim.injectFault({ fault: { kind: "hang" }, match: (r) => r.url.pathname.endsWith("/users"), times: 1 });
  // Long enough that a loaded machine still answers the retry within it (300 ms gave a second timeout at load 20).
  const { ctx, dir } = client(google, 2_000, google.tokenUrl);
  const started = Date.now();
  const res = await dir.users.list({ customer: "my_customer" });
  expect(res.data.users).toHaveLength(3);
  expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  expect(ctx.requests.get("s")).toBe(3); // token, the hung attempt, the retry
  expect(ctx.logged.find((l) => l.level === "warn")?.obj).toMatchObject({ reason: "ETIMEDOUT", attempt: 1 });
});

it("leaves Google's token URL alone unless token_url is set", async () => {
  google = await startGoogleSimulator({ users: 1 });
  const seen: string[] = [];
  const { dir } = client(google, 1000, undefined);
  // Observe where the token request would go without sending it anywhere real.
  (dir.context._options.auth as unknown as JWT).transporter.interceptors.request.add({
    resolved: async (o) => {
      seen.push(String(o.url));
      throw new Error("stop here");
    },
  });
  await expect(dir.users.list({ customer: "my_customer" })).rejects.toThrow("stop here");
  expect(seen[0]).toBe("https://oauth2.googleapis.com/token");
});

it("RateGate: a burst, then the sustained rate (counted on a virtual clock)", async () => {
  vi.useFakeTimers();
  try {
    const gate = new RateGate(600, 5); // 5 at once, then one every 100 ms
    let taken = 0;
    const all = (async () => {
      for (let i = 0; i < 10; i++) {
        await gate.take();
        taken++;
      }
    })();
    await vi.advanceTimersByTimeAsync(0);
    expect(taken).toBe(5);
    await vi.advanceTimersByTimeAsync(99);
    expect(taken).toBe(5);
    await vi.advanceTimersByTimeAsync(1);
    expect(taken).toBe(6);
    await vi.advanceTimersByTimeAsync(399);
    expect(taken).toBe(9);
    await vi.advanceTimersByTimeAsync(1);
    expect(taken).toBe(10);
    await all;
  } finally {
    vi.useRealTimers();
  }
});

// The shared same-origin guard (src/http-policy.ts) against two real loopback servers: a different
// port is a different origin, so the "foreign" server stands for any host a hostile answer names.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForeignOriginError, originGuardedFetch, RedirectRefusedError, requireOrigin } from "../../src/http-policy.js";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ server: Server; origin: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

let home: Awaited<ReturnType<typeof serve>>;
let foreign: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  foreign = await serve((_req, res) => res.end("{}"));
  home = await serve((req, res) => {
    const [path, query] = req.url!.split("?");
    const status = Number(new URLSearchParams(query).get("status") ?? 302);
    const redirect = (location: string) => {
      res.writeHead(status, { location });
      res.end("redirect body that must never be read as data");
    };
    if (path === "/away") return redirect(`${foreign.origin}/steal`);
    if (path === "/protocol-relative") return redirect(`//127.0.0.1:${new URL(foreign.origin).port}/steal`);
    if (path === "/here") return redirect("/final");
    if (path === "/loop") return redirect("/loop");
    if (path === "/nowhere") return redirect("");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ path }));
  });
});

afterAll(async () => {
  await new Promise((r) => home.server.close(r));
  await new Promise((r) => foreign.server.close(r));
});

const guarded = () => originGuardedFetch(globalThis.fetch, { allowed: [home.origin], what: 'Link rel="next"' });
const auth = { authorization: "token SECRET-TOKEN" };

describe("originGuardedFetch", () => {
  it.each([301, 302, 303, 307, 308])("refuses an HTTP %i redirect to another origin before anything is sent there", async (status) => {
    const before = foreign.seen.length;
    const err = await guarded()(`${home.origin}/away?status=${status}`, { method: "POST", headers: auth, body: "client_secret=SECRET" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForeignOriginError);
    expect((err as Error).message).toContain(`HTTP ${status} redirect points to ${foreign.origin}`);
    expect((err as Error).message).not.toContain("SECRET");
    expect(foreign.seen.length).toBe(before);
  });

  it("treats a protocol-relative Location on another port as another origin", async () => {
    const before = foreign.seen.length;
    await expect(guarded()(`${home.origin}/protocol-relative`, { headers: auth })).rejects.toBeInstanceOf(ForeignOriginError);
    expect(foreign.seen.length).toBe(before);
  });

  it("refuses a first request outside the allowed origins (a foreign next link)", async () => {
    const before = foreign.seen.length;
    const err = await guarded()(`${foreign.origin}/page2`, { headers: auth }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForeignOriginError);
    expect((err as Error).message).toContain('Link rel="next" points to');
    expect(foreign.seen.length).toBe(before);
  });

  it("follows a same-origin redirect with the credential and the method; 303 becomes a GET without a body", async () => {
    home.seen.length = 0;
    const res = await guarded()(`${home.origin}/here?status=307`, { method: "POST", headers: { ...auth, "content-type": "text/plain" }, body: "payload" });
    expect(await res.json()).toEqual({ path: "/final" });
    expect(home.seen.map((s) => [s.method, s.url.split("?")[0], s.authorization, s.body])).toEqual([
      ["POST", "/here", "token SECRET-TOKEN", "payload"],
      ["POST", "/final", "token SECRET-TOKEN", "payload"],
    ]);
    home.seen.length = 0;
    await guarded()(`${home.origin}/here?status=303`, { method: "POST", headers: { ...auth, "content-type": "text/plain" }, body: "payload" });
    expect(home.seen.map((s) => [s.method, s.body])).toEqual([
      ["POST", "payload"],
      ["GET", ""],
    ]);
  });

  it("never hands a redirect answer back as data: a loop and a missing Location are named errors", async () => {
    await expect(guarded()(`${home.origin}/loop`)).rejects.toThrow(new RedirectRefusedError(302, "more than 5 redirects").message);
    await expect(guarded()(`${home.origin}/nowhere`)).rejects.toBeInstanceOf(RedirectRefusedError);
  });
});

describe("requireOrigin", () => {
  it("compares scheme, host and port exactly, and never echoes the path or query", () => {
    expect(requireOrigin("https://graph.microsoft.com/v1.0/users?$skiptoken=x", "https://graph.microsoft.com", "nextLink").href).toBe(
      "https://graph.microsoft.com/v1.0/users?$skiptoken=x",
    );
    expect(requireOrigin("/v1.0/users", "https://graph.microsoft.com/v1.0", "nextLink", "https://graph.microsoft.com/v1.0/groups").pathname).toBe("/v1.0/users");
    for (const bad of [
      "http://graph.microsoft.com/v1.0/users",
      "https://graph.microsoft.com:8443/v1.0/users",
      "https://graph.microsoft.com.evil.example/v1.0/users",
      "https://graph.microsoft.com@evil.example/v1.0/users",
      "javascript:alert(1)",
      "not a url",
    ]) {
      const err = (() => {
        try {
          requireOrigin(bad, "https://graph.microsoft.com", "nextLink");
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err, bad).toBeInstanceOf(ForeignOriginError);
      expect(err!.message).not.toContain("/v1.0/users");
    }
  });
});

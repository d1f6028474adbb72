// Provider-neutral loopback server for connector simulators: ephemeral port, optional HTTPS with a CA
// generated at start, injected latency and faults, request counting. Each provider's simulator.ts supplies
// the wire protocol as a handler; tests and `whohas demo` drive the real SDKs against it.
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { generateTestCa, type TestCa } from "./tls.js";

export interface SimRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type SimHandler = (req: SimRequest, res: http.ServerResponse) => void | Promise<void>;

export type Fault =
  /** Answer with this status/headers/body instead of the handler. */
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  /** Destroy the connection without a response. */
  | { kind: "reset" }
  /** Never answer: the client's timeout must fire. */
  | { kind: "hang" }
  /** Send the handler's status and headers, then only part of the body and cut the connection. */
  | { kind: "truncate" }
  /** The handler's real answer, changed on the way out (a hostile server or proxy: a foreign next link, a swapped field). */
  | { kind: "rewrite"; rewrite: (answer: SimAnswer) => SimAnswer };

export interface SimAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface FaultRule {
  fault: Fault;
  /** Which requests it applies to; all when absent. */
  match?: (req: SimRequest) => boolean;
  /** How many matching requests it hits before it is used up; forever when absent. */
  times?: number;
}

export interface SimulatorOptions {
  tls?: boolean;
  /** Added before every response, to make request counts show up as wall time like a real network. */
  latencyMs?: number;
  handler: SimHandler;
}

export interface Simulator {
  readonly url: string;
  readonly port: number;
  /** PEM of the CA that signed the server certificate (tls only). */
  readonly ca?: string;
  /** Requests received, faults included. */
  readonly requestCount: number;
  /** Method and path (with query) of every request, in order. */
  readonly requestLog: readonly string[];
  latencyMs: number;
  /** TCP connections clients hold open to it right now (a leak check: none should outlive a collect). */
  readonly openConnections: number;
  /** How long an idle kept-alive connection stays open; a proxy may keep them for many minutes. */
  keepAliveTimeoutMs: number;
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  resetCounters(): void;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const rules: FaultRule[] = [];
  const log: string[] = [];
  const sockets = new Set<Socket>();
  let latencyMs = options.latencyMs ?? 0;
  let count = 0;
  let ca: TestCa | undefined;

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const simReq: SimRequest = {
          method: req.method ?? "GET",
          url: new URL(req.url ?? "/", "http://simulator"),
          headers: req.headers,
          body: Buffer.concat(chunks),
        };
        count++;
        log.push(`${simReq.method} ${simReq.url.pathname}${simReq.url.search}`);
        if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
        const fault = takeFault(rules, simReq);
        try {
          if (fault) {
            await applyFault(fault, simReq, res, options.handler);
          } else {
            await options.handler(simReq, res);
          }
        } catch (err) {
          if (!res.headersSent) {
            res.writeHead(500, { "content-type": "text/plain" });
            res.end(`simulator error: ${(err as Error).message}`);
          } else {
            res.destroy();
          }
        }
      })();
    });
  };

  let server: http.Server;
  if (options.tls) {
    ca = await generateTestCa();
    server = https.createServer({ key: ca.serverKey, cert: ca.serverCert }, onRequest);
  } else {
    server = http.createServer(onRequest);
  }
  // Longer than undici's 2 s minimum hint, so clients reuse connections as they would with a real provider.
  server.keepAliveTimeout = 5000;
  const connections = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    connections.add(s);
    s.on("close", () => {
      sockets.delete(s);
      connections.delete(s);
    });
  });
  server.on("secureConnection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;

  return {
    url,
    port,
    ca: ca?.caCert,
    get requestCount() {
      return count;
    },
    get requestLog() {
      return log;
    },
    get latencyMs() {
      return latencyMs;
    },
    set latencyMs(v: number) {
      latencyMs = v;
    },
    get openConnections() {
      return connections.size;
    },
    get keepAliveTimeoutMs() {
      return server.keepAliveTimeout;
    },
    set keepAliveTimeoutMs(v: number) {
      server.keepAliveTimeout = v;
    },
    injectFault(rule) {
      rules.push({ ...rule });
    },
    clearFaults() {
      rules.length = 0;
    },
    resetCounters() {
      count = 0;
      log.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}

function takeFault(rules: FaultRule[], req: SimRequest): Fault | undefined {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (rule.match && !rule.match(req)) continue;
    if (rule.times !== undefined) {
      rule.times--;
      if (rule.times <= 0) rules.splice(i, 1);
    }
    return rule.fault;
  }
  return undefined;
}

async function applyFault(fault: Fault, req: SimRequest, res: http.ServerResponse, handler: SimHandler): Promise<void> {
  switch (fault.kind) {
    case "status":
      res.writeHead(fault.status, { "content-type": "application/json", ...fault.headers });
      res.end(fault.body ?? "");
      return;
    case "reset":
      res.socket?.destroy();
      return;
    case "hang":
      return; // the socket stays open with no answer until the client gives up or the server closes
    case "truncate": {
      // Let the handler produce its real answer, then deliver only half of it.
      const captured = captureResponse(res);
      await handler(req, captured.proxy);
      const body = captured.body();
      res.writeHead(captured.status(), { ...captured.headers(), "content-length": String(body.length) });
      res.write(body.subarray(0, Math.floor(body.length / 2)));
      res.socket?.destroy();
      return;
    }
    case "rewrite": {
      const captured = captureResponse(res);
      await handler(req, captured.proxy);
      const out = fault.rewrite({ status: captured.status(), headers: captured.headers(), body: captured.body() });
      const headers = Object.fromEntries(Object.entries(out.headers).filter(([k]) => k.toLowerCase() !== "content-length"));
      res.writeHead(out.status, { ...headers, "content-length": String(out.body.length) });
      res.end(out.body);
      return;
    }
  }
}

/** A stand-in ServerResponse that records what a handler writes, so a fault can mangle it. */
function captureResponse(real: http.ServerResponse) {
  let status = 200;
  let headers: Record<string, string> = {};
  const chunks: Buffer[] = [];
  const toBuf = (c: unknown) => (Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  const proxy = Object.create(real) as http.ServerResponse;
  Object.defineProperty(proxy, "headersSent", { get: () => false });
  Object.assign(proxy, {
    writeHead(code: number, h?: Record<string, string>) {
      status = code;
      headers = { ...headers, ...(h ?? {}) };
      return proxy;
    },
    setHeader(name: string, value: string) {
      headers[name.toLowerCase()] = String(value);
      return proxy;
    },
    write(c: unknown) {
      chunks.push(toBuf(c));
      return true;
    },
    end(c?: unknown) {
      if (c !== undefined && c !== null) chunks.push(toBuf(c));
      return proxy;
    },
  });
  Object.defineProperty(proxy, "statusCode", {
    get: () => status,
    set: (v: number) => {
      status = v;
    },
  });
  return { proxy, status: () => status, headers: () => headers, body: () => Buffer.concat(chunks) };
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: http.ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

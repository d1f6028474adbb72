// A second loopback server on another port — another origin — standing for wherever a hostile or
// compromised provider points a next link or a redirect. It records everything it receives, so a test
// can assert that no request (and so no credential) ever reached it.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface ForeignRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ForeignOrigin {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  readonly received: ForeignRequest[];
  close(): Promise<void>;
}

export async function startForeignOrigin(): Promise<ForeignOrigin> {
  const received: ForeignRequest[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("latin1")));
    req.on("end", () => {
      received.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      // Answers like a provider would, so a client that did come here would carry on and be caught.
      res.writeHead(200, { "content-type": "application/json" });
      res.end("[]");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

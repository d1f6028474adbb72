// Loopback servers and fixtures for the daemon tests: an SMTP server with STARTTLS and AUTH (smtp-server,
// messages parsed with mailparser), a webhook receiver, two file sources whose second export carries the
// changes the alerts are about, a logger that records, and the CLI as an async child process (the test's own
// servers must keep answering while it runs).
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { Logger } from "../../src/connector.js";
import { generateTestCa } from "../../src/simulator/tls.js";
import { CLI } from "../helpers/cli.js";

export const SMTP_USER = "whohas-mailer";
export const SMTP_PASSWORD = "smtp-Pa55word-that-must-never-leak";

export interface ReceivedMail {
  parsed: ParsedMail;
  raw: string;
  /** The session it came in on: was it upgraded with STARTTLS, who logged in. */
  secure: boolean;
  user: string | undefined;
  envelopeTo: string[];
}

export interface SmtpServer {
  port: number;
  caFile: string;
  mails: ReceivedMail[];
  /** Connections made, failed ones included. */
  connections: number;
  /** Answer the next n messages with a temporary failure (451). */
  failNext(n: number): void;
  close(): Promise<void>;
}

export async function startSmtp(dir: string): Promise<SmtpServer> {
  const ca = await generateTestCa();
  const caFile = join(dir, "smtp-ca.pem");
  writeFileSync(caFile, ca.caCert, { mode: 0o600 });
  const mails: ReceivedMail[] = [];
  let failures = 0;
  let connections = 0;
  const server = new SMTPServer({
    key: ca.serverKey,
    cert: ca.serverCert,
    // STARTTLS is offered (secure: false + key/cert), and AUTH is refused before it.
    secure: false,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onConnect(_session, cb) {
      connections++;
      cb();
    },
    onAuth(auth, _session, cb) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) cb(null, { user: auth.username });
      else cb(new Error("Invalid username or password"));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if (failures > 0) {
          failures--;
          const err = new Error("Try again later") as Error & { responseCode: number };
          err.responseCode = 451;
          cb(err);
          return;
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        simpleParser(raw).then(
          (parsed) => {
            mails.push({ parsed, raw, secure: session.secure, user: session.user, envelopeTo: session.envelope.rcptTo.map((r) => r.address) });
            cb();
          },
          (err: Error) => cb(err),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    caFile,
    mails,
    get connections() {
      return connections;
    },
    failNext(n) {
      failures = n;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface WebhookRequest {
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The receiver's own check of X-Whohas-Signature against its key (null: it has no key). */
  verified: boolean | null;
}

export interface WebhookReceiver {
  url: string;
  requests: WebhookRequest[];
  /** Statuses to answer the next requests with before answering 204. */
  respond: number[];
  /** Never answer (the client's timeout must fire). */
  hang: boolean;
  close(): Promise<void>;
}

/**
 * A webhook endpoint as a receiver would write one: with a key, it recomputes HMAC-SHA256 over
 * "<X-Whohas-Timestamp>.<body>", compares in constant time and answers 401 when it does not match.
 */
export async function startWebhookReceiver(key?: string): Promise<WebhookReceiver> {
  const requests: WebhookRequest[] = [];
  const respond: number[] = [];
  const state = { hang: false };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let verified: boolean | null = null;
      if (key) {
        const expected = Buffer.from(`sha256=${createHmac("sha256", key).update(`${String(req.headers["x-whohas-timestamp"])}.${body}`).digest("hex")}`);
        const got = Buffer.from(String(req.headers["x-whohas-signature"] ?? ""));
        verified = got.length === expected.length && timingSafeEqual(got, expected);
      }
      requests.push({ headers: req.headers, body, verified });
      if (state.hang) return;
      res.writeHead(verified === false ? 401 : (respond.shift() ?? 204)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    respond,
    get hang() {
      return state.hang;
    },
    set hang(v: boolean) {
      state.hang = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const HEADER = "username,email,status,mfa,role,access_level,last_active,credential_id,credential_kind,credential_last_used";

/**
 * Two file sources: "erp" (an application) and "hr" (the system of record for people). The second export:
 * bob becomes an ERP admin, dave joins as an admin without MFA, ada turns MFA off, and carol leaves (disabled
 * in HR, still active in the ERP).
 */
export class Fixture {
  readonly dir = mkdtempSync(join(tmpdir(), "whohas-daemon-"));
  readonly erp = join(this.dir, "erp.csv");
  readonly hr = join(this.dir, "hr.csv");
  readonly config = join(this.dir, "whohas.toml");
  readonly db = join(this.dir, "store", "whohas.db");

  constructor(extra = "") {
    const today = new Date().toISOString().slice(0, 10);
    writeFileSync(
      this.erp,
      `${HEADER}\nada,ada@example.com,active,enabled,admin,admin,${today},k1,access_key,${today}\nbob,bob@example.com,active,enabled,clerk,write,${today},,,\ncarol,carol@example.com,active,enabled,viewer,read,${today},,,\n`,
    );
    writeFileSync(this.hr, `username,email,status\nada,ada@example.com,active\nbob,bob@example.com,active\ncarol,carol@example.com,active\ndave,dave@example.com,active\n`);
    this.writeConfig(extra);
  }

  writeConfig(extra = ""): void {
    writeFileSync(
      this.config,
      `[store]\npath = "store/whohas.db"\n\n[[sources]]\nid = "erp"\ntype = "file"\npath = "${this.erp}"\nsystem = "erp"\n\n[[sources]]\nid = "hr"\ntype = "file"\npath = "${this.hr}"\nsystem = "hr"\n\n${extra}\n`,
      { mode: 0o600 },
    );
  }

  mutate(): void {
    const today = new Date().toISOString().slice(0, 10);
    writeFileSync(
      this.erp,
      `${HEADER}\nada,ada@example.com,active,disabled,admin,admin,${today},k1,access_key,${today}\nbob,bob@example.com,active,enabled,clerk:write;admin:admin,admin,${today},,,\ncarol,carol@example.com,active,enabled,viewer,read,${today},,,\ndave,dave@example.com,active,disabled,admin,admin,${today},,,\n`,
    );
    writeFileSync(this.hr, `username,email,status\nada,ada@example.com,active\nbob,bob@example.com,active\ncarol,carol@example.com,disabled\ndave,dave@example.com,active\n`);
  }
}

export interface LogLine {
  level: string;
  msg?: string;
  [key: string]: unknown;
}

export function recordingLog(): Logger & { lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, msg, ...obj });
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), lines, text: () => JSON.stringify(lines) };
}

/** Waits without sleeping for real beyond what the condition needs. */
export async function until<T>(what: string, check: () => T | undefined | false | null, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function whohasAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: "1", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The daemon as a child process, its JSON log lines parsed as they arrive. */
export class DaemonProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly raw: string[] = [];
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [CLI, "daemon", ...args], { env: { ...process.env, NO_COLOR: "1", ...env } });
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      this.raw.push(line);
      try {
        const o = JSON.parse(line) as { level: number; msg?: string };
        this.lines.push({ ...o, level: ({ 20: "debug", 30: "info", 40: "warn", 50: "error" } as Record<number, string>)[o.level] ?? String(o.level) });
      } catch {
        this.lines.push({ level: "unparsed", msg: line });
      }
    });
    this.child.stderr!.on("data", (c: Buffer) => (this.stderr += c));
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal, at: Date.now() })));
  }

  waitFor(msg: string, from = 0, timeoutMs = 30_000): Promise<LogLine> {
    return until(`log line "${msg}"`, () => this.lines.slice(from).find((l) => l.msg === msg), timeoutMs);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

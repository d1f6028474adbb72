// `npm run soak`: the daemon as systemd runs it (`whohas daemon --config …`, a child process, JSON logs on
// stdout) against the simulators of every connector, with a webhook and a mail relay, on a fast cron, for many
// cycles. A quarter in, GitHub and AWS are cut (every request refused) for two cycles while an owner is added
// and an account removed at GitHub and a user made admin at AWS; then they are restored. Halfway the config is
// reloaded with SIGHUP; three quarters in, GitHub accepts connections and never answers for one collect; at the
// end SIGTERM arrives while a GitHub request is held. Printed: cycles, skipped ticks, file descriptors, threads
// and RSS after forced major GCs of the daemon over time; when the others' report and email went out while
// GitHub hung, and how each scope ended; the SIGTERM exit time and code; the changes the first report, email and
// webhook after the outage carried, with the window, and whether any later one repeated them.
//
//   npm run soak -- [--cycles N] [--every SECONDS]          (defaults: 1000 cycles, one every 2 s)
//
// Not part of CI: it runs for as long as the cycles take.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { stringify } from "smol-toml";
import { CONNECTORS } from "../connectors/index.js";
import type { DemoSetup } from "../src/connector.js";
import { generateTestCa } from "../src/simulator/tls.js";

interface Args {
  cycles: number;
  everySeconds: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { cycles: 1000, everySeconds: 2 };
  for (let i = 0; i < argv.length; i++) {
    const v = Number(argv[i + 1]);
    if (argv[i] === "--cycles" && Number.isInteger(v) && v >= 8) (args.cycles = v), i++;
    else if (argv[i] === "--every" && Number.isInteger(v) && v >= 1) (args.everySeconds = v), i++;
    else throw new Error(`usage: soak [--cycles N (>= 8)] [--every SECONDS (whole, >= 1)]; got ${argv[i]}`);
  }
  return args;
}

/**
 * A TCP relay in front of one provider: passes bytes through, or — cut — answers every request with a refusal
 * (the provider's API down for whohas), or — holding — keeps each new connection waiting this long before
 * passing it on (Infinity: a provider that accepts connections and never answers).
 */
class Relay {
  cut: string | null = null;
  holdMs = 0;
  /** The connections being held now, and how many ever were. */
  readonly held = new Set<net.Socket>();
  heldTotal = 0;
  readonly server: net.Server;
  constructor(private readonly target: URL) {
    this.server = net.createServer((client) => {
      client.on("error", () => undefined);
      if (this.cut) {
        const answer = this.cut;
        client.once("data", () => client.end(answer));
        return;
      }
      // A held connection is read (and what it sends kept for the provider) rather than paused: a paused socket
      // never sees the client close it, and the soak counts the held connections the daemon leaves open.
      const early: Buffer[] = [];
      const keep = (c: Buffer) => early.push(c);
      client.on("data", keep);
      const pass = () => {
        this.held.delete(client);
        client.off("data", keep);
        if (client.destroyed) return;
        const upstream = net.connect(Number(target.port), target.hostname);
        const end = () => (client.destroy(), upstream.destroy());
        client.on("error", end).on("close", end);
        upstream.on("error", end).on("close", end);
        for (const c of early) upstream.write(c);
        client.pipe(upstream);
        upstream.pipe(client);
      };
      if (this.holdMs <= 0) return pass();
      this.held.add(client);
      this.heldTotal++;
      client.on("close", () => this.held.delete(client));
      if (Number.isFinite(this.holdMs)) setTimeout(pass, this.holdMs);
    });
  }
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return `${this.target.protocol}//127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }
}

const refusal = (status: string, type: string, body: string) =>
  `HTTP/1.1 ${status}\r\ncontent-type: ${type}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;

interface Sample {
  cycle: number;
  at: number;
  fds: number;
  threads: number;
}

function procSample(pid: number): { fds: number; threads: number } {
  const fds = readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      readlinkSync(`/proc/${pid}/fd/${fd}`);
      return true;
    } catch {
      return false;
    }
  }).length;
  const threads = Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
  return { fds, threads };
}

/** Loaded into the daemon with --require: a full GC every few seconds, and the RSS right after each major GC. */
const GC_PROBE = `
const { PerformanceObserver, constants } = require("node:perf_hooks");
const fs = require("node:fs");
const out = fs.openSync(process.env.WHOHAS_SOAK_GC_LOG, "a");
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail && e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) fs.writeSync(out, Date.now() + " " + process.memoryUsage().rss + "\\n");
}).observe({ entryTypes: ["gc"] });
setInterval(() => global.gc(), 5000).unref();
`;

interface SoakReport {
  run: { id: number };
  previousRun: { id: number } | null;
  diff: {
    scopes: { source: string; scope: string; window?: string }[];
    principals: { added: { source: string; scope: string; name: string }[]; removed: { source: string; scope: string; name: string }[] };
    accessLevels: { source: string; scope: string; name: string; before: string; after: string; direction: string }[];
  } | null;
}

function readReports(dir: string): SoakReport[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as SoakReport)
    .sort((a, b) => a.run.id - b.run.id);
}

/** The GitHub and AWS changes a report carried, each as the email's summary writes it ("src/scope: + name"). */
const carried = (r: SoakReport) => [
  ...(r.diff?.principals.added.filter((p) => /github|aws/.test(p.source)).map((p) => `${p.source}/${p.scope}: + ${p.name}`) ?? []),
  ...(r.diff?.principals.removed.filter((p) => /github|aws/.test(p.source)).map((p) => `${p.source}/${p.scope}: - ${p.name}`) ?? []),
  ...(r.diff?.accessLevels.filter((a) => /github|aws/.test(a.source) && a.direction === "up").map((a) => `${a.source}/${a.scope}: ${a.name}: ${a.before} → ${a.after}`) ?? []),
];

/** The daemon, so that a soak that fails does not leave it running. */
let daemonProcess: ChildProcess | undefined;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), "whohas-soak-"));
  const say = (s: string) => process.stdout.write(`${s}\n`);

  // Every connector with a simulator, as `whohas demo` starts them; GitHub and AWS behind relays.
  const setups = new Map<string, DemoSetup>();
  for (const d of CONNECTORS) {
    const { demo } = await d.load();
    if (demo) setups.set(d.type, await demo(dir));
  }
  const gh = setups.get("github")!;
  const aws = setups.get("aws-iam")!;
  const ghRelay = new Relay(new URL(String(gh.options.base_url)));
  gh.options.base_url = await ghRelay.listen();
  const awsEndpoints = aws.options.endpoints as Record<string, string>;
  const awsRelay = new Relay(new URL(awsEndpoints.iam!));
  const awsUrl = await awsRelay.listen();
  aws.options.endpoints = { iam: awsUrl, sts: awsUrl, organizations: awsUrl };

  // The webhook: every alert the daemon posts, kept.
  const alerts: { run: number; previousRun: number | null; findings: { rule: string; subject: string; detail: string }[] }[] = [];
  const hook = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c)).on("end", () => {
      const doc = JSON.parse(body) as { run: { id: number }; previousRun: { id: number } | null; findings: { rule: string; subject: string; detail: string }[] };
      alerts.push({ run: doc.run.id, previousRun: doc.previousRun?.id ?? null, findings: doc.findings });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));

  // The mail relay (STARTTLS, AUTH): every email counted; those around the outage kept, to see what they said.
  const tls = await generateTestCa();
  const smtpCa = join(dir, "smtp-ca.pem");
  writeFileSync(smtpCa, tls.caCert, { mode: 0o600 });
  const smtpPassword = randomBytes(18).toString("base64url");
  let mailsReceived = 0;
  let keepMail = false;
  const mails: { run: number; text: string }[] = [];
  const smtp = new SMTPServer({
    key: tls.serverKey,
    cert: tls.serverCert,
    secure: false,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onAuth: (auth, _session, cb) => (auth.username === "whohas-soak" && auth.password === smtpPassword ? cb(null, { user: auth.username }) : cb(new Error("Invalid username or password"))),
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mailsReceived++;
        if (!keepMail) return cb();
        simpleParser(Buffer.concat(chunks)).then(
          (parsed) => {
            const text = parsed.text ?? "";
            mails.push({ run: Number(/whohas report: run (\d+)/.exec(text)?.[1] ?? NaN), text });
            cb();
          },
          (err: Error) => cb(err),
        );
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", r));

  const configPath = join(dir, "whohas.toml");
  const writeConfig = (reloaded: boolean) =>
    writeFileSync(
      configPath,
      `# written by npm run soak${reloaded ? " (reloaded)" : ""}\n` +
        stringify({
          store: { path: join(dir, "whohas.db"), keep_runs: 20 },
          schedule: { collect: `*/${args.everySeconds} * * * * *` },
          report: { dir: join(dir, "reports"), formats: ["json"] },
          metrics: { listen: "127.0.0.1:0" },
          alerts: [{ name: "soak", url: `http://127.0.0.1:${(hook.address() as net.AddressInfo).port}/`, min_severity: "low", retries: 0 }],
          email: { host: "127.0.0.1", port: (smtp.server.address() as net.AddressInfo).port, user: "whohas-soak", password: "env:WHOHAS_SOAK_SMTP_PASSWORD", ca: smtpCa, from: "whohas <whohas@example.com>", to: ["secops@example.com"], retries: 0 },
          sources: [...setups].map(([type, s]) => ({ id: `soak-${type}`, type, ...s.options })),
        }),
      { mode: 0o600 },
    );
  writeConfig(false);
  const gcLog = join(dir, "gc.log");
  writeFileSync(join(dir, "gc-probe.cjs"), GC_PROBE);
  const env = { ...process.env, ...Object.assign({}, ...[...setups.values()].map((s) => s.env ?? {})), WHOHAS_SOAK_GC_LOG: gcLog, WHOHAS_SOAK_SMTP_PASSWORD: smtpPassword };
  const cli = join(import.meta.dirname, "..", "src", "cli.js");
  const daemon = (daemonProcess = spawn(process.execPath, ["--expose-gc", "--require", join(dir, "gc-probe.cjs"), cli, "daemon", "--config", configPath], { env, stdio: ["ignore", "pipe", "pipe"] }));
  let stderr = "";
  daemon.stderr!.on("data", (c: Buffer) => (stderr += c));
  const exited = new Promise<{ code: number | null; at: number }>((r) => daemon.on("exit", (code) => r({ code, at: Date.now() })));

  let finished = 0;
  let skipped = 0;
  let reloads = 0;
  const statuses = new Map<string, number>();
  const samples: Sample[] = [];
  /** Every log line of the daemon while this is set, with when it arrived. */
  let lines: { at: number; l: Record<string, unknown> }[] | null = null;
  const waiters: { test: (l: Record<string, unknown>) => boolean; resolve: () => void; reject: (e: Error) => void; what: string }[] = [];
  createInterface({ input: daemon.stdout! }).on("line", (line) => {
    let l: Record<string, unknown>;
    try {
      l = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    lines?.push({ at: Date.now(), l });
    if (l.msg === "collect finished") {
      finished++;
      statuses.set(String(l.status), (statuses.get(String(l.status)) ?? 0) + 1);
      try {
        samples.push({ cycle: finished, at: Date.now(), ...procSample(daemon.pid!) });
      } catch {
        /* exiting */
      }
      if (finished % 50 === 0) say(`  ${finished} cycles; skipped ticks ${skipped}; fds ${samples.at(-1)?.fds}; threads ${samples.at(-1)?.threads}; emails ${mailsReceived}`);
    }
    if (String(l.msg).includes("skipped")) skipped++;
    if (l.msg === "config reloaded") reloads++;
    for (const w of [...waiters]) if (w.test(l)) waiters.splice(waiters.indexOf(w), 1), w.resolve();
  });
  // A daemon that dies ends the soak with the reason instead of leaving it waiting for lines that never come.
  daemon.on("exit", (code, signal) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`the daemon exited (code ${code}, signal ${signal}) while the soak waited for ${w.what}:\n${stderr.trim().split("\n").slice(-20).join("\n")}`));
  });
  const next = (what: string, test: (l: Record<string, unknown>) => boolean) => new Promise<void>((resolve, reject) => waiters.push({ test, resolve, reject, what }));
  const cyclesDone = (n: number) => next(`cycle ${n}`, () => finished >= n);
  const until = async (what: string, test: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; !test(); await new Promise((r) => setTimeout(r, 10))) if (Date.now() > end) throw new Error(`soak: gave up waiting for ${what} after ${ms} ms`);
  };

  say(`whohas soak: ${args.cycles} cycles, a collect every ${args.everySeconds} s, daemon pid ${daemon.pid}, dir ${dir}`);
  const outageAt = Math.max(3, Math.floor(args.cycles / 4));
  await cyclesDone(outageAt);
  const lastGoodRun = finished;
  say(`cycle ${finished}: GitHub and AWS cut; meanwhile an owner is added and a member removed at GitHub, a developer made admin at AWS`);
  ghRelay.cut = refusal("401 Unauthorized", "application/json", JSON.stringify({ message: "Bad credentials" }));
  awsRelay.cut = refusal("403 Forbidden", "text/xml", "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>soak outage</Message></Error><RequestId>soak</RequestId></ErrorResponse>");
  keepMail = true;
  await gh.mutate();
  await aws.mutate();
  await cyclesDone(finished + 2);
  ghRelay.cut = null;
  awsRelay.cut = null;
  const restoredAfter = finished;
  say(`cycle ${finished}: restored`);

  // The reports of the outage and the cycles after it, read now: keep_runs prunes them later. The emails of
  // those cycles are in by the time the one after them starts.
  await cyclesDone(restoredAfter + 3);
  await next("a collect to start", (l) => l.msg === "collect started");
  keepMail = false;
  const reportsAfterOutage = readReports(join(dir, "reports")).filter((r) => r.run.id > lastGoodRun);

  await cyclesDone(Math.floor(args.cycles / 2));
  daemon.kill("SIGHUP");
  await next("the reload", (l) => l.msg === "config reloaded");
  say(`cycle ${finished}: SIGHUP, config reloaded`);
  writeConfig(true);

  // A GitHub that accepts connections and never answers, for one collect: the others' report must not wait
  // for it beyond its collect deadline (30 s at the least: ticks this fast are skipped meanwhile, by design).
  await cyclesDone(Math.floor((args.cycles * 3) / 4));
  ghRelay.holdMs = Infinity;
  const skippedBeforeHang = skipped;
  const fdsBeforeHang = samples.at(-1)?.fds;
  lines = [];
  await next("the hung collect to finish", (l) => l.msg === "collect finished");
  ghRelay.holdMs = 0;
  await next("the collect after the hung one to start", (l) => l.msg === "collect started");
  const heldAtEnd = ghRelay.held.size;
  const skippedWhileHung = skipped - skippedBeforeHang;
  const hangLines = lines;
  lines = null;
  const hungRun = Number(hangLines.find((x) => x.l.msg === "collect finished")!.l.run);
  const hangStart = hangLines.find((x) => x.l.msg === "collect started")?.at ?? NaN;
  const after = (msg: string) => {
    const at = hangLines.find((x) => x.l.msg === msg && x.l.run === hungRun)?.at;
    return at === undefined ? "never" : `${((at - hangStart) / 1000).toFixed(1)} s`;
  };
  const hungScopes = hangLines.filter((x) => x.l.msg === "scope" && x.l.run === hungRun).map((x) => x.l);
  say(`cycle ${finished}: GitHub hung for one collect (run ${hungRun}); ticks skipped meanwhile: ${skippedWhileHung}; held GitHub connections left open at its end: ${heldAtEnd}; daemon fds ${fdsBeforeHang} before it, ${samples.at(-1)?.fds} at its end`);

  await cyclesDone(args.cycles);
  // SIGTERM in the middle of a request: GitHub now holds each connection 3 s; the signal comes once one is held.
  ghRelay.holdMs = 3000;
  const heldBefore = ghRelay.heldTotal;
  await until("a GitHub request to be held", () => ghRelay.heldTotal > heldBefore, 120_000);
  const firstHeld = Date.now();
  await new Promise((r) => setTimeout(r, 200));
  const sent = Date.now();
  daemon.kill("SIGTERM");
  const exit = await exited;
  hook.close();
  await new Promise<void>((r) => smtp.close(r));
  for (const s of setups.values()) await s.close();
  ghRelay.server.close();
  awsRelay.server.close();

  // --- figures ---------------------------------------------------------------------------------
  const gc = readFileSync(gcLog, "utf8").trim().split("\n").map((l) => l.split(" ").map(Number) as [number, number]);
  const firstTenth = samples.slice(0, Math.max(1, Math.floor(samples.length / 10)));
  const lastTenth = samples.slice(-Math.max(1, Math.floor(samples.length / 10)));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const mb = (b: number) => (b / 1_048_576).toFixed(1);
  say("");
  say(`cycles finished: ${finished} (${[...statuses].map(([s, n]) => `${s} ${n}`).join(", ")}); skipped ticks: ${skipped} (${skippedWhileHung} of them while GitHub hung); reloads: ${reloads}; emails received: ${mailsReceived}; webhook posts: ${alerts.length}`);
  say(`file descriptors: first tenth median ${median(firstTenth.map((s) => s.fds))}, last tenth median ${median(lastTenth.map((s) => s.fds))}, max ${Math.max(...samples.map((s) => s.fds))}`);
  say(`threads: first tenth median ${median(firstTenth.map((s) => s.threads))}, last tenth median ${median(lastTenth.map((s) => s.threads))}, max ${Math.max(...samples.map((s) => s.threads))}`);
  const fifths = [0, 1, 2, 3, 4].map((q) => gc.slice(Math.floor((q * gc.length) / 5), Math.floor(((q + 1) * gc.length) / 5)).map(([, r]) => r));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const warm = fifths.slice(1).map(mean);
  say(`RSS after forced major GC (${gc.length} samples), mean per fifth of the soak: ${fifths.map((f) => mb(mean(f))).join(", ")} MB; after warm-up (2nd to 5th fifth) ${mb(warm[3]! - warm[0]!)} MB, largest rise over the 2nd fifth ${mb(Math.max(...warm) - warm[0]!)} MB; whole soak ${mb(mean(fifths[4]!) - mean(fifths[0]!))} MB`);
  say(`hung GitHub (run ${hungRun}): collect finished after ${after("collect finished")}, report written after ${after("report written")}, email sent after ${after("email sent")}; scopes:`);
  for (const s of hungScopes) say(`  ${s.source}/${s.scope}: ${s.status}${s.error ? ` (${String(s.error).slice(0, 160)})` : ""}`);
  say(`SIGTERM mid-request (a GitHub request held ${sent - firstHeld} ms): exit code ${exit.code} after ${exit.at - sent} ms`);

  // What the first report, email and webhook after the outage carried.
  say(`reports after the outage (runs ${lastGoodRun + 1}…; restored after run ${restoredAfter}):`);
  for (const r of reportsAfterOutage.slice(0, 5)) {
    const windows = r.diff?.scopes.filter((s) => s.window).map((s) => `${s.source}/${s.scope}: ${s.window}`) ?? [];
    say(`  run ${r.run.id} vs ${r.previousRun?.id ?? "-"}: ${carried(r).length} GitHub/AWS change(s)${windows.length ? `; ${windows.join("; ")}` : ""}`);
    for (const c of carried(r)) say(`      ${c}`);
  }
  const carriedTotal = reportsAfterOutage.flatMap(carried);
  const repeats = carriedTotal.filter((c, i) => carriedTotal.indexOf(c) !== i);
  say(`  changes reported more than once: ${repeats.length === 0 ? "none" : repeats.join(", ")}`);
  const inMail = new Map(carriedTotal.map((c) => [c, mails.filter((m) => m.text.includes(c)).map((m) => m.run)]));
  say(`emails from the cut to the cycle after the reports above: ${mails.length} (runs ${mails.map((m) => m.run).join(", ")}); each change in the email of run(s):`);
  for (const [c, runs] of inMail) say(`  ${c}: ${runs.join(", ") || "none"}`);
  const windowLines = (m: { text: string }) => m.text.match(/^ *[^\s:]+: changes since run [^\n]*/gm) ?? [];
  const windowMails = mails.filter((m) => windowLines(m).length > 0);
  say(`  emails naming an outage window: ${windowMails.map((m) => `run ${m.run}: ${windowLines(m).map((w) => w.trim()).join("; ")}`).join(" | ") || "none"}`);
  const alertLines = alerts.filter((a) => a.run > lastGoodRun).flatMap((a) => a.findings.filter((f) => /github|aws/.test(f.subject)).map((f) => ({ run: a.run, key: `${f.rule} ${f.subject}`, detail: f.detail })));
  const alertRepeats = alertLines.filter((a, i) => alertLines.findIndex((b) => b.key === a.key) !== i).map((a) => a.key);
  say(`webhook alerts after the outage (GitHub/AWS findings): ${alertLines.length}; alerted more than once: ${alertRepeats.length === 0 ? "none" : alertRepeats.join(", ")}`);
  for (const a of alertLines.slice(0, 12)) say(`  run ${a.run}: ${a.key}: ${a.detail}`);
  if (stderr.trim()) say(`daemon stderr:\n${stderr.trim().split("\n").slice(0, 20).join("\n")}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    daemonProcess?.kill("SIGTERM");
    process.exit(1);
  },
);

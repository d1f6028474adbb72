// `npm run soak`: the daemon as systemd runs it (`whohas daemon --config …`, a child process, JSON logs on
// stdout) against the simulators of every connector, on a fast cron, for many cycles. Midway GitHub and AWS
// are cut (every request refused) for two cycles while an owner is added and an account removed at GitHub
// and a user made admin at AWS; then they are restored. The config is reloaded with SIGHUP, and at the end
// SIGTERM arrives in the middle of a request. Printed: cycles, skipped ticks, file descriptors, threads and
// RSS after forced major GCs of the daemon over time, the changes the first report and webhook after the
// outage carried (and that the next ones did not repeat them), and the SIGTERM exit time and code.
//
//   npm run soak -- [--cycles N] [--every SECONDS]          (defaults: 1000 cycles, one every 2 s)
//
// Not part of CI: it runs for as long as the cycles take.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { stringify } from "smol-toml";
import { CONNECTORS } from "../connectors/index.js";
import type { DemoSetup } from "../src/connector.js";

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
 * (the provider's API down for whohas), or — slow — holds each request this long before passing it on.
 */
class Relay {
  cut: string | null = null;
  slowMs = 0;
  readonly server: net.Server;
  constructor(private readonly target: URL) {
    this.server = net.createServer((client) => {
      if (this.cut) {
        const answer = this.cut;
        client.once("data", () => client.end(answer));
        client.on("error", () => undefined);
        return;
      }
      const upstream = net.connect(Number(target.port), target.hostname);
      const pass = () => {
        client.pipe(upstream);
        upstream.pipe(client);
      };
      if (this.slowMs > 0) client.pause(), setTimeout(() => (client.resume(), pass()), this.slowMs);
      else pass();
      const end = () => (client.destroy(), upstream.destroy());
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
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
    principals: { added: { source: string; name: string }[]; removed: { source: string; name: string }[] };
    accessLevels: { source: string; name: string; before: string; after: string; direction: string }[];
  } | null;
}

function readReports(dir: string): SoakReport[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as SoakReport)
    .sort((a, b) => a.run.id - b.run.id);
}

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
          sources: [...setups].map(([type, s]) => ({ id: `soak-${type}`, type, ...s.options })),
        }),
      { mode: 0o600 },
    );
  writeConfig(false);
  const gcLog = join(dir, "gc.log");
  writeFileSync(join(dir, "gc-probe.cjs"), GC_PROBE);
  const env = { ...process.env, ...Object.assign({}, ...[...setups.values()].map((s) => s.env ?? {})), WHOHAS_SOAK_GC_LOG: gcLog };
  const cli = join(import.meta.dirname, "..", "src", "cli.js");
  const daemon = spawn(process.execPath, ["--expose-gc", "--require", join(dir, "gc-probe.cjs"), cli, "daemon", "--config", configPath], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  daemon.stderr.on("data", (c: Buffer) => (stderr += c));
  const exited = new Promise<{ code: number | null; at: number }>((r) => daemon.on("exit", (code) => r({ code, at: Date.now() })));

  let finished = 0;
  let skipped = 0;
  let reloads = 0;
  const statuses = new Map<string, number>();
  const samples: Sample[] = [];
  const waiters: { test: (l: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  createInterface({ input: daemon.stdout }).on("line", (line) => {
    let l: Record<string, unknown>;
    try {
      l = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (l.msg === "collect finished") {
      finished++;
      statuses.set(String(l.status), (statuses.get(String(l.status)) ?? 0) + 1);
      try {
        samples.push({ cycle: finished, at: Date.now(), ...procSample(daemon.pid!) });
      } catch {
        /* exiting */
      }
      if (finished % 50 === 0) say(`  ${finished} cycles; skipped ticks ${skipped}; fds ${samples.at(-1)?.fds}; threads ${samples.at(-1)?.threads}`);
    }
    if (String(l.msg).includes("skipped")) skipped++;
    if (l.msg === "config reloaded") reloads++;
    for (const w of [...waiters]) if (w.test(l)) waiters.splice(waiters.indexOf(w), 1), w.resolve();
  });
  const next = (test: (l: Record<string, unknown>) => boolean) => new Promise<void>((resolve) => waiters.push({ test, resolve }));
  const cyclesDone = (n: number) => next(() => finished >= n);

  say(`whohas soak: ${args.cycles} cycles, a collect every ${args.everySeconds} s, daemon pid ${daemon.pid}, dir ${dir}`);
  const outageAt = Math.max(3, Math.floor(args.cycles / 4));
  await cyclesDone(outageAt);
  const lastGoodRun = finished;
  say(`cycle ${finished}: GitHub and AWS cut; meanwhile an owner is added and a member removed at GitHub, a developer made admin at AWS`);
  ghRelay.cut = refusal("401 Unauthorized", "application/json", JSON.stringify({ message: "Bad credentials" }));
  awsRelay.cut = refusal("403 Forbidden", "text/xml", "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>soak outage</Message></Error><RequestId>soak</RequestId></ErrorResponse>");
  await gh.mutate();
  await aws.mutate();
  await cyclesDone(finished + 2);
  ghRelay.cut = null;
  awsRelay.cut = null;
  const restoredAfter = finished;
  say(`cycle ${finished}: restored`);

  // The reports of the outage and the cycles after it, read now: keep_runs prunes them later.
  await cyclesDone(restoredAfter + 3);
  const reportsAfterOutage = readReports(join(dir, "reports")).filter((r) => r.run.id > lastGoodRun);

  await cyclesDone(Math.floor(args.cycles / 2));
  daemon.kill("SIGHUP");
  await next((l) => l.msg === "config reloaded");
  say(`cycle ${finished}: SIGHUP, config reloaded`);
  writeConfig(true);

  await cyclesDone(args.cycles);
  // SIGTERM in the middle of a request: GitHub now takes 3 s to start answering.
  ghRelay.slowMs = 3000;
  await next((l) => l.msg === "collect started");
  await new Promise((r) => setTimeout(r, 500));
  const sent = Date.now();
  daemon.kill("SIGTERM");
  const exit = await exited;
  hook.close();
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
  say(`cycles finished: ${finished} (${[...statuses].map(([s, n]) => `${s} ${n}`).join(", ")}); skipped ticks: ${skipped}; reloads: ${reloads}`);
  say(`file descriptors: first tenth median ${median(firstTenth.map((s) => s.fds))}, last tenth median ${median(lastTenth.map((s) => s.fds))}, max ${Math.max(...samples.map((s) => s.fds))}`);
  say(`threads: first tenth median ${median(firstTenth.map((s) => s.threads))}, last tenth median ${median(lastTenth.map((s) => s.threads))}, max ${Math.max(...samples.map((s) => s.threads))}`);
  const fifths = [0, 1, 2, 3, 4].map((q) => gc.slice(Math.floor((q * gc.length) / 5), Math.floor(((q + 1) * gc.length) / 5)).map(([, r]) => r));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  say(`RSS after forced major GC (${gc.length} samples), mean per fifth of the soak: ${fifths.map((f) => mb(mean(f))).join(", ")} MB; after warm-up (2nd to 5th fifth) ${mb(mean(fifths[4]!) - mean(fifths[1]!))} MB, whole soak ${mb(mean(fifths[4]!) - mean(fifths[0]!))} MB`);
  say(`SIGTERM mid-request: exit code ${exit.code} after ${exit.at - sent} ms`);

  // What the first report and webhook after the outage carried, from the report files the daemon wrote.
  const outageRuns = reportsAfterOutage;
  const carried = (r: SoakReport) => [
    ...(r.diff?.principals.added.filter((p) => /github|aws/.test(p.source)).map((p) => `+ ${p.source}/${p.name}`) ?? []),
    ...(r.diff?.principals.removed.filter((p) => /github|aws/.test(p.source)).map((p) => `- ${p.source}/${p.name}`) ?? []),
    ...(r.diff?.accessLevels.filter((a) => /github|aws/.test(a.source) && a.direction === "up").map((a) => `${a.source}/${a.name} ${a.before} → ${a.after}`) ?? []),
  ];
  say(`reports after the outage (runs ${lastGoodRun + 1}…; restored after run ${restoredAfter}):`);
  for (const r of outageRuns.slice(0, 5)) {
    const windows = r.diff?.scopes.filter((s) => s.window).map((s) => `${s.source}/${s.scope}: ${s.window}`) ?? [];
    say(`  run ${r.run.id} vs ${r.previousRun?.id ?? "-"}: ${carried(r).length} GitHub/AWS change(s)${windows.length ? `; ${windows.join("; ")}` : ""}`);
    for (const c of carried(r)) say(`      ${c}`);
  }
  const carriedTotal = outageRuns.flatMap(carried);
  const repeats = carriedTotal.filter((c, i) => carriedTotal.indexOf(c) !== i);
  say(`  changes reported more than once: ${repeats.length === 0 ? "none" : repeats.join(", ")}`);
  const alertLines = alerts.filter((a) => a.run > lastGoodRun).flatMap((a) => a.findings.filter((f) => /github|aws/.test(f.subject)).map((f) => `run ${a.run}: ${f.rule} ${f.subject}: ${f.detail}`));
  say(`webhook alerts after the outage (GitHub/AWS findings): ${alertLines.length}`);
  for (const l of alertLines.slice(0, 12)) say(`  ${l}`);
  if (stderr.trim()) say(`daemon stderr:\n${stderr.trim().split("\n").slice(0, 20).join("\n")}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

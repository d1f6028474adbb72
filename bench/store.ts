// The store benchmark measures what users run, at 1M principals by default (BENCH_STORE_SIZES=100000 for a
// quick run; a comma list runs several sizes; BENCH_STORE_GROWTH_RUNS=3 for fewer growth runs). Every stage runs in a child process of its own, one after the
// other in this process tree, so each has its own peak RSS (read at its exit by bench/rss-probe.ts): the bare
// insert loop as the anchor, the same rows into whohas's schema without the writer (the keyed floor), ingest (run 1, an unchanged run 2, run 3 with 1 % churn), diff, one full scan
// of the run's rows (the rules' yardstick), the rules (findings stored), the real CLI commands (report
// --format html and json, the access review in every format and emailed, inventory --format csv and text, verify, prune), and DB growth over 10 more runs
// at 1 % churn each, the findings of each stored as collect stores them.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const PROBE = join(here, "rss-probe.js");
const STAGES = join(here, "store-stages.js");
const MAIL = join(here, "mail-stage.js");
const CLI = join(here, "..", "src", "cli.js");
const CEILING_MB = 400;
const GROWTH_RUNS = Number(process.env.BENCH_STORE_GROWTH_RUNS ?? 10);

interface Measured {
  seconds: number;
  peakMb: number;
  cpuSeconds: number;
  out: Record<string, unknown>;
}

/** Runs `script args` in a child process with the RSS probe; its stdout's last line is JSON for stage scripts. */
function measure(script: string, args: string[], dir: string): Measured {
  const log = join(dir, "rss.log");
  writeFileSync(log, "");
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["--import", PROBE, script, ...args], {
    env: { ...process.env, WHOHAS_RSS_LOG: log, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    encoding: "utf8",
    maxBuffer: 1 << 30,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${script} ${args.join(" ")} exited ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
  const probe = JSON.parse(readFileSync(log, "utf8").trim().split("\n").pop()!) as { maxRssKb: number; cpuMs: number };
  const last = r.stdout.trim().split("\n").pop() ?? "";
  let out: Record<string, unknown> = {};
  if (script === STAGES || script === MAIL) out = JSON.parse(last) as Record<string, unknown>;
  return { seconds, peakMb: probe.maxRssKb / 1024, cpuSeconds: probe.cpuMs / 1000, out };
}

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
const pad = (s: string, n: number) => s.padEnd(n);

export async function run(sizes = (process.env.BENCH_STORE_SIZES ?? "1000000").split(",").map(Number)): Promise<void> {
  for (const n of sizes) {
    const dir = mkdtempSync(join(tmpdir(), "whohas-bench-"));
    const t0 = Date.now();
    const db = join(dir, "whohas.db");
    const config = join(dir, "whohas.toml");
    writeFileSync(config, `[store]\npath = "${db}"\n\n[[sources]]\nid = "bench"\ntype = "file"\npath = "unused.csv"\n`);
    const rows: [string, Measured, string][] = [];
    const stage = (name: string, script: string, args: string[], note: (m: Measured) => string = () => "") => {
      const m = measure(script, args, dir);
      rows.push([name, m, note(m)]);
      // The note too: a long run's progress lines are its results so far.
      process.stderr.write(`  … ${name}: ${m.seconds.toFixed(1)} s, ${m.cpuSeconds.toFixed(1)} s CPU, ${m.peakMb.toFixed(0)} MB  ${rows[rows.length - 1]![2]}\n`);
      return m;
    };
    const cli = (name: string, args: string[], note?: (m: Measured) => string) => stage(name, CLI, [...args, "--config", config], note);
    // The WAL counts: commands other than ingest leave their writes (stored findings) there until a checkpoint.
    const size = () => statSync(db).size + (existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0);
    try {
      console.log(`store, ${fmt(n)} principals (${process.env.BENCH_STORE_SIZES ? "BENCH_STORE_SIZES" : "default size"}); each stage a child process, peak RSS its own`);
      const bare = stage("bare insert loop (anchor)", STAGES, ["bare", join(dir, "bare.db"), String(n), String(t0)]);
      const bareRate = (bare.out.rows as number) / (bare.out.seconds as number);
      rows[rows.length - 1]![2] = `${fmt(bare.out.rows as number)} rows, ${fmt(bareRate)} rows/s`;
      // By CPU too (of the loop alone, as the wall time is): on a shared machine the wall-time ratio moves with the
      // load, the CPU-time ratio much less.
      const keyedFloor = stage("bare insert loop into whohas's schema (keyed floor)", STAGES, ["keyed", join(dir, "keyed.db"), String(n), String(t0)], (m) =>
        `${(((bare.out.cpuSeconds as number) / (m.out.cpuSeconds as number)) * 100).toFixed(0)} % of bare by CPU time: what the key indexes and the activity table cost`,
      );
      const ofBare = (m: Measured) =>
        `${fmt((m.out.rows as number) / (m.out.seconds as number))} rows/s = ${(((m.out.rows as number) / (m.out.seconds as number) / bareRate) * 100).toFixed(0)} % of bare by wall time, ${(((bare.out.cpuSeconds as number) / (m.out.cpuSeconds as number)) * 100).toFixed(0)} % by CPU time, ${(((keyedFloor.out.cpuSeconds as number) / (m.out.cpuSeconds as number)) * 100).toFixed(0)} % of the keyed floor by CPU time`;
      stage("ingest run 1 (all new)", STAGES, ["ingest", db, String(n), "0", String(t0)], ofBare);
      const bytes1 = size();
      stage("ingest run 2 (unchanged)", STAGES, ["ingest", db, String(n), "0", String(t0)], (m) => `${ofBare(m)}; DB +${(((size() - bytes1) / bytes1) * 100).toFixed(2)} %`);
      stage("ingest run 3 (1 % churn)", STAGES, ["ingest", db, String(n), "1", String(t0)], ofBare);
      cli("diff 2 → 3 (--format json)", ["diff", "2", "3", "--format", "json", "--out", join(dir, "diff.json")], () => `${fmt(statSync(join(dir, "diff.json")).size)} bytes`);
      stage("rules run 2 (stored, as its nightly report did)", STAGES, ["rules", db, config, "1", "2"], (m) => `${fmt(m.out.findings as number)} findings`);
      const scan = stage("one full scan of run 3's rows", STAGES, ["scan", db, "3"], (m) => `${fmt(m.out.rows as number)} rows`);
      stage("rules run 3 vs 2 (findings stored)", STAGES, ["rules", db, config, "2", "3"], (m) => {
        const ratio = (m.out.seconds as number) / (scan.out.seconds as number);
        const cpuRatio = (m.out.cpuSeconds as number) / (scan.out.cpuSeconds as number);
        return `${fmt(m.out.findings as number)} findings; ${ratio.toFixed(2)}× the scan's wall time, ${cpuRatio.toFixed(2)}× its CPU time (target ≤ 3×)`;
      });
      const file = (f: string) => () => `${fmt(statSync(join(dir, f)).size)} bytes`;
      cli("report --format html (run 1 evaluated lazily for history)", ["report", "--format", "html", "--out", join(dir, "report.html")], file("report.html"));
      cli("report --format json", ["report", "--format", "json", "--out", join(dir, "report.json")], file("report.json"));
      // The access review carries the whole inventory and the role catalogue: each format once.
      for (const format of ["json", "csv", "html", "md", "text", "xlsx"]) {
        const out = `review.${format}`;
        cli(`report --type access-review --format ${format}`, ["report", "--type", "access-review", "--format", format, "--out", join(dir, out)], file(out));
      }
      // The access review emailed as `report --send` does, to an SMTP sink in a process of its own that discards it.
      const sink = spawn(process.execPath, [MAIL, "sink"], { stdio: ["ignore", "pipe", "inherit"] });
      try {
        const port = await new Promise<number>((resolve, reject) => {
          sink.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
          sink.once("error", reject);
          sink.once("exit", (code) => reject(new Error(`SMTP sink exited ${code}`)));
        });
        const mailConfig = join(dir, "mail.toml");
        writeFileSync(
          mailConfig,
          `${readFileSync(config, "utf8")}\n[report]\ndir = "${join(dir, "reports")}"\n\n[email]\nhost = "127.0.0.1"\nport = ${port}\nsecure = false\nstarttls = false\nfrom = "whohas@example.com"\nto = ["secops@example.com"]\nretries = 0\n`,
          { mode: 0o600 },
        );
        stage("email the access review (report --send) to a local SMTP sink", MAIL, ["send", db, mailConfig], (m) => `${fmt(m.out.principals as number)} principals`);
      } finally {
        sink.kill();
      }
      cli("inventory --format csv", ["inventory", "--format", "csv", "--out", join(dir, "inventory.csv")], file("inventory.csv"));
      cli("inventory --format text", ["inventory", "--format", "text", "--out", join(dir, "inventory.txt")], file("inventory.txt"));
      // The role catalogue: the table holds each role's first holders, the JSON streams every holder in one sorted read.
      cli("roles --format json", ["roles", "--format", "json", "--out", join(dir, "roles.json")], file("roles.json"));
      cli("roles --format text", ["roles", "--format", "text", "--out", join(dir, "roles.txt")], file("roles.txt"));
      cli("verify", ["verify"]);
      const before = size();
      const growth: number[] = [];
      for (let v = 2; v < 2 + GROWTH_RUNS; v++) {
        stage(`ingest run ${v + 2} (1 % churn)`, STAGES, ["ingest", db, String(n), String(v), String(t0)], ofBare);
        // What `whohas collect` does after its run: the findings are stored, and the growth counts them.
        stage(`rules run ${v + 2} vs ${v + 1} (stored, as collect does)`, STAGES, ["rules", db, config, String(v + 1), String(v + 2)], (m) => `${fmt(m.out.findings as number)} findings`);
        growth.push(size());
      }
      cli(`report --format json (run ${GROWTH_RUNS + 3}, 1 % churn)`, ["report", "--format", "json", "--out", join(dir, "report2.json")], file("report2.json"));
      cli("prune --keep 5", ["prune", "--keep", "5"], () => `DB ${fmt(size())} bytes after`);
      cli("verify (after prune)", ["verify"]);

      const width = Math.max(...rows.map((r) => r[0].length));
      console.log(`  ${pad("stage", width)}  ${"wall s".padStart(8)}  ${"CPU s".padStart(7)}  ${"peak RSS".padStart(9)}`);
      for (const [name, m, note] of rows) {
        const over = m.peakMb >= CEILING_MB ? " OVER" : "";
        console.log(`  ${pad(name, width)}  ${m.seconds.toFixed(2).padStart(8)}  ${m.cpuSeconds.toFixed(2).padStart(7)}  ${`${m.peakMb.toFixed(0)} MB`.padStart(9)}${over}  ${note}`);
      }
      const perRun = growth.map((b, i) => b - (i === 0 ? before : growth[i - 1]!));
      console.log(
        `  DB growth over ${GROWTH_RUNS} runs at 1 % churn: ${fmt(before)} → ${fmt(growth.at(-1)!)} bytes; per run ${perRun.map((b) => `+${((b / bytes1) * 100).toFixed(2)} %`).join(", ")} of run 1's size`,
      );
      const worst = rows.reduce((a, b) => (b[1].peakMb > a[1].peakMb ? b : a));
      console.log(`  highest peak RSS: ${worst[1].peakMb.toFixed(0)} MB (${worst[0]}); ceiling ${CEILING_MB} MB`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run();

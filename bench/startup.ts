// Start-up of the CLI: each command spawned N times (WHOHAS_STARTUP_RUNS, default 15) against a small store
// with two runs: median and fastest wall time, median CPU time (cpu-probe.ts; what the command costs whatever
// else the machine is doing), and which provider SDKs the command loaded (module-probe.ts).
// The target: everything but collect and demo starts in under 300 ms and loads no provider SDK.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadedPackages, providerSdks } from "./loaded-packages.js";

const CLI = process.env.WHOHAS_CLI ?? fileURLToPath(new URL("../src/cli.js", import.meta.url));
const PROBE = fileURLToPath(new URL("./module-probe.js", import.meta.url));
const CPU_PROBE = fileURLToPath(new URL("./cpu-probe.js", import.meta.url));
const RUNS = Number(process.env.WHOHAS_STARTUP_RUNS ?? 15);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function spawnCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...nodeArgs, CLI, ...args], { cwd, env: { ...process.env, ...env }, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`whohas ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "whohas-startup-"));
  try {
    writeFileSync(join(dir, "erp.csv"), "username,email,status,mfa,role,access_level\nada,ada@example.com,active,enabled,erp-admin,admin\n");
    writeFileSync(join(dir, "whohas.toml"), '[store]\npath = "w.db"\n[[sources]]\nid = "erp"\ntype = "file"\npath = "erp.csv"\n', { mode: 0o600 });
    spawnCli(["collect", "-q"], dir);
    spawnCli(["collect", "-q"], dir);
    const commands: string[][] = [["--version"], ["--help"], ["runs"], ["diff"], ["report"], ["inventory"], ["check-config"], ["collect", "-q"]];
    console.log(`CLI ${CLI}, node ${process.version}, ${RUNS} runs each, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    console.log("command          median ms   fastest ms   CPU ms (median)   provider SDKs loaded");
    for (const args of commands) {
      const cpuLog = join(dir, "cpu.log");
      rmSync(cpuLog, { force: true });
      const times = Array.from({ length: RUNS }, () => spawnCli(args, dir, { WHOHAS_CPU_LOG: cpuLog }, ["--import", CPU_PROBE]));
      const cpu = readFileSync(cpuLog, "utf8").trim().split("\n").map(Number);
      const log = join(dir, "modules.log");
      rmSync(log, { force: true });
      spawnCli(args, dir, { WHOHAS_MODULE_LOG: log }, ["--import", PROBE]);
      const sdks = providerSdks(loadedPackages(log));
      console.log(`${args[0]!.padEnd(16)} ${median(times).toFixed(0).padStart(9)} ${Math.min(...times).toFixed(0).padStart(12)} ${median(cpu).toFixed(0).padStart(17)}   ${sdks.length === 0 ? "none" : sdks.join(" ")}`);
    }
    console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

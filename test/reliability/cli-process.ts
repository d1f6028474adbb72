// The built CLI as an asynchronous child: the simulators it talks to live in the test process, whose event
// loop must keep running while the child collects (spawnSync would starve them).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { CLI } from "../helpers/cli.js";

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** True when the kill was sent while the child was still running. */
  killed: boolean;
  /** Milliseconds from start until `killFrom` appeared (when watched). */
  markerAtMs?: number;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** SIGKILL the child this many ms after it started (if it is still running). */
  killAfterMs?: number;
  /** Extra node flags before the script (e.g. --import of a probe). */
  nodeArgs?: string[];
  /**
   * With killAfterMs: count the delay from when this file (the store's lock) appears rather than from
   * the start, so that kills land in the run rather than in module loading.
   */
  killFrom?: string;
  /** SIGKILL the child as soon as this returns true (polled every 2 ms while it runs). */
  killWhen?: () => boolean;
  /** Run the child under this umask (through /bin/sh), e.g. 0o000 to see which modes whohas sets itself. */
  umask?: number;
  /** Called once the child has started, with its pid. */
  onSpawn?: (pid: number) => void;
  timeoutMs?: number;
}

export function runCli(args: string[], opts: SpawnOptions = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const argv = [...(opts.nodeArgs ?? []), CLI, ...args];
    const child = spawn(opts.umask === undefined ? process.execPath : "/bin/sh", opts.umask === undefined ? argv : ["-c", `umask ${opts.umask.toString(8).padStart(3, "0")}; exec "$0" "$@"`, process.execPath, ...argv], {
      env: { ...process.env, NO_COLOR: "1", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let killed = false;
    let exited = false;
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    if (child.pid) opts.onSpawn?.(child.pid);
    let killer: NodeJS.Timeout | undefined;
    let markerAtMs: number | undefined;
    const kill = () => {
      if (!exited) {
        killed = true;
        child.kill("SIGKILL");
      }
    };
    const watcher = opts.killFrom
      ? setInterval(() => {
          if (exited || !existsSync(opts.killFrom!)) return;
          markerAtMs = Date.now() - started;
          clearInterval(watcher);
          if (opts.killAfterMs !== undefined) killer = setTimeout(kill, opts.killAfterMs);
        }, 2)
      : undefined;
    if (!opts.killFrom && opts.killAfterMs !== undefined) killer = setTimeout(kill, opts.killAfterMs);
    const poller = opts.killWhen
      ? setInterval(() => {
          if (!exited && opts.killWhen!()) {
            clearInterval(poller);
            kill();
          }
        }, 2)
      : undefined;
    const guard = setTimeout(() => {
      if (!exited) child.kill("SIGKILL");
    }, opts.timeoutMs ?? 300_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      exited = true;
      clearTimeout(killer);
      clearInterval(watcher);
      clearInterval(poller);
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, killed: killed && signal === "SIGKILL", markerAtMs });
    });
    child.on("exit", () => {
      exited = true;
    });
  });
}

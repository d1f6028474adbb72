// Running a collect in the test process with a deadline, and capturing what it logs.
import { collect, type CollectResult } from "../../src/collect.js";
import type { Logger } from "../../src/connector.js";
import type { Config } from "../../src/config/load.js";

export interface LogLine {
  level: string;
  obj: object;
  msg?: string;
}

export function captureLogger(lines: LogLine[]): Logger {
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export interface TimedRun {
  result: CollectResult;
  ms: number;
  logs: LogLine[];
  /** The deadline passed and the run was aborted: a hang. */
  hung: boolean;
}

/** A collect that must end by `deadlineMs`; past it the run is aborted and reported as hung. */
export async function timedCollect(config: Config, env: Record<string, string>, deadlineMs = 60_000): Promise<TimedRun> {
  const logs: LogLine[] = [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`collect still running after ${deadlineMs} ms`)), deadlineMs);
  const started = Date.now();
  try {
    const result = await collect(config, { log: captureLogger(logs), env: { ...process.env, ...env }, signal: controller.signal, trigger: "test" });
    return { result, ms: Date.now() - started, logs, hung: controller.signal.aborted };
  } finally {
    clearTimeout(timer);
  }
}

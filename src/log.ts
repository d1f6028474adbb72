// Logs (pino). The daemon logs JSON lines with pino's numeric levels to stdout for journald. The CLI logs to
// stderr: readable lines with level names on a terminal, JSON lines with string levels otherwise.
import { writeSync } from "node:fs";
import { pino } from "pino";
import type { Logger } from "./connector.js";

export const LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type Level = (typeof LEVELS)[number];
export const LOG_FORMATS = ["human", "json"] as const;
/** "human": `12:00:01 WARN  message key=value`; "json": JSON lines with `"level":"warn"`. */
export type LogFormat = (typeof LOG_FORMATS)[number];

const NAMES: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };

/** One JSON log line as a person reads it; values that are not plain words are JSON-quoted (escaping controls). */
export function humanLine(json: string): string {
  const { level, time, msg, ...rest } = JSON.parse(json) as Record<string, unknown>;
  const name = typeof level === "number" ? (NAMES[level] ?? String(level)) : String(level).toUpperCase();
  const clock = typeof time === "string" ? time.slice(11, 19) : "";
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" && /^[\w./:@-]+$/.test(v) ? v : JSON.stringify(v)}`);
  return `${clock} ${name.padEnd(5)} ${JSON.stringify(String(msg ?? "")).slice(1, -1)}${fields.length ? ` ${fields.join(" ")}` : ""}\n`;
}

/**
 * `format` unset: the daemon's JSON lines with numeric levels (what journald tooling and its tests read).
 * `write`: where a formatted line goes instead of `fd`, for a terminal display that must move its own lines
 * out of the way first (collect's progress lines).
 */
export function createLogger(level: Level = "warn", fd: 1 | 2 = 2, format?: LogFormat, write?: (line: string) => void): Logger & { child(bindings: object): Logger } {
  const base = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === undefined) return pino(base, pino.destination({ fd, sync: true }));
  const labelled = { ...base, formatters: { level: (label: string) => ({ level: label }) } };
  if (format === "json") return pino(labelled, write ? { write } : pino.destination({ fd, sync: true }));
  const out = write ?? ((text: string) => void writeSync(fd, text));
  return pino(labelled, { write: (line: string) => out(humanLine(line)) });
}

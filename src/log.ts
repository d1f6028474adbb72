// Logs: JSON lines (pino). The CLI logs warnings and errors to stderr; the daemon logs info to stdout for journald.
import { pino } from "pino";
import type { Logger } from "./connector.js";

export type Level = "debug" | "info" | "warn" | "error" | "silent";

export function createLogger(level: Level = "warn", fd: 1 | 2 = 2): Logger & { child(bindings: object): Logger } {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd, sync: true }));
}

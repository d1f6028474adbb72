// Errors that escape a connector's promise chain — an 'error' event no one listens to on a stream deep in an
// SDK, a rejected promise no one awaits, a throw in a timer or an abort listener — surface as the process's
// 'uncaughtException' / 'unhandledRejection' and would end the whole collect, every other source with it.
// Everything a source starts runs in its async context (AsyncLocalStorage), so such an error is handed to the
// source it came from, which fails with it. An error from outside any source keeps Node's default: printed
// with its stack, exit code 1 (unless someone else, a test runner, listens too and decides).
import { AsyncLocalStorage } from "node:async_hooks";

export type EscapeHandler = (err: unknown) => void;

const owner = new AsyncLocalStorage<EscapeHandler>();
let installed = false;

/** Runs `fn` so that an error escaping from anything it starts, now or later, is handed to `onEscape`. */
export function containEscapes<T>(onEscape: EscapeHandler, fn: () => Promise<T>): Promise<T> {
  if (!installed) {
    installed = true;
    process.on("uncaughtException", (err) => escaped(err, "uncaughtException"));
    process.on("unhandledRejection", (reason) => escaped(reason, "unhandledRejection"));
  }
  return owner.run(onEscape, fn);
}

function escaped(err: unknown, event: "uncaughtException" | "unhandledRejection"): void {
  const handler = owner.getStore();
  if (handler) {
    handler(err);
    return;
  }
  if (process.listenerCount(event) > 1) return;
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

/** One line for a scope's error: the escaped error's name and message. */
export function describeEscape(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown };
  const text = typeof e?.message === "string" && e.message !== "" ? e.message : String(err);
  return `an error escaped the connector (${typeof e?.name === "string" && e.name !== "Error" ? `${e.name}: ` : ""}${text})`;
}

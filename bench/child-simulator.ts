// Benchmarks run a provider simulator in a child process so the collector's peak RSS is its own.
// The child answers "ready" once listening, then "count" (requests served) and "stop".
import type { ChildProcess } from "node:child_process";

export function serveParent(ready: object, requestCount: () => number, close: () => Promise<void>): void {
  process.send!({ type: "ready", ...ready });
  process.on("message", (m: { type: string }) => {
    if (m.type === "count") process.send!({ type: "count", requests: requestCount() });
    if (m.type === "stop") void close().then(() => process.exit(0));
  });
}

export function ask<T>(child: ChildProcess, type: string, send?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off("message", onMessage);
      resolve(m as T);
    };
    child.on("message", onMessage);
    child.once("exit", (code) => reject(new Error(`simulator exited (${code})`)));
    if (send) child.send(send);
  });
}

// A RemediationContext for connector tests: what the engine would hand a remediator, recording requests and logs.
import type { RemediationContext } from "../../src/remediate/contract.js";
import { resolveSecret } from "../../src/secrets.js";

export interface TestRemediationContext extends RemediationContext {
  readonly requests: Map<string, number>;
  readonly logged: { level: string; obj: object; msg?: string }[];
  /** Runs what the remediator deferred (closing its connections), as the engine does at the end of a run. */
  release(): Promise<void>;
}

export function remediationContext(sourceId: string, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): TestRemediationContext {
  const requests = new Map<string, number>();
  const logged: { level: string; obj: object; msg?: string }[] = [];
  const releases: (() => unknown)[] = [];
  const logAt = (level: string) => (obj: object, msg?: string) => void logged.push({ level, obj, msg });
  return {
    sourceId,
    signal: signal ?? new AbortController().signal,
    log: { debug: logAt("debug"), info: logAt("info"), warn: logAt("warn"), error: logAt("error") },
    countRequest(scope: string, n = 1) {
      requests.set(scope, (requests.get(scope) ?? 0) + n);
    },
    resolveSecret: (ref: string, key: string) => resolveSecret(ref, key, env),
    defer(release: () => unknown) {
      releases.push(release);
    },
    requests,
    logged,
    async release() {
      for (const r of releases.splice(0).reverse()) await r();
    },
  };
}

/** The write requests (anything but GET) in a simulator's request log. */
export function writesIn(log: readonly string[]): string[] {
  return log.filter((l) => !l.startsWith("GET "));
}

// Drives a connector through the contract without the store: the events it yields, grouped per scope.
import type { CollectContext, CollectEvent, Connector } from "../../src/connector.js";
import { resolveSecret } from "../../src/secrets.js";
import type { Attributes, Credential, Grant, Principal, RoleDefinition } from "../../src/model.js";
import type { QuarantineNote } from "../../src/store/validate.js";

export interface ScopeResult {
  status: "ok" | "failed" | "open";
  label?: string;
  error?: string;
  meta?: Attributes;
  principals: Principal[];
  credentials: Credential[];
  grants: Grant[];
  roles: RoleDefinition[];
  requests: number;
}

export interface TestContext extends CollectContext {
  readonly requests: Map<string, number>;
  readonly logged: { level: string; obj: object; msg?: string }[];
  /** What the connector deferred; drain() runs them at the end, as the engine does. */
  readonly releases: (() => unknown)[];
  release(): Promise<void>;
  /** Notes of records the connector could not map, per scope. */
  readonly quarantined: Map<string, QuarantineNote[]>;
}

export function testContext(sourceId = "test", env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): TestContext {
  const requests = new Map<string, number>();
  const quarantined = new Map<string, QuarantineNote[]>();
  const logged: { level: string; obj: object; msg?: string }[] = [];
  const releases: (() => unknown)[] = [];
  const logAt = (level: string) => (obj: object, msg?: string) => logged.push({ level, obj, msg });
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
    releases,
    async release() {
      for (const r of releases.splice(0).reverse()) await r();
    },
    quarantine: (scope: string, note: QuarantineNote) => void quarantined.set(scope, [...(quarantined.get(scope) ?? []), note]),
    quarantined,
  };
}

export async function drain(
  connector: Connector,
  ctx: TestContext = testContext(),
): Promise<{ events: CollectEvent[]; scopes: Map<string, ScopeResult> }> {
  const events: CollectEvent[] = [];
  const scopes = new Map<string, ScopeResult>();
  const scopeOf = (id: string) => {
    let s = scopes.get(id);
    if (!s) {
      s = { status: "open", principals: [], credentials: [], grants: [], roles: [], requests: 0 };
      scopes.set(id, s);
    }
    return s;
  };
  try {
    for await (const ev of connector.collect(ctx)) {
      events.push(ev);
      const s = scopeOf(ev.scope);
      if (ev.type === "scope-start") s.label = ev.label;
      else if (ev.type === "records") {
        s.principals.push(...(ev.principals ?? []));
        s.credentials.push(...(ev.credentials ?? []));
        s.grants.push(...(ev.grants ?? []));
        s.roles.push(...(ev.roles ?? []));
      } else if (ev.type === "quarantine") {
        ctx.quarantine(ev.scope, ev.note);
      } else if (ev.type === "scope-end") {
        s.status = "ok";
        s.meta = ev.meta;
      } else {
        s.status = "failed";
        s.error = ev.error;
      }
    }
  } finally {
    await ctx.release();
  }
  for (const [id, s] of scopes) s.requests = ctx.requests.get(id) ?? 0;
  return { events, scopes };
}

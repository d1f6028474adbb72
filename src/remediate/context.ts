// What the engine gives a remediator: the remediate block's secrets (named by their key, cut out of anything
// stored or printed), request counting per action, and releases run when the apply or undo ends.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "../connector.js";
import type { SourceConfig } from "../config/load.js";
import { Redactor } from "../redact.js";
import { resolveSecret } from "../secrets.js";
import type { RemediationContext, Remediator } from "./contract.js";

export class RemediatorError extends Error {
  override name = "RemediatorError";
}

/** One source's remediator and its context: one context per source for a whole apply or undo. */
export interface SourceRemediation {
  remediator: Remediator;
  ctx: RemediationContext;
  redactor: Redactor;
}

// Which action a provider request belongs to. A remediator keeps one provider session (token, client,
// connections) per context for the whole apply or undo, and that session's request hook was made during the
// first action: the count follows the asynchronous call chain of the action that sends, not the session.
const currentAction = new AsyncLocalStorage<(n: number) => void>();

/** Runs one action's remediator call; every provider request it sends (token fetches included) is counted to `count`. */
export function countedAction<T>(count: (n: number) => void, run: () => Promise<T>): Promise<T> {
  return currentAction.run(count, run);
}

export type RemediatorFactory = (source: SourceConfig) => Remediator | undefined;

export class RemediationSession {
  private readonly releases: (() => unknown)[] = [];
  private readonly bySource = new Map<string, Promise<SourceRemediation>>();
  readonly redactor = new Redactor();

  constructor(
    private readonly log: Logger,
    private readonly signal: AbortSignal,
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** Tests and benchmarks hand in remediators with re-timed retries; production builds the connector's. */
    private readonly override?: RemediatorFactory,
  ) {}

  /** The source's remediator, built once from its remediate options (never the collector's). */
  remediation(source: SourceConfig): Promise<SourceRemediation> {
    let p = this.bySource.get(source.id);
    if (!p) {
      p = this.build(source);
      this.bySource.set(source.id, p);
    }
    return p;
  }

  private async build(source: SourceConfig): Promise<SourceRemediation> {
    if (!source.remediate) throw new RemediatorError(`source ${source.id} has no remediate block: whohas never changes it`);
    const custom = this.override?.(source);
    const impl = custom ? undefined : await source.connector.load();
    if (!custom && !impl?.remediator) throw new RemediatorError(`connector ${source.type} has no remediator`);
    const log = this.log;
    const ctx: RemediationContext = {
      sourceId: source.id,
      signal: this.signal,
      log: {
        debug: (o, m) => log.debug({ source: source.id, ...o }, m),
        info: (o, m) => log.info({ source: source.id, ...o }, m),
        warn: (o, m) => log.warn({ source: source.id, ...o }, m),
        error: (o, m) => log.error({ source: source.id, ...o }, m),
      },
      // The same context object serves every action of this apply, so a remediator's per-context session
      // (one token per source and scope) is reused; the count goes to the action whose call chain sends.
      countRequest: (_scope, n = 1) => currentAction.getStore()?.(n),
      resolveSecret: async (ref, key) => {
        const value = await resolveSecret(ref, `sources.${source.id}.remediate.${key}`, this.env);
        this.redactor.add(value);
        return value;
      },
      defer: (release) => void this.releases.push(release),
    };
    return { remediator: custom ?? impl!.remediator!(source.id, source.remediate.options), ctx, redactor: this.redactor };
  }

  /** A message fit for the store and the terminal: resolved secrets cut out, one paragraph, bounded. */
  describe(err: unknown): string {
    const text = err instanceof Error ? `${err.message}` : String(err);
    const first = text.split(/\r?\n\s*\r?\n/)[0] ?? "";
    return this.redactor.redact(first.length > 1000 ? `${first.slice(0, 1000)}…` : first);
  }

  async close(): Promise<void> {
    for (const release of this.releases.reverse()) {
      try {
        await release();
      } catch {
        // releasing is best effort
      }
    }
  }
}

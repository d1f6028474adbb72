// Deliveries (mail, webhooks) retry with the same full-jitter backoff the connectors use, but give up
// on errors that another attempt cannot fix (a rejected password, a 404).
import { backoffDelay, sleep as policySleep, type RetryPolicy } from "../http-policy.js";

export class PermanentError extends Error {
  override name = "PermanentError";
}

export class DeliveryError extends Error {
  override name = "DeliveryError";
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

export interface RetryOptions {
  /** Attempts after the first. */
  retries: number;
  baseDelayMs: number;
  signal?: AbortSignal;
  /** Called before each wait, to log it. */
  onRetry?: (err: Error, attempt: number, delayMs: number) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<{ value: T; attempts: number }> {
  const policy: RetryPolicy = { maxAttempts: opts.retries + 1, baseDelayMs: opts.baseDelayMs, maxDelayMs: Math.max(opts.baseDelayMs, opts.baseDelayMs * 16), timeoutMs: 0 };
  const wait = opts.sleep ?? policySleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(attempt), attempts: attempt };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (error instanceof PermanentError || attempt >= policy.maxAttempts || opts.signal?.aborted) {
        throw new DeliveryError(error.message, attempt);
      }
      const delay = backoffDelay(attempt, policy, opts.random);
      opts.onRetry?.(error, attempt, delay);
      try {
        await wait(delay, opts.signal);
      } catch {
        throw new DeliveryError(`${error.message} (stopped before attempt ${attempt + 1})`, attempt);
      }
    }
  }
}

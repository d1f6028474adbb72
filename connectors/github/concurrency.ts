// Bounded fan-out for per-team and per-repository calls, yielding results as they complete so the
// collector can hand batches on without waiting for the slowest item or holding every result.

/**
 * Runs `fn` over `items` with at most `limit` in flight. On the first error no new item starts, the
 * ones in flight are allowed to settle (their requests were already counted), and the error is thrown.
 */
export async function* mapBounded<T, R>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const source = (Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : toAsync(items as Iterable<T>)) as AsyncIterator<T>;
  const inFlight = new Map<number, Promise<{ key: number; ok: true; value: R } | { key: number; ok: false; error: unknown }>>();
  let nextKey = 0;
  let exhausted = false;
  let failure: { error: unknown } | undefined;

  const fill = async () => {
    while (!exhausted && !failure && inFlight.size < limit) {
      const step = await source.next();
      if (step.done) {
        exhausted = true;
        break;
      }
      const key = nextKey++;
      inFlight.set(
        key,
        fn(step.value).then(
          (value) => ({ key, ok: true as const, value }),
          (error: unknown) => ({ key, ok: false as const, error }),
        ),
      );
    }
  };

  try {
    await fill();
    while (inFlight.size > 0) {
      const done = await Promise.race(inFlight.values());
      inFlight.delete(done.key);
      if (!done.ok) {
        failure ??= { error: done.error };
        continue;
      }
      if (!failure) yield done.value;
      await fill();
    }
    if (failure) throw failure.error;
  } finally {
    if (inFlight.size > 0) await Promise.allSettled(inFlight.values());
    if (!exhausted) await source.return?.();
  }
}

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

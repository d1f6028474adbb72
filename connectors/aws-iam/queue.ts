// Merges events from concurrent account workers into the one async stream collect() yields, with
// back-pressure: a worker waits when the consumer (the store) is behind, so memory stays bounded.

export class EventQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private readonly spaceWaiters: (() => void)[] = [];
  private wakeConsumer: (() => void) | undefined;
  private closed = false;
  private failure: unknown;
  private failed = false;

  constructor(private readonly capacity: number) {}

  /** Resolves once the item is queued and the queue is within capacity again. */
  async push(item: T): Promise<void> {
    if (this.closed) throw new Error("event queue is closed");
    this.items.push(item);
    this.wake();
    while (this.items.length > this.capacity && !this.closed) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
  }

  /** No more items: the iterator ends after the queued ones. Releases blocked producers. */
  close(): void {
    this.closed = true;
    this.releaseProducers();
    this.wake();
  }

  /** The iterator throws `err` after the queued items. */
  fail(err: unknown): void {
    if (!this.failed) {
      this.failed = true;
      this.failure = err;
    }
    this.close();
  }

  private wake(): void {
    const w = this.wakeConsumer;
    this.wakeConsumer = undefined;
    w?.();
  }

  private releaseProducers(): void {
    for (const r of this.spaceWaiters.splice(0)) r();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) {
        const item = this.items.shift()!;
        this.spaceWaiters.shift()?.();
        yield item;
        continue;
      }
      if (this.failed) throw this.failure;
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }
}

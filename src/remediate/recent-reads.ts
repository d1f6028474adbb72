// What a remediator's inspect just read, kept for the apply that follows it: the engine re-checks each action
// (inspect) right before applying it, and apply needs the same read (the current state, and the undo data it
// holds). Handing the read over keeps an action at one read plus its writes; an apply with no recent inspect
// reads for itself, so apply never writes blind.

export class RecentReads<T> {
  private readonly entries = new Map<string, { value: T; at: number }>();

  constructor(
    /** Older reads are not trusted: the state may have moved since. */
    private readonly maxAgeMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  put(key: string, value: T): void {
    this.entries.set(key, { value, at: this.now() });
  }

  /** The read, once: a second apply of the same action reads again. */
  take(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    return this.now() - e.at <= this.maxAgeMs ? e.value : undefined;
  }
}

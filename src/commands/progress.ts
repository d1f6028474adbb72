// Collect's progress on a terminal (stderr): one line per running scope (requests, records, elapsed), redrawn in
// place at most a few times a second, so a long collect is never silent and a busy one does not flood the
// terminal. A scope that ends leaves the block and its final state is printed once above it. Anything else
// written meanwhile (a log line, the interrupt notice) goes through print(), which moves the block out of its
// way; written straight to stderr it would be overwritten by the next redraw.
// Only ever built for a terminal: the caller decides (not on a pipe or file, not with --quiet, not in the daemon).
import type { ProgressEvent } from "../collect.js";
import { shown } from "../safe-text.js";
import { clipColumns } from "../terminal-width.js";

/** What is drawn on: process.stderr when it is a TTY; a test passes its own. */
export interface ProgressTerminal {
  write(text: string): unknown;
  readonly columns?: number;
  readonly rows?: number;
}

/** At most four redraws a second from counter updates. */
export const REDRAW_MS = 250;
/** Elapsed keeps moving while a provider is slow to answer and no counter changes. */
const TICK_MS = 1000;
/** A block taller than the screen cannot be redrawn in place (the cursor cannot go above the top line). */
const MAX_LINES = 10;

interface Running {
  name: string;
  since: number;
  requests: number;
  records: number;
}

export class ProgressLines {
  private readonly running = new Map<string, Running>();
  private readonly ended = new Set<string>();
  /** Lines of the block on screen; the cursor is at the start of the line below them. */
  private drawn = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private pending: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly out: ProgressTerminal,
    private readonly now: () => number = Date.now,
  ) {}

  update(e: ProgressEvent): void {
    if (this.closed) return;
    const key = `${e.source}\u0000${e.scope}`;
    // A scope reported after it ended (a late request) does not come back as running.
    if (this.ended.has(key)) return;
    const r = this.running.get(key);
    if (e.state === "started" || e.state === "collecting") {
      if (r) {
        r.requests = e.requests;
        r.records = e.records;
      } else {
        this.running.set(key, { name: shown(`${e.source}/${e.scope}`), since: this.now(), requests: e.requests, records: e.records });
      }
      this.ticker ??= setInterval(() => this.requestDraw(), TICK_MS).unref();
      this.requestDraw();
      return;
    }
    this.running.delete(key);
    this.ended.add(key);
    const name = r?.name ?? shown(`${e.source}/${e.scope}`);
    const quarantined = e.quarantined > 0 ? ` · ${e.quarantined} quarantined` : "";
    this.print(`${this.fit(`  ${name}: ${e.state} · ${counters(e.requests, e.records, this.now() - (r?.since ?? this.now()))}${quarantined}`)}\n`);
    if (this.running.size === 0) this.stopTimers();
  }

  /** Text that must stay on screen (complete lines): the block is cleared, the text written, the block drawn again. */
  print(text: string): void {
    if (this.closed) {
      this.out.write(text);
      return;
    }
    this.out.write(this.clear() + text + this.block());
  }

  /** The block is removed for good (the run is over, or the process is about to exit); print() writes plainly after. */
  close(): void {
    this.stopTimers();
    if (!this.closed) this.out.write(this.clear());
    this.closed = true;
  }

  private stopTimers(): void {
    clearInterval(this.ticker);
    clearTimeout(this.pending);
    this.ticker = undefined;
    this.pending = undefined;
  }

  private requestDraw(): void {
    if (this.pending || this.closed) return;
    const wait = this.lastDraw + REDRAW_MS - this.now();
    if (wait <= 0) {
      this.draw();
      return;
    }
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.draw();
    }, wait).unref();
  }

  private draw(): void {
    if (this.closed) return;
    this.lastDraw = this.now();
    this.out.write(this.clear() + this.block());
  }

  private clear(): string {
    const up = this.drawn;
    this.drawn = 0;
    // Up to the block's first line, then erase from there to the end of the screen.
    return up > 0 ? `\r\x1b[${up}A\x1b[J` : "";
  }

  private block(): string {
    const now = this.now();
    const all = [...this.running.values()];
    const room = Math.max(1, Math.min(MAX_LINES, (this.out.rows || 24) - 2));
    const shownScopes = all.length > room ? all.slice(0, room - 1) : all;
    const lines = shownScopes.map((r) => this.fit(`  ${r.name}: ${counters(r.requests, r.records, now - r.since)}`));
    if (shownScopes.length < all.length) lines.push(this.fit(`  … and ${all.length - shownScopes.length} more scopes running`));
    this.drawn = lines.length;
    return lines.map((l) => `${l}\n`).join("");
  }

  /**
   * One screen row: a line that wrapped would take two rows and the next redraw would leave half of it behind.
   * Counted in columns, since a wide character takes two.
   */
  private fit(line: string): string {
    return clipColumns(line, Math.max(20, (this.out.columns || 80) - 1));
  }
}

function counters(requests: number, records: number, ms: number): string {
  return `${requests} ${requests === 1 ? "request" : "requests"} · ${records} ${records === 1 ? "record" : "records"} · ${(ms / 1000).toFixed(1)}s`;
}

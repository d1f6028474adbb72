// Plain-text building blocks for terminal output: aligned tables and optional color (NO_COLOR honored).
import { clip, shown } from "../safe-text.js";
import type { RowSpill } from "../views.js";

export function useColor(stream: NodeJS.WriteStream | undefined = process.stdout): boolean {
  return Boolean(stream?.isTTY) && !("NO_COLOR" in process.env) && process.env.TERM !== "dumb";
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, dim: 2, bold: 1 } as const;
export type Color = keyof typeof CODES;

export function paint(text: string, color: Color, enabled: boolean): string {
  return enabled ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text;
}

/** Widest a padded column grows: one long name must not pad every other row (the JSON and CSV keep it whole). */
export const CELL_MAX = 80;
/** The last column is not padded, so it may say more (an error message), but not without bound. */
export const LAST_CELL_MAX = 400;

export interface TextTableOptions {
  /** Fit the table in this many characters (a terminal's width): the widest columns are narrowed and their cells cut with an ellipsis. */
  maxWidth?: number;
  /**
   * Past `after` rows (SPILL_AFTER_ROWS unless given), the rows move out of memory into what `open` returns, so a
   * million rows cost a bounded amount of memory; a table given this must be close()d.
   */
  spill?: { open: () => RowSpill; after?: number };
}

/** Rows a table keeps in memory before it spills: a few megabytes of strings, more than any but an inventory-sized table. */
export const SPILL_AFTER_ROWS = 50_000;

/** Narrowest a column is squeezed to when the table must fit a terminal. */
const MIN_FITTED_WIDTH = 6;

/**
 * A table built a row at a time and written a line at a time, so a million rows cost their own size and
 * no more (and, given a spill, not even that): cells are escaped and capped as they are added (provider names
 * are hostile), each row is kept as one string, and column widths are tracked as rows arrive instead of spread
 * over them at the end.
 */
export class TextTable {
  private readonly widths: number[];
  private rows: string[] = [];
  private keys: string[] = [];
  private count = 0;
  /** Whether every row came with a sort key: only then are rows written in key order. */
  private keyed = true;
  private spilled: RowSpill | null = null;
  private static readonly SEP = "\u0000"; // escaped cells cannot contain NUL

  constructor(
    private readonly header: string[],
    private readonly options: TextTableOptions = {},
  ) {
    this.widths = header.map((h) => h.length);
  }

  get size(): number {
    return this.count;
  }

  /** `sortKey`: when given for every row, rows are written in its order (plain string comparison). */
  add(cells: unknown[], sortKey?: string): void {
    const last = this.header.length - 1;
    const safe = this.header.map((_, i) => shown(cells[i] ?? "", i === last ? LAST_CELL_MAX : CELL_MAX));
    for (let i = 0; i <= last; i++) if (safe[i]!.length > this.widths[i]!) this.widths[i] = safe[i]!.length;
    const row = safe.join(TextTable.SEP);
    this.count++;
    if (sortKey === undefined) this.keyed = false;
    if (this.spilled) {
      this.spilled.add(sortKey ?? "", row);
      return;
    }
    this.rows.push(row);
    this.keys.push(sortKey ?? "");
    const spill = this.options.spill;
    if (spill && this.rows.length > (spill.after ?? SPILL_AFTER_ROWS)) {
      this.spilled = spill.open();
      for (let i = 0; i < this.rows.length; i++) this.spilled.add(this.keys[i]!, this.rows[i]!);
      this.rows = [];
      this.keys = [];
    }
  }

  /** Column widths that fit maxWidth: the widest column loses a character at a time, none below its minimum. */
  private fitted(): number[] {
    const widths = [...this.widths];
    const max = this.options.maxWidth;
    if (!max) return widths;
    const floor = this.header.map((h) => Math.max(MIN_FITTED_WIDTH, Math.min(h.length, 12)));
    let total = widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
    while (total > max) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) if (widths[i]! > floor[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      if (widest < 0) break;
      widths[widest]!--;
      total--;
    }
    return widths;
  }

  private line(cells: string[], widths: number[], fit: boolean): string {
    const last = cells.length - 1;
    let out = "";
    for (let i = 0; i < cells.length; i++) {
      const cell = fit ? clip(cells[i]!, widths[i]!) : cells[i]!;
      out += i === last ? cell : cell.padEnd(widths[i]!) + "  ";
    }
    return out.trimEnd() + "\n";
  }

  /** The rows in the order they are written. */
  private *ordered(): Iterable<string> {
    const byKey = this.keyed && this.count > 0;
    if (this.spilled) return yield* this.spilled.rows(byKey ? "key" : "added");
    const keys = this.keys;
    const order = byKey ? this.rows.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : a - b)) : null;
    for (let r = 0; r < this.rows.length; r++) yield this.rows[order ? order[r]! : r]!;
  }

  /** Writes the table in chunks of lines (one write per line would be a million syscalls). */
  write(write: (text: string) => void, chunkLines = 2000): void {
    const widths = this.fitted();
    const fit = this.options.maxWidth !== undefined;
    // The last column is not padded: its rule is as long as its header (or its fitted width).
    const rule = widths.map((w, i) => "-".repeat(i === widths.length - 1 && !fit ? this.header[i]!.length : w));
    let chunk = this.line(this.header, widths, fit) + this.line(rule, widths, fit);
    let n = 0;
    for (const row of this.ordered()) {
      chunk += this.line(row.split(TextTable.SEP), widths, fit);
      if (++n % chunkLines === 0) {
        write(chunk);
        chunk = "";
      }
    }
    if (chunk) write(chunk);
  }

  toString(): string {
    let out = "";
    this.write((t) => void (out += t));
    return out;
  }

  /** Frees the spilled rows, if the table spilled; the table is not written after this. */
  close(): void {
    const spilled = this.spilled;
    this.spilled = null;
    spilled?.close();
  }
}

/** A small table as one string: columns padded to their widest cell (capped); the last column is not padded. */
export function table(header: string[], rows: unknown[][], options: TextTableOptions = {}): string {
  const t = new TextTable(header, options);
  for (const r of rows) t.add(r);
  return t.toString();
}

/** `2026-01-31T12:00:00.000Z` → `2026-01-31`; null → placeholder. */
export function day(iso: string | null | undefined, none = "-"): string {
  return iso ? iso.slice(0, 10) : none;
}

/** The width tables should fit: the terminal's when stdout is one, else none (a pipe or file gets whole rows). */
export function terminalWidth(stream: NodeJS.WriteStream | undefined = process.stdout): number | undefined {
  return stream?.isTTY && stream.columns ? stream.columns : undefined;
}

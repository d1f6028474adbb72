// Plain-text building blocks for terminal output: aligned tables and optional color (NO_COLOR honored).
import { shown } from "../safe-text.js";

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

/**
 * A table built a row at a time and written a line at a time, so a million rows cost their own size and
 * no more: cells are escaped and capped as they are added (provider names are hostile), each row is kept
 * as one string, and column widths are tracked as rows arrive instead of spread over them at the end.
 */
export class TextTable {
  private readonly widths: number[];
  private readonly rows: string[] = [];
  private static readonly SEP = "\u0000"; // escaped cells cannot contain NUL

  constructor(private readonly header: string[]) {
    this.widths = header.map((h) => h.length);
  }

  get size(): number {
    return this.rows.length;
  }

  add(cells: unknown[]): void {
    const last = this.header.length - 1;
    const safe = this.header.map((_, i) => shown(cells[i] ?? "", i === last ? LAST_CELL_MAX : CELL_MAX));
    for (let i = 0; i < last; i++) if (safe[i]!.length > this.widths[i]!) this.widths[i] = safe[i]!.length;
    this.rows.push(safe.join(TextTable.SEP));
  }

  private line(cells: string[]): string {
    const last = cells.length - 1;
    let out = "";
    for (let i = 0; i < cells.length; i++) out += i === last ? cells[i] : cells[i]!.padEnd(this.widths[i]!) + "  ";
    return out.trimEnd() + "\n";
  }

  /** Writes the table in chunks of lines (one write per line would be a million syscalls). */
  write(write: (text: string) => void, chunkLines = 2000): void {
    let chunk = this.line(this.header) + this.line(this.widths.map((w) => "-".repeat(w)));
    let n = 0;
    for (const row of this.rows) {
      chunk += this.line(row.split(TextTable.SEP));
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
}

/** A small table as one string: columns padded to their widest cell (capped); the last column is not padded. */
export function table(header: string[], rows: unknown[][]): string {
  const t = new TextTable(header);
  for (const r of rows) t.add(r);
  return t.toString();
}

/** `2026-01-31T12:00:00.000Z` → `2026-01-31`; null → placeholder. */
export function day(iso: string | null | undefined, none = "-"): string {
  return iso ? iso.slice(0, 10) : none;
}

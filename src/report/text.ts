// Plain-text building blocks for terminal output: aligned tables and optional color (NO_COLOR honored).

export function useColor(stream: NodeJS.WriteStream | undefined = process.stdout): boolean {
  return Boolean(stream?.isTTY) && !("NO_COLOR" in process.env) && process.env.TERM !== "dumb";
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, dim: 2, bold: 1 } as const;
export type Color = keyof typeof CODES;

export function paint(text: string, color: Color, enabled: boolean): string {
  return enabled ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n") + "\n";
}

/** `2026-01-31T12:00:00.000Z` → `2026-01-31`; null → placeholder. */
export function day(iso: string | null | undefined, none = "-"): string {
  return iso ? iso.slice(0, 10) : none;
}

// The loader-thread half of module-probe.ts: appends each resolved ES module URL to the log file.
import { appendFileSync } from "node:fs";

let file = "";

export function initialize(data: { file: string }): void {
  file = data.file;
}

type Next = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, next: Next): Promise<{ url: string }> {
  const resolved = await next(specifier, context);
  appendFileSync(file, resolved.url + "\n");
  return resolved;
}

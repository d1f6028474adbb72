// The version whohas states about itself (the access review's evidence block): package.json's, read on first
// use so no command pays for it at startup. This module sits in src/ (tests) or dist/src/ (the built CLI).
import { readFileSync } from "node:fs";

let cached: string | undefined;

export function toolVersion(): string {
  if (cached !== undefined) return cached;
  cached = "unknown";
  for (const rel of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "whohas" && typeof pkg.version === "string") {
        cached = pkg.version;
        break;
      }
    } catch {
      // not at this level: try the next
    }
  }
  return cached;
}

// Runs an ES module script in a fresh Node process: for what only a whole process shows (an uncaught error
// ending it, the modules loaded for the first time). The script imports the built code through `dist(path)`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** A `file:` URL of a built module, e.g. dist("src/collect.js"), for an import in a child script. */
export function dist(path: string): string {
  return pathToFileURL(fileURLToPath(new URL(`../../dist/${path}`, import.meta.url))).href;
}

export function runScript(source: string, timeoutMs = 120_000): { code: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "whohas-script-"));
  try {
    const file = join(dir, "script.mjs");
    writeFileSync(file, source);
    const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: "utf8", timeout: timeoutMs, env: { ...process.env, WHOHAS_SCRIPT_DIR: dir } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

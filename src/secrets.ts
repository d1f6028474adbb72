// Secret references: config never holds a secret, only where to find it.
import { readFile, stat } from "node:fs/promises";
import { z } from "zod";

const REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/;

/** Zod type for a config key that holds a secret reference (`env:NAME` or `file:/absolute/path`). */
export const secretRef = z
  .string()
  .regex(REF, { message: 'expected a secret reference "env:NAME" or "file:/absolute/path", not a literal secret' });

export class SecretError extends Error {
  override name = "SecretError";
}

/**
 * Resolves a reference. The message of any error names the config key and the reference
 * (which is not secret), never the value.
 */
export async function resolveSecret(ref: string, key: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (ref.startsWith("env:")) {
    const name = ref.slice(4);
    const value = env[name];
    if (value === undefined || value === "") {
      throw new SecretError(`${key}: environment variable ${name} (from "${ref}") is not set or empty`);
    }
    return value;
  }
  if (ref.startsWith("file:")) {
    const path = ref.slice(5);
    let mode: number;
    try {
      mode = (await stat(path)).mode;
    } catch (err) {
      throw new SecretError(`${key}: cannot read secret file ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
    }
    if ((mode & 0o077) !== 0) {
      throw new SecretError(
        `${key}: secret file ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`,
      );
    }
    try {
      const text = await readFile(path, "utf8");
      const value = text.replace(/\r?\n$/, "");
      if (value === "") throw new SecretError(`${key}: secret file ${path} is empty`);
      return value;
    } catch (err) {
      if (err instanceof SecretError) throw err;
      throw new SecretError(`${key}: cannot read secret file ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
    }
  }
  throw new SecretError(`${key}: "${ref}" is not a secret reference (expected env:NAME or file:/path)`);
}

// Loading and validating whohas.toml. Errors name the file, the key path (sources[2].tenant_id) and what
// was expected; they never quote a value, so a secret pasted by mistake does not end up in a terminal log.
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { CONNECTORS, findConnector } from "../../connectors/index.js";
import { configSchema, SOURCE_BASE_KEYS, sourceBaseSchema, type Policy } from "./schema.js";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface SourceConfig {
  id: string;
  type: string;
  enabled: boolean;
  policy: Policy;
  /** The connector's own options, validated by its schema. */
  options: unknown;
}

export interface Suppression {
  rule: string;
  subject: string;
  reason: string;
  until: string;
}

export interface Config {
  file: string;
  identity: { aliases: Record<string, string>; providers?: string[] };
  suppress: Suppression[];
  store: { path: string; keepRuns: number };
  policy: Policy;
  collect: { concurrency: number };
  sources: SourceConfig[];
}

export const DEFAULT_CONFIG_PATHS = ["./whohas.toml", "/etc/whohas/config.toml"];

export function findConfigFile(explicit?: string): string {
  if (explicit) {
    if (!existsSync(explicit)) throw new ConfigError(`${explicit}: config file not found`);
    return explicit;
  }
  for (const candidate of DEFAULT_CONFIG_PATHS) if (existsSync(candidate)) return candidate;
  throw new ConfigError(`no config file: looked for ${DEFAULT_CONFIG_PATHS.join(" and ")}; pass --config PATH or run "whohas init"`);
}

/** `["sources", 2, "tenant_id"]` → `sources[2].tenant_id` */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function issueText(file: string, prefix: readonly PropertyKey[], issue: z.core.$ZodIssue): string {
  const path = [...prefix, ...issue.path];
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => `${file}: ${keyPath([...path, k])}: unknown key`).join("\n");
  }
  const where = keyPath(path) || "(top level)";
  // zod's messages describe the expectation ("expected number, received string"); strip its generic prefix.
  const message = issue.message.replace(/^Invalid input: /, "");
  return `${file}: ${where}: ${message}`;
}

function fail(file: string, prefix: readonly PropertyKey[], error: z.ZodError): never {
  throw new ConfigError(error.issues.map((i) => issueText(file, prefix, i)).join("\n"));
}

export function loadConfig(explicit?: string): Config {
  const file = findConfigFile(explicit);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): Config {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      // smol-toml's message quotes the offending line, which may hold a secret; keep position and reason only.
      const reason = err.message.split("\n")[0]!.replace(/\s*\(.*$/, "");
      throw new ConfigError(`${file}:${err.line}:${err.column}: invalid TOML: ${reason}`);
    }
    throw new ConfigError(`${file}: invalid TOML`);
  }
  const top = configSchema.safeParse(raw);
  if (!top.success) fail(file, [], top.error);

  const errors: string[] = [];
  const sources: SourceConfig[] = [];
  const ids = new Map<string, number>();
  top.data.sources.forEach((entry, i) => {
    const base = sourceBaseSchema.safeParse(entry);
    if (!base.success) {
      errors.push(...base.error.issues.map((issue) => issueText(file, ["sources", i], issue)));
      return;
    }
    const { id, type, enabled, policy } = base.data;
    const earlier = ids.get(id);
    if (earlier !== undefined) errors.push(`${file}: sources[${i}].id: "${id}" is already used by sources[${earlier}]`);
    ids.set(id, i);
    const connector = findConnector(type);
    if (!connector) {
      errors.push(`${file}: sources[${i}].type: unknown type "${type}"; expected one of ${CONNECTORS.map((c) => c.type).join(", ")}`);
      return;
    }
    const rest = Object.fromEntries(Object.entries(entry).filter(([k]) => !(SOURCE_BASE_KEYS as readonly string[]).includes(k)));
    const opts = connector.options.safeParse(rest);
    if (!opts.success) {
      errors.push(...opts.error.issues.map((issue) => issueText(file, ["sources", i], issue)));
      return;
    }
    sources.push({ id, type, enabled, policy: { ...top.data.policy, ...(policy ?? {}) }, options: opts.data });
  });
  top.data.identity.providers?.forEach((id, i) => {
    if (!ids.has(id)) errors.push(`${file}: identity.providers[${i}]: "${id}" is not a configured source id`);
  });
  for (const key of Object.keys(top.data.identity.aliases)) {
    const sourceId = key.slice(0, key.indexOf(":"));
    if (!ids.has(sourceId)) errors.push(`${file}: identity.aliases."${key}": "${sourceId}" is not a configured source id`);
  }
  if (errors.length > 0) throw new ConfigError(errors.join("\n"));

  const storePath = top.data.store.path;
  return {
    file,
    store: {
      path: isAbsolute(storePath) ? storePath : resolve(dirname(resolve(file)), storePath),
      keepRuns: top.data.store.keep_runs,
    },
    policy: top.data.policy,
    identity: top.data.identity,
    suppress: top.data.suppress,
    collect: top.data.collect,
    sources,
  };
}

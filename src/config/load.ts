// Loading and validating whohas.toml. Errors name the file, the key path (sources[2].tenant_id) and what
// was expected; they never quote a value, so a secret pasted by mistake does not end up in a terminal log.
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import type { ConnectorDescriptor, ConnectorRegistry } from "../connector.js";
import { configSchema, DEFAULT_TOP_FINDINGS, SOURCE_BASE_KEYS, sourceBaseSchema, type AlertSettings, type EmailSettings, type Policy, type REPORT_FILE_FORMATS } from "./schema.js";
import { remediateBlock } from "./remediate-block.js";
import type { ActionType } from "../remediate/contract.js";
import type { RemediableRule } from "../remediate/config-schema.js";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface SourceConfig {
  id: string;
  type: string;
  /** The registry's descriptor of `type`: whether it is an identity provider, and how to load it. */
  connector: ConnectorDescriptor<any>;
  enabled: boolean;
  policy: Policy;
  /** Overrides collect.deadlineSeconds for this source. */
  deadlineSeconds?: number;
  /** The connector's own options, validated by its schema. */
  options: unknown;
  /** The `remediate` block merged over the options (own credentials only), validated by the same schema; absent: read-only. */
  remediate?: { options: unknown };
  /** `[sources.events]`: absent when the source reads no audit-log feed. */
  events?: { lookbackDays: number; overlapMinutes: number; scopes: string[] };
}

/** One `[[remediate]]` entry, its sources resolved. */
export interface RemediateEntry {
  name: string;
  rule: RemediableRule;
  action: ActionType;
  sources: string[];
  graceDays: number;
  exclude: string[];
  breakGlass: string[];
  excludeTags: string[];
  notifyBeforeDays: number;
  notifyOwner?: string;
  maxActionsPerRun: number;
  autoApply: boolean;
  allowIrreversible: boolean;
}

export interface Suppression {
  rule: string;
  subject: string;
  reason: string;
  until: string;
  added_by?: string;
}

export interface Config {
  file: string;
  /** sha256 of the parsed file as canonical JSON (keys sorted): names the settings a report came from, not the file's layout or comments. Secrets are references only, so none is hashed. */
  digest: string;
  identity: { aliases: Record<string, string>; providers?: string[] };
  suppress: Suppression[];
  store: { path: string; keepRuns: number };
  policy: Policy;
  collect: { concurrency: number; deadlineSeconds: number };
  events: { retentionDays: number };
  sources: SourceConfig[];
  /** The daemon's timetable; null when not configured (the daemon refuses to start without it). */
  schedule: { collect: string; events?: string; report?: string; timezone?: string } | null;
  /** Where and how each run's report is written; always present (defaults next to the database). */
  report: { dir: string; formats: (typeof REPORT_FILE_FORMATS)[number][]; type: "changes" | "access-review"; history: number; suppressionWarnDays: number; organisation: string | null; top: number };
  /** `ca` is an absolute path. */
  email: EmailSettings | null;
  metrics: { host: string; port: number } | null;
  alerts: AlertSettings[];
  remediation: { planMaxAgeHours: number; concurrency: number; dir: string; breakGlass: string[] };
  remediate: RemediateEntry[];
}

/** The evidence block's config digest: the same settings give the same digest however the file is laid out. */
export function configDigest(parsed: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v instanceof Date) return v.toISOString();
    if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
    return v;
  };
  return createHash("sha256").update(JSON.stringify(canonical(parsed))).digest("hex");
}

export const DEFAULT_CONFIG_PATHS = ["./whohas.toml", "/etc/whohas/config.toml"];

/** --config, else the WHOHAS_CONFIG environment variable, else the first default path that exists. */
export function findConfigFile(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) {
    if (!existsSync(explicit)) throw new ConfigError(`${explicit}: config file not found`);
    return explicit;
  }
  const fromEnv = env.WHOHAS_CONFIG;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new ConfigError(`${fromEnv}: config file not found (from WHOHAS_CONFIG)`);
    return fromEnv;
  }
  for (const candidate of DEFAULT_CONFIG_PATHS) if (existsSync(candidate)) return candidate;
  throw new ConfigError(`no config file: looked for ${DEFAULT_CONFIG_PATHS.join(" and ")}; pass --config PATH, set WHOHAS_CONFIG or run "whohas init"`);
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

/** `registry` is the set of connector types the config may name (connectors/index.ts's CONNECTORS). */
export function loadConfig(explicit: string | undefined, registry: ConnectorRegistry): Config {
  const file = findConfigFile(explicit);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseConfig(text, file, registry);
}

export function parseConfig(text: string, file: string, registry: ConnectorRegistry): Config {
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
    const { id, type, enabled, policy, deadline_seconds, events } = base.data;
    const earlier = ids.get(id);
    if (earlier !== undefined) errors.push(`${file}: sources[${i}].id: "${id}" is already used by sources[${earlier}]`);
    ids.set(id, i);
    const connector = registry.find((c) => c.type === type);
    if (!connector) {
      errors.push(`${file}: sources[${i}].type: unknown type "${type}"; expected one of ${registry.map((c) => c.type).join(", ")}`);
      return;
    }
    const rest = Object.fromEntries(Object.entries(entry).filter(([k]) => !(SOURCE_BASE_KEYS as readonly string[]).includes(k)));
    const opts = connector.options.safeParse(rest);
    if (!opts.success) {
      errors.push(...opts.error.issues.map((issue) => issueText(file, ["sources", i], issue)));
      return;
    }
    if (events?.enabled && !connector.feeds?.length) {
      errors.push(`${file}: sources[${i}].events: the ${type} connector reads no audit-log feed; remove the events table or set enabled = false`);
      return;
    }
    let remediate: SourceConfig["remediate"];
    if (base.data.remediate !== undefined) {
      const block = remediateBlock(file, i, connector, rest, base.data.remediate, (prefix, issue) => issueText(file, prefix, issue));
      if ("errors" in block) {
        errors.push(...block.errors);
        return;
      }
      remediate = { options: block.options };
    }
    sources.push({
      id,
      type,
      connector,
      enabled,
      policy: { ...top.data.policy, ...(policy ?? {}) },
      ...(deadline_seconds !== undefined ? { deadlineSeconds: deadline_seconds } : {}),
      options: opts.data,
      ...(remediate ? { remediate } : {}),
      ...(events?.enabled ? { events: { lookbackDays: events.lookback_days, overlapMinutes: events.overlap_minutes, scopes: events.scopes ?? [] } } : {}),
    });
  });
  top.data.identity.providers?.forEach((id, i) => {
    if (!ids.has(id)) errors.push(`${file}: identity.providers[${i}]: "${id}" is not a configured source id`);
  });
  for (const key of Object.keys(top.data.identity.aliases)) {
    const sourceId = key.slice(0, key.indexOf(":"));
    if (!ids.has(sourceId)) errors.push(`${file}: identity.aliases."${key}": "${sourceId}" is not a configured source id`);
  }
  const alertNames = new Map<string, number>();
  top.data.alerts.forEach((a, i) => {
    const earlier = alertNames.get(a.name);
    if (earlier !== undefined) errors.push(`${file}: alerts[${i}].name: "${a.name}" is already used by alerts[${earlier}]`);
    alertNames.set(a.name, i);
  });
  const remediate = remediateEntries(file, top.data.remediate, sources, errors);
  let metrics: Config["metrics"] = null;
  if (top.data.metrics) {
    const { listen } = top.data.metrics;
    const colon = listen.lastIndexOf(":");
    const port = Number(listen.slice(colon + 1));
    // Port 0 (any free port) is for tests; the daemon logs the port it got.
    if (port > 65535) errors.push(`${file}: metrics.listen: expected a port from 0 to 65535, got ${port}`);
    metrics = { host: listen.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port };
  }
  const topFindings = top.data.email?.top_findings;
  if (topFindings !== undefined && top.data.report?.top !== undefined) {
    errors.push(`${file}: email.top_findings: set [report] top only (one setting for the reports and the email body); remove email.top_findings`);
  }
  if (errors.length > 0) throw new ConfigError(errors.join("\n"));
  // [report] top, or the email's older spelling of it: the reports and the email list the same number.
  const topPerRule = top.data.report?.top ?? topFindings ?? DEFAULT_TOP_FINDINGS;

  const storePath = top.data.store.path;
  const fromConfigDir = (p: string) => (isAbsolute(p) ? p : resolve(dirname(resolve(file)), p));
  const resolvedStore = fromConfigDir(storePath);
  const report = top.data.report ?? { formats: ["html" as const], type: "changes" as const, history: 8, suppression_warn_days: 14, organisation: undefined };
  return {
    file,
    digest: configDigest(raw),
    store: {
      path: resolvedStore,
      keepRuns: top.data.store.keep_runs,
    },
    policy: top.data.policy,
    identity: top.data.identity,
    suppress: top.data.suppress,
    collect: { concurrency: top.data.collect.concurrency, deadlineSeconds: top.data.collect.deadline_seconds },
    events: { retentionDays: top.data.events.retention_days },
    sources,
    schedule: top.data.schedule ?? null,
    report: {
      dir: report.dir ? fromConfigDir(report.dir) : join(dirname(resolvedStore), "reports"),
      formats: report.formats,
      type: report.type,
      history: report.history,
      suppressionWarnDays: report.suppression_warn_days,
      organisation: report.organisation ?? null,
      top: topPerRule,
    },
    email: top.data.email ? { ...top.data.email, top_findings: topPerRule, ...(top.data.email.ca ? { ca: fromConfigDir(top.data.email.ca) } : {}) } : null,
    metrics,
    alerts: top.data.alerts,
    remediation: {
      planMaxAgeHours: top.data.remediation?.plan_max_age_hours ?? 24,
      concurrency: top.data.remediation?.concurrency ?? 8,
      dir: top.data.remediation?.dir ? fromConfigDir(top.data.remediation.dir) : join(dirname(resolvedStore), "plans"),
      breakGlass: top.data.remediation?.break_glass ?? [],
    },
    remediate,
  };
}

type EntryInput = z.infer<typeof configSchema>["remediate"][number];

/** Resolves each entry's sources: named ones must exist, have a remediate block and a connector that takes the action. */
function remediateEntries(file: string, entries: EntryInput[], sources: SourceConfig[], errors: string[]): RemediateEntry[] {
  const names = new Map<string, number>();
  const out: RemediateEntry[] = [];
  const canTake = (s: SourceConfig, action: ActionType) => s.connector.actions?.some((a) => a.type === action) ?? false;
  entries.forEach((e, i) => {
    const name = e.name ?? `${e.rule}-${e.action}`;
    const earlier = names.get(name);
    if (earlier !== undefined) errors.push(`${file}: remediate[${i}].name: "${name}" is already used by remediate[${earlier}]${e.name ? "" : " (give each entry its own name)"}`);
    names.set(name, i);
    let ids: string[];
    if (e.sources) {
      ids = [];
      e.sources.forEach((id, j) => {
        const s = sources.find((x) => x.id === id);
        if (!s) errors.push(`${file}: remediate[${i}].sources[${j}]: "${id}" is not a configured source id`);
        else if (!s.remediate) errors.push(`${file}: remediate[${i}].sources[${j}]: source "${id}" has no remediate block (its own credentials for changing it)`);
        else if (!canTake(s, e.action)) errors.push(`${file}: remediate[${i}].action: source "${id}" (type ${s.type}) cannot take ${e.action}; it can: ${s.connector.actions?.map((a) => a.type).join(", ") || "nothing"}`);
        else ids.push(id);
      });
    } else {
      ids = sources.filter((s) => s.remediate && canTake(s, e.action)).map((s) => s.id);
      if (ids.length === 0) errors.push(`${file}: remediate[${i}].action: no source with a remediate block can take ${e.action}`);
    }
    out.push({
      name,
      rule: e.rule,
      action: e.action,
      sources: ids,
      graceDays: e.grace_days,
      exclude: e.exclude,
      breakGlass: e.break_glass,
      excludeTags: e.exclude_tags,
      notifyBeforeDays: e.notify_before_days,
      ...(e.notify_owner ? { notifyOwner: e.notify_owner } : {}),
      maxActionsPerRun: e.max_actions_per_run,
      autoApply: e.auto_apply,
      allowIrreversible: e.allow_irreversible,
    });
  });
  return out;
}

// The filters `inventory`, `who`, `person` and `report` share, checked against what exists: an unknown
// source, scope or column is a usage error (exit 2) naming the valid values, never an empty answer.
// Fixed vocabularies (kind, level, status, MFA, severity, rule) are checked by commander's choices.
import type { Config } from "../config/load.js";
import type { AccessLevel, MfaState, PrincipalKind, PrincipalStatus } from "../model.js";
import { resolveScopes, scopeText, type PrincipalFilter, type ScopeRef } from "../query/principals.js";
import type { Db } from "../store/db.js";
import { scopeLabels, scopesAsOf } from "../store/reader.js";
import { terminalWidth } from "../report/text.js";
import { CliUsageError } from "./exit.js";

export interface PrincipalFilterOptions {
  source?: string[];
  scope?: string[];
  kind?: PrincipalKind[];
  status?: PrincipalStatus[];
  mfa?: MfaState[];
  level?: Exclude<AccessLevel, "none">;
  search?: string;
}

export interface TableOptions {
  wide?: boolean;
  columns?: string;
}

const list = (values: Iterable<string>) => [...values].join(", ") || "none";

/** Every source a filter may name: the configured ones and those the store holds data of. */
export function knownSources(config: Config, scopes: ScopeRef[]): string[] {
  return [...new Set([...config.sources.map((s) => s.id), ...scopes.map((s) => s.source)])].sort();
}

export function checkSources(wanted: string[] | undefined, valid: string[]): void {
  const unknown = (wanted ?? []).filter((s) => !valid.includes(s));
  if (unknown.length > 0) throw new CliUsageError(`--source: unknown source ${unknown.map((s) => `"${s}"`).join(", ")}; expected one of ${list(valid)}`);
}

/** The scopes of run `runId` with their labels, for --scope and the SCOPE column. */
export function scopesOf(db: Db, runId: number): { scopes: ScopeRef[]; labels: Map<string, string> } {
  const labels = scopeLabels(db, runId);
  const scopes = scopesAsOf(db, runId).map((s) => ({ source: s.source, scope: s.scope, label: labels.get(`${s.source}/${s.scope}`) ?? null }));
  return { scopes, labels };
}

export function checkScopes(wanted: string[] | undefined, scopes: ScopeRef[]): Set<string> | undefined {
  if (!wanted || wanted.length === 0) return undefined;
  const { keys, unknown } = resolveScopes(wanted, scopes);
  if (unknown.length > 0) {
    const valid = scopes.map((s) => `${s.source}/${s.scope}${scopeText(s) !== s.scope ? ` (${scopeText(s)})` : ""}`);
    throw new CliUsageError(`--scope: unknown scope ${unknown.map((s) => `"${s}"`).join(", ")}; expected a scope id, source/scope or label, one of ${list(valid)}`);
  }
  return keys;
}

/** Validates the filter options against the store's run and builds the filter. */
export function principalFilter(db: Db, config: Config, runId: number, opts: PrincipalFilterOptions): { filter: PrincipalFilter; labels: Map<string, string> } {
  const { scopes, labels } = scopesOf(db, runId);
  checkSources(opts.source, knownSources(config, scopes));
  const filter: PrincipalFilter = {
    sources: opts.source,
    scopes: checkScopes(opts.scope, scopes),
    kinds: opts.kind,
    statuses: opts.status,
    mfa: opts.mfa,
    minLevel: opts.level,
    search: opts.search,
  };
  return { filter, labels };
}

/** --columns (comma-separated, any case, "last-active" for "LAST ACTIVE") or --wide (every column) or the defaults. */
export function pickColumns(opts: TableOptions, all: readonly string[], defaults: string[]): string[] {
  if (opts.columns !== undefined) {
    const wanted = opts.columns
      .split(",")
      .map((c) => c.trim())
      .filter(Boolean);
    const normal = (c: string) => c.toUpperCase().replace(/[-_]/g, " ");
    const unknown = wanted.filter((c) => !all.includes(normal(c)));
    if (wanted.length === 0 || unknown.length > 0) {
      throw new CliUsageError(`--columns: unknown column ${unknown.map((c) => `"${c}"`).join(", ") || "(none given)"}; expected a comma-separated list of ${all.map((c) => c.toLowerCase().replace(/ /g, "-")).join(", ")}`);
    }
    return wanted.map(normal);
  }
  return opts.wide ? [...all] : defaults;
}

/** Tables fit the terminal unless --wide (or the output is not a terminal). */
export function tableWidth(opts: TableOptions, toFile: boolean): number | undefined {
  return opts.wide || toFile ? undefined : terminalWidth();
}

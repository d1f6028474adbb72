// whohas roles: what each role, policy or group somebody holds permits, and who holds it (the role catalogue).
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { accessRank, type AccessLevel } from "../model.js";
import { writeOutput } from "../report/output.js";
import { capped, REVIEW_HOLDERS_MAX, ROLE_COLUMNS, ROLE_DEFAULT_COLUMNS, withScopeLabels, writeRoles, type LabelledRoleSummary, type RolesFormat } from "../report/roles.js";
import { roleCatalogueAt, type RoleHolder, type RoleSummary } from "../store/roles.js";
import { shown } from "../safe-text.js";
import { withStore } from "./common.js";
import { CliUsageError } from "./exit.js";
import { checkScopes, checkSources, knownSources, pickColumns, scopesOf, tableWidth, type TableOptions } from "./filters.js";
import { runOf } from "./inventory.js";

export interface RolesOptions extends TableOptions {
  config?: string;
  run?: string;
  source?: string[];
  scope?: string[];
  role?: string[];
  level?: Exclude<AccessLevel, "none">;
  format: RolesFormat;
  out?: string;
}

/** Suggestions named in the error when a --role matches nothing: enough to spot a typo, not the whole catalogue. */
const SUGGESTIONS = 10;

/**
 * The roles `wanted` names, by name, privilege or provider id, case-insensitively. A name that matches no held
 * role is a usage error naming the closest ones (names containing it), never an empty answer.
 */
export function pickRoles<R extends RoleSummary>(roles: R[], wanted: string[], runId: number): R[] {
  const keys = (r: R) => [r.name, r.privilege, r.id ?? ""].map((k) => k.toLowerCase());
  const picked = new Set<R>();
  for (const w of wanted) {
    const q = w.toLowerCase();
    const hits = roles.filter((r) => keys(r).includes(q));
    if (hits.length === 0) {
      const near = [...new Set(roles.filter((r) => keys(r).some((k) => k.includes(q))).map((r) => r.name))];
      const all = [...new Set(roles.map((r) => r.name))];
      // Provider names in a message: escaped here, since the error path keeps the line breaks whohas writes.
      const hint = near.length > 0 ? `roles whose name contains it: ${capped(near.map((n) => `"${shown(n)}"`), SUGGESTIONS)}` : `held roles: ${capped(all.map((n) => `"${shown(n)}"`), SUGGESTIONS) || "none"}`;
      throw new CliUsageError(`--role: no role named "${w}" is held at run ${runId} (matched by name, privilege or id, any case); ${hint}`);
    }
    for (const h of hits) picked.add(h);
  }
  return roles.filter((r) => picked.has(r));
}

export const action = (opts: RolesOptions) => {
  const config = loadConfig(opts.config, CONNECTORS);
  withStore(config, (db) => {
    const run = runOf(db, opts.run);
    const { scopes, labels } = scopesOf(db, run.id);
    checkSources(opts.source, knownSources(config, scopes));
    const scopeKeys = checkScopes(opts.scope, scopes);
    const columns = pickColumns(opts, ROLE_COLUMNS.map((c) => c.name), ROLE_DEFAULT_COLUMNS);
    // Each role's holder count and first holders, not every holder: the human formats show those, and the
    // machine formats (and --role's detail) read every holder as they write it.
    const catalogue = roleCatalogueAt(db, run.id, { sources: opts.source, scopes: scopeKeys }, REVIEW_HOLDERS_MAX);
    let roles = catalogue.roles;
    if (opts.level) roles = roles.filter((r) => accessRank(r.level) >= accessRank(opts.level!));
    if (opts.role && opts.role.length > 0) roles = pickRoles(roles, opts.role, run.id);
    const filter = {
      ...(opts.source ? { sources: opts.source } : {}),
      ...(scopeKeys ? { scopes: [...scopeKeys] } : {}),
      ...(opts.role ? { roles: opts.role } : {}),
      ...(opts.level ? { level: opts.level } : {}),
    };
    writeOutput(opts.out, (sink) => {
      const toWrite = {
        roles: withScopeLabels(roles, labels),
        principals: () => catalogue.principalsHolding(roles),
        eachRoleHolders: () => catalogue.eachRoleHolders(toWrite.roles),
      };
      writeRoles(sink, run, toWrite, opts.format, {
        columns,
        maxWidth: tableWidth(opts, Boolean(opts.out)),
        // Asking for a role by name is asking what it permits in full, not a cell of it.
        detail: Boolean(opts.role && opts.role.length > 0),
        filter: Object.keys(filter).length > 0 ? filter : undefined,
      });
    });
  });
};

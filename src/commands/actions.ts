// whohas actions: what remediation did, by which plan, approved by whom.
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { renderActions } from "../remediate/render.js";
import { ACTION_STATUSES, listActions, type ActionStatus } from "../store/actions.js";
import { withStore } from "./common.js";
import { CliUsageError } from "./exit.js";

export const action = (opts: { config?: string; since?: string; status?: string[]; limit: string; format: "text" | "json" }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  const bad = opts.status?.filter((s) => !(ACTION_STATUSES as readonly string[]).includes(s)) ?? [];
  if (bad.length > 0) throw new CliUsageError(`--status: unknown ${bad.join(", ")}; expected ${ACTION_STATUSES.join(", ")}`);
  if (opts.since !== undefined && Number.isNaN(Date.parse(opts.since))) throw new CliUsageError(`--since: expected a date or time (YYYY-MM-DD or ISO 8601), got "${opts.since}"`);
  if (!/^[1-9]\d*$/.test(opts.limit)) throw new CliUsageError(`--limit: expected a positive integer, got "${opts.limit}"`);
  const actions = withStore(config, (db) =>
    listActions(db, { ...(opts.since ? { since: new Date(Date.parse(opts.since)).toISOString() } : {}), ...(opts.status ? { status: opts.status as ActionStatus[] } : {}), limit: Number(opts.limit) }),
  );
  if (opts.format === "json") process.stdout.write(JSON.stringify({ schema: "whohas.actions/v1", actions: actions.map((a) => ({ ...a, target: JSON.parse(a.target), undo: a.undo ? JSON.parse(a.undo) : null })) }, null, 2) + "\n");
  else process.stdout.write(renderActions(actions));
};

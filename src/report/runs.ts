// `whohas runs` and the collect summary: runs and their per-scope outcome.
import type { RunRow, ScopeRunRow } from "../views.js";
import type { Sink } from "./output.js";
import { table } from "./text.js";

const seconds = (s: ScopeRunRow) =>
  s.finishedAt ? ((Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1) : "-";

export function scopeTable(scopes: ScopeRunRow[]): string {
  return table(
    ["SOURCE", "SCOPE", "STATUS", "PRINCIPALS", "CREDENTIALS", "GRANTS", "REQUESTS", "SECONDS", "QUARANTINED", "UNRESOLVED", "ERROR"],
    scopes.map((s) => [
      s.source,
      s.scope,
      s.status,
      String(s.principals),
      String(s.credentials),
      String(s.grants),
      String(s.requests),
      seconds(s),
      String(s.quarantined),
      String(s.unresolved),
      s.error ?? "",
    ]),
  );
}

export function writeRuns(sink: Sink, runs: { run: RunRow; scopes: ScopeRunRow[] }[], format: "text" | "json"): void {
  if (format === "json") {
    sink.write(JSON.stringify({ schema: "whohas.runs/v1", runs: runs.map((r) => ({ ...r.run, scopes: r.scopes })) }, null, 2) + "\n");
    return;
  }
  if (runs.length === 0) {
    sink.write("No runs yet: run \"whohas collect\".\n");
    return;
  }
  sink.write(
    table(
      ["RUN", "STARTED", "STATUS", "SCOPES OK", "PARTIAL", "FAILED", "ERRORS"],
      runs.map(({ run, scopes }) => [
        String(run.id),
        run.startedAt,
        run.status,
        String(scopes.filter((s) => s.status === "ok").length),
        String(scopes.filter((s) => s.status === "partial").length),
        String(scopes.filter((s) => s.status !== "ok" && s.status !== "partial").length),
        [run.error, ...scopes.filter((s) => s.error).map((s) => `${s.source}/${s.scope}: ${s.error}`)].filter(Boolean).join("; "),
      ]),
    ),
  );
}

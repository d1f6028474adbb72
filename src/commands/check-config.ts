// whohas check-config
import { CONNECTORS } from "../../connectors/index.js";
import { collect } from "../collect.js";
import { ConfigError, loadConfig, type Config } from "../config/load.js";
import { checkSecretRefs, deliverySecretRefs, isSecretRef, sourceSecretRefs, type SecretCheck } from "../config/secret-refs.js";
import { shown as shownText } from "../safe-text.js";
import { suppressionWarnings } from "../rules/suppress.js";
import { evaluate } from "../rules/evaluate.js";
import { openStore } from "../store/db.js";
import { comparableRuns } from "../store/reader.js";
import { existsSync } from "node:fs";

export const action = async (opts: { config?: string }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  const out: string[] = [`store: ${config.store.path}${config.store.keepRuns ? ` (keep ${config.store.keepRuns} runs)` : ""}`, "sources:"];
  const problems: string[] = [];
  const shown = (c: SecretCheck) => `${c.ref} (${c.problem === undefined ? "resolves" : "DOES NOT RESOLVE"})`;
  for (const s of config.sources) {
    out.push(`  ${s.id} (${s.type})${s.enabled ? "" : " disabled"}`);
    const checks = new Map((s.enabled ? await checkSecretRefs(sourceSecretRefs(s)) : []).map((c) => [c.key, c]));
    for (const [key, value] of Object.entries(s.options as Record<string, unknown>)) {
      const check = checks.get(`sources.${s.id}.${key}`);
      if (check?.problem !== undefined) problems.push(check.problem);
      if (check) out.push(`    ${key} = ${shown(check)}`);
      else if (isSecretRef(value)) out.push(`    ${key} = ${value} (not checked: source disabled)`);
      else out.push(`    ${key} = ${JSON.stringify(value)}`);
    }
  }
  out.push(`schedule: ${config.schedule ? `collect "${config.schedule.collect}", report ${config.schedule.report ? `"${config.schedule.report}"` : "after each collect"}` : "none (needed by whohas daemon)"}`);
  out.push(`reports: ${config.report.dir} (${config.report.formats.join(", ")})`);
  if (config.email) out.push(`email: ${config.email.host} to ${config.email.to.join(", ")} (${config.email.send})`);
  for (const a of config.alerts) out.push(`alert ${a.name}: ${a.format}, ${a.min_severity} and above, ${a.rules.join(", ")}`);
  for (const check of await checkSecretRefs(deliverySecretRefs(config))) {
    if (check.problem !== undefined) problems.push(check.problem);
    out.push(`  ${check.key} = ${shown(check)}`);
  }
  out.push(`suppressions: ${config.suppress.length}`);
  const warnings = suppressionCheck(config);
  // The verdict comes first, and only once every secret reference has been tried.
  const verdict = problems.length === 0 ? `${config.file}: ok` : `${config.file}: ${problems.length} secret reference(s) do not resolve`;
  process.stdout.write([verdict, ...out, ...warnings.map((w) => `warning: ${shownText(w)}`)].join("\n") + "\n");
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${config.file}: ${p}`).join("\n"));
};

/** [[suppress]] entries that expire soon, and (when the store has a run) those matching no finding of the latest run. */
function suppressionCheck(config: Config): string[] {
  if (config.suppress.length === 0) return [];
  let findings: { rule: string; subject: string; id: string }[] | undefined;
  let runId: number | undefined;
  if (existsSync(config.store.path)) {
    const db = openStore(config.store.path, { readonly: true });
    try {
      const run = comparableRuns(db, 1)[0];
      if (run) {
        const evaluation = evaluate(db, config, run.id);
        findings = [...evaluation.findings, ...evaluation.suppressed.map((s) => s.finding)];
        runId = run.id;
      }
    } finally {
      db.close();
    }
  }
  return suppressionWarnings(config.suppress, findings, { now: Date.now(), warnDays: config.report.suppressionWarnDays, runId });
}

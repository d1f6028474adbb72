// whohas check-config
import { CONNECTORS } from "../../connectors/index.js";
import { collect } from "../collect.js";
import { ConfigError, loadConfig } from "../config/load.js";
import { checkSecretRefs, deliverySecretRefs, isSecretRef, sourceSecretRefs, type SecretCheck } from "../config/secret-refs.js";
import { shown } from "../safe-text.js";

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
  // The verdict comes first, and only once every secret reference has been tried.
  const verdict = problems.length === 0 ? `${config.file}: ok` : `${config.file}: ${problems.length} secret reference(s) do not resolve`;
  process.stdout.write([verdict, ...out].join("\n") + "\n");
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${config.file}: ${p}`).join("\n"));
};

// Every secret reference a config holds, named the way errors name them, and one way to check them: shared by
// `whohas check-config` and the daemon's start-up, which refuses to start on a delivery secret that does not
// resolve. Sources' secrets are resolved again when they are used (collect), delivery secrets when sending.
import { resolveSecret } from "../secrets.js";
import type { Config, SourceConfig } from "./load.js";

export interface SecretRef {
  /** How errors name it: `sources.aws.secret_access_key`, `email.password`, `alerts.slack.url`. */
  key: string;
  ref: string;
}

export interface SecretCheck extends SecretRef {
  /** Why it does not resolve (naming key and reference, never a value); absent when it resolves. */
  problem?: string;
}

/** What a secret reference looks like (the full syntax is checked by the config schema). */
export function isSecretRef(value: unknown): value is string {
  return typeof value === "string" && /^(env:|file:\/)/.test(value);
}

/** A source's options that hold secret references, and its remediate block's own. */
export function sourceSecretRefs(source: SourceConfig): SecretRef[] {
  const refs = (options: unknown, prefix: string) =>
    Object.entries(options as Record<string, unknown>)
      .filter(([, value]) => isSecretRef(value))
      .map(([key, value]) => ({ key: `${prefix}.${key}`, ref: value as string }));
  const own = refs(source.options, `sources.${source.id}`);
  if (!source.remediate) return own;
  const collector = new Set(own.map((r) => r.ref));
  return [...own, ...refs(source.remediate.options, `sources.${source.id}.remediate`).filter((r) => !collector.has(r.ref))];
}

/** [email] password, and each alert's URL (when it is a reference) and signing secret. */
export function deliverySecretRefs(config: Config): SecretRef[] {
  const refs: SecretRef[] = [];
  if (config.email?.password) refs.push({ key: "email.password", ref: config.email.password });
  for (const a of config.alerts) {
    if (isSecretRef(a.url)) refs.push({ key: `alerts.${a.name}.url`, ref: a.url });
    if (a.secret) refs.push({ key: `alerts.${a.name}.secret`, ref: a.secret });
  }
  return refs;
}

/** Tries every reference; one that fails does not stop the others. */
export async function checkSecretRefs(refs: readonly SecretRef[], env: NodeJS.ProcessEnv = process.env): Promise<SecretCheck[]> {
  const checks: SecretCheck[] = [];
  for (const r of refs) {
    try {
      await resolveSecret(r.ref, r.key, env);
      checks.push({ ...r });
    } catch (err) {
      checks.push({ ...r, problem: (err as Error).message });
    }
  }
  return checks;
}

// A source's `remediate` block: the credentials (and settings) whohas changes the source with. It is merged over
// the source's options and validated by the connector's own schema, but never inherits the collector's
// credentials and may not repeat them: the collector stays read-only, and a leak of one credential never gives
// both reading everything and changing it.
import type { z } from "zod";
import type { ConnectorDescriptor } from "../connector.js";
import { isSecretRef } from "./secret-refs.js";

export type DescribeIssue = (prefix: readonly PropertyKey[], issue: z.core.$ZodIssue) => string;

export function remediateBlock(
  file: string,
  index: number,
  connector: ConnectorDescriptor<any>,
  collectorOptions: Record<string, unknown>,
  block: Record<string, unknown>,
  describeIssue: DescribeIssue,
): { options: unknown } | { errors: string[] } {
  const where = `${file}: sources[${index}].remediate`;
  if (!connector.actions || connector.actions.length === 0) {
    return { errors: [`${where}: a ${connector.type} source cannot be remediated (the connector has no actions); remove the block`] };
  }
  const credentialKeys = new Set(connector.credentialKeys ?? []);
  const isCredential = (key: string, value: unknown) => isSecretRef(value) || credentialKeys.has(key);
  const errors: string[] = [];
  const own = Object.entries(block).filter(([k, v]) => isCredential(k, v));
  // Actions that need no permission anywhere (a task list for a system without an API) need no credentials.
  const needsCredentials = connector.actions.some((a) => a.permissions.length > 0);
  if (own.length === 0 && needsCredentials) {
    const keys = credentialKeys.size > 0 ? ` or one of ${[...credentialKeys].join(", ")}` : "";
    errors.push(`${where}: expected credentials of its own (a secret reference${keys}): remediation never runs with the collector's credentials`);
  }
  const collectorCredentials = Object.entries(collectorOptions).filter(([k, v]) => isCredential(k, v));
  for (const [key, value] of own) {
    const same = collectorCredentials.find(([k, v]) => (isSecretRef(value) ? v === value : k === key && JSON.stringify(v) === JSON.stringify(value)));
    if (same) {
      // A secret reference names where a secret is, not the secret: naming it is safe and says what to change.
      const shown = isSecretRef(value) ? ` ("${value}")` : "";
      errors.push(
        `${where}.${key}: reuses the collector's ${same[0]}${shown}; remediation needs separate credentials (the collector stays read-only): create one with only the permissions the connector's README lists for the actions you enable`,
      );
    }
  }
  if (errors.length > 0) return { errors };
  const inherited = Object.fromEntries(Object.entries(collectorOptions).filter(([k, v]) => !isCredential(k, v)));
  const parsed = connector.options.safeParse({ ...inherited, ...block });
  if (!parsed.success) return { errors: parsed.error.issues.map((issue) => describeIssue(["sources", index, "remediate"], issue)) };
  return { options: parsed.data };
}

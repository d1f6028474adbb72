// The shape of whohas.toml. Every table is strict: an unknown key is a typo until proven otherwise.
import { z } from "zod";

export const policySchema = z.strictObject({
  dormant_after_days: z.number().int().positive().default(90),
  unused_credential_days: z.number().int().positive().default(90),
  rotate_after_days: z.number().int().positive().default(90),
  expiring_within_days: z.number().int().positive().default(30),
});

export type Policy = z.infer<typeof policySchema>;

export const storeSchema = z.strictObject({
  /** Relative paths are taken from the config file's directory. */
  path: z.string().min(1).default("whohas.db"),
  /** Keep this many most recent runs after each collect; 0 keeps all. */
  keep_runs: z.number().int().nonnegative().default(0),
});

export const collectSchema = z.strictObject({
  /** Sources collected at the same time. */
  concurrency: z.number().int().min(1).max(64).default(4),
});

const SLUG = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Keys every source has; the rest belong to the connector's own schema. */
export const sourceBaseSchema = z.object({
  id: z.string().regex(SLUG, { message: "expected a slug: lower-case letters, digits, - and _, starting with a letter or digit" }),
  type: z.string().min(1),
  enabled: z.boolean().default(true),
  policy: policySchema.partial().optional(),
});

export const SOURCE_BASE_KEYS = ["id", "type", "enabled", "policy"] as const;

export const configSchema = z.strictObject({
  store: storeSchema.default({ path: "whohas.db", keep_runs: 0 }),
  policy: policySchema.default({ dormant_after_days: 90, unused_credential_days: 90, rotate_after_days: 90, expiring_within_days: 30 }),
  collect: collectSchema.default({ concurrency: 4 }),
  sources: z.array(z.record(z.string(), z.unknown())).default([]),
});

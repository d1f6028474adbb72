// The shape of whohas.toml. Every table is strict: an unknown key is a typo until proven otherwise.
import { z } from "zod";
import { RULE_IDS, type RuleId } from "../diff/rules.js";

export const policySchema = z.strictObject({
  dormant_after_days: z.number().int().positive().default(90),
  unused_credential_days: z.number().int().positive().default(90),
  rotate_after_days: z.number().int().positive().default(90),
  expiring_within_days: z.number().int().positive().default(30),
  /** Administrator bounds per identity-provider scope (break-glass coverage vs. blast radius). */
  min_admins: z.number().int().nonnegative().default(2),
  max_admins: z.number().int().positive().default(4),
  /** Accounts matching these (case-insensitive regular expressions on name or email) are temporary. */
  temporary_patterns: z.array(z.string().refine(isRegex, { message: "expected a valid regular expression" })).default(["contractor", "\\btemp\\b", "vendor"]),
  /** A temporary account holding admin longer than this is overdue. */
  temporary_admin_max_days: z.number().int().positive().default(30),
});

function isRegex(s: string): boolean {
  try {
    new RegExp(s, "i");
    return true;
  } catch {
    return false;
  }
}

export const POLICY_DEFAULTS: Policy = policySchema.parse({});

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
  policy: policySchema.default(() => POLICY_DEFAULTS),
  identity: z
    .strictObject({
      /** Accounts that do not carry the person's email: "source-id:account-name" = "person@example.com". */
      aliases: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*:.+$/, { message: 'expected "source-id:account-name"' }), z.email()).default({}),
      /** Source ids whose account status says whether a person still works here (default: the identity-provider connectors and file sources). */
      providers: z.array(z.string()).optional(),
    })
    .default({ aliases: {} }),
  suppress: z
    .array(
      z.strictObject({
        rule: z.enum(RULE_IDS as [RuleId, ...RuleId[]]),
        /** Glob (* and ?) matched against the finding's subject ("source/scope/name") or id. */
        subject: z.string().min(1),
        reason: z.string().min(1),
        /** Date (YYYY-MM-DD) after which the finding comes back, marked as such. */
        until: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: "expected a date YYYY-MM-DD" }),
      }),
    )
    .default([]),
  collect: collectSchema.default({ concurrency: 4 }),
  sources: z.array(z.record(z.string(), z.unknown())).default([]),
});

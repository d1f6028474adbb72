// The config keys of remediation: `[remediation]` (engine settings) and `[[remediate]]` (policy entries binding
// a rule to an action). Kept apart from the engine so reading a config never loads it. The per-source
// `remediate` block is checked in config/load.ts against the connector's own option schema.
import { z } from "zod";
import { ACTION_TYPES, type ActionType } from "./contract.js";
import type { RuleId } from "../vocabulary.js";

/** The rules whose findings may justify an action. */
export const REMEDIABLE_RULES = ["dormant-account", "unused-credential", "temporary-access-overdue", "orphaned-access", "credential-expired"] as const satisfies readonly RuleId[];
export type RemediableRule = (typeof REMEDIABLE_RULES)[number];

/** Rules whose finding names a credential; the others name an account. */
export const CREDENTIAL_RULES: ReadonlySet<string> = new Set<RemediableRule>(["unused-credential", "credential-expired"]);
/** Actions aimed at one credential; a finding about an account reaches each of its active credentials. */
export const CREDENTIAL_ACTIONS: ReadonlySet<ActionType> = new Set<ActionType>(["deactivate-access-key", "revoke-token"]);
/** Actions that cannot be undone: an entry must opt in to each with allow_irreversible. */
export const IRREVERSIBLE_ACTIONS: ReadonlySet<ActionType> = new Set<ActionType>(["revoke-token"]);

const SLUG = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const remediationSchema = z.strictObject({
  /** `whohas apply` refuses a plan older than this. */
  plan_max_age_hours: z.number().positive().max(24 * 30).default(24),
  /** Actions applied at the same time (per apply, over every source). */
  concurrency: z.number().int().min(1).max(64).default(8),
  /** Where `whohas plan` writes plans (0700 directory, files 0600); default "plans" next to the database. */
  dir: z.string().min(1).optional(),
  /** Accounts no entry ever acts on: globs on "source/scope/name", the account name or its email. */
  break_glass: z.array(z.string().min(1)).default([]),
});

export const remediateEntrySchema = z
  .strictObject({
    /** Names the entry in plans, logs and `whohas actions`; default "<rule>-<action>". */
    name: z.string().regex(SLUG, { message: "expected a slug: lower-case letters, digits, - and _" }).optional(),
    rule: z.enum(REMEDIABLE_RULES),
    action: z.enum(ACTION_TYPES),
    /** Source ids the entry acts in; default every source with a remediate block whose connector can take the action. */
    sources: z.array(z.string().min(1)).min(1).optional(),
    /** A finding must have been seen for this many days before anything is planned for it. */
    grace_days: z.number().int().nonnegative().max(3650).default(0),
    /** Globs on "source/scope/name", the account name or its email: never acted on. */
    exclude: z.array(z.string().min(1)).default([]),
    /** Break-glass accounts (same matching as exclude), named as such in the plan. */
    break_glass: z.array(z.string().min(1)).default([]),
    /** "key" or "key=value" on the account's tags (or attributes): never acted on. */
    exclude_tags: z.array(z.string().regex(/^[^=]+(=.*)?$/, { message: 'expected "key" or "key=value"' })).default([]),
    /** The account holder (and notify_owner) is emailed this many days before the action; activity in between cancels it. */
    notify_before_days: z.number().int().nonnegative().max(365).default(0),
    notify_owner: z.email().optional(),
    /** A plan with more actions than this for the entry applies nothing of it and alerts a human. */
    max_actions_per_run: z.number().int().positive().max(100_000).default(25),
    /** The daemon applies the entry's due actions itself (after the notification period). */
    auto_apply: z.boolean().default(false),
    /** Irreversible actions (revoke-token) need this explicit opt-in. */
    allow_irreversible: z.boolean().default(false),
  })
  .superRefine((e, ctx) => {
    if (CREDENTIAL_RULES.has(e.rule) && !CREDENTIAL_ACTIONS.has(e.action) && e.action !== "task") {
      ctx.addIssue({ code: "custom", path: ["action"], message: `a ${e.rule} finding names a credential: expected ${[...CREDENTIAL_ACTIONS].join(" or ")} (or task), not an action on the whole account` });
    }
    if (IRREVERSIBLE_ACTIONS.has(e.action) && !e.allow_irreversible) {
      ctx.addIssue({ code: "custom", path: ["allow_irreversible"], message: `${e.action} cannot be undone: set allow_irreversible = true to opt in explicitly` });
    }
    if (e.notify_owner !== undefined && e.notify_before_days === 0) {
      ctx.addIssue({ code: "custom", path: ["notify_before_days"], message: "expected a number of days > 0: notify_owner is set" });
    }
  });

export type RemediateEntryInput = z.infer<typeof remediateEntrySchema>;

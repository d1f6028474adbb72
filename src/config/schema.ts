// The shape of whohas.toml. Every table is strict: an unknown key is a typo until proven otherwise.
import { z } from "zod";
import { validateDetailed as validateCron } from "node-cron";
import { RULE_IDS, SEVERITIES, type RuleId } from "../vocabulary.js";
import { secretRef } from "../secrets.js";
import { remediateEntrySchema, remediationSchema } from "../remediate/config-schema.js";

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
  /** Failed sign-ins on one account within signin_failure_window_minutes that make a burst. */
  signin_failure_burst: z.number().int().min(2).default(10),
  signin_failure_window_minutes: z.number().int().positive().max(24 * 60).default(15),
  /** When privileged changes are expected, e.g. ["Mon-Fri 08:00-18:00"]; empty: the rule is off. */
  change_windows: z
    .array(z.string().regex(/^(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?\s+([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/i, { message: 'expected "Mon-Fri 08:00-18:00" or "Sat 10:00-12:00"' }))
    .default([]),
  /** IANA zone the change windows are read in. */
  change_window_timezone: z.string().refine((v) => isTimeZoneName(v), { message: 'expected an IANA time zone such as "Europe/Berlin" or "UTC"' }).default("UTC"),
});

function isTimeZoneName(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

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
  /**
   * How long one source may collect before its open scopes end failed as timed out (keeping their previous
   * state), so one hung provider cannot hold the others' reports. A source may set its own deadline_seconds.
   */
  deadline_seconds: z.number().positive().max(7 * 86_400).default(3_600),
});

const SLUG = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** `[sources.events]`: reading the source's audit-log feeds (connectors that offer them; see `whohas events`). */
export const sourceEventsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** How far back the first poll of a feed reads. */
  lookback_days: z.number().int().min(0).max(400).default(7),
  /** Each poll re-reads this much before where the last one ended: providers deliver events late. */
  overlap_minutes: z.number().int().min(0).max(24 * 60).default(15),
  /** Scopes to poll besides those the source's newest collect returned (e.g. before the first collect). */
  scopes: z.array(z.string().min(1)).optional(),
});

export type SourceEventsSettings = z.infer<typeof sourceEventsSchema>;

/** Keys every source has; the rest belong to the connector's own schema. */
export const sourceBaseSchema = z.object({
  id: z.string().regex(SLUG, { message: "expected a slug: lower-case letters, digits, - and _, starting with a letter or digit" }),
  type: z.string().min(1),
  enabled: z.boolean().default(true),
  policy: policySchema.partial().optional(),
  /** This source's collect deadline in place of [collect] deadline_seconds. */
  deadline_seconds: z.number().positive().max(7 * 86_400).optional(),
  /**
   * Remediation's own credentials and settings: merged over the source's options (never inheriting the
   * collector's credentials) and validated by the connector's schema. Absent: the source is never changed.
   */
  remediate: z.record(z.string(), z.unknown()).optional(),
  events: sourceEventsSchema.optional(),
});

export const SOURCE_BASE_KEYS = ["id", "type", "enabled", "policy", "deadline_seconds", "remediate", "events"] as const;

/** `[events]`: what applies to every source's stored events. */
export const eventsSchema = z.strictObject({
  /** Events older than this are deleted after each poll (their digest is kept); 0 keeps them all. */
  retention_days: z.number().int().nonnegative().max(10 * 366).default(400),
});

// ---- The daemon's sections: [schedule], [report], [email], [metrics], [[alerts]] ----

const cronExpression = z.string().superRefine((value, ctx) => {
  const result = validateCron(value);
  if (!result.valid) {
    const why = result.errors.map((e) => (e.field === "expression" ? e.message : `${e.field}: ${e.message}`)).join("; ");
    ctx.addIssue({ code: "custom", message: `expected a cron expression ("minute hour day month weekday", optionally seconds first), ${why}` });
  }
});

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const scheduleSchema = z.strictObject({
  /** When the daemon collects every enabled source, then reports and alerts. */
  collect: cronExpression,
  /** When the daemon polls the audit-log feeds only (cheap) and alerts on privileged changes, e.g. "*\/5 * * * *". */
  events: cronExpression.optional(),
  /** When the email goes out; without it, after each collect. */
  report: cronExpression.optional(),
  /** IANA zone both expressions are read in; default the host's. */
  timezone: z.string().refine(isTimeZone, { message: 'expected an IANA time zone such as "Europe/Berlin" or "UTC"' }).optional(),
});

/** REPORT_FORMATS of report/render.ts, spelled out to keep the renderers out of the config's imports (a test holds them equal). */
export const REPORT_FILE_FORMATS = ["text", "json", "csv", "md", "html"] as const;

export const reportSchema = z.strictObject({
  /** Where every run's report is written (0600); default "reports" next to the database. */
  dir: z.string().min(1).optional(),
  formats: z.array(z.enum(REPORT_FILE_FORMATS)).min(1).default(["html"]),
  type: z.enum(["changes", "access-review"]).default("changes"),
  /** Runs of history in the HTML charts. */
  history: z.number().int().nonnegative().max(1000).default(8),
  /** "check-config" and "report" warn about a suppression that expires within this many days. */
  suppression_warn_days: z.number().int().nonnegative().max(3650).default(14),
  /** Named in the access review's evidence block and sign-off: whose access is being reviewed. */
  organisation: z
    .string()
    .trim()
    .min(1, { message: "expected the organisation's name, not an empty string" })
    .max(200, { message: "expected at most 200 characters" })
    // It is printed in headers and mail subjects: a control character there would be obeyed, not shown.
    .refine((v) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(v), { message: "expected one line of text without control characters" })
    .optional(),
  /**
   * Findings listed per rule in the text, Markdown and HTML reports (the rest are counted and written to the
   * companion X.findings.csv), and in the email body. One setting for both; `report --top N` / `--all` override it.
   */
  top: z.number().int().min(0).max(100_000).optional(),
});

const MAILBOX = /^(?:[^<>\r\n]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$/;

export const DEFAULT_TOP_FINDINGS = 20;

export const emailSchema = z
  .strictObject({
    host: z.string().min(1),
    /** Default 465 with secure = true, else 587. */
    port: z.number().int().min(1).max(65535).optional(),
    /** TLS from the first byte (SMTPS, usually port 465). */
    secure: z.boolean().default(false),
    /** Without `secure`: insist on STARTTLS and never send in clear. */
    starttls: z.boolean().default(true),
    user: z.string().min(1).optional(),
    password: secretRef.optional(),
    /** PEM file of a private CA that signed the relay's certificate. */
    ca: z.string().min(1).optional(),
    from: z.string().regex(MAILBOX, { message: 'expected an address, "whohas@example.com" or "whohas <whohas@example.com>"' }),
    to: z.array(z.email()).min(1),
    /** The headline counts follow it: "whohas · acme: 2 new admins, 14 unused credentials". */
    subject: z.string().min(1).max(200).regex(/^[^\r\n]*$/, { message: "expected one line" }).default("whohas"),
    /** "changes": only when something changed, a finding is new or a source failed; "always": every time. */
    send: z.enum(["changes", "always"]).default("changes"),
    attach_csv: z.boolean().default(true),
    /** Bound on the summary body (text and HTML parts together); an attachment larger than this is gzip-compressed. */
    max_body_kb: z.number().int().min(10).max(20_480).default(100),
    /** Deprecated spelling of [report] top (one setting for the reports and the email body); kept so older configs load. */
    top_findings: z.number().int().min(0).max(200).optional(),
    retries: z.number().int().min(0).max(10).default(3),
    retry_delay_seconds: z.number().positive().max(3600).default(30),
    timeout_seconds: z.number().positive().max(600).default(60),
  })
  .superRefine((e, ctx) => {
    if (e.user && !e.password) ctx.addIssue({ code: "custom", path: ["password"], message: "expected a secret reference: user is set" });
    if (e.password && !e.user) ctx.addIssue({ code: "custom", path: ["user"], message: "expected the user name the password belongs to" });
    if (e.user && !e.secure && !e.starttls) {
      ctx.addIssue({ code: "custom", path: ["starttls"], message: "expected true (or secure = true): authenticating without TLS would send the password in clear" });
    }
  });

export type EmailSettings = z.infer<typeof emailSchema>;

export const metricsSchema = z.strictObject({
  /** host:port of the Prometheus endpoint (GET /metrics), e.g. "127.0.0.1:9464" or "[::1]:9464". */
  listen: z.string().regex(/^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, { message: 'expected "host:port", e.g. "127.0.0.1:9464"' }),
});

export const ALERT_DEFAULT_RULES = [
  "new-admin",
  "privilege-escalation",
  "mfa-disabled",
  "orphaned-access",
  "privileged-change",
  "self-escalation",
  "privileged-change-by-outsider",
  "activity-after-offboarding",
  "signin-failure-burst",
] as const satisfies readonly RuleId[];

function isWebhookUrl(value: string): boolean {
  if (/^(env:|file:)/.test(value)) return secretRef.safeParse(value).success;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === "https:") return true;
  // Findings describe who has access to what: clear text only where it never leaves the host.
  return url.protocol === "http:" && ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
}

export const alertSchema = z.strictObject({
  /** Names the alert in logs and `whohas status` (the URL is never shown: Slack's carries its token). */
  name: z.string().regex(SLUG, { message: "expected a slug: lower-case letters, digits, - and _" }),
  url: z.string().refine(isWebhookUrl, { message: 'expected an https:// URL (http:// only to loopback) or a secret reference "env:NAME" / "file:/path" holding one' }),
  /** "slack": {"text": ...} for Slack-compatible incoming webhooks; "json": the whohas.alert/v1 document. */
  format: z.enum(["slack", "json"]).default("json"),
  /** HMAC-SHA256 key: the body is signed in X-Whohas-Signature. */
  secret: secretRef.optional(),
  min_severity: z.enum(SEVERITIES).default("medium"),
  rules: z.array(z.enum(RULE_IDS)).min(1).default([...ALERT_DEFAULT_RULES]),
  retries: z.number().int().min(0).max(10).default(3),
  retry_delay_seconds: z.number().positive().max(600).default(5),
  timeout_seconds: z.number().positive().max(120).default(10),
});

export type AlertSettings = z.infer<typeof alertSchema>;

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
        rule: z.enum(RULE_IDS),
        /** Glob (* and ?) matched against the finding's subject ("source/scope/name") or id. */
        subject: z.string().min(1),
        reason: z.string().min(1),
        /** Date (YYYY-MM-DD) after which the finding comes back, marked as such. */
        until: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: "expected a date YYYY-MM-DD" }),
        /** Who accepted the risk (a name or email), shown with it in every report. */
        added_by: z.string().min(1).optional(),
      }),
    )
    .default([]),
  collect: collectSchema.default({ concurrency: 4, deadline_seconds: 3_600 }),
  events: eventsSchema.default({ retention_days: 400 }),
  sources: z.array(z.record(z.string(), z.unknown())).default([]),
  schedule: scheduleSchema.optional(),
  report: reportSchema.optional(),
  email: emailSchema.optional(),
  metrics: metricsSchema.optional(),
  alerts: z.array(alertSchema).default([]),
  remediation: remediationSchema.optional(),
  remediate: z.array(remediateEntrySchema).default([]),
});

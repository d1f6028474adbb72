// Words every layer speaks about findings: the config names them (alerts, suppressions), the rules produce
// them, the reports and the daemon sort and filter by them. Kept apart from the rules' logic so reading a
// config never loads the rules, and the rules never reach into the config.

export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(s);
}

/** Every audit rule's id; src/rules/rules.ts holds the catalogue entry of each (and the compiler holds them equal). */
export const RULE_IDS = [
  "orphaned-access",
  "new-admin",
  "privilege-escalation",
  "risky-admin",
  "admin-without-mfa",
  "mfa-disabled",
  "root-access-key",
  "temporary-access-overdue",
  "dormant-account",
  "unused-credential",
  "stale-third-party",
  "credential-expired",
  "too-many-admins",
  "credential-rotation",
  "credential-expiring",
  "multiple-active-keys",
  "too-few-admins",
  "unresolved-grantee",
  "cannot-assess",
  "unattributed-change",
  "signin-failure-burst",
  "activity-after-offboarding",
  "self-escalation",
  "privileged-change-by-outsider",
  "privileged-change-outside-window",
  "privileged-change",
] as const;
export type RuleId = (typeof RULE_IDS)[number];

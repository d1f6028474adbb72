// The rule catalogue: what each audit rule means, how bad it is, and which controls it evidences.
// Control ids: SOC 2 (TSC 2017), ISO/IEC 27001:2022 Annex A, NIST SP 800-53 rev. 5, CIS AWS Foundations v3,
// HIPAA Security Rule.

import type { RuleId, Severity } from "../vocabulary.js";

export interface RuleInfo {
  severity: Severity;
  title: string;
  controls: string[];
}

export const RULES = {
  "orphaned-access": {
    severity: "high",
    title: "Leaver still has access: suspended, disabled or gone in the identity provider, active elsewhere",
    controls: ["SOC2 CC6.2", "ISO27001 A.5.18", "ISO27001 A.6.5", "NIST AC-2", "NIST PS-4", "HIPAA 164.308(a)(3)(ii)(C)"],
  },
  "new-admin": {
    severity: "high",
    title: "Account became an administrator",
    controls: ["SOC2 CC6.3", "ISO27001 A.8.2", "NIST AC-6(7)", "NIST AC-2(4)"],
  },
  "privilege-escalation": {
    severity: "medium",
    title: "Account's access level was raised",
    controls: ["SOC2 CC6.3", "ISO27001 A.8.2", "NIST AC-6(7)"],
  },
  "risky-admin": {
    severity: "high",
    title: "Administrator access held by a guest, external collaborator, third-party app or service account",
    controls: ["SOC2 CC6.3", "ISO27001 A.5.15", "ISO27001 A.8.2", "NIST AC-6(5)"],
  },
  "admin-without-mfa": {
    severity: "high",
    title: "Administrator without multi-factor authentication",
    controls: ["SOC2 CC6.1", "ISO27001 A.8.5", "NIST IA-2(1)", "CIS AWS 1.10"],
  },
  "mfa-disabled": {
    severity: "high",
    title: "Multi-factor authentication was turned off",
    controls: ["SOC2 CC6.1", "ISO27001 A.8.5", "NIST IA-2(1)"],
  },
  "root-access-key": {
    severity: "critical",
    title: "Root account has an active access key",
    controls: ["SOC2 CC6.1", "CIS AWS 1.4", "NIST AC-6(9)"],
  },
  "temporary-access-overdue": {
    severity: "high",
    title: "Temporary access past its end date",
    controls: ["SOC2 CC6.2", "ISO27001 A.5.18", "NIST AC-2(2)", "NIST AC-2(3)", "HIPAA 164.308(a)(4)"],
  },
  "dormant-account": {
    severity: "medium",
    title: "Active account not used within the dormancy window",
    controls: ["SOC2 CC6.2", "ISO27001 A.5.18", "NIST AC-2(3)", "CIS AWS 1.12"],
  },
  "unused-credential": {
    severity: "medium",
    title: "Active credential not used within the window",
    controls: ["SOC2 CC6.1", "ISO27001 A.5.17", "NIST AC-2(3)", "NIST IA-5(1)", "CIS AWS 1.12"],
  },
  "stale-third-party": {
    severity: "medium",
    title: "Third-party access not used within the dormancy window",
    controls: ["SOC2 CC6.2", "SOC2 CC9.2", "ISO27001 A.5.19", "NIST AC-2(3)"],
  },
  "credential-expired": {
    severity: "low",
    title: "Credential past its expiry date is still present",
    controls: ["SOC2 CC6.1", "ISO27001 A.5.17", "NIST IA-5"],
  },
  "too-many-admins": {
    severity: "medium",
    title: "More administrators than the policy allows",
    controls: ["SOC2 CC6.3", "ISO27001 A.8.2", "NIST AC-6(5)"],
  },
  "credential-rotation": {
    severity: "low",
    title: "Credential older than the rotation period",
    controls: ["SOC2 CC6.1", "ISO27001 A.5.17", "NIST IA-5(1)", "CIS AWS 1.14"],
  },
  "credential-expiring": {
    severity: "low",
    title: "Credential expires soon",
    controls: ["SOC2 CC6.1", "ISO27001 A.5.17", "NIST IA-5"],
  },
  "multiple-active-keys": {
    severity: "low",
    title: "More than one active key for one identity",
    controls: ["SOC2 CC6.1", "CIS AWS 1.13", "NIST IA-5(1)"],
  },
  "too-few-admins": {
    severity: "low",
    title: "Fewer administrators than the policy requires (break-glass coverage)",
    controls: ["SOC2 CC6.3", "ISO27001 A.8.2"],
  },
  "unresolved-grantee": {
    severity: "medium",
    title: "Access held by a principal no listing returned: who holds it cannot be shown",
    controls: ["SOC2 CC6.2", "SOC2 CC6.3", "ISO27001 A.5.16", "ISO27001 A.5.18", "NIST AC-2", "NIST AC-2(1)"],
  },
  "cannot-assess": {
    severity: "info",
    title: "Last activity unknown: dormancy cannot be assessed for this scope",
    controls: ["SOC2 CC6.2", "NIST AC-2(3)"],
  },
  "unattributed-change": {
    severity: "medium",
    title: "Change no audit event explains although the feed covered the window: out-of-band change, log gap or tampering",
    controls: ["SOC2 CC7.2", "SOC2 CC8.1", "ISO27001 A.8.15", "ISO27001 A.8.32", "NIST AU-6", "NIST CM-3", "NIST AU-9"],
  },
  "signin-failure-burst": {
    severity: "medium",
    title: "Burst of failed sign-ins on one account",
    controls: ["SOC2 CC6.1", "SOC2 CC7.2", "ISO27001 A.8.5", "ISO27001 A.8.16", "NIST AC-7", "NIST SI-4"],
  },
  "activity-after-offboarding": {
    severity: "high",
    title: "Activity by a person after they were disabled or removed in an identity provider",
    controls: ["SOC2 CC6.2", "SOC2 CC7.2", "ISO27001 A.5.18", "ISO27001 A.6.5", "NIST AC-2", "NIST PS-4", "HIPAA 164.308(a)(3)(ii)(C)"],
  },
  "self-escalation": {
    severity: "high",
    title: "Actor granted privilege to themselves",
    controls: ["SOC2 CC6.3", "ISO27001 A.5.3", "ISO27001 A.8.2", "NIST AC-5", "NIST AC-6(7)"],
  },
  "privileged-change-by-outsider": {
    severity: "high",
    title: "Privileged change by an actor not in the inventory or a third party",
    controls: ["SOC2 CC6.3", "SOC2 CC9.2", "ISO27001 A.5.19", "ISO27001 A.8.2", "NIST AC-2(4)", "NIST AC-6(9)"],
  },
  "privileged-change-outside-window": {
    severity: "medium",
    title: "Privileged change outside the configured change windows",
    controls: ["SOC2 CC8.1", "ISO27001 A.8.32", "NIST CM-3", "NIST CM-5"],
  },
  "privileged-change": {
    severity: "high",
    title: "Privileged change seen in an audit log (whohas watch): admin granted, account or key created, MFA turned off",
    controls: ["SOC2 CC6.3", "SOC2 CC7.2", "ISO27001 A.8.2", "ISO27001 A.8.16", "NIST AC-2(4)", "NIST SI-4"],
  },
} as const satisfies Record<RuleId, RuleInfo>;

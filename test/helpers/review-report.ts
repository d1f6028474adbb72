// An access-review Report built in memory, for renderer tests: two AWS accounts that both hold
// OrganizationAccountAccessRole (told apart only by their scope labels), a GitHub org, and names that are
// hostile in every sink (HTML tags, formula prefixes, terminal escapes, bidi overrides).
import { CONNECTORS } from "../../connectors/index.js";
import { parseConfig } from "../../src/config/load.js";
import type { Finding } from "../../src/rules/evaluate.js";
import { findingsInMemory, inventoryInMemory, type Report } from "../../src/report/report.js";
import type { PrincipalView } from "../../src/store/reader.js";

export const HOSTILE_NAME = `=HYPERLINK("http://evil.example","x")<img src=x onerror=alert(1)>\u202Eevil\u001b[2J`;
export const PROD = "222222222222";
export const DEV = "333333333333";

const person = (over: Partial<PrincipalView> & Pick<PrincipalView, "source" | "scope" | "id" | "name">): PrincipalView => ({
  sourceType: over.source === "gh" ? "github" : "aws-iam",
  kind: "service",
  email: null,
  displayName: null,
  status: "active",
  mfa: "not_applicable",
  createdAt: "2025-02-01T00:00:00.000Z",
  accessLevel: "admin",
  lastActive: { at: "2026-01-30T10:00:00.000Z", known: true },
  grants: [],
  credentials: [],
  attributes: null,
  ...over,
});

const finding = (rule: string, severity: Finding["severity"], source: string, scope: string, subject: string): Finding => ({
  id: `${rule}:${source}/${scope}/${subject}`,
  rule: rule as Finding["rule"],
  severity,
  title: rule,
  source,
  scope,
  subject: `${source}/${scope}/${subject}`,
  detail: `${subject} detail`,
  controls: ["SOC2 CC6.2", "ISO 27001 A.5.18"],
  new: true,
});

/** `inventory`: how many extra filler principals to add to the prod account (for the print test's page count). */
export function reviewReport(opts: { organisation?: string; filler?: number } = {}): Report {
  const config = parseConfig(`[store]\npath = "w.db"\n${opts.organisation !== undefined ? `[report]\norganisation = ${JSON.stringify(opts.organisation)}\n` : ""}`, "/etc/whohas/review.toml", CONNECTORS);
  const role = (scope: string) =>
    person({
      source: "aws",
      scope,
      id: `arn:aws:iam::${scope}:role/OrganizationAccountAccessRole`,
      name: "OrganizationAccountAccessRole",
      grants: [{ privilege: "AdministratorAccess", level: "admin", scope: "*", via: "direct", attributes: null, since: null }],
    });
  const inventory: PrincipalView[] = [
    role(PROD),
    role(DEV),
    person({
      source: "aws",
      scope: PROD,
      id: "AIDAHOSTILE",
      kind: "human",
      name: HOSTILE_NAME,
      email: "mallory@example.com",
      mfa: "disabled",
      accessLevel: "write",
      grants: [
        { privilege: "PowerUserAccess", level: "write", scope: "*", via: "group", attributes: { groups: ["developers"] }, since: null },
        { privilege: `-2+3 ${HOSTILE_NAME}`, level: "read", scope: "*", via: "direct", attributes: null, since: null },
      ],
      credentials: [
        { id: "AKIAIOSFODNN7EXAMPLE", principalId: "AIDAHOSTILE", kind: "access_key", name: null, status: "active", createdAt: "2025-03-01T08:00:00.000Z", expiresAt: null, lastUsed: { at: null, known: true }, attributes: null },
        { id: "AIDAHOSTILE/password/2025-01-01T00:00:00.000Z", principalId: "AIDAHOSTILE", kind: "password", name: null, status: "active", createdAt: "2025-01-01T00:00:00.000Z", expiresAt: null, lastUsed: { at: "2026-01-29T00:00:00.000Z", known: true }, attributes: null },
      ],
    }),
    person({ source: "gh", scope: "acme", id: "1", kind: "human", name: "octocat", email: "octo@example.com", mfa: "enabled", accessLevel: "none", grants: [] }),
  ];
  for (let i = 0; i < (opts.filler ?? 0); i++) {
    inventory.push(
      person({
        source: "aws",
        scope: PROD,
        id: `AIDAFILL${i}`,
        kind: "human",
        name: `filler.user.${i}.with-a-rather-long-name-that-must-wrap@example.com`,
        email: `filler.user.${i}@example.com`,
        mfa: i % 2 ? "enabled" : "disabled",
        accessLevel: "read",
        grants: [{ privilege: `arn:aws:iam::aws:policy/ReadOnlyAccessWithAVeryLongPolicyNameNumber${i}`, level: "read", scope: "*", via: "direct", attributes: null, since: null }],
        credentials: [{ id: `AKIAFILL${String(i).padStart(12, "0")}`, principalId: `AIDAFILL${i}`, kind: "access_key", name: null, status: "active", createdAt: "2025-03-01T08:00:00.000Z", expiresAt: null, lastUsed: { at: null, known: true }, attributes: null }],
      }),
    );
  }
  const findings = [
    finding("risky-admin", "high", "aws", PROD, "OrganizationAccountAccessRole"),
    finding("risky-admin", "high", "aws", DEV, "OrganizationAccountAccessRole"),
    finding("mfa-disabled", "critical", "aws", PROD, HOSTILE_NAME),
    finding("orphaned-access", "critical", "gh", "acme", "octocat"),
  ];
  return {
    schema: "whohas.report/v1",
    type: "access-review",
    generatedAt: "2026-01-31T12:00:00.000Z",
    evidence: { organisation: config.report.organisation, toolVersion: "0.1.0", configDigest: config.digest, periodFrom: "2026-01-24T00:00:00.000Z", periodTo: "2026-01-31T00:00:00.000Z" },
    run: { id: 7, startedAt: "2026-01-31T00:00:00.000Z", status: "ok", digest: "a".repeat(64) },
    previousRun: { id: 6, startedAt: "2026-01-24T00:00:00.000Z", status: "ok", digest: "b".repeat(64) },
    policy: config.policy,
    coverage: [
      { source: "aws", sourceType: "aws-iam", scope: PROD, label: `prod (${PROD})`, status: "ok", dataFromRun: 7, dataFromAt: "2026-01-31T00:00:00.000Z", error: null, requests: 10, meta: null, quarantined: 0, unresolved: 0 },
      { source: "aws", sourceType: "aws-iam", scope: DEV, label: "dev", status: "failed", dataFromRun: 6, dataFromAt: "2026-01-24T00:00:00.000Z", error: "AccessDenied", requests: 1, meta: null, quarantined: 0, unresolved: 0 },
      { source: "gh", sourceType: "github", scope: "acme", label: null, status: "ok", dataFromRun: 7, dataFromAt: "2026-01-31T00:00:00.000Z", error: null, requests: 3, meta: null, quarantined: 0, unresolved: 0 },
    ],
    counts: { findings: { critical: 2, high: 2, medium: 0, low: 0, info: 0 }, newFindings: 4, suppressed: 0, changes: null },
    ...findingsInMemory(findings),
    suppressed: [],
    diff: null,
    history: [],
    feeds: [],
    ...inventoryInMemory(inventory),
  };
}

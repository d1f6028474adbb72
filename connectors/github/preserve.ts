// A listing refused this run (token without the permission, org without SAML, App without PAT access) must
// not make what it listed last time look removed: each `<feature>_status = "unavailable: …"` in the scope
// meta keeps the matching stored records as they were.
import type { PreserveSelector } from "../../src/connector.js";
import type { Attributes } from "../../src/model.js";

const FAMILIES: Record<string, Omit<PreserveSelector, "reason">[]> = {
  outside_collaborators: [{ table: "principals", kind: "external" }, { table: "grants", privilegePrefix: "collaborator:" }],
  invitations: [{ table: "principals", status: "invited" }],
  teams: [{ table: "grants", privilegePrefix: "team:" }],
  installations: [{ table: "principals", idPrefix: "app-installation:" }, { table: "grants", privilegePrefix: "app:" }],
  pats: [{ table: "credentials", idPrefix: "pat-grant:" }],
  pat_requests: [{ table: "credentials", idPrefix: "pat-request:" }],
  credential_authorizations: [{ table: "credentials", idPrefix: "sso-authorization:" }],
  // Repositories are principals only because of their deploy keys; "service" also covers app installations,
  // which errs on the side of keeping records while the listing is refused.
  deploy_keys: [{ table: "credentials", idPrefix: "deploy-key:" }, { table: "grants", privilegePrefix: "deploy_key:" }, { table: "principals", kind: "service" }],
  collaborator_repos: [{ table: "grants", privilegePrefix: "collaborator:" }],
};

export function preserveFor(meta: Attributes): PreserveSelector[] {
  const out: PreserveSelector[] = [];
  for (const [feature, selectors] of Object.entries(FAMILIES)) {
    const status = meta[`${feature}_status`];
    if (typeof status !== "string" || !status.startsWith("unavailable")) continue;
    for (const s of selectors) out.push({ ...s, reason: `${feature} ${status}` });
  }
  return out;
}

// gcp_projects: service accounts and user-managed keys over the IAM REST API, one scope per project.
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { CONNECTORS } from "../../../connectors/index.js";
import { collect } from "../../../src/collect.js";
import { parseConfig } from "../../../src/config/load.js";
import { evaluate } from "../../../src/rules/evaluate.js";
import { openStore } from "../../../src/store/db.js";
import { inventoryAt } from "../../../src/store/reader.js";
import { testContext } from "../../helpers/collect.js";
import { setup, type Setup } from "./setup.js";

let s: Setup | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

it("collects each project as its own scope; a project without access fails alone", async () => {
  s = await setup({ users: 6, gcpProjects: ["proj-alpha1"] });
  const { scopes } = await s.run({ gcp_projects: ["proj-alpha1", "proj-denied9"], iam_url: s.google.rootUrl });

  expect(scopes.get("my_customer")!.status).toBe("ok");
  const alpha = scopes.get("gcp:proj-alpha1")!;
  expect(alpha.status).toBe("ok");
  const accounts = s.google.tenant.gcpProjects.get("proj-alpha1")!;
  expect(alpha.principals.map((p) => p.id).sort()).toEqual(accounts.map((a) => a.uniqueId).sort());
  expect(alpha.principals.every((p) => p.kind === "service" && p.mfa === "not_applicable" && p.lastActive?.known === false)).toBe(true);
  expect(alpha.principals.find((p) => p.name.startsWith("legacy-backup@"))!.status).toBe("disabled");

  // Only user-managed keys: Google-managed keys rotate by themselves.
  const userKeys = accounts.flatMap((a) => a.keys.filter((k) => k.keyType === "USER_MANAGED").map((k) => ({ id: k.name.split("/").pop(), owner: a.uniqueId, after: k.validAfterTime })));
  expect(alpha.credentials.map((c) => c.id).sort()).toEqual(userKeys.map((k) => k.id).sort());
  for (const k of userKeys) {
    const c = alpha.credentials.find((x) => x.id === k.id)!;
    expect(c).toMatchObject({ kind: "service_account_key", principalId: k.owner, status: "active", expiresAt: null, createdAt: new Date(k.after).toISOString() });
  }
  expect(s.google.sim.requestLog.filter((l) => l.includes("/keys")).every((l) => l.endsWith("keyTypes=USER_MANAGED"))).toBe(true);
  // token + one list page + one keys call per account
  expect(alpha.requests).toBe(2 + accounts.length);
  expect(alpha.meta).toEqual({ serviceAccounts: accounts.length, userManagedKeys: userKeys.length });

  const denied = scopes.get("gcp:proj-denied9")!;
  expect(denied.status).toBe("failed");
  expect(denied.error).toContain("HTTP 403 PERMISSION_DENIED: Permission 'iam.serviceAccounts.list' denied on resource");
  expect(denied.error).toContain("roles/iam.serviceAccountViewer");
});

it("asks IAM for the cloud-platform scope, the only one its description lists (a read-only token gets 403)", async () => {
  s = await setup({ users: 4, gcpProjects: ["proj-alpha1"] });
  const { scopes } = await s.run({ gcp_projects: ["proj-alpha1"], iam_url: s.google.rootUrl });
  expect(scopes.get("gcp:proj-alpha1")!.status).toBe("ok");
});

it("puts a Workspace admin role held by a project's service account on that service account, so risky-admin fires; an id nobody lists becomes an unresolved grantee", async () => {
  s = await setup({ users: 6, gcpProjects: ["proj-alpha1"] });
  const sa = s.google.tenant.gcpProjects.get("proj-alpha1")!.find((a) => !a.disabled)!;
  s.google.tenant.assignRoleToId(sa.uniqueId, "_SEED_ADMIN_ROLE");
  s.google.tenant.assignRoleToId("100000000000000000999", "_SEED_ADMIN_ROLE");
  const dir = s.dir;
  const config = parseConfig(
    [
      `[store]\npath = "${join(dir, "w.db")}"`,
      `[[sources]]\nid = "gws"\ntype = "google-workspace"\nsubject = "admin@${s.google.tenant.domain}"\ncredentials = "file:${s.keyPath}"`,
      `root_url = "${s.google.rootUrl}"\ntoken_url = "${s.google.tokenUrl}"\niam_url = "${s.google.rootUrl}"\ngcp_projects = ["proj-alpha1"]`,
    ].join("\n"),
    join(dir, "w.toml"),
    CONNECTORS,
  );
  const result = await collect(config, { log: testContext().log });
  expect(result.scopes.map((x) => `${x.scope}:${x.status}:${x.unresolved}`)).toEqual(["gcp:proj-alpha1:ok:0", "my_customer:ok:3"]);
  const db = openStore(join(dir, "w.db"), { readonly: true });
  try {
    const inv = [...inventoryAt(db, result.runId)];
    const joined = inv.find((p) => p.scope === "my_customer" && p.id === sa.uniqueId)!;
    expect(joined).toMatchObject({ kind: "service", name: sa.email, accessLevel: "admin", attributes: { same_as: "gcp:proj-alpha1", claimed_kind: "user" } });
    const ghost = inv.find((p) => p.id === "100000000000000000999")!;
    expect(ghost).toMatchObject({ kind: "unknown", accessLevel: "admin", attributes: { unresolved: true, claimed_kind: "user" } });
    // The two groups holding roles are listed too (claimed kind group), without a finding: the provider says what they are.
    expect(inv.filter((p) => p.kind === "unknown" && p.attributes?.claimed_kind === "group")).toHaveLength(2);
    const findings = evaluate(db, config, result.runId).findings;
    expect(findings.filter((f) => f.rule === "risky-admin" && f.principalId === sa.uniqueId).map((f) => f.subject)).toEqual([`gws/my_customer/${sa.email}`]);
    expect(findings.filter((f) => f.rule === "unresolved-grantee").map((f) => [f.principalId, f.severity])).toEqual([["100000000000000000999", "high"]]);
  } finally {
    db.close();
  }
});

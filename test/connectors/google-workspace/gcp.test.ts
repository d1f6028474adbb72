// gcp_projects: service accounts and user-managed keys over the IAM REST API, one scope per project.
import { afterEach, expect, it } from "vitest";
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

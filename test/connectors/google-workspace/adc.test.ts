// Application Default Credentials: a service account key found by google-auth-library, and keyless
// delegation where ADC (here: another service account, as on a VM or with workload identity) signs the
// delegation assertion through IAM Credentials signJwt.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setup, type Setup } from "./setup.js";

let s: Setup | undefined;
const saved = { ...process.env };
beforeEach(() => {
  // Keeps google-auth-library from probing gcloud or the metadata server for a project id.
  process.env.GOOGLE_CLOUD_PROJECT = "whohas-sim";
});
afterEach(async () => {
  await s?.close();
  s = undefined;
  for (const k of ["GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT"]) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe("Application Default Credentials", () => {
  it("uses a service account key found through GOOGLE_APPLICATION_CREDENTIALS with the subject", async () => {
    s = await setup({ users: 15 });
    process.env.GOOGLE_APPLICATION_CREDENTIALS = s.keyPath;
    const { scopes } = await s.run({ credentials: undefined });
    const r = scopes.get("my_customer")!;
    expect(r.status).toBe("ok");
    expect(r.principals).toHaveLength(15);
    expect(r.meta?.authMode).toBe("adc-key");
    expect(r.requests).toBe(4);
  });

  it("keyless: signs the delegation assertion as service_account through IAM Credentials", async () => {
    s = await setup({ users: 15 });
    const runnerKey = join(s.dir, "runner.json");
    await writeFile(runnerKey, s.google.tenant.keyFile(s.google.tenant.runnerAccount), { mode: 0o600 });
    process.env.GOOGLE_APPLICATION_CREDENTIALS = runnerKey;
    const { scopes } = await s.run({ credentials: undefined, service_account: s.google.tenant.serviceAccount.email, iam_credentials_url: s.google.rootUrl });
    const r = scopes.get("my_customer")!;
    expect(r.status).toBe("ok");
    expect(r.meta?.authMode).toBe("keyless");
    expect(r.principals).toHaveLength(15);
    const log = s.google.sim.requestLog;
    expect(log[0]).toBe("POST /token"); // the runner's own token (cloud-platform)
    expect(log[1]).toBe(`POST /v1/projects/-/serviceAccounts/${encodeURIComponent(s.google.tenant.serviceAccount.email)}:signJwt`);
    expect(log[2]).toBe("POST /token"); // the delegated token
    // Both tokens, the signing call and the three Directory calls are counted.
    expect(r.requests).toBe(6);
  });

  it("keyless without Token Creator on the service account fails with IAM's message", async () => {
    s = await setup({ users: 3 });
    s.google.tenant.tokenCreators.clear();
    const runnerKey = join(s.dir, "runner.json");
    await writeFile(runnerKey, s.google.tenant.keyFile(s.google.tenant.runnerAccount), { mode: 0o600 });
    process.env.GOOGLE_APPLICATION_CREDENTIALS = runnerKey;
    const { scopes } = await s.run({ credentials: undefined, service_account: s.google.tenant.serviceAccount.email, iam_credentials_url: s.google.rootUrl });
    const r = scopes.get("my_customer")!;
    expect(r.status).toBe("failed");
    expect(r.error).toContain("HTTP 403 PERMISSION_DENIED: Permission 'iam.serviceAccounts.signJwt' denied");
  });

  it("refuses ADC that cannot impersonate (a user login) and says what to set", async () => {
    s = await setup({ users: 3 });
    const userCreds = join(s.dir, "adc-user.json");
    await writeFile(userCreds, JSON.stringify({ type: "authorized_user", client_id: "1.apps.googleusercontent.com", client_secret: "not-used", refresh_token: "not-used" }), { mode: 0o600 });
    process.env.GOOGLE_APPLICATION_CREDENTIALS = userCreds;
    const { scopes } = await s.run({ credentials: undefined });
    const r = scopes.get("my_customer")!;
    expect(r.status).toBe("failed");
    expect(r.error).toContain("Application Default Credentials are a UserRefreshClient, which cannot impersonate a Workspace user; set service_account");
    expect(r.error).not.toContain("not-used");
    expect(r.requests).toBe(0);
  });
});

// `whohas demo` for GitHub: a small seeded org behind the simulator, authenticated as a GitHub App
// whose private key is written (0600) into the demo's private directory.
import { generateKeyPairSync } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DemoSetup } from "../../src/connector.js";
import { startGithubSimulator } from "./simulator.js";
import { findOrg, generateTenant, mutations } from "./tenant.js";

export const DEMO_ORG = "acme";
export const DEMO_APP_ID = 29110; // the whohas-inventory app the tenant generator installs

export async function startGithubDemo(dir: string): Promise<DemoSetup> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  // GitHub hands out PKCS#1 ("BEGIN RSA PRIVATE KEY") files; use the same format so the demo takes the real path.
  const keyPath = join(dir, "github-app.pem");
  await writeFile(keyPath, privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });

  const tenant = generateTenant({
    seed: 20240601,
    orgs: [
      {
        login: DEMO_ORG,
        members: 36,
        owners: 3,
        outsideCollaborators: 3,
        repos: 12,
        teams: 4,
        deployKeyRepos: 0.4,
        patGrants: 6,
        named: [{ login: "grace.hopper", name: "Grace Hopper", email: "grace.hopper@example.com", role: "member" }],
      },
    ],
  });
  const gh = await startGithubSimulator({ tenant, app: { id: DEMO_APP_ID, publicKey: publicKey.export({ type: "spki", format: "pem" }).toString() } });
  const change = mutations(tenant);

  return {
    options: {
      orgs: [DEMO_ORG],
      base_url: gh.baseUrl,
      app_id: DEMO_APP_ID,
      private_key: `file:${keyPath}`,
      collect_deploy_keys: true,
      collaborator_repos: true,
    },
    mutate() {
      const org = findOrg(tenant, DEMO_ORG);
      const members = [...org.members].filter(([, role]) => role === "member").map(([id]) => tenant.users.get(id)!.login);
      const leaving = members.find((l) => l !== "grace.hopper")!;
      const patOwner = members.find((l) => l !== "grace.hopper" && l !== leaving)!;
      const owners = [...org.members].filter(([, role]) => role === "admin").map(([id]) => tenant.users.get(id)!.login);
      // Each change is recorded in the org audit log with who made it and from where.
      const admin = { login: owners[0]!, ip: "203.0.113.7" };
      // Privilege escalation: a brand-new account joins as an owner, without 2FA — added by an owner
      // working from an unfamiliar address.
      change.addOwner(DEMO_ORG, { login: "mallory.ops", name: "Mallory Ops", twoFactor: "off" }, { login: owners[1] ?? owners[0]!, ip: "192.0.2.146" });
      // A removed account.
      change.removeMember(DEMO_ORG, leaving, admin);
      // A credential added and one rotated.
      change.addPatGrant(DEMO_ORG, patOwner, { token_name: "prod-hotfix", token_last_used_at: null, repository_selection: "all" }, admin);
      const withKey = org.repos.find((r) => r.keys.length > 0);
      if (withKey) change.rotateDeployKey(DEMO_ORG, withKey.name, { login: patOwner, ip: "198.51.100.23" });
      // A suspended integration. grace.hopper stays an active member here while the identity
      // providers disable her: the cross-source "orphaned access" the demo is about.
      const owner = [...org.members].find(([, role]) => role === "admin")!;
      change.suspendInstallation(DEMO_ORG, "ci-deployer", tenant.users.get(owner[0])!.login);
    },
    close: () => gh.close(),
  };
}

// `whohas demo` for Entra ID: a small deterministic tenant on the simulator, and the changes between
// the demo's two collects that the differ should notice.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DemoSetup } from "../../src/connector.js";
import { daysAgo } from "../../src/simulator/random.js";
import { GLOBAL_ADMINISTRATOR } from "./roles.js";
import { generateTenant, startEntraSimulator, type SimTenant, type SimUser } from "./simulator.js";

export const LEAVER_EMAIL = "grace.hopper@example.com";

/** A demo tenant: ~40 generated people plus Grace Hopper, who leaves between the two collects. */
export function demoTenant(now = new Date()): SimTenant {
  const tenant = generateTenant({ seed: 20240601, users: 40, applications: 6, thirdPartyApps: 2, now });
  // Grace joined long ago: her account is part of the starting state, not a change the audit log saw.
  tenant.audit.recording = false;
  tenant.addUser({
    userPrincipalName: LEAVER_EMAIL,
    mail: LEAVER_EMAIL,
    displayName: "Grace Hopper",
    givenName: "Grace",
    surname: "Hopper",
    createdDateTime: daysAgo(now, 900),
    onPremisesSyncEnabled: null,
    registration: { isMfaRegistered: true, isMfaCapable: true, methodsRegistered: ["fido2", "microsoftAuthenticatorPush"] },
  });
  tenant.recordSignIn(LEAVER_EMAIL, new Date(now.getTime() - 86_400_000));
  tenant.audit.recording = true;
  return tenant;
}

function isAdmin(tenant: SimTenant, u: SimUser): boolean {
  for (const a of tenant.roleAssignments.values()) if (a.principalId === u.id) return true;
  for (const g of tenant.groups.values()) if (g.members.includes(u.id)) return true;
  return false;
}

/** New Global Administrator, deleted account, rotated app secret, and the leaver disabled. */
export function applyDemoChanges(tenant: SimTenant, now = new Date()): void {
  const members = [...tenant.users.values()].filter(
    (u) => u.userType === "Member" && u.accountEnabled && u.mail !== LEAVER_EMAIL && !isAdmin(tenant, u),
  );
  const promoted = members[members.length - 1];
  if (promoted) tenant.assignRole(promoted.id, GLOBAL_ADMINISTRATOR);
  const removed = members[0];
  if (removed && removed !== promoted) tenant.removeUser(removed.id);
  const app = [...tenant.applications.values()].sort((a, b) => a.displayName.localeCompare(b.displayName))[0];
  if (app) {
    const old = app.passwordCredentials[0];
    tenant.addApplicationSecret(app.id, "automation secret (rotated)", now.toISOString(), new Date(now.getTime() + 365 * 86_400_000).toISOString());
    if (old) tenant.removeApplicationCredential(app.id, old.keyId);
  }
  tenant.setAccountEnabled(LEAVER_EMAIL, false);
}

export async function startDemo(dir: string): Promise<DemoSetup> {
  const tenant = demoTenant();
  const clientId = tenant.newId();
  tenant.registerClient(clientId);
  const secret = randomBytes(24).toString("base64url");
  tenant.addClientSecret(clientId, secret);
  const sim = await startEntraSimulator({ tenants: [tenant] });
  const secretPath = join(dir, "entra-id-client-secret");
  const caPath = join(dir, "entra-id-simulator-ca.pem");
  await writeFile(secretPath, `${secret}\n`, { mode: 0o600 });
  await writeFile(caPath, sim.ca, { mode: 0o600 });
  return {
    options: {
      tenant_id: tenant.id,
      client_id: clientId,
      client_secret: `file:${secretPath}`,
      authority_host: sim.url,
      graph_base_url: sim.url,
      ca_file: caPath,
    },
    mutate: () => applyDemoChanges(tenant),
    close: () => sim.close(),
  };
}

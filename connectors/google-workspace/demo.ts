// `whohas demo`: a small seeded customer on the simulator, and the changes between the demo's two collects.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DemoSetup } from "../../src/connector.js";
import { startGoogleSimulator } from "./simulator.js";

export const DEMO_DOMAIN = "example.com";

export async function startDemo(dir: string): Promise<DemoSetup> {
  const google = await startGoogleSimulator({ seed: 20240601, users: 40, domain: DEMO_DOMAIN });
  const { tenant } = google;
  const keyPath = join(dir, "google-workspace-key.json");
  await writeFile(keyPath, tenant.keyFile(), { mode: 0o600 });

  // Picked from the generated tenant so the story holds for any seed: an ordinary active user to promote,
  // another to delete.
  const ordinary: string[] = [];
  for (let slot = 2; slot < tenant.slotCount && ordinary.length < 2; slot++) {
    const rec = tenant.record(slot);
    if (!rec || rec.user.suspended || rec.user.archived) continue;
    const flags = tenant.adminFlags(rec.user.id);
    if (!flags.isAdmin && !flags.isDelegatedAdmin) ordinary.push(rec.user.primaryEmail);
  }
  const [promoted, removed] = ordinary;
  // Odd but real: an admin role still assigned to a user id nobody lists any more (an unresolved grantee), and
  // a user record whose name arrives as a number (quarantined with the field named; the rest is stored).
  tenant.assignRoleToId("100000000000000000999", "_SEED_ADMIN_ROLE");
  const odd = tenant.record(tenant.slotCount - 1);
  if (odd) tenant.updateUser(odd.user.primaryEmail, { name: { ...odd.user.name, fullName: 42 as unknown as string } });

  return {
    options: {
      customer: "my_customer",
      subject: `admin@${DEMO_DOMAIN}`,
      credentials: `file:${keyPath}`,
      root_url: google.rootUrl,
      token_url: google.tokenUrl,
      collect_oauth_tokens: true,
      collect_app_passwords: true,
    },
    mutate() {
      if (promoted) tenant.makeSuperAdmin(promoted); // privilege escalation
      if (removed) tenant.removeUser(removed); // account deleted
      // The leaver: suspended in Google, still active in the other demo sources.
      tenant.suspendUser(`grace.hopper@${DEMO_DOMAIN}`);
      // New third-party access to mail, and an app password that bypasses 2SV.
      if (promoted) tenant.addOAuthToken(promoted, { displayText: "Free PDF Converter", scopes: ["https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/drive"] });
      tenant.addAppPassword(`admin@${DEMO_DOMAIN}`, "Legacy scanner");
    },
    close: () => google.close(),
  };
}

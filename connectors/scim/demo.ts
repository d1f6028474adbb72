// `whohas demo` for SCIM: a small seeded app behind the simulator, its bearer token handed over in an
// environment variable as a real deployment would (token = "env:NAME").
import type { DemoSetup } from "../../src/connector.js";
import { generateTenant, mutations } from "./sim-tenant.js";
import { startScimSimulator } from "./simulator.js";

const TOKEN_ENV = "WHOHAS_DEMO_SCIM_TOKEN";

export async function startScimDemo(_dir: string): Promise<DemoSetup> {
  const tenant = generateTenant({
    seed: 20240602,
    users: 24,
    groups: 2,
    admins: 2,
    // grace.hopper stays active here while the identity providers disable her: orphaned access.
    named: [{ userName: "grace.hopper@example.com", displayName: "Grace Hopper", email: "grace.hopper@example.com", groups: ["Everyone", "Engineering"] }],
  });
  const scim = await startScimSimulator({ tenant, maxPageSize: 10 });
  const change = mutations(tenant);
  return {
    options: { base_url: scim.baseUrl, token: `env:${TOKEN_ENV}`, label: "Demo SaaS app (SCIM)", admin_groups: ["Admins"], page_size: 10 },
    env: { [TOKEN_ENV]: tenant.token },
    mutate() {
      const people = tenant.users.filter((u) => u.active && u.userName !== "grace.hopper@example.com");
      // A leaver deactivated in the app, and a new admin by group membership.
      change.deactivate(people[people.length - 1]!.userName);
      change.addToGroup(people[people.length - 2]!.userName, "Admins");
    },
    close: () => scim.close(),
  };
}

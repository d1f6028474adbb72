// Conformance with what Microsoft Graph's description allows (CSDL, clean_v10_metadata: these members are
// Nullable="true"): the simulator's real answers with, in the first record of every page, one nullable member
// set to null at a time, read through MSAL and the Graph SDK into the store by the real engine. Asserted: the
// tenant never fails; a record that cannot be stored without the member is quarantined with the field named
// and the scope ends partial; every grant and credential sits on a known or unresolved principal.
import { join } from "node:path";
import { stringify } from "smol-toml";
import { afterEach, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { collect } from "../../src/collect.js";
import { parseConfig } from "../../src/config/load.js";
import { openStore } from "../../src/store/db.js";
import { quarantineOf } from "../../src/store/reader.js";
import { holdersWithoutPrincipal } from "./holders.js";
import { startFixture, type Fixture } from "../connectors/entra-id/setup.js";
import { testContext } from "../helpers/collect.js";

/** Route → nullable member set to null ("a[].b": in each element of list a). */
const NULLED: [string, string, boolean][] = [
  // [route, member, whether the record then cannot be stored (quarantined)]
  ["/v1.0/roleManagement/directory/roleAssignments", "roleDefinitionId", true],
  ["/v1.0/roleManagement/directory/roleAssignments", "principalId", true],
  ["/v1.0/roleManagement/directory/roleAssignments", "directoryScopeId", false],
  ["/v1.0/roleManagement/directory/roleDefinitions", "rolePermissions[].allowedResourceActions", false],
  ["/v1.0/applications", "passwordCredentials[].keyId", true],
  ["/v1.0/applications", "appId", false],
  // The first service principal with certificates may be a managed identity, whose credentials are not kept.
  ["/v1.0/servicePrincipals", "keyCredentials[].keyId", false],
  ["/v1.0/servicePrincipals", "appOwnerOrganizationId", false],
  ["/v1.0/users", "signInActivity", false],
  ["/v1.0/users", "userPrincipalName", false],
  ["/v1.0/users", "createdDateTime", false],
];

function nullOut(record: Record<string, unknown>, member: string): boolean {
  const [list, inner] = member.split("[].");
  if (inner === undefined) {
    if (!(list! in record) && member !== "signInActivity") return false;
    record[list!] = null;
    return true;
  }
  const items = record[list!];
  if (!Array.isArray(items) || items.length === 0) return false;
  for (const it of items) if (it && typeof it === "object") (it as Record<string, unknown>)[inner] = null;
  return true;
}

let f: Fixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

describe("Entra ID with Graph's nullable members null", () => {
  it.each(NULLED)("%s: %s null", async (route, member, quarantines) => {
    f = await startFixture({ seed: 3, users: 30, applications: 6 });
    let nulled = 0;
    f.sim.server.injectFault({
      match: (r) => r.url.pathname === route,
      fault: {
        kind: "rewrite",
        rewrite: (a) => {
          const body = JSON.parse(a.body.toString("utf8")) as { value?: Record<string, unknown>[] };
          // The first record that has the member (or a list to null it in) gets the null; the others stay whole.
          for (const rec of body.value ?? []) {
            if (nullOut(rec, member)) {
              nulled++;
              break;
            }
          }
          return { ...a, body: Buffer.from(JSON.stringify(body)) };
        },
      },
    });
    const o = f.options({ sign_in_activity: true });
    const dir = f.dir;
    const source = { id: "entra", type: "entra-id", ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
    const config = parseConfig(stringify({ store: { path: join(dir, "w.db") }, sources: [source] }), join(dir, "w.toml"), CONNECTORS);
    const result = await collect(config, { log: testContext().log, env: { ...process.env, ...f.env } });

    expect(nulled).toBeGreaterThan(0);
    const [scope] = result.scopes;
    expect(scope!.status, scope!.error ?? "").not.toBe("failed");
    const db = openStore(join(dir, "w.db"), { readonly: true });
    try {
      const q = quarantineOf(db, result.runId);
      if (quarantines) {
        expect(scope!.status).toBe("partial");
        expect(q.length).toBeGreaterThan(0);
        const field = member.split("[].").pop()!;
        expect(q.every((r) => r.reason.includes(field === "keyId" ? "id" : field))).toBe(true);
      }
      expect(holdersWithoutPrincipal(db)).toBe(0);
    } finally {
      db.close();
    }
  });
});

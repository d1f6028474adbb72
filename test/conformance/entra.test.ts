// Conformance with Microsoft Graph's CSDL (v1.0, cut in descriptions/graph-v1.0.json): every record of the lists
// the entra-id connector reads (users with signInActivity, servicePrincipals, applications, roleDefinitions,
// roleAssignments) is replaced by one generated from its entity type, limited to the members the real answer
// carried (what the connector $select-ed), in three shapes: seeded random, sparse (optional members absent —
// signInActivity absent although selected included) and minimal (every selected member, null wherever the CSDL
// allows it: Graph returns each selected member, null when unset). Paging, MSAL and the Graph SDK are the
// simulator's and the real ones. Asserted: the tenant never fails; per kind, the records served are exactly the
// records stored plus those quarantined with a reason (users, service principals and applications without one
// as principals, their secrets and certificates as credentials, role assignments as grants — each assignment
// found by its id, or as a repeat of an earlier assignment of the same role to the same holder at the same
// scope); every grant and credential sits on a known or unresolved principal; every page is read.
// The hand list of entra-nullable.test.ts stays as the one-member-at-a-time check; this one is the sweep.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { seededRandom } from "../../src/simulator/random.js";
import { collect } from "../../src/collect.js";
import { parseConfig } from "../../src/config/load.js";
import { openStore } from "../../src/store/db.js";
import { quarantineOf } from "../../src/store/reader.js";
import { directoryScope } from "../../connectors/entra-id/map.js";
import { holding, holdersWithoutPrincipal, storedHoldings, unaccountedRecords } from "./holders.js";
import { startFixture, type Fixture } from "../connectors/entra-id/setup.js";
import { testContext } from "../helpers/collect.js";
import { Generator, SHAPES, type GeneratorOptions, type JsonSchema, type Serial, type Shape } from "./generate.js";

const description = JSON.parse(readFileSync(new URL("./descriptions/graph-v1.0.json", import.meta.url), "utf8")) as {
  source: string;
  revision: string;
  entities: Record<string, JsonSchema>;
};
const SEEDS = Number(process.env.WHOHAS_CONFORMANCE_SEEDS ?? 1);

/** Route → entity type, how its records refer to each other, and the table its records land in (roleDefinitions: none). */
const ROUTES: { path: string; entity: string; ids: Pick<GeneratorOptions, "defines" | "refers">; table?: string }[] = [
  { path: "/v1.0/users", entity: "user", ids: { defines: { id: "principal" } }, table: "principals" },
  { path: "/v1.0/servicePrincipals", entity: "servicePrincipal", ids: { defines: { id: "principal", appId: "app" } }, table: "principals" },
  { path: "/v1.0/applications", entity: "application", ids: { refers: { appId: "app" } } },
  { path: "/v1.0/roleManagement/directory/roleDefinitions", entity: "unifiedRoleDefinition", ids: { defines: { id: "role" } } },
  { path: "/v1.0/roleManagement/directory/roleAssignments", entity: "unifiedRoleAssignment", ids: { refers: { principalId: "principal", roleDefinitionId: "role" } }, table: "grants" },
];

type GraphRecord = Record<string, unknown>;

interface Sweep {
  pages: Map<string, { served: number; last: number }>;
  records: Map<string, number>;
  /** Route → every record served on it, in order. */
  served: Map<string, GraphRecord[]>;
}

const USERS = "/v1.0/users";
const SERVICE_PRINCIPALS = "/v1.0/servicePrincipals";
const APPLICATIONS = "/v1.0/applications";
const ASSIGNMENTS = "/v1.0/roleManagement/directory/roleAssignments";

const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const credentialsOf = (r: GraphRecord) => listOf(r.passwordCredentials).length + listOf(r.keyCredentials).length;

/**
 * What the served records must become, per table. Principals: every user and service principal, and every
 * application whose appId names no service principal served (one that does is that principal's registration:
 * its credentials move onto it, it is no principal of its own). Credentials: every secret and certificate of a
 * service principal or application (the managed identities' are not kept; generated types are never one).
 */
function expectedCounts(served: Map<string, GraphRecord[]>): { principals: number; credentials: number } {
  const at = (route: string) => served.get(route) ?? [];
  const spApps = new Set(at(SERVICE_PRINCIPALS).flatMap((sp) => (typeof sp.appId === "string" ? [sp.appId.toLowerCase()] : [])));
  const registrationsOnly = at(APPLICATIONS).filter((a) => !(typeof a.appId === "string" && spApps.has(a.appId.toLowerCase())));
  const managedIdentity = (sp: GraphRecord) => sp.servicePrincipalType === "ManagedIdentity";
  return {
    principals: at(USERS).length + at(SERVICE_PRINCIPALS).length + registrationsOnly.length,
    credentials: at(SERVICE_PRINCIPALS).filter((sp) => !managedIdentity(sp)).reduce((n, sp) => n + credentialsOf(sp), 0) + at(APPLICATIONS).reduce((n, a) => n + credentialsOf(a), 0),
  };
}

/** An assignment's holding: one grant per holder, role and directory scope (see unaccountedRecords). */
const holdingOf = (a: GraphRecord) => holding(a.principalId, a.roleDefinitionId, directoryScope(a.directoryScopeId as string | null | undefined));

/** The entity schema limited to the members the real record carried. */
function selected(schema: JsonSchema, keys: string[]): JsonSchema {
  const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([k]) => keys.includes(k)));
  return { ...schema, properties, required: (schema.required ?? []).filter((k) => keys.includes(k)) };
}

let f: Fixture | undefined;
beforeAll(async () => {
  f = await startFixture({ seed: 3, users: 5, applications: 3 }, { maxPageSize: 3 });
});
afterAll(async () => f?.close());

describe(`Entra ID conformance with ${description.source} (${description.revision})`, () => {
  const cases = SHAPES.flatMap((shape) => Array.from({ length: SEEDS }, (_, i) => [shape, i + 1] as const));
  it.each(cases)("%s answers, seed %i: the tenant never fails, every record stored or quarantined, every holder known or unresolved, every page read", async (shape: Shape, seed: number) => {
    const fx = f!;
    fx.sim.server.clearFaults();
    const dbPath = join(fx.dir, `${shape}-${seed}.db`);
    const pools = new Map<string, string[]>();
    const sweep: Sweep = { pages: new Map(), records: new Map(), served: new Map() };
    // One counter for the run: ids unique across pages, so that every record served is one record stored.
    const serial: Serial = { n: 0 };
    let answers = 0;
    for (const route of ROUTES) {
      fx.sim.server.injectFault({
        match: (r) => r.url.pathname === route.path,
        fault: {
          kind: "rewrite",
          rewrite: (a) => {
            if (a.status !== 200) return a;
            const body = JSON.parse(a.body.toString("utf8")) as { value?: Record<string, unknown>[]; "@odata.nextLink"?: string };
            const gen = new Generator(seededRandom(seed * 7919 + ++answers * 104729), shape, { minimalSendsAll: true, pools, serial, ...route.ids });
            body.value = (body.value ?? []).map((real) => {
              const rec = gen.value(selected(description.entities[route.entity]!, Object.keys(real))) as Record<string, unknown>;
              // The expanded principal of an assignment is Graph's, not the type's: null, as for a deleted one.
              if ("principal" in real) rec.principal = null;
              return rec;
            });
            sweep.served.set(route.path, [...(sweep.served.get(route.path) ?? []), ...body.value]);
            const p = sweep.pages.get(route.path) ?? { served: 0, last: 0 };
            p.served++;
            if (!body["@odata.nextLink"]) p.last++;
            sweep.pages.set(route.path, p);
            if (route.table) sweep.records.set(route.table, (sweep.records.get(route.table) ?? 0) + body.value.length);
            return { ...a, body: Buffer.from(JSON.stringify(body)) };
          },
        },
      });
    }
    const o = fx.options({ sign_in_activity: true });
    const source = { id: "entra", type: "entra-id", ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
    const config = parseConfig(stringify({ store: { path: dbPath }, sources: [source] }), join(fx.dir, "w.toml"), CONNECTORS);
    const result = await collect(config, { log: testContext().log, env: { ...process.env, ...fx.env } });

    const [scope] = result.scopes;
    expect(scope!.status, scope!.error ?? "").not.toBe("failed");
    // Every list was read to its last page (and only once).
    for (const route of ROUTES) expect([route.path, sweep.pages.get(route.path)?.last]).toEqual([route.path, 1]);
    expect(sweep.pages.get("/v1.0/users")!.served).toBeGreaterThan(1);
    const db = openStore(dbPath, { readonly: true });
    try {
      const q = quarantineOf(db, result.runId);
      for (const r of q) expect(r.reason.length).toBeGreaterThan(0);
      expect(holdersWithoutPrincipal(db)).toBe(0);
      // Exactly what was served, per kind: stored (unresolved stubs and joins are not counted as stored) or quarantined.
      const quarantined = (table: string) => q.filter((r) => r.table === table).length;
      expect(q.length).toBe(scope!.quarantined);
      const want = expectedCounts(sweep.served);
      expect({ principals: scope!.principals + quarantined("principals"), credentials: scope!.credentials + quarantined("credentials") }).toEqual(want);
      // Every assignment: a stored grant (its holder, role and scope), or quarantined.
      const assignments = sweep.served.get(ASSIGNMENTS) ?? [];
      expect(assignments.length).toBeGreaterThan(0);
      expect(unaccountedRecords(assignments, storedHoldings(db, "roleDefinitionId"), holdingOf, quarantined("grants"))).toEqual([]);
      if (process.env.WHOHAS_CONFORMANCE_REPORT) {
        process.stderr.write(
          `${shape}/${seed}: ${answers} generated answers; served ${[...sweep.records].map(([t, n]) => `${t} ${n}`).join(", ")}; ` +
            `scope ${scope!.status} p${scope!.principals} c${scope!.credentials} g${scope!.grants} q${scope!.quarantined} u${scope!.unresolved}; ` +
            `quarantine reasons: ${[...new Set(q.map((r) => r.reason.replace(/\d+/g, "N")))].join(" | ")}\n`,
        );
      }
    } finally {
      db.close();
    }
  });
});

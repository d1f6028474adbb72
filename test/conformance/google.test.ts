// Conformance with Google's Discovery documents (Admin SDK Directory v1 and IAM v1, cut in descriptions/): every
// list method the google-workspace connector calls (users, roles, roleAssignments, tokens, asps, and with
// gcp_projects serviceAccounts and their keys) answers with records generated from the description — seeded
// random, sparse (every member absent: Discovery requires none), minimal (every member zero-valued: Google's
// JSON has no null) — over two pages where the method pages, with the `fields` mask applied as Google does,
// through the simulator, the real @googleapis/admin client and google-auth-library, into the store by the real
// engine. Asserted: no scope fails, every record is stored or quarantined with a reason, every grant and
// credential sits on a known or unresolved principal, every page is read, and every call's token carries a
// scope the description lists for the method. `npm test` runs one seed per shape; WHOHAS_CONFORMANCE_SEEDS
// widens the sweep.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { applyFields, parseFields } from "../../connectors/google-workspace/sim-fields.js";
import { startGoogleSimulator, type Endpoint, type GoogleSimulator } from "../../connectors/google-workspace/simulator.js";
import { seededRandom } from "../../src/simulator/random.js";
import { collect } from "../../src/collect.js";
import { parseConfig } from "../../src/config/load.js";
import { openStore } from "../../src/store/db.js";
import { quarantineOf } from "../../src/store/reader.js";
import { assignmentScope } from "../../connectors/google-workspace/map.js";
import { holding, holdersWithoutPrincipal, storedHoldings, unaccountedRecords } from "./holders.js";
import { testContext } from "../helpers/collect.js";
import { Generator, SHAPES, type JsonSchema, type Serial, type Shape } from "./generate.js";

const description = JSON.parse(readFileSync(new URL("./descriptions/google-discovery.json", import.meta.url), "utf8")) as {
  source: string;
  revisions: Record<string, string>;
  methods: Record<string, { path: string; scopes: string[]; response: JsonSchema }>;
};

/** The simulator's endpoint → the Discovery method it serves. */
const METHOD_OF = new Map<Endpoint, string>([
  ["users", "directory.users.list"],
  ["roles", "directory.roles.list"],
  ["roleassignments", "directory.roleAssignments.list"],
  ["tokens", "directory.tokens.list"],
  ["asps", "directory.asps.list"],
  ["iam.serviceAccounts", "iam.projects.serviceAccounts.list"],
  ["iam.keys", "iam.projects.serviceAccounts.keys.list"],
]);
/** Records refer to each other by these members (assignedTo: a user's id, a group's, or a service account's uniqueId). */
const PROJECT = "proj-conform1";
/** Where each endpoint's records land: [scope, table]. */
const STORED_AS = new Map<Endpoint, [string, string]>([
  ["users", ["my_customer", "principals"]],
  ["roleassignments", ["my_customer", "grants"]],
  ["tokens", ["my_customer", "credentials"]],
  ["asps", ["my_customer", "credentials"]],
  ["iam.serviceAccounts", [`gcp:${PROJECT}`, "principals"]],
  ["iam.keys", [`gcp:${PROJECT}`, "credentials"]],
]);
const DEFINES = { id: "principal", uniqueId: "principal", roleId: "role" };
const REFERS = { assignedTo: "principal", roleId: "role" };
const SEEDS = Number(process.env.WHOHAS_CONFORMANCE_SEEDS ?? 1);
const ITEMS_PER_PAGE = 3;

interface Sweep {
  answers: number;
  /** Method → page tokens it was asked for ("" for the first page). */
  pagesServed: Map<string, Set<string>>;
  /** Methods called with a token carrying none of the scopes the description lists. */
  scopeMisses: Set<string>;
  /** "scope/table" → records served. */
  records: Map<string, number>;
  /** Role assignments served, as the connector received them (after the fields mask). */
  assignments: Record<string, unknown>[];
}

/** An assignment's holding: one grant per holder, role and scope (see unaccountedRecords). */
const holdingOf = (a: Record<string, unknown>) =>
  holding(a.assignedTo, a.roleId, assignmentScope({ scopeType: a.scopeType as string | undefined, orgUnitId: a.orgUnitId as string | undefined }));

/** The list member of a response (users, items, accounts, keys): the first array property. */
function listMember(schema: JsonSchema): [string, JsonSchema] {
  const hit = Object.entries(schema.properties ?? {}).find(([, p]) => p.type === "array");
  if (!hit) throw new Error("a list answer without an array member");
  return [hit[0], hit[1].items ?? {}];
}

function overrideFor(shape: Shape, seed: number, sweep: Sweep) {
  const pools = new Map<string, string[]>();
  // One counter for the run: ids unique across pages and methods.
  const serial: Serial = { n: 0 };
  return (endpoint: Endpoint, url: URL, scopes: ReadonlySet<string>) => {
    const methodId = METHOD_OF.get(endpoint);
    if (!methodId) return undefined;
    const method = description.methods[methodId]!;
    if (!method.scopes.some((s) => scopes.has(s))) sweep.scopeMisses.add(methodId);
    const pageToken = url.searchParams.get("pageToken") ?? "";
    const served = sweep.pagesServed.get(methodId) ?? new Set<string>();
    served.add(pageToken);
    sweep.pagesServed.set(methodId, served);
    sweep.answers++;
    const gen = new Generator(seededRandom(seed * 7919 + sweep.answers * 104729), shape, { nulls: false, minimalSendsAll: true, pools, serial, defines: DEFINES, refers: REFERS });
    const [member, item] = listMember(method.response);
    const body = gen.value(method.response) as Record<string, unknown>;
    const items = Array.from({ length: ITEMS_PER_PAGE }, () => gen.value(item, member, 1) as Record<string, unknown>);
    body[member] = items;
    // A per-entity answer is about the entity asked for, as Google's are (the connector refuses any other).
    const user = /\/users\/([^/]+)\/(tokens|asps)$/.exec(url.pathname)?.[1];
    if (user) for (const it of items) if (it.userKey) it.userKey = decodeURIComponent(user);
    const account = /(projects\/[^/]+\/serviceAccounts\/[^/]+)\/keys$/.exec(url.pathname)?.[1];
    if (account) for (const it of items) if (typeof it.name === "string" && it.name) it.name = `${decodeURIComponent(account)}/keys/${it.name.slice(it.name.lastIndexOf("/") + 1)}`;
    const where = STORED_AS.get(endpoint);
    if (where) sweep.records.set(where.join("/"), (sweep.records.get(where.join("/")) ?? 0) + ITEMS_PER_PAGE);
    // Where the method pages, two pages, linked the way Google links them; the generated token is not one.
    delete body.nextPageToken;
    if ("nextPageToken" in (method.response.properties ?? {}) && pageToken === "") body.nextPageToken = `conformance-${methodId}-2`;
    const fields = url.searchParams.get("fields");
    const answer = fields ? applyFields(body, parseFields(fields)) : body;
    if (endpoint === "roleassignments") sweep.assignments.push(...((answer as Record<string, unknown>)[member] as Record<string, unknown>[] | undefined ?? []));
    return { body: answer };
  };
}

let google: GoogleSimulator | undefined;
let current: ReturnType<typeof overrideFor> | undefined;
let keyPath = "";

beforeAll(async () => {
  google = await startGoogleSimulator({ seed: 5, users: 4, gcpProjects: [PROJECT], override: (e, u, s) => current?.(e, u, s) });
  keyPath = join(mkdtempSync(join(tmpdir(), "whohas-conformance-key-")), "key.json");
  writeFileSync(keyPath, google.tenant.keyFile(), { mode: 0o600 });
});
afterAll(async () => google?.close());

describe(`Google Workspace conformance with ${Object.entries(description.revisions).map(([k, v]) => `${k} revision ${v}`).join(", ")}`, () => {
  const cases = SHAPES.flatMap((shape) => Array.from({ length: SEEDS }, (_, i) => [shape, i + 1] as const));
  it.each(cases)("%s answers, seed %i: no scope fails, every record stored or quarantined, every holder known or unresolved, every page read", async (shape, seed) => {
    const g = google!;
    const dir = mkdtempSync(join(tmpdir(), "whohas-conformance-"));
    const config = parseConfig(
      [
        `[store]\npath = "${join(dir, "w.db")}"`,
        `[[sources]]\nid = "gws"\ntype = "google-workspace"\nsubject = "admin@${g.tenant.domain}"\ncredentials = "file:${keyPath}"`,
        `root_url = "${g.rootUrl}"\ntoken_url = "${g.tokenUrl}"\niam_url = "${g.rootUrl}"\ngcp_projects = ["${PROJECT}"]`,
        `collect_oauth_tokens = true\ncollect_app_passwords = true`,
      ].join("\n"),
      join(dir, "w.toml"),
      CONNECTORS,
    );
    const sweep: Sweep = { answers: 0, pagesServed: new Map(), scopeMisses: new Set(), records: new Map(), assignments: [] };
    current = overrideFor(shape, seed, sweep);
    const result = await collect(config, { log: testContext().log });
    current = undefined;

    expect(result.scopes.filter((s) => s.status === "failed").map((s) => `${s.scope}: ${s.error}`)).toEqual([]);
    expect([...sweep.scopeMisses]).toEqual([]);
    // Every list that pages was read to its second page.
    for (const id of ["directory.users.list", "directory.roles.list", "directory.roleAssignments.list", "iam.projects.serviceAccounts.list"]) {
      expect([id, [...(sweep.pagesServed.get(id) ?? [])].sort()]).toEqual([id, ["", `conformance-${id}-2`]]);
    }
    const db = openStore(join(dir, "w.db"), { readonly: true });
    try {
      const q = quarantineOf(db, result.runId);
      for (const r of q) expect(r.reason.length).toBeGreaterThan(0);
      // Every record served is stored or quarantined: none silently dropped.
      const accounted = new Map<string, number>();
      for (const s of result.scopes) for (const t of ["principals", "credentials", "grants"] as const) accounted.set(`${s.scope}/${t}`, s[t]);
      for (const r of q) accounted.set(`${r.scope}/${r.table}`, (accounted.get(`${r.scope}/${r.table}`) ?? 0) + 1);
      expect(sweep.records.size).toBeGreaterThan(0);
      for (const [where, served] of sweep.records) expect([where, accounted.get(where) ?? 0]).toEqual([where, served]);
      // And record by record for role assignments: a stored grant (its holder, role and scope), or quarantined.
      const quarantinedAssignments = q.filter((r) => r.scope === "my_customer" && r.table === "grants").length;
      expect(sweep.assignments.length).toBe(2 * ITEMS_PER_PAGE);
      expect(unaccountedRecords(sweep.assignments, storedHoldings(db, "roleId"), holdingOf, quarantinedAssignments)).toEqual([]);
      expect(holdersWithoutPrincipal(db)).toBe(0);
      if (process.env.WHOHAS_CONFORMANCE_REPORT) {
        process.stderr.write(
          `${shape}/${seed}: ${sweep.answers} generated answers over ${sweep.pagesServed.size} methods; ` +
            `scopes ${result.scopes.map((x) => `${x.scope}:${x.status} p${x.principals} c${x.credentials} g${x.grants} q${x.quarantined} u${x.unresolved}`).join(", ")}; ` +
            `quarantine reasons: ${[...new Set(q.map((r) => r.reason.replace(/\d+/g, "N")))].join(" | ")}\n`,
        );
      }
    } finally {
      db.close();
    }
  });
});

// Conformance with GitHub's published OpenAPI description (@octokit/openapi, cut in descriptions/): every list
// route the connector reads answers with records generated from the description — seeded random, sparse
// (optional members dropped), minimal (required only, nullable null) — over two pages, through the simulator
// and the real Octokit client, into the store by the real engine. Asserted: no scope fails, every record is
// stored or quarantined with a reason, every grant and credential sits on a known or unresolved principal,
// every page is read. `npm test` runs one seed per shape; WHOHAS_CONFORMANCE_SEEDS widens the sweep.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { startGithubSimulator, type GithubSimulator } from "../../connectors/github/simulator.js";
import { generateTenant } from "../../connectors/github/tenant.js";
import { seededRandom } from "../../src/simulator/random.js";
import { collect } from "../../src/collect.js";
import { parseConfig } from "../../src/config/load.js";
import { openStore } from "../../src/store/db.js";
import { quarantineOf } from "../../src/store/reader.js";
import { holdersWithoutPrincipal } from "./holders.js";
import { testContext } from "../helpers/collect.js";
import { Generator, SHAPES, type JsonSchema, type Shape } from "./generate.js";

const description = JSON.parse(readFileSync(new URL("./descriptions/github-ghec.json", import.meta.url), "utf8")) as {
  source: string;
  revision: string;
  routes: Record<string, JsonSchema>;
};

/** The org itself stays the simulator's: its identity is what the connector checks the answers against. */
const GENERATED = Object.keys(description.routes).filter((r) => r !== "/orgs/{org}");
const SEEDS = Number(process.env.WHOHAS_CONFORMANCE_SEEDS ?? 1);
const ITEMS_PER_PAGE = 3;

const matcher = (route: string) => new RegExp(`^${route.replace(/\{[^}]+\}/g, "[^/]+")}$`);

interface Sweep {
  answers: number;
  pagesServed: Map<string, Set<number>>;
}

function overrideFor(shape: Shape, seed: number, sweep: Sweep) {
  const routes = GENERATED.map((r) => ({ route: r, re: matcher(r), schema: description.routes[r]! }));
  return (path: string, url: URL) => {
    const hit = routes.find((r) => r.re.test(path));
    if (!hit) return undefined;
    const page = Number(url.searchParams.get("page") ?? "1");
    const gen = new Generator(seededRandom(seed * 7919 + page * 104729 + hit.route.length), shape);
    const served = sweep.pagesServed.get(hit.route) ?? new Set<number>();
    served.add(page);
    sweep.pagesServed.set(hit.route, served);
    sweep.answers++;
    const schema = hit.schema;
    // A list comes in two pages, linked the way GitHub links them; an object (installations) in one.
    if (schema.type === "array") {
      const body = Array.from({ length: ITEMS_PER_PAGE }, () => gen.value(schema.items ?? {}));
      const next = new URL(`${url.pathname}${url.search}`, gh!.url);
      next.searchParams.set("page", "2");
      const headers: Record<string, string> = page === 1 ? { link: `<${next.href}>; rel="next"` } : {};
      return { body, headers };
    }
    return { body: gen.value(schema) };
  };
}

let gh: GithubSimulator | undefined;
let current: ReturnType<typeof overrideFor> | undefined;

beforeAll(async () => {
  gh = await startGithubSimulator({
    tenant: generateTenant({ seed: 5, orgs: [{ login: "acme", members: 4, owners: 1, outsideCollaborators: 1, repos: 2, teams: 1, teamSize: 2, invitations: 1, failedInvitations: 0, patGrants: 0, patRequests: 0, deployKeyRepos: 0, auditEvents: 0 }] }),
    override: (path, url) => current?.(path, url),
  });
});
afterAll(async () => gh?.close());

describe(`GitHub conformance with ${description.source} (${description.revision})`, () => {
  const cases = SHAPES.flatMap((shape) => Array.from({ length: SEEDS }, (_, i) => [shape, i + 1] as const));
  it.each(cases)("%s answers, seed %i: no scope fails, every record stored or quarantined, every holder known or unresolved, every page read", async (shape, seed) => {
    const org = [...gh!.tenant.orgs.values()][0]!;
    const owner = [...org.members].find(([, role]) => role === "admin")![0];
    const login = [...gh!.tenant.users.values()].find((u) => u.id === owner)!.login;
    const dir = mkdtempSync(join(tmpdir(), "whohas-conformance-"));
    const config = parseConfig(
      `[store]\npath = "${join(dir, "w.db")}"\n[[sources]]\nid = "gh"\ntype = "github"\norgs = ["acme"]\nbase_url = "${gh!.baseUrl}"\ntoken = "env:WHOHAS_CONFORMANCE_GH_TOKEN"\n`,
      join(dir, "w.toml"),
      CONNECTORS,
    );
    const sweep: Sweep = { answers: 0, pagesServed: new Map() };
    current = overrideFor(shape, seed, sweep);
    const result = await collect(config, { log: testContext().log, env: { ...process.env, WHOHAS_CONFORMANCE_GH_TOKEN: gh!.issuePat(login) } });
    current = undefined;

    expect(result.scopes.filter((s) => s.status === "failed").map((s) => `${s.scope}: ${s.error}`)).toEqual([]);
    expect(sweep.answers).toBeGreaterThan(0);
    // Every list the connector started, it finished.
    for (const [route, pages] of sweep.pagesServed) if (description.routes[route]!.type === "array") expect([route, [...pages].sort()]).toEqual([route, [1, 2]]);
    const db = openStore(join(dir, "w.db"), { readonly: true });
    try {
      for (const q of quarantineOf(db, result.runId)) expect(q.reason.length).toBeGreaterThan(0);
      // No grant or credential on a holder that is not a principal of its scope (known or unresolved).
      expect(holdersWithoutPrincipal(db)).toBe(0);
      if (process.env.WHOHAS_CONFORMANCE_REPORT) {
        const q = quarantineOf(db, result.runId);
        process.stderr.write(
          `${shape}/${seed}: ${sweep.answers} generated answers over ${sweep.pagesServed.size} routes [${[...sweep.pagesServed.keys()].join(" ")}]; ` +
            `scopes ${result.scopes.map((x) => `${x.scope}:${x.status} p${x.principals} c${x.credentials} g${x.grants} q${x.quarantined} u${x.unresolved}`).join(", ")}; ` +
            `quarantine reasons: ${[...new Set(q.map((r) => r.reason.replace(/\d+/g, "N")))].join(" | ")}\n`,
        );
      }
    } finally {
      db.close();
    }
  });
});

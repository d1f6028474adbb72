// Conformance with AWS's IAM service model (botocore JSON, cut in descriptions/aws-iam.json): the actions the
// aws-iam connector reads records from — GetAccountAuthorizationDetails (both passes, two pages each),
// ListAccessKeys, GetCredentialReport — answer with values generated from the model's shapes in three shapes:
// seeded random, sparse (optional members dropped; IAM has no null, absence is how a value is missing) and
// minimal (required members only, zero-valued), rendered in the Query protocol's XML by the simulator and read
// by the real @aws-sdk/client-iam, into the store by the real engine. The credential report's Content is a blob
// in the model; its CSV columns are AWS's documented ones, filled for the generated users (dates, N/A,
// no_information, booleans). Asserted: the account never fails, every user and role served is stored or
// quarantined with a reason, every grant and credential sits on a known or unresolved principal, every page is
// read (ListAccessKeys in two pages per user too). Pagination members (IsTruncated, Marker) are the test's. `npm test` runs one seed per shape.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { generateOrganization } from "../../connectors/aws-iam/sim-tenant.js";
import { startAwsSimulator, type AwsSimulator } from "../../connectors/aws-iam/simulator.js";
import { seededRandom, type Random } from "../../src/simulator/random.js";
import { collect } from "../../src/collect.js";
import { parseConfig } from "../../src/config/load.js";
import { openStore } from "../../src/store/db.js";
import { quarantineOf } from "../../src/store/reader.js";
import { holdersWithoutPrincipal } from "./holders.js";
import { testContext } from "../helpers/collect.js";
import { Generator, SHAPES, type GeneratorOptions, type Shape } from "./generate.js";
import { renderQuery, schemaOf, type Shapes } from "./aws-query.js";

const description = JSON.parse(readFileSync(new URL("./descriptions/aws-iam.json", import.meta.url), "utf8")) as {
  source: string;
  revision: string;
  operations: Record<string, { output: string; resultWrapper: string }>;
  shapes: Shapes;
};
const SEEDS = Number(process.env.WHOHAS_CONFORMANCE_SEEDS ?? 1);
const ITEMS_PER_PAGE = 3;
const ACCOUNT = "111111111111";
const GAAD = "GetAccountAuthorizationDetailsResponse";
const gaadSchema = schemaOf(description.shapes, GAAD);

type Detail = Record<string, unknown>;

/** The answers of one run, made before it starts: the credential report describes the users of the second pass. */
interface Answers {
  /** "policies" | "principals" → two pages. */
  pages: Map<string, Detail[]>;
  reportCsv: string;
  served: { usersAndRoles: number; ids: Set<string> };
}

function page(gen: Generator, lists: string[]): Detail {
  const body: Detail = {};
  for (const list of lists) {
    const items = gaadSchema.properties![list]!.items!;
    body[list] = Array.from({ length: ITEMS_PER_PAGE }, () => gen.value(items, list, 1));
  }
  return body;
}

const REPORT_COLUMNS = [
  "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed", "password_next_rotation", "mfa_active",
  "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
  "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
  "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
];

const csvCell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** A credential report row in AWS's documented vocabulary: a time, or the sentinel AWS writes instead. */
function reportRow(random: Random, shape: Shape, user: string, arn: string): string {
  const pick = <T,>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const time = () => (shape === "random" ? pick([new Date(Date.UTC(1995, 0, 1) + Math.floor(random() * 35 * 365.25 * 86_400_000)).toISOString().replace(/\.\d{3}Z$/, "+00:00"), "N/A", "no_information"]) : "N/A");
  const bool = () => (shape === "random" ? pick(["true", "false", "TRUE", "False"]) : "false");
  const cells: Record<string, string> = { user, arn };
  for (const c of REPORT_COLUMNS.slice(2)) cells[c] = c.endsWith("_active") || c === "password_enabled" ? bool() : c.endsWith("_region") || c.endsWith("_service") ? (shape === "random" ? pick(["us-east-1", "iam", "N/A"]) : "N/A") : time();
  return REPORT_COLUMNS.map((c) => csvCell(cells[c]!)).join(",");
}

function makeAnswers(shape: Shape, seed: number): Answers {
  const pools = new Map<string, string[]>();
  const opts = (o: GeneratorOptions): GeneratorOptions => ({ nulls: false, pools, ...o });
  const pages = new Map<string, Detail[]>();
  // Pass 1 defines the groups and managed policies that pass 2's users and roles refer to.
  const first = new Generator(seededRandom(seed * 7919 + 1), shape, opts({ defines: { GroupName: "group", Arn: "policy" }, refers: { PolicyArn: "policy" } }));
  pages.set("policies", [page(first, ["GroupDetailList", "Policies"]), page(first, ["GroupDetailList", "Policies"])]);
  const second = new Generator(seededRandom(seed * 7919 + 2), shape, opts({ refers: { PolicyArn: "policy", PermissionsBoundaryArn: "policy", GroupList: "group" } }));
  const principalPages = [page(second, ["UserDetailList", "RoleDetailList"]), page(second, ["UserDetailList", "RoleDetailList"])];
  pages.set("principals", principalPages);
  const served = { usersAndRoles: 0, ids: new Set<string>() };
  const random = seededRandom(seed * 7919 + 3);
  const rows = [reportRow(random, shape, "<root_account>", `arn:aws:iam::${ACCOUNT}:root`).replace(/^([^,]*,[^,]*,[^,]*),[^,]*/, "$1,not_supported")];
  for (const p of principalPages) {
    for (const list of ["UserDetailList", "RoleDetailList"]) {
      for (const d of p[list] as Detail[]) {
        served.usersAndRoles++;
        const id = d.UserId ?? d.RoleId;
        if (typeof id === "string" && id !== "") served.ids.add(id);
        if (list === "UserDetailList" && typeof d.Arn === "string" && typeof d.UserName === "string" && shape !== "sparse") rows.push(reportRow(random, shape, d.UserName, d.Arn));
      }
    }
  }
  return { pages, reportCsv: [REPORT_COLUMNS.join(","), ...rows].join("\n") + "\n", served };
}

interface Sweep {
  answers: number;
  pagesServed: Map<string, Set<string>>;
}

function overrideFor(shape: Shape, seed: number, answers: Answers, sweep: Sweep) {
  return (action: string, params: URLSearchParams): string | undefined => {
    const gen = new Generator(seededRandom(seed * 104729 + sweep.answers), shape, { nulls: false });
    switch (action) {
      case "GetAccountAuthorizationDetails": {
        const filters = [...params.entries()].filter(([k]) => k.startsWith("Filter.member.")).map(([, v]) => v);
        const pass = filters.includes("User") ? "principals" : "policies";
        const marker = params.get("Marker") ?? "";
        const n = marker === "" ? 0 : 1;
        const served = sweep.pagesServed.get(pass) ?? new Set<string>();
        served.add(marker);
        sweep.pagesServed.set(pass, served);
        sweep.answers++;
        const body = { ...answers.pages.get(pass)![n]!, IsTruncated: n === 0, ...(n === 0 ? { Marker: `conformance-${pass}-2` } : {}) };
        return renderQuery(description.shapes, GAAD, body);
      }
      case "ListAccessKeys": {
        // Two pages per user, linked by Marker as IAM links them (the model pages this list like every other).
        sweep.answers++;
        const user = params.get("UserName") ?? "";
        const marker = params.get("Marker") ?? "";
        const served = sweep.pagesServed.get(`keys:${user}`) ?? new Set<string>();
        served.add(marker);
        sweep.pagesServed.set(`keys:${user}`, served);
        const out = description.operations.ListAccessKeys!.output;
        const body = gen.value(schemaOf(description.shapes, out)) as Detail;
        return renderQuery(description.shapes, out, { ...body, IsTruncated: marker === "", Marker: marker === "" ? `conformance-keys-2` : undefined });
      }
      case "GetCredentialReport":
        sweep.answers++;
        return renderQuery(description.shapes, description.operations.GetCredentialReport!.output, {
          Content: Buffer.from(answers.reportCsv).toString("base64"),
          ReportFormat: "text/csv",
          GeneratedTime: new Date().toISOString(),
        });
    }
    return undefined;
  };
}

let aws: AwsSimulator | undefined;
let current: ReturnType<typeof overrideFor> | undefined;
let env: Record<string, string> = {};

beforeAll(async () => {
  const { org, caller } = generateOrganization({ seed: 5, now: new Date(), managementAccountId: ACCOUNT, accounts: [{ id: ACCOUNT, name: "conformance", users: 2, roles: 2 }] });
  aws = await startAwsSimulator({ org, override: (action, params) => current?.(action, params) });
  env = { WHOHAS_CONFORMANCE_AWS_KEY: caller.accessKeyId, WHOHAS_CONFORMANCE_AWS_SECRET: caller.secretAccessKey };
});
afterAll(async () => aws?.close());

describe(`AWS IAM conformance with ${description.source} (${description.revision})`, () => {
  const cases = SHAPES.flatMap((shape) => Array.from({ length: SEEDS }, (_, i) => [shape, i + 1] as const));
  it.each(cases)("%s answers, seed %i: the account never fails, every user and role stored or quarantined, every holder known or unresolved, every page read", async (shape, seed) => {
    const dir = mkdtempSync(join(tmpdir(), "whohas-conformance-"));
    const source = {
      id: "aws",
      type: "aws-iam",
      access_key_id: "env:WHOHAS_CONFORMANCE_AWS_KEY",
      secret_access_key: "env:WHOHAS_CONFORMANCE_AWS_SECRET",
      endpoints: { iam: aws!.url, sts: aws!.url },
      access_key_ids: true,
    };
    const config = parseConfig(stringify({ store: { path: join(dir, "w.db") }, sources: [source] }), join(dir, "w.toml"), CONNECTORS);
    const answers = makeAnswers(shape, seed);
    const sweep: Sweep = { answers: 0, pagesServed: new Map() };
    current = overrideFor(shape, seed, answers, sweep);
    const result = await collect(config, { log: testContext().log, env: { ...process.env, ...env } });
    current = undefined;

    expect(result.scopes.filter((s) => s.status === "failed").map((s) => `${s.scope}: ${s.error}`)).toEqual([]);
    for (const pass of ["policies", "principals"]) expect([pass, [...(sweep.pagesServed.get(pass) ?? [])].sort()]).toEqual([pass, ["", `conformance-${pass}-2`]]);
    for (const [list, markers] of sweep.pagesServed) if (list.startsWith("keys:")) expect([list, [...markers].sort()]).toEqual([list, ["", "conformance-keys-2"]]);
    const db = openStore(join(dir, "w.db"), { readonly: true });
    try {
      const q = quarantineOf(db, result.runId);
      for (const r of q) expect(r.reason.length).toBeGreaterThan(0);
      // Every user and role served is a current principal under its id, or quarantined: none dropped silently.
      const stored = db.prepare("SELECT id FROM principals WHERE to_run IS NULL").pluck().all() as string[];
      const storedServed = stored.filter((id) => answers.served.ids.has(id)).length;
      expect(storedServed + q.filter((r) => r.table === "principals").length).toBe(answers.served.usersAndRoles);
      expect(holdersWithoutPrincipal(db)).toBe(0);
      if (process.env.WHOHAS_CONFORMANCE_REPORT) {
        process.stderr.write(
          `${shape}/${seed}: ${sweep.answers} generated answers; ` +
            `scopes ${result.scopes.map((x) => `${x.scope}:${x.status} p${x.principals} c${x.credentials} g${x.grants} q${x.quarantined} u${x.unresolved}`).join(", ")}; ` +
            `quarantine reasons: ${[...new Set(q.map((r) => r.reason.replace(/\d+/g, "N")))].join(" | ")}\n`,
        );
      }
    } finally {
      db.close();
    }
  });
});

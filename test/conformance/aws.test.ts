// Conformance with AWS's IAM service model (botocore JSON, cut in descriptions/aws-iam.json): the actions the
// aws-iam connector reads records from — GetAccountAuthorizationDetails (both passes, two pages each),
// ListAccessKeys, GetCredentialReport — answer with values generated from the model's shapes in three shapes:
// seeded random, sparse (optional members dropped; IAM has no null, absence is how a value is missing) and
// minimal (required members only, zero-valued), rendered in the Query protocol's XML by the simulator and read
// by the real @aws-sdk/client-iam, into the store by the real engine. The credential report's Content is a blob
// in the model; its CSV columns are AWS's documented ones, filled for the generated users (dates, N/A,
// no_information, booleans). Asserted: the account never fails, every user and role served is stored or
// quarantined with a reason, every grant and credential sits on a known or unresolved principal, every page is
// read (ListAccessKeys in two pages per user too). Pagination members (IsTruncated, Marker) are the test's.
// STS's and Organizations' models (descriptions/aws-sts.json, aws-organizations.json) answer the calls around
// the accounts: GetCallerIdentity in the single-account sweep; in the organization sweep AssumeRole (the hop
// into the audit role, then one per member account) and ListAccounts (two pages), each member account then
// answering IAM from the IAM model. Two things the test supplies because nothing could go on without them, and
// their absence is asserted as a named failure instead: the caller's account (GetCallerIdentity's Account;
// every member is optional in the model) and AssumeRole's credential values (the simulator verifies the
// signatures made with them; Expiration stays generated). `npm test` runs one seed per shape.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { generateOrganization } from "../../connectors/aws-iam/sim-tenant.js";
import { startAwsSimulator, type AwsSimulator, type OverrideCall } from "../../connectors/aws-iam/simulator.js";
import { seededRandom, type Random } from "../../src/simulator/random.js";
import { collect } from "../../src/collect.js";
import { parseConfig } from "../../src/config/load.js";
import { openStore } from "../../src/store/db.js";
import { quarantineOf } from "../../src/store/reader.js";
import { holdersWithoutPrincipal } from "./holders.js";
import { testContext } from "../helpers/collect.js";
import { Generator, SHAPES, type GeneratorOptions, type Serial, type Shape } from "./generate.js";
import { renderQuery, schemaOf, type Shapes } from "./aws-query.js";

interface Model {
  source: string;
  revision: string;
  operations: Record<string, { output: string; resultWrapper?: string }>;
  shapes: Shapes;
}
const model = (file: string) => JSON.parse(readFileSync(new URL(`./descriptions/${file}`, import.meta.url), "utf8")) as Model;
const description = model("aws-iam.json");
const sts = model("aws-sts.json");
const organizations = model("aws-organizations.json");
const SEEDS = Number(process.env.WHOHAS_CONFORMANCE_SEEDS ?? 1);
const ITEMS_PER_PAGE = 3;
/** Random accounts carry an Id and an active (or no) state about one time in five: enough that some are collected. */
const ACCOUNTS_PER_PAGE = 5;
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

/** One account's IAM answers; `serial` keeps ids unique across the accounts of one run. */
function makeAnswers(shape: Shape, seed: number, serial: Serial = { n: 0 }): Answers {
  const pools = new Map<string, string[]>();
  const opts = (o: GeneratorOptions): GeneratorOptions => ({ nulls: false, pools, serial, ...o });
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

/** GetCallerIdentity from the STS model; an answer that names no account gets the test's (see the header). */
function callerIdentity(shape: Shape, seed: number, account: string): string {
  const out = sts.operations.GetCallerIdentity!.output;
  const body = new Generator(seededRandom(seed * 15485863), shape, { nulls: false }).value(schemaOf(sts.shapes, out)) as Detail;
  if (typeof body.Account !== "string" || body.Account === "") body.Account = account;
  return renderQuery(sts.shapes, out, body);
}

function overrideFor(shape: Shape, seed: number, answers: Answers, sweep: Sweep) {
  return (call: OverrideCall): string | undefined => {
    if (call.service === "organizations") return undefined;
    const { action, params } = call;
    const gen = new Generator(seededRandom(seed * 104729 + sweep.answers), shape, { nulls: false });
    if (call.service === "sts") {
      if (action !== "GetCallerIdentity") return undefined;
      sweep.answers++;
      return callerIdentity(shape, seed, ACCOUNT);
    }
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
        // IAM's keys name the user asked for (an answer about another user fails the account, by design).
        for (const k of (body.AccessKeyMetadata as Detail[] | undefined) ?? []) if (k.UserName !== undefined) k.UserName = user;
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
  aws = await startAwsSimulator({ org, override: (call) => current?.(call) });
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

/** Unique credential values per AssumeRole (see the header): the simulator verifies what is signed with them. */
function assumedCredentials(n: number): { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } {
  return { AccessKeyId: `ASIACONFORMANCE${String(n).padStart(6, "0")}`, SecretAccessKey: `conformance-secret-${n}`, SessionToken: `conformance-token-${n}` };
}

interface OrgSweep {
  answers: number;
  assumed: string[];
  accountPages: Set<string>;
  /** Accounts ListAccounts served with an Id, and whether each should be collected (state ACTIVE or not given). */
  listed: Map<string, boolean>;
  withoutId: number;
  iam: Map<string, Answers>;
  iamPages: Map<string, Set<string>>;
}

function orgOverride(shape: Shape, seed: number, sweep: OrgSweep, registerIdentity: (accessKeyId: string, secret: string, token: string, account: string, roleArn: string) => void) {
  const serial: Serial = { n: 0 };
  const gen = new Generator(seededRandom(seed * 32452843), shape, { nulls: false, serial });
  const listPages: Detail[] = [0, 1].map(() => ({
    Accounts: Array.from({ length: ACCOUNTS_PER_PAGE }, () => gen.value(schemaOf(organizations.shapes, "Account"), "Account", 1)),
  }));
  for (const p of listPages) {
    for (const a of p.Accounts as Detail[]) {
      if (typeof a.Id !== "string" || a.Id === "") sweep.withoutId++;
      else sweep.listed.set(a.Id, sweep.listed.get(a.Id) ?? [undefined, "ACTIVE"].includes((a.State ?? a.Status) as string | undefined));
    }
  }
  return (call: OverrideCall): string | undefined => {
    sweep.answers++;
    if (call.service === "organizations") {
      if (call.action !== "ListAccounts") return undefined;
      const token = typeof call.body.NextToken === "string" ? call.body.NextToken : "";
      sweep.accountPages.add(token);
      const n = token === "" ? 0 : 1;
      return JSON.stringify({ ...listPages[n], ...(n === 0 ? { NextToken: "conformance-accounts-2" } : {}) }, (_, v: unknown) => (typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v) / 1000 : v));
    }
    if (call.service === "sts") {
      if (call.action !== "AssumeRole") return undefined;
      const roleArn = call.params.get("RoleArn") ?? "";
      sweep.assumed.push(roleArn);
      const out = sts.operations.AssumeRole!.output;
      const body = new Generator(seededRandom(seed * 49979687 + sweep.assumed.length), shape, { nulls: false, serial }).value(schemaOf(sts.shapes, out)) as Detail;
      const expiration = (body.Credentials as Detail | undefined)?.Expiration ?? new Date(Date.now() + 3_600_000).toISOString();
      const creds = assumedCredentials(sweep.assumed.length);
      body.Credentials = { ...creds, Expiration: expiration };
      registerIdentity(creds.AccessKeyId, creds.SecretAccessKey, creds.SessionToken, /^arn:aws:iam::(\d{12}):/.exec(roleArn)?.[1] ?? "", roleArn);
      return renderQuery(sts.shapes, out, body);
    }
    // IAM inside a member account: that account's own generated answers, every page linked as in the IAM sweep.
    const answers = sweep.iam.get(call.account) ?? makeAnswers(shape, seed * 31 + sweep.iam.size, serial);
    sweep.iam.set(call.account, answers);
    const pageSweep: Sweep = { answers: 0, pagesServed: new Map() };
    const answer = overrideFor(shape, seed, answers, pageSweep)(call);
    for (const [k, v] of pageSweep.pagesServed) {
      const key = `${call.account}:${k}`;
      sweep.iamPages.set(key, new Set([...(sweep.iamPages.get(key) ?? []), ...v]));
    }
    return answer;
  };
}

describe(`AWS STS and Organizations conformance with ${sts.source} and ${organizations.source} (${sts.revision}, ${organizations.revision})`, () => {
  const cases = SHAPES.flatMap((shape) => Array.from({ length: SEEDS }, (_, i) => [shape, i + 1] as const));
  it.each(cases)("%s answers, seed %i: every listed account with an id is a scope that never fails, one without is named, every page read", async (shape, seed) => {
    const dir = mkdtempSync(join(tmpdir(), "whohas-conformance-org-"));
    const source = {
      id: "aws-org",
      type: "aws-iam",
      access_key_id: "env:WHOHAS_CONFORMANCE_AWS_KEY",
      secret_access_key: "env:WHOHAS_CONFORMANCE_AWS_SECRET",
      role_arn: `arn:aws:iam::${ACCOUNT}:role/whohas-audit`,
      organization: true,
      endpoints: { iam: aws!.url, sts: aws!.url, organizations: aws!.url },
      access_key_ids: true,
    };
    const config = parseConfig(stringify({ store: { path: join(dir, "w.db") }, sources: [source] }), join(dir, "w.toml"), CONNECTORS);
    const sweep: OrgSweep = { answers: 0, assumed: [], accountPages: new Set(), listed: new Map(), withoutId: 0, iam: new Map(), iamPages: new Map() };
    const registered: string[] = [];
    current = orgOverride(shape, seed, sweep, (accessKeyId, secretAccessKey, sessionToken, accountId, roleArn) => {
      registered.push(accessKeyId);
      aws!.org.identities.set(accessKeyId, { accessKeyId, secretAccessKey, sessionToken, accountId, arn: roleArn, userId: `AROA${accessKeyId}`, roleArn });
    });
    const ctx = testContext();
    const result = await collect(config, { log: ctx.log, env: { ...process.env, ...env } });
    current = undefined;
    for (const k of registered) aws!.org.identities.delete(k);

    expect(result.scopes.filter((s) => s.status === "failed").map((s) => `${s.scope}: ${s.error}`)).toEqual([]);
    expect([...sweep.accountPages].sort()).toEqual(["", "conformance-accounts-2"]);
    const collectable = [...sweep.listed].filter(([, active]) => active).map(([id]) => id);
    expect(result.scopes.map((s) => s.scope).sort()).toEqual(collectable.sort());
    // The hop into the audit role (again whenever a generated Expiration has passed), and the member role of
    // every collected account but the audit account itself.
    expect(sweep.assumed[0]).toBe(source.role_arn);
    expect(new Set(sweep.assumed.filter((arn) => arn !== source.role_arn))).toEqual(
      new Set(collectable.filter((id) => id !== ACCOUNT).map((id) => `arn:aws:iam::${id}:role/OrganizationAccountAccessRole`)),
    );
    if (sweep.withoutId > 0) expect(ctx.logged.some((l) => l.level === "warn" && /without an Id/.test(l.msg ?? ""))).toBe(true);
    for (const [key, markers] of sweep.iamPages) expect([key, [...markers].sort()]).toEqual([key, ["", key.includes(":keys:") ? "conformance-keys-2" : `conformance-${key.split(":").pop()}-2`]]);
    const db = openStore(join(dir, "w.db"), { readonly: true });
    try {
      const q = quarantineOf(db, result.runId);
      for (const r of q) expect(r.reason.length).toBeGreaterThan(0);
      let served = 0;
      const ids = new Set<string>();
      for (const a of sweep.iam.values()) {
        served += a.served.usersAndRoles;
        for (const id of a.served.ids) ids.add(id);
      }
      const stored = (db.prepare("SELECT id FROM principals WHERE to_run IS NULL").pluck().all() as string[]).filter((id) => ids.has(id)).length;
      expect(stored + q.filter((r) => r.table === "principals").length).toBe(served);
      expect(holdersWithoutPrincipal(db)).toBe(0);
      if (process.env.WHOHAS_CONFORMANCE_REPORT) {
        process.stderr.write(
          `org ${shape}/${seed}: ${sweep.answers} generated answers (${sweep.assumed.length} AssumeRole, ${sweep.accountPages.size} ListAccounts); ` +
            `accounts listed ${sweep.listed.size + sweep.withoutId} (${sweep.withoutId} without Id); ` +
            `scopes ${result.scopes.map((x) => `${x.scope}:${x.status} p${x.principals} q${x.quarantined} u${x.unresolved}`).join(", ")}\n`,
        );
      }
    } finally {
      db.close();
    }
  });
});

describe("AWS answers without what the connector cannot go on without: a named failure, never a made-up scope", () => {
  const run = async (source: Record<string, unknown>, override: (call: OverrideCall) => string | undefined) => {
    const dir = mkdtempSync(join(tmpdir(), "whohas-conformance-named-"));
    const config = parseConfig(stringify({ store: { path: join(dir, "w.db") }, sources: [{ id: "aws", type: "aws-iam", access_key_id: "env:WHOHAS_CONFORMANCE_AWS_KEY", secret_access_key: "env:WHOHAS_CONFORMANCE_AWS_SECRET", endpoints: { iam: aws!.url, sts: aws!.url, organizations: aws!.url }, ...source }] }), join(dir, "w.toml"), CONNECTORS);
    current = override;
    try {
      return await collect(config, { log: testContext().log, env: { ...process.env, ...env } });
    } finally {
      current = undefined;
    }
  };

  it("GetCallerIdentity with no Account and no account in its Arn (the model's minimal answer) fails the source by name; with an Arn, its account is the scope", async () => {
    const empty = await run({}, (call) => (call.service === "sts" && call.action === "GetCallerIdentity" ? renderQuery(sts.shapes, "GetCallerIdentityResponse", {}) : undefined));
    expect(empty.scopes.map((s) => [s.scope, s.status])).not.toContainEqual(["", expect.anything()]);
    expect(empty.scopes.filter((s) => s.status === "failed").map((s) => s.error)).toEqual([expect.stringContaining("sts:GetCallerIdentity named no account")]);
    const arnOnly = await run({}, (call) =>
      call.service === "sts" && call.action === "GetCallerIdentity" ? renderQuery(sts.shapes, "GetCallerIdentityResponse", { Arn: `arn:aws:iam::${ACCOUNT}:user/ci` }) : undefined,
    );
    expect(arnOnly.scopes.map((s) => [s.scope, s.status])).toEqual([[ACCOUNT, "ok"]]);
  });

  it("AssumeRole without Credentials (optional in the model) fails that account by name, not the organization", async () => {
    const { org } = aws!;
    const members = [...org.accounts.keys()];
    const result = await run({ organization: true }, (call) => (call.service === "sts" && call.action === "AssumeRole" ? renderQuery(sts.shapes, "AssumeRoleResponse", { PackedPolicySize: 0 }) : undefined));
    const failed = result.scopes.filter((s) => s.status === "failed");
    expect(failed.length).toBe(members.filter((id) => id !== ACCOUNT && org.accounts.get(id)!.state === "ACTIVE").length);
    for (const s of failed) expect(s.error).toMatch(/sts:AssumeRole .* returned no credentials/);
    expect(result.scopes.find((s) => s.scope === ACCOUNT)?.status).toBe("ok");
  });
});

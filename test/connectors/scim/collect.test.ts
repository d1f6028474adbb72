// The SCIM connector through the real collect engine and store, against the loopback SCIM service:
// paging (server page caps, short pages, a list that shifts), throttling, errors, secrets, hostile names.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CONNECTORS } from "../../../connectors/index.js";
import { createScimConnector, scimConnector } from "../../../connectors/scim/index.js";
import { mutations } from "../../../connectors/scim/sim-tenant.js";
import { listRequest, scimServerErrorFault, scimThrottleFault, type ScimSimulator } from "../../../connectors/scim/simulator.js";
import { parseConfig } from "../../../src/config/load.js";
import { diffRuns } from "../../../src/diff/differ.js";
import { evaluate } from "../../../src/rules/evaluate.js";
import { DEFAULT_RETRY_POLICY } from "../../../src/http-policy.js";
import { openStore } from "../../../src/store/db.js";
import { inventoryAt } from "../../../src/store/reader.js";
import { timedCollect, type LogLine } from "../../reliability/run.js";
import { startSim, TestClock, TOKEN_ENV } from "./setup.js";

const HOSTILE = [
  { userName: "<script>alert(1)</script>@example.com", displayName: "Robert'); DROP TABLE principals;--", email: "bobby@example.com", groups: ["Admins"] },
  { userName: "\u202Eexe.nimda@example.com", displayName: "line one\nline two\t\"quoted\" ${HOME} `id`", email: "=HYPERLINK(\"http://evil\")@example.com" },
];

let dir: string;
let sim: ScimSimulator;
const clock = new TestClock();

function config(extra = ""): ReturnType<typeof parseConfig> {
  const path = join(dir, "whohas.toml");
  const text = `[store]\npath = ${JSON.stringify(join(dir, "whohas.db"))}\n\n[[sources]]\nid = "app"\ntype = "scim"\nbase_url = ${JSON.stringify(sim.baseUrl)}\ntoken = "env:${TOKEN_ENV}"\nlabel = "Test app"\nadmin_groups = ["Admins", "*-owners"]\npage_size = 100\n${extra}`;
  writeFileSync(path, text, { mode: 0o600 });
  return parseConfig(text, path, CONNECTORS);
}

const env = () => ({ [TOKEN_ENV]: sim.tenant.token });

beforeAll(async () => {
  vi.spyOn(scimConnector, "create").mockImplementation((id, opts) => createScimConnector(id, opts, { sleep: clock.sleep, policy: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1 } }));
  dir = mkdtempSync(join(tmpdir(), "whohas-scim-"));
  // 1,000 generated users behind a server that caps pages at 100 whatever `count` asks.
  sim = await startSim({ seed: 12, users: 998, groups: 4, named: HOSTILE }, { maxPageSize: 100 });
  sim.tenant.groups.push({ id: "g-hostile", displayName: "<b>ops</b>-owners", members: [{ value: sim.tenant.users[5]!.id, type: "User" }], created: "2024-01-01T00:00:00Z", lastModified: "2024-01-01T00:00:00Z" });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  sim.sim.clearFaults();
  sim.clearQuirks();
  clock.waits.length = 0;
});

async function collectOnce(cfg = config()) {
  sim.sim.resetCounters();
  sim.pagesAsked.Users.length = 0;
  sim.pagesAsked.Groups.length = 0;
  const run = await timedCollect(cfg, env());
  expect(run.hung).toBe(false);
  return run;
}

describe("scim connector through the collect engine", () => {
  let firstRun = 0;

  it("collects every user across pages, one request per page", async () => {
    const { result } = await collectOnce();
    firstRun = result.runId;
    const scope = result.scopes.find((s) => s.source === "app")!;
    expect(scope.status).toBe("ok");
    expect(scope.label).toBe("Test app");
    expect(scope.principals).toBe(1000);
    // 1,000 users at 100 a page and 8 groups on one page: 11 requests, all counted.
    expect(sim.pagesAsked.Users).toHaveLength(10);
    expect(sim.pagesAsked.Groups).toHaveLength(1);
    expect(scope.requests).toBe(11);
    expect(sim.sim.requestCount).toBe(11);
    expect(sim.pagesAsked.Users.map((p) => p.startIndex)).toEqual([1, 101, 201, 301, 401, 501, 601, 701, 801, 901]);
    expect(scope.meta).toMatchObject({ users: 1000, groups: 8, users_pages: 10, groups_pages: 1, activity_unknown_reason: expect.stringMatching(/SCIM .*no last-activity/) });
  });

  it("stores what the tenant says: status, email, manager, department, group and role grants", () => {
    const db = openStore(config().store.path, { readonly: true });
    try {
      const stored = new Map([...inventoryAt(db, firstRun, { source: ["app"] })].map((p) => [p.id, p]));
      expect(stored.size).toBe(1000);
      const admins = sim.tenant.groups.find((g) => g.displayName === "Admins")!.members.map((m) => m.value);
      for (const u of sim.tenant.users) {
        const p = stored.get(u.id)!;
        expect(p.name).toBe(u.userName);
        expect(p.email).toBe(u.email);
        expect(p.status).toBe(u.active ? "active" : "disabled");
        expect(p.lastActive).toMatchObject({ at: null, known: false });
        expect(p.accessLevel).toBe(admins.includes(u.id) || u.id === sim.tenant.users[5]!.id ? "admin" : "read");
        if (u.department) expect(p.attributes?.department).toBe(u.department);
        if (u.managerId) expect(p.attributes?.manager_id).toBe(u.managerId);
      }
      const engineer = sim.tenant.users.find((u) => u.department === "Engineering")!;
      expect(stored.get(engineer.id)!.grants.map((g) => `${g.privilege}/${g.via}`)).toEqual(expect.arrayContaining(["group:Engineering/direct", "group:Everyone/direct"]));
      const billing = sim.tenant.users.find((u) => u.roles.includes("billing"));
      if (billing) expect(stored.get(billing.id)!.grants.find((g) => g.privilege === "role:billing")).toMatchObject({ level: "read", via: "direct" });
    } finally {
      db.close();
    }
  });

  it("stores hostile names exactly as the service sent them", () => {
    const db = openStore(config().store.path, { readonly: true });
    try {
      const all = [...inventoryAt(db, firstRun, { source: ["app"] })];
      for (const h of HOSTILE) {
        const p = all.find((x) => x.name === h.userName)!;
        expect(p).toBeDefined();
        expect(p.displayName).toBe(h.displayName);
        expect(p.email).toBe(h.email);
      }
      expect(all.find((x) => x.name === HOSTILE[0]!.userName)!.accessLevel).toBe("admin");
      expect(all.find((x) => x.id === sim.tenant.users[5]!.id)!.grants.map((g) => g.privilege)).toContain("group:<b>ops</b>-owners");
    } finally {
      db.close();
    }
  });

  it("sees a deactivation and a new admin in the next run", async () => {
    const change = mutations(sim.tenant);
    const leaver = sim.tenant.users.find((u) => u.active && u.department === "Sales")!;
    const promoted = sim.tenant.users.find((u) => u.active && u.department === "Support" && !sim.tenant.groups[0]!.members.some((m) => m.value === u.id))!;
    change.deactivate(leaver.userName);
    change.addToGroup(promoted.userName, "Admins");
    const { result } = await collectOnce();
    const db = openStore(config().store.path, { readonly: true });
    try {
      const diff = diffRuns(db, firstRun, result.runId);
      expect(diff.principals.changed.map((c) => [c.name, c.events])).toEqual([[leaver.userName, ["disabled"]]]);
      expect(diff.grants.added.map((g) => `${g.principalName}:${g.name}`)).toEqual([`${promoted.userName}:group:Admins`]);
      expect(diff.accessLevels.map((a) => `${a.name}:${a.before}→${a.after}`)).toEqual([`${promoted.userName}:read→admin`]);
      const findings = evaluate(db, config(), result.runId, diff).findings;
      expect(findings.filter((f) => f.rule === "new-admin").map((f) => f.subject)).toEqual([`app/${scopeId()}/${promoted.userName}`]);
      expect(findings.find((f) => f.rule === "cannot-assess" && f.source === "app")?.detail).toMatch(/SCIM/);
      expect(findings.filter((f) => f.rule === "dormant-account" && f.source === "app")).toEqual([]);
    } finally {
      db.close();
    }
  });

  it("honours Retry-After on 429 and recovers the page", async () => {
    sim.sim.injectFault({ fault: scimThrottleFault(7), match: listRequest("/scim/v2", "Users", 301), times: 2 });
    const { result } = await collectOnce();
    const scope = result.scopes.find((s) => s.source === "app")!;
    expect(scope.status).toBe("ok");
    expect(scope.principals).toBe(1000);
    expect(scope.requests).toBe(11 + 2);
    expect(clock.waits).toEqual([7000, 7000]);
  });

  it("retries a 500 with backoff", async () => {
    sim.sim.injectFault({ fault: scimServerErrorFault(), match: listRequest("/scim/v2", "Groups"), times: 1 });
    const { result } = await collectOnce();
    const scope = result.scopes.find((s) => s.source === "app")!;
    expect(scope.status).toBe("ok");
    expect(scope.requests).toBe(12);
    expect(clock.waits).toHaveLength(1);
  });

  it("fails the scope when 500 persists, naming source, service and the SCIM error, and keeps the stored accounts", async () => {
    sim.sim.injectFault({ fault: scimServerErrorFault(), match: listRequest("/scim/v2", "Users", 501) });
    const before = await collectOnce();
    const scope = before.result.scopes.find((s) => s.source === "app")!;
    expect(scope.status).toBe("failed");
    expect(scope.error).toMatch(new RegExp(`^source app, SCIM service ${escape(scopeId())}: GET /Users\\?startIndex=501&count=100 → 500 Internal Server Error: SCIM error: "Internal server error"`));
    expect(clock.waits).toHaveLength(DEFAULT_RETRY_POLICY.maxAttempts - 1);
    const db = openStore(config().store.path, { readonly: true });
    try {
      expect([...inventoryAt(db, before.result.runId, { source: ["app"] })]).toHaveLength(1000);
    } finally {
      db.close();
    }
  });

  it("reads a short page's gap before going on", async () => {
    sim.shortPage("Users", 201, 30);
    const { result } = await collectOnce();
    const scope = result.scopes.find((s) => s.source === "app")!;
    expect(scope.status).toBe("ok");
    expect(scope.principals).toBe(1000);
    expect(sim.pagesAsked.Users.map((p) => `${p.startIndex}+${p.count}`)).toContain("231+70");
    expect(scope.meta).toMatchObject({ users_short_pages: 1 });
    expect(scope.meta?.users_duplicates).toBeUndefined();
  });

  it("reads the list again when it shifted under index paging, so nobody looks removed", async () => {
    const victim = sim.tenant.users[10]!;
    // Between page 1 and page 2 an early account is deleted: everyone after it moves up one place.
    sim.beforePage("Users", 101, () => mutations(sim.tenant).removeUser(victim.userName));
    const { result } = await collectOnce();
    const scope = result.scopes.find((s) => s.source === "app")!;
    expect(scope.status).toBe("ok");
    // The first pass counted the deleted account and missed the one that moved up past the read position.
    expect(scope.meta?.users_second_pass).toBe("first pass saw 999 distinct of 999, and the count changed while it was read");
    expect(scope.meta?.users_pages).toBe(20);
    const db = openStore(config().store.path, { readonly: true });
    try {
      const diff = diffRuns(db, result.runId - 1, result.runId);
      // Nobody still there looks removed; the deleted account, already read, is closed by the next run.
      expect(diff.principals.removed).toEqual([]);
      expect(diff.principals.added).toEqual([]);
    } finally {
      db.close();
    }
  });

  it("fails a page that does not advance instead of looping", async () => {
    sim.stallPage("Users", 401);
    const { result } = await collectOnce();
    const scope = result.scopes.find((s) => s.source === "app")!;
    expect(scope.status).toBe("failed");
    expect(scope.error).toMatch(/Users startIndex=401: the server returned no resources although totalResults is 999 \(a page that does not advance\)/);
    expect(scope.requests).toBeLessThan(15);
  });

  it("names a wrong token's 401 and never writes the token anywhere", async () => {
    const real = sim.tenant.token;
    const logs: LogLine[] = [];
    const given = env();
    sim.tenant.token = "the-server-wants-another-token";
    try {
      const run = await timedCollect(config(), given);
      logs.push(...run.logs);
      const scope = run.result.scopes.find((s) => s.source === "app")!;
      expect(scope.status).toBe("failed");
      expect(scope.error).toBe(
        `source app, SCIM service ${scopeId()}: GET /Groups?startIndex=1&count=100 → 401 Unauthorized: SCIM error invalidToken: "Authorization failure. The authorization header is invalid or missing."`,
      );
      expect(scope.requests).toBe(1);
    } finally {
      sim.tenant.token = real;
    }
    const ok = await collectOnce();
    logs.push(...ok.logs);
    const dbBytes = readFileSync(config().store.path).toString("latin1");
    expect(dbBytes.includes(real)).toBe(false);
    expect(JSON.stringify(logs).includes(real)).toBe(false);
  });

  it("refuses a redirect to another origin without sending the token there", async () => {
    const elsewhere = await startSim({ seed: 99, users: 3 });
    try {
      sim.sim.injectFault({ fault: { kind: "status", status: 307, headers: { location: `${elsewhere.baseUrl}/Users?startIndex=1&count=100` } }, match: listRequest("/scim/v2", "Users"), times: 1 });
      const { result } = await collectOnce();
      const scope = result.scopes.find((s) => s.source === "app")!;
      expect(scope.status).toBe("failed");
      expect(scope.error).toMatch(/GET \/Users\?startIndex=1&count=100 → ForeignOriginError: HTTP 307 redirect points to http:\/\/127\.0\.0\.1:\d+, outside http:\/\/127\.0\.0\.1:\d+: refused, nothing was sent there/);
      expect(elsewhere.sim.requestCount).toBe(0);
    } finally {
      await elsewhere.close();
    }
  });

  it("follows a same-origin redirect", async () => {
    sim.sim.injectFault({ fault: { kind: "status", status: 308, headers: { location: `/scim/v2/Groups?startIndex=1&count=100&moved=1` } }, match: (r) => listRequest("/scim/v2", "Groups")(r) && !r.url.searchParams.has("moved"), times: 1 });
    const { result } = await collectOnce();
    expect(result.scopes.find((s) => s.source === "app")).toMatchObject({ status: "ok", requests: 12 });
  });
});

function scopeId(): string {
  const u = new URL(sim.baseUrl);
  return `${u.host}${u.pathname}`;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

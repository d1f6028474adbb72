// Through the core collect engine, the store and the differ: Google's last-login flip is not a change, and
// the demo's mutations show up as the diff the demo promises.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../../connectors/index.js";
import { googleWorkspaceConnector } from "../../../connectors/google-workspace/index.js";
import { collect } from "../../../src/collect.js";
import { parseConfig, type Config } from "../../../src/config/load.js";
import type { Logger } from "../../../src/connector.js";
import { diffRuns } from "../../../src/diff/differ.js";
import { evaluate } from "../../../src/rules/evaluate.js";
import { openStore } from "../../../src/store/db.js";
import { inventoryAt, scopeRuns } from "../../../src/store/reader.js";
import { setup, type Setup } from "./setup.js";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function storeDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "whohas-gws-store-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A whohas.toml with one google-workspace source, read by the core's own loader. */
function config(dir: string, options: Record<string, unknown>): Config {
  const lines = ["[store]", `path = ${JSON.stringify(join(dir, "whohas.db"))}`, "", "[[sources]]", 'id = "google"', 'type = "google-workspace"'];
  for (const [k, v] of Object.entries(options)) if (v !== undefined) lines.push(`${k} = ${JSON.stringify(v)}`);
  return parseConfig(lines.join("\n") + "\n", join(dir, "whohas.toml"), CONNECTORS);
}

describe("through the store", () => {
  it("a user flipping from a login date to Google's 1970 keeps the date, is noted as a regression, and is not reported dormant", async () => {
    // The tenant's clock is the real one so the run's dormancy window applies to its dates.
    const s: Setup = await setup({ users: 20, now: new Date() });
    cleanup.push(() => s.close());
    const dir = await storeDir();
    const cfg = config(dir, { subject: `admin@${s.google.tenant.domain}`, credentials: `file:${s.keyPath}`, root_url: s.google.rootUrl, token_url: s.google.tokenUrl });
    const grace = `grace.hopper@${s.google.tenant.domain}`;

    const run1 = await collect(cfg, { log: quiet });
    expect(run1.status).toBe("ok");
    s.google.tenant.setLastLogin(grace, null);
    const run2 = await collect(cfg, { log: quiet });
    expect(run2.status).toBe("ok");

    const db = openStore(cfg.store.path);
    try {
      const before = [...inventoryAt(db, run1.runId)].find((p) => p.email === grace)!;
      const after = [...inventoryAt(db, run2.runId)].find((p) => p.email === grace)!;
      expect(before.lastActive.at).not.toBeNull();
      expect(after.lastActive).toEqual(before.lastActive);
      expect(scopeRuns(db, run2.runId)[0]!.meta).toMatchObject({ activity_regressions: 1 });
      const diff = diffRuns(db, run1.runId, run2.runId);
      expect(diff.principals.changed).toEqual([]);
      expect(diff.accessLevels).toEqual([]);
      const dormantGrace = (runId: number) => evaluate(db, cfg, runId).findings.filter((f) => f.rule === "dormant-account" && f.principalId === before.id);
      expect(dormantGrace(run1.runId)).toEqual([]);
      expect(dormantGrace(run2.runId)).toEqual([]);
    } finally {
      db.close();
    }
  });

  it("demo: new super admin, removed account, suspended leaver and new credentials appear in the diff", async () => {
    const dir = await storeDir();
    const demo = await googleWorkspaceConnector.demo!(dir);
    cleanup.push(() => demo.close());
    const keyFile = String(demo.options.credentials).slice("file:".length);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const cfg = config(dir, demo.options);

    // The demo tenant carries one user whose name arrives as a number: quarantined, so each run is partial
    // with exactly that record held back and everything else stored.
    const run1 = await collect(cfg, { log: quiet });
    expect(run1.status).toBe("partial");
    expect(run1.scopes.map((s) => s.quarantined)).toEqual([1]);
    await demo.mutate();
    const run2 = await collect(cfg, { log: quiet });
    expect(run2.status).toBe("partial");
    expect(run2.scopes.map((s) => s.quarantined)).toEqual([1]);

    const db = openStore(cfg.store.path);
    try {
      const d = diffRuns(db, run1.runId, run2.runId);
      expect(d.scopes.every((x) => x.compared)).toBe(true);
      const up = d.accessLevels.filter((a) => a.direction === "up");
      expect(up).toHaveLength(1);
      expect(up[0]).toMatchObject({ before: "none", after: "admin" });
      expect(d.grants.added.map((g) => g.name)).toContain("_SEED_ADMIN_ROLE");
      expect(d.principals.removed).toHaveLength(1);
      const grace = d.principals.changed.find((c) => c.name === "grace.hopper@example.com")!;
      expect(grace.changes).toContainEqual({ field: "status", before: "active", after: "suspended" });
      expect(d.credentials.added.map((c) => c.name).sort()).toEqual(["Free PDF Converter", "Legacy scanner"]);
      // The removed user's credentials leave with it.
      expect(d.credentials.removed.every((c) => c.principalId === d.principals.removed[0]!.id)).toBe(true);
    } finally {
      db.close();
    }
  });
});

describe("role assignments with one holder, role and scope", () => {
  it("stay one grant each, keyed by roleAssignmentId (the object remediation removes), through the googleapis client and the store", async () => {
    const s: Setup = await setup({ users: 10, now: new Date() });
    cleanup.push(() => s.close());
    const dir = await storeDir();
    const cfg = config(dir, { subject: `admin@${s.google.tenant.domain}`, credentials: `file:${s.keyPath}`, root_url: s.google.rootUrl, token_url: s.google.tokenUrl });
    const grace = `grace.hopper@${s.google.tenant.domain}`;
    const role = s.google.tenant.roles.find((r) => !r.isSuperAdminRole)!;
    // The Discovery description gives each assignment its own roleAssignmentId and nothing forbids a second
    // assignment of the same role to the same user on the same scope (Google keeps both; each is deleted alone).
    const first = s.google.tenant.assignRole(grace, role.roleName);
    const second = s.google.tenant.assignRole(grace, role.roleName);
    expect(first.roleAssignmentId).not.toBe(second.roleAssignmentId);

    const run = await collect(cfg, { log: quiet });
    expect(run.status).toBe("ok");
    const db = openStore(cfg.store.path, { readonly: true });
    try {
      const rows = db.prepare("SELECT attributes FROM grants WHERE to_run IS NULL AND privilege = ?").pluck().all(role.roleName) as string[];
      const ids = rows.map((a) => (JSON.parse(a) as { roleAssignmentId: string }).roleAssignmentId);
      expect(ids).toEqual(expect.arrayContaining([first.roleAssignmentId, second.roleAssignmentId]));
      expect(new Set(ids).size).toBe(ids.length);
      // Only the further assignment carries its roleAssignmentId in its identity: every other Google grant keeps
      // the id it had before, so an upgrade shows no removed-and-added grants.
      const instances = db.prepare("SELECT id FROM grants WHERE to_run IS NULL").pluck().all() as string[];
      expect(instances.filter((id) => id.split("\u001f").length > 4)).toHaveLength(1);
    } finally {
      db.close();
    }
  });
});

import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Principal } from "../../src/model.js";
import { openStore, type Db } from "../../src/store/db.js";
import { acquireLock, LockError } from "../../src/store/lock.js";
import { pruneRuns } from "../../src/store/prune.js";
import { inventoryAt, scopeRuns } from "../../src/store/reader.js";
import { contentHash, legacyContentHash, storedHash, TABLE_COLUMNS, verifyChain } from "../../src/store/integrity.js";
import { recoverInterruptedRuns, RunWriter } from "../../src/store/writer.js";
import { asDigestFormat2 } from "../helpers/digest-format.js";

function tempDb(): { db: Db; path: string } {
  const path = join(mkdtempSync(join(tmpdir(), "whohas-store-")), "s.db");
  return { db: openStore(path), path };
}

const person = (id: string, over: Partial<Principal> = {}): Principal => ({
  id,
  kind: "human",
  name: id,
  email: `${id}@example.com`,
  status: "active",
  mfa: "enabled",
  lastActive: { at: "2026-11-01T00:00:00.000Z", known: true },
  ...over,
});

function runWith(db: Db, scopes: Record<string, { principals?: Principal[]; fail?: string }>): number {
  const run = RunWriter.begin(db);
  for (const [scope, data] of Object.entries(scopes)) {
    const w = run.openScope("src", "file", scope);
    w.write({ principals: data.principals ?? [] });
    if (data.fail) w.fail(data.fail);
    else w.end();
  }
  run.finish();
  return run.runId;
}

const count = (db: Db, sql: string) => (db.prepare(sql).get() as { n: number }).n;
const names = (db: Db, run: number) => [...inventoryAt(db, run)].map((p) => `${p.scope}:${p.name}:${p.status}`).sort();

describe("temporal store", () => {
  it("creates the database file 0600 and its WAL 0600", () => {
    const { db, path } = tempDb();
    runWith(db, { a: { principals: [person("u1")] } });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(path + "-wal").mode & 0o777).toBe(0o600);
  });

  it("writes no new version for an unchanged entity, a new one for a changed entity, and closes a removed one", () => {
    const { db } = tempDb();
    const r1 = runWith(db, { a: { principals: [person("u1"), person("u2"), person("u3")] } });
    expect(count(db, "SELECT COUNT(*) n FROM principals")).toBe(3);
    const r2 = runWith(db, { a: { principals: [person("u1"), person("u2"), person("u3")] } });
    expect(count(db, "SELECT COUNT(*) n FROM principals")).toBe(3);
    expect(count(db, "SELECT COUNT(*) n FROM activity")).toBe(3);
    const r3 = runWith(db, { a: { principals: [person("u1"), person("u2", { status: "suspended" })] } });
    expect(count(db, "SELECT COUNT(*) n FROM principals")).toBe(4);
    expect(count(db, "SELECT COUNT(*) n FROM principals WHERE to_run IS NULL")).toBe(2);
    // Every run still reads what held at the time.
    expect(names(db, r1)).toEqual(["a:u1:active", "a:u2:active", "a:u3:active"]);
    expect(names(db, r2)).toEqual(names(db, r1));
    expect(names(db, r3)).toEqual(["a:u1:active", "a:u2:suspended"]);
  });

  it("keeps a failed scope exactly as it was and stores the scopes that worked", () => {
    const { db } = tempDb();
    runWith(db, { a: { principals: [person("u1"), person("u2")] }, b: { principals: [person("v1")] } });
    // Scope a fails after delivering only part of its data: nothing of that run may stick.
    const r2 = runWith(db, { a: { principals: [person("u1", { status: "disabled" })], fail: "boom" }, b: { principals: [person("v1"), person("v2")] } });
    expect(names(db, r2)).toEqual(["a:u1:active", "a:u2:active", "b:v1:active", "b:v2:active"]);
    const statuses = scopeRuns(db, r2).map((s) => `${s.scope}:${s.status}:${s.error ?? ""}`);
    expect(statuses).toEqual(["a:failed:boom", "b:ok:"]);
  });

  it("recovers a run interrupted mid-write: earlier runs intact, the run marked failed, its writes undone", () => {
    const { db } = tempDb();
    const r1 = runWith(db, { a: { principals: [person("u1"), person("u2")] } });
    const crashed = RunWriter.begin(db);
    const w = crashed.openScope("src", "file", "a");
    w.write({ principals: [person("u1", { mfa: "disabled" }), person("u9")] });
    // the process dies here: no end(), no finish()
    expect(recoverInterruptedRuns(db)).toEqual([crashed.runId]);
    const run = db.prepare("SELECT status, error FROM runs WHERE id = ?").get(crashed.runId) as { status: string; error: string };
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/interrupted/);
    expect(count(db, "SELECT COUNT(*) n FROM principals")).toBe(2);
    expect(names(db, r1)).toEqual(["a:u1:active", "a:u2:active"]);
    const r3 = runWith(db, { a: { principals: [person("u1"), person("u2")] } });
    expect(names(db, r3)).toEqual(names(db, r1));
    expect(count(db, "SELECT COUNT(*) n FROM principals")).toBe(2);
  });

  it("never moves last activity backwards and counts the regression", () => {
    const { db } = tempDb();
    runWith(db, { a: { principals: [person("u1", { lastActive: { at: "2026-11-20T00:00:00.000Z", known: true } })] } });
    const r2 = runWith(db, { a: { principals: [person("u1", { lastActive: { at: null, known: true } })] } });
    const [p] = [...inventoryAt(db, r2)];
    expect(p!.lastActive).toEqual({ at: "2026-11-20T00:00:00.000Z", known: true });
    expect(scopeRuns(db, r2)[0]!.meta).toEqual({ activity_regressions: 1 });
    // Unknown is a real state (licence lost), not a regression.
    const r3 = runWith(db, { a: { principals: [person("u1", { lastActive: { at: null, known: false } })] } });
    expect([...inventoryAt(db, r3)][0]!.lastActive.known).toBe(false);
  });

  it("takes the later record when a provider repeats an id within a run", () => {
    const { db } = tempDb();
    const r1 = runWith(db, { a: { principals: [person("u1"), person("u1", { status: "suspended" })] } });
    expect(names(db, r1)).toEqual(["a:u1:suspended"]);
    const r2 = runWith(db, { a: { principals: [person("u1"), person("u1", { status: "disabled" })] } });
    expect(names(db, r2)).toEqual(["a:u1:disabled"]);
    expect(count(db, "SELECT COUNT(*) n FROM principals WHERE from_run = to_run")).toBe(0);
    expect(verifyChain(db)).toEqual({ ok: true, checked: 2 });
  });

  it("writes a new scope's batches in multi-row inserts, and a repeat in a later batch still takes the later record", () => {
    const { db } = tempDb();
    const run = RunWriter.begin(db);
    const w = run.openScope("src", "file", "a");
    const many = Array.from({ length: 150 }, (_, i) => person(`u${i}`));
    w.write({ principals: many });
    w.write({ principals: [person("u7", { status: "suspended" }), person("x")] });
    w.end();
    run.finish();
    expect(count(db, "SELECT COUNT(*) n FROM principals")).toBe(151);
    expect(count(db, "SELECT COUNT(*) n FROM activity")).toBe(151);
    expect(names(db, run.runId).filter((n) => n !== "a:u7:suspended" && n.endsWith(":suspended"))).toEqual([]);
    expect(names(db, run.runId)).toContain("a:u7:suspended");
    expect(verifyChain(db)).toEqual({ ok: true, checked: 1 });
  });

  it("closes a removed entity when another was seen unchanged and then sent changed in a later batch of the same run", () => {
    const { db } = tempDb();
    const r1 = runWith(db, { a: { principals: [person("u1"), person("u2")] } });
    const run = RunWriter.begin(db);
    const w = run.openScope("src", "file", "a");
    w.write({ principals: [person("u1")] });
    w.write({ principals: [person("u1", { status: "suspended" })] });
    w.end();
    run.finish();
    // u2 was not sent: the run's count of versions it saw must not still count u1's closed one.
    expect(names(db, run.runId)).toEqual(["a:u1:suspended"]);
    expect(names(db, r1)).toEqual(["a:u1:active", "a:u2:active"]);
    expect(verifyChain(db)).toEqual({ ok: true, checked: 2 });
  });

  it("closes a removed entity after a batch the store refused was written again record by record", () => {
    const { db } = tempDb();
    runWith(db, { a: { principals: [person("u1"), person("u2")] } });
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON principals WHEN NEW.name = 'refused' BEGIN SELECT RAISE(ABORT, 'refused'); END");
    // u3 is written twice (the batch, then on its own): it must count once among the versions the run opened.
    const r2 = runWith(db, { a: { principals: [person("u1"), person("u3"), person("u4", { name: "refused" })] } });
    expect(names(db, r2)).toEqual(["a:u1:active", "a:u3:active"]);
    expect(scopeRuns(db, r2)[0]).toMatchObject({ status: "partial", quarantined: 1 });
    expect(verifyChain(db)).toEqual({ ok: true, checked: 2 });
  });

  it("gives a new grant of a holder whose only version was closed earlier an unresolved principal, while every listed principal is unchanged", () => {
    const { db } = tempDb();
    const write = (principals: Principal[], grants: { principalId: string; privilege: string }[] = []) => {
      const run = RunWriter.begin(db);
      const w = run.openScope("src", "file", "a");
      w.write({ principals, grants: grants.map((g) => ({ ...g, level: "admin" as const, scope: "tenant", via: "direct" as const })) });
      w.end();
      run.finish();
      return run.runId;
    };
    write([person("u1"), person("u2")]);
    write([person("u1")]);
    const r3 = write([person("u1")], [{ principalId: "u1", privilege: "Reader" }, { principalId: "u2", privilege: "Owner" }]);
    const inv = [...inventoryAt(db, r3)];
    expect(inv.map((p) => [p.id, p.kind, p.grants.map((g) => g.privilege)])).toEqual([
      ["u1", "human", ["Reader"]],
      ["u2", "unknown", ["Owner"]],
    ]);
    expect(scopeRuns(db, r3)[0]).toMatchObject({ status: "ok", unresolved: 1 });
  });

  it("prunes old runs without changing what the kept runs read", () => {
    const { db } = tempDb();
    runWith(db, { a: { principals: [person("u1"), person("u2")] } });
    runWith(db, { a: { principals: [person("u1", { status: "suspended" }), person("u2")] } });
    const r3 = runWith(db, { a: { principals: [person("u1", { status: "disabled" })] } });
    const r4 = runWith(db, { a: { principals: [person("u1", { status: "disabled" }), person("u3")] } });
    const before = [names(db, r3), names(db, r4)];
    const result = pruneRuns(db, 2);
    expect(result.removedRuns).toBe(2);
    expect([names(db, r3), names(db, r4)]).toEqual(before);
    expect(count(db, "SELECT COUNT(*) n FROM runs")).toBe(2);
  });
});

describe("evidence digest chain", () => {
  it("verifies after failed scopes, repeated ids, a crash and pruning; detects an edited version, closure or activity", () => {
    const { db } = tempDb();
    runWith(db, { a: { principals: [person("u1"), person("u2")] }, b: { principals: [person("v1")] } });
    runWith(db, { a: { principals: [person("u1", { mfa: "disabled" }), person("u1", { mfa: "unknown" })] }, b: { principals: [person("v2")], fail: "boom" } });
    const crashed = RunWriter.begin(db);
    crashed.openScope("src", "file", "a").write({ principals: [person("u9")] });
    const done = crashed.openScope("src", "file", "b");
    done.write({ principals: [person("v1", { status: "suspended" })] });
    done.end();
    recoverInterruptedRuns(db);
    runWith(db, { a: { principals: [person("u1", { lastActive: { at: "2026-11-25T00:00:00.000Z", known: true } })] } });
    expect(verifyChain(db)).toEqual({ ok: true, checked: 4 });
    pruneRuns(db, 2);
    expect(verifyChain(db)).toEqual({ ok: true, checked: 2 });

    const edits = [
      "UPDATE principals SET name = 'mallory' WHERE id = 'u1' AND to_run IS NULL",
      "UPDATE principals SET to_run = NULL WHERE to_run = 4",
      "UPDATE activity SET at = '2020-01-01T00:00:00.000Z' WHERE run = 4",
    ];
    for (const sql of edits) {
      const copy = tempDb();
      copy.db.close();
      db.prepare("VACUUM INTO ?").run(copy.path + ".x");
      const edited = openStore(copy.path + ".x");
      expect(edited.prepare(sql).run().changes).toBeGreaterThan(0);
      const r = verifyChain(edited);
      expect(r.ok, sql).toBe(false);
      expect(r.firstBad!.reason).toMatch(/no longer matches its digest/);
      edited.close();
    }
  });
});

describe("digest formats", () => {
  const hashes = (db: Db) => db.prepare(`SELECT sid, id, hash, ${TABLE_COLUMNS.principals.join(", ")} FROM principals ORDER BY vid`).raw().all() as unknown[][];

  it("verifies runs sealed in format 2; the next run keeps their unchanged versions and brings their hashes to format 3", () => {
    const { db } = tempDb();
    runWith(db, { a: { principals: [person("u1"), person("u2")] } });
    asDigestFormat2(db);
    expect(verifyChain(db)).toEqual({ ok: true, checked: 1 });
    const legacy = hashes(db);
    expect(legacy.every((r) => (r[2] as Buffer).equals(legacyContentHash(r.slice(3))))).toBe(true);

    runWith(db, { a: { principals: [person("u1"), person("u2")] } });
    expect(count(db, "SELECT COUNT(*) AS n FROM principals")).toBe(2);
    const now = hashes(db);
    expect(now.every((r) => (r[2] as Buffer).equals(storedHash(contentHash("principals", r[0] as number, r[1] as string, r.slice(3)))))).toBe(true);
    expect(now.every((r, i) => (r[2] as Buffer).length === (legacy[i]![2] as Buffer).length)).toBe(true);
    runWith(db, { a: { principals: [person("u1", { mfa: "disabled" })] } });
    expect(count(db, "SELECT COUNT(*) AS n FROM principals WHERE to_run = 3")).toBe(2);
    expect(db.prepare("SELECT id, digest_format AS f FROM runs ORDER BY id").all()).toEqual([{ id: 1, f: 2 }, { id: 2, f: 3 }, { id: 3, f: 3 }]);
    expect(verifyChain(db)).toEqual({ ok: true, checked: 3 });

    db.prepare("UPDATE principals SET name = 'mallory' WHERE id = 'u2' AND from_run = 1").run();
    expect(verifyChain(db).firstBad).toEqual({ runId: 1, reason: "its stored data no longer matches its digest" });
  });

  it("detects two versions swapping their vids and closures (a closure names its row by key)", () => {
    const { db } = tempDb();
    runWith(db, { a: { principals: [person("u1"), person("u2")] } });
    runWith(db, { a: { principals: [person("u2")] } });
    expect(verifyChain(db)).toEqual({ ok: true, checked: 2 });
    const [a, b] = db.prepare("SELECT vid FROM principals ORDER BY id").pluck().all() as number[];
    db.transaction(() => {
      db.prepare("UPDATE principals SET vid = -1, to_run = NULL WHERE vid = ?").run(a);
      db.prepare("UPDATE principals SET vid = ?, to_run = 2 WHERE vid = ?").run(a, b);
      db.prepare("UPDATE principals SET vid = ? WHERE vid = -1").run(b);
    })();
    expect(names(db, 2)).toEqual(["a:u1:active"]);
    expect(verifyChain(db).firstBad).toEqual({ runId: 2, reason: "its stored data no longer matches its digest" });
  });
});

describe("collect lock", () => {
  it("refuses a second holder with the owner's pid and frees on release", () => {
    const { path } = tempDb();
    const lock = acquireLock(path);
    expect(() => acquireLock(path)).toThrow(LockError);
    expect(() => acquireLock(path)).toThrow(`collect already running (pid ${process.pid})`);
    expect(statSync(lock.path).mode & 0o777).toBe(0o600);
    lock.release();
    acquireLock(path).release();
  });
});

// The store benchmark's stages that are not CLI commands, each run in a child process of its own by
// bench/store.ts (`node --import rss-probe.js store-stages.js STAGE ...`): it prints one JSON line of results.
import { Database } from "../src/store/sqlite.js";
import { CONNECTORS } from "../connectors/index.js";
import { loadConfig } from "../src/config/load.js";
import { diffRuns } from "../src/diff/differ.js";
import { findingSet, stateFindingSet } from "../src/rules/stored.js";
import { grantId, type Credential, type Grant, type Principal } from "../src/model.js";
import { openStore, type Db } from "../src/store/db.js";
import { RunWriter, sidFor } from "../src/store/writer.js";

const BATCH = 1000;
const day = 86_400_000;

/**
 * Deterministic synthetic records for principal i as of run variant `variant` (0: the baseline). Each
 * variant changes 1 % more of the principals than the one before (those with i % 100 in 1..variant), so
 * consecutive variants differ by 1 %. The mix is that of a well-run tenant: 5 % of accounts dormant, 10 % of
 * keys old and unused, 2 % without MFA. Ages are relative to `t0`: rules judge them against the run's start.
 */
export function recordsFor(i: number, variant: number, t0: number): { p: Principal; c?: Credential; g: Grant[] } {
  const id = `u${i.toString(36).padStart(6, "0")}`;
  const changed = variant > 0 && i % 100 >= 1 && i % 100 <= variant;
  const p: Principal = {
    id,
    kind: i % 10 === 0 ? "service" : "human",
    name: `user${i}@example.com`,
    email: `user${i}@example.com`,
    displayName: `User ${i}`,
    status: changed && i % 200 === 1 ? "suspended" : "active",
    mfa: i % 50 === 0 || (changed && i % 300 === 1) ? "disabled" : "enabled",
    createdAt: new Date(t0 - (100 + (i % 900)) * day).toISOString(),
    lastActive: { at: new Date(t0 - (i % 20 === 0 ? 91 + (i % 200) : i % 30) * day).toISOString(), known: true, signal: "lastSignIn" },
    attributes: { department: `dept-${i % 40}`, location: i % 2 === 0 ? "eu" : "us" },
  };
  const c: Credential | undefined =
    i % 2 === 0
      ? {
          id: `AKIA${i.toString(16).padStart(16, "0")}`,
          principalId: id,
          kind: "access_key",
          status: "active",
          createdAt: new Date(t0 - (i % 10 === 0 ? 100 + (i % 300) : i % 80) * day).toISOString(),
          lastUsed: { at: new Date(t0 - (i % 10 === 0 ? 95 + (i % 100) : i % 7) * day).toISOString(), known: true },
        }
      : undefined;
  const g: Grant[] = [{ principalId: id, privilege: `group-${i % 50}`, level: "read", scope: "tenant", via: "group" }];
  if (i % 2 === 1) g.push({ principalId: id, privilege: changed ? "Administrators" : "Developers", level: changed ? "admin" : "write", scope: "tenant", via: "direct" });
  return { p, c, g };
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** CPU seconds (user + system) since `start`: on a shared machine the ratio of two stages' CPU is steadier than of their wall time. */
function cpuSeconds(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

/** One collect run through the store's writer, as a connector's batches reach it. */
function ingest(path: string, n: number, variant: number, t0: number) {
  const db = openStore(path);
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const run = RunWriter.begin(db, "bench");
  const scope = run.openScope("bench", "synthetic", "tenant-1");
  let rows = 0;
  for (let i = 0; i < n; i += BATCH) {
    const principals: Principal[] = [];
    const credentials: Credential[] = [];
    const grants: Grant[] = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      const r = recordsFor(j, variant, t0);
      principals.push(r.p);
      if (r.c) credentials.push(r.c);
      grants.push(...r.g);
    }
    rows += principals.length + credentials.length + grants.length;
    scope.write({ principals, credentials, grants });
  }
  scope.end();
  run.finish();
  db.pragma("wal_checkpoint(TRUNCATE)");
  const s = seconds(start);
  const c = cpuSeconds(cpu);
  db.close();
  return { seconds: s, cpuSeconds: c, rows, runId: run.runId };
}

/**
 * An anchor's loop: the same rows as ingest, one transaction per batch, each record written by `insert` (which
 * returns how many rows it wrote), timed up to the WAL's last checkpoint as ingest is.
 */
function insertLoop(db: Db, n: number, t0: number, insert: (r: ReturnType<typeof recordsFor>) => number) {
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let rows = 0;
  for (let i = 0; i < n; i += BATCH) {
    const batch: ReturnType<typeof recordsFor>[] = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) batch.push(recordsFor(j, 0, t0));
    db.transaction(() => {
      for (const r of batch) rows += insert(r);
    })();
  }
  db.pragma("wal_checkpoint(TRUNCATE)");
  const s = seconds(start);
  const c = cpuSeconds(cpu);
  db.close();
  return { seconds: s, cpuSeconds: c, rows };
}

/** The floor: the same rows, prepared inserts into plain tables, one transaction per batch, no look-ups. */
function bare(path: string, n: number, t0: number) {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(`CREATE TABLE p (id TEXT, kind TEXT, name TEXT, email TEXT, display_name TEXT, status TEXT, mfa TEXT, created_at TEXT, attributes TEXT, last_active TEXT);
           CREATE TABLE c (id TEXT, principal_id TEXT, kind TEXT, status TEXT, created_at TEXT, last_used TEXT);
           CREATE TABLE g (principal_id TEXT, privilege TEXT, level TEXT, scope TEXT, via TEXT);`);
  const ip = db.prepare("INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const ic = db.prepare("INSERT INTO c VALUES (?, ?, ?, ?, ?, ?)");
  const ig = db.prepare("INSERT INTO g VALUES (?, ?, ?, ?, ?)");
  return insertLoop(db, n, t0, ({ p, c, g }) => {
    ip.run(p.id, p.kind, p.name, p.email, p.displayName, p.status, p.mfa, p.createdAt, JSON.stringify(p.attributes), p.lastActive!.at);
    if (c) ic.run(c.id, c.principalId, c.kind, c.status, c.createdAt, c.lastUsed!.at);
    for (const x of g) ig.run(x.principalId, x.privilege, x.level, x.scope, x.via);
    return 1 + (c ? 1 : 0) + g.length;
  });
}

/**
 * A second floor: the same rows into whohas's own schema (the version tables with their key indexes, the activity
 * table), with the writer's work left out: no look-ups, no content hash or digest, no validation. What separates
 * ingest from it is the writer; what separates it from the bare loop is the schema.
 */
function keyed(path: string, n: number, t0: number) {
  const db = openStore(path);
  const sid = sidFor(db, "bench", "synthetic", "tenant-1");
  const runId = Number(db.prepare("INSERT INTO runs (started_at, status, trigger) VALUES (?, 'running', 'bench')").run(new Date().toISOString()).lastInsertRowid);
  const hash = Buffer.alloc(20);
  const ip = db.prepare(
    "INSERT INTO principals (sid, id, from_run, hash, kind, name, email, display_name, status, mfa, created_at, access_level, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const ic = db.prepare("INSERT INTO credentials (sid, id, from_run, hash, principal_id, kind, name, status, created_at, expires_at, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const ig = db.prepare("INSERT INTO grants (sid, id, from_run, hash, principal_id, privilege, level, grant_scope, via, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const ia = db.prepare("INSERT INTO activity (sid, entity, id, run, at, known, signal) VALUES (?, ?, ?, ?, ?, ?, ?)");
  return insertLoop(db, n, t0, ({ p, c, g }) => {
    ip.run(sid, p.id, runId, hash, p.kind, p.name, p.email, p.displayName, p.status, p.mfa, p.createdAt, "none", JSON.stringify(p.attributes));
    ia.run(sid, 0, p.id, runId, p.lastActive!.at, 1, p.lastActive!.signal ?? null);
    if (c) {
      ic.run(sid, c.id, runId, hash, c.principalId, c.kind, null, c.status, c.createdAt, null, null);
      ia.run(sid, 1, c.id, runId, c.lastUsed!.at, 1, null);
    }
    for (const x of g) ig.run(sid, grantId(x), runId, hash, x.principalId, x.privilege, x.level, x.scope, x.via, null);
    return 1 + (c ? 1 : 0) + g.length;
  });
}

/** The yardstick for the rules: one read of every row the run holds (versions as of the run, and activity). */
function scan(path: string, runId: number) {
  const db = openStore(path, { readonly: true });
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let rows = 0;
  const at = "from_run <= @run AND (to_run IS NULL OR to_run > @run)";
  for (const q of [`SELECT * FROM principals WHERE ${at}`, `SELECT * FROM credentials WHERE ${at}`, `SELECT * FROM grants WHERE ${at}`, "SELECT * FROM activity WHERE run <= @run"]) {
    for (const _ of db.prepare(q).raw().iterate({ run: runId })) rows++;
  }
  const s = seconds(start);
  const c = cpuSeconds(cpu);
  db.close();
  return { seconds: s, cpuSeconds: c, rows };
}

/** The rules of run `to` against its diff from `from`, stored as findings; the previous run's state set too when asked. */
function rules(path: string, configPath: string, from: number, to: number, withPrevious: boolean) {
  const config = loadConfig(configPath, CONNECTORS);
  const db = openStore(path);
  const d = diffRuns(db, from, to);
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const previous = withPrevious ? stateFindingSet(db, config, from) : null;
  const set = findingSet(db, config, to, d);
  const s = seconds(start);
  const c = cpuSeconds(cpu);
  db.close();
  return { seconds: s, cpuSeconds: c, findings: set.reported, previousFindings: previous?.state ?? null };
}

const [stage, ...args] = process.argv.slice(2);
const num = (i: number) => Number(args[i]);
const result =
  stage === "ingest"
    ? ingest(args[0]!, num(1), num(2), num(3))
    : stage === "bare"
      ? bare(args[0]!, num(1), num(2))
      : stage === "keyed"
        ? keyed(args[0]!, num(1), num(2))
        : stage === "scan"
          ? scan(args[0]!, num(1))
          : stage === "rules"
            ? rules(args[0]!, args[1]!, num(2), num(3), args[4] === "with-previous")
            : undefined;
if (!result) {
  console.error(`unknown stage ${stage}`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(result) + "\n");

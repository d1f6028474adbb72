// Ingest and diff benchmark of the snapshot store: synthetic tenants of 100k and 1M principals with
// credentials and grants. Prints our rows/s next to a bare better-sqlite3 prepared-insert loop run in
// the same process, DB bytes after run 1 and after an unchanged run 2, diff time, and peak RSS.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../src/store/sqlite.js";
import { CONNECTORS } from "../connectors/index.js";
import { parseConfig } from "../src/config/load.js";
import { diffRuns } from "../src/diff/differ.js";
import { evaluate } from "../src/diff/evaluate.js";
import type { Credential, Grant, Principal } from "../src/model.js";
import { openStore } from "../src/store/db.js";
import { RunWriter } from "../src/store/writer.js";

const BATCH = 1000;
const day = 86_400_000;
// Ages are relative to the bench's start, because rules judge them against the run's own start time.
const T0 = Date.now();

/**
 * Deterministic synthetic records for principal i; `variant` changes a small share of them. The mix is
 * that of a well-run tenant: 5 % of accounts dormant, 10 % of keys old and unused, 2 % without MFA.
 */
function recordsFor(i: number, variant: number): { p: Principal; c?: Credential; g: Grant[] } {
  const id = `u${i.toString(36).padStart(6, "0")}`;
  const changed = variant > 0 && i % 100 === 1; // 1 % of principals change in the "changed" run
  const p: Principal = {
    id,
    kind: i % 10 === 0 ? "service" : "human",
    name: `user${i}@example.com`,
    email: `user${i}@example.com`,
    displayName: `User ${i}`,
    status: changed && i % 200 === 1 ? "suspended" : "active",
    mfa: i % 50 === 0 || (changed && i % 300 === 1) ? "disabled" : "enabled",
    createdAt: new Date(T0 - (100 + (i % 900)) * day).toISOString(),
    lastActive: { at: new Date(T0 - (i % 20 === 0 ? 91 + (i % 200) : i % 30) * day).toISOString(), known: true, signal: "lastSignIn" },
    attributes: { department: `dept-${i % 40}`, location: i % 2 === 0 ? "eu" : "us" },
  };
  const c: Credential | undefined =
    i % 2 === 0
      ? {
          id: `AKIA${i.toString(16).padStart(16, "0")}`,
          principalId: id,
          kind: "access_key",
          status: "active",
          createdAt: new Date(T0 - (i % 10 === 0 ? 100 + (i % 300) : i % 80) * day).toISOString(),
          lastUsed: { at: new Date(T0 - (i % 10 === 0 ? 95 + (i % 100) : i % 7) * day).toISOString(), known: true },
        }
      : undefined;
  const g: Grant[] = [{ principalId: id, privilege: `group-${i % 50}`, level: "read", scope: "tenant", via: "group" }];
  if (i % 2 === 1) g.push({ principalId: id, privilege: changed ? "Administrators" : "Developers", level: changed ? "admin" : "write", scope: "tenant", via: "direct" });
  return { p, c, g };
}

function ingest(path: string, n: number, variant: number): { seconds: number; rows: number; runId: number } {
  const db = openStore(path);
  const start = process.hrtime.bigint();
  const run = RunWriter.begin(db, "bench");
  const scope = run.openScope("bench", "synthetic", "tenant-1");
  let rows = 0;
  for (let i = 0; i < n; i += BATCH) {
    const principals: Principal[] = [];
    const credentials: Credential[] = [];
    const grants: Grant[] = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      const r = recordsFor(j, variant);
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
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  return { seconds, rows, runId: run.runId };
}

/** The floor: the same rows, prepared inserts into plain tables, one transaction per batch, no look-ups. */
function bareLoop(path: string, n: number): { seconds: number; rows: number } {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(`CREATE TABLE p (id TEXT, kind TEXT, name TEXT, email TEXT, display_name TEXT, status TEXT, mfa TEXT, created_at TEXT, attributes TEXT, last_active TEXT);
           CREATE TABLE c (id TEXT, principal_id TEXT, kind TEXT, status TEXT, created_at TEXT, last_used TEXT);
           CREATE TABLE g (principal_id TEXT, privilege TEXT, level TEXT, scope TEXT, via TEXT);`);
  const ip = db.prepare("INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const ic = db.prepare("INSERT INTO c VALUES (?, ?, ?, ?, ?, ?)");
  const ig = db.prepare("INSERT INTO g VALUES (?, ?, ?, ?, ?)");
  const start = process.hrtime.bigint();
  let rows = 0;
  for (let i = 0; i < n; i += BATCH) {
    const batch: ReturnType<typeof recordsFor>[] = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) batch.push(recordsFor(j, 0));
    db.transaction(() => {
      for (const { p, c, g } of batch) {
        ip.run(p.id, p.kind, p.name, p.email, p.displayName, p.status, p.mfa, p.createdAt, JSON.stringify(p.attributes), p.lastActive!.at);
        rows++;
        if (c) {
          ic.run(c.id, c.principalId, c.kind, c.status, c.createdAt, c.lastUsed!.at);
          rows++;
        }
        for (const x of g) {
          ig.run(x.principalId, x.privilege, x.level, x.scope, x.via);
          rows++;
        }
      }
    })();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  return { seconds, rows };
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

export async function run(sizes = (process.env.BENCH_STORE_SIZES ?? "100000,1000000").split(",").map(Number)): Promise<void> {
  for (const n of sizes) {
    const dir = mkdtempSync(join(tmpdir(), "whohas-bench-"));
    try {
      const bare = bareLoop(join(dir, "bare.db"), n);
      const path = join(dir, "whohas.db");
      const peak = () => mb(process.resourceUsage().maxRSS);
      const r1 = ingest(path, n, 0);
      const bytes1 = statSync(path).size;
      const r2 = ingest(path, n, 0);
      const bytes2 = statSync(path).size;
      const r3 = ingest(path, n, 1);
      const peakAfterIngest = peak();
      const db = openStore(path, { readonly: true });
      const t = process.hrtime.bigint();
      const d = diffRuns(db, r2.runId, r3.runId);
      const diffSeconds = Number(process.hrtime.bigint() - t) / 1e9;
      const peakAfterDiff = peak();
      const config = parseConfig(`[[sources]]\nid = "bench"\ntype = "file"\npath = "unused.csv"\n`, join(dir, "bench.toml"), CONNECTORS);
      const te = process.hrtime.bigint();
      // Rules on run 3 with its diff; "new" marking evaluates run 2 as well, so this is two full passes.
      const evaluation = evaluate(db, config, r3.runId, d);
      const rulesSeconds = Number(process.hrtime.bigint() - te) / 1e9;
      db.close();
      const bareRate = bare.rows / bare.seconds;
      console.log(`store ingest, ${fmt(n)} principals (${fmt(r1.rows)} rows: principals + credentials + grants)`);
      console.log(`  bare better-sqlite3 insert loop : ${fmt(bareRate)} rows/s (${bare.seconds.toFixed(2)} s)`);
      console.log(`  whohas run 1 (all new)          : ${fmt(r1.rows / r1.seconds)} rows/s (${r1.seconds.toFixed(2)} s) = ${((r1.rows / r1.seconds / bareRate) * 100).toFixed(0)} % of bare`);
      console.log(`  whohas run 2 (unchanged)        : ${fmt(r2.rows / r2.seconds)} rows/s (${r2.seconds.toFixed(2)} s) = ${((r2.rows / r2.seconds / bareRate) * 100).toFixed(0)} % of bare`);
      console.log(`  whohas run 3 (1 % changed)      : ${fmt(r3.rows / r3.seconds)} rows/s (${r3.seconds.toFixed(2)} s)`);
      console.log(`  DB bytes after run 1            : ${fmt(bytes1)}`);
      console.log(`  DB bytes after unchanged run 2  : ${fmt(bytes2)} (+${(((bytes2 - bytes1) / bytes1) * 100).toFixed(2)} %)`);
      console.log(
        `  diff run 2 → 3                  : ${diffSeconds.toFixed(2)} s (${d.principals.changed.length} principals changed, ${d.grants.added.length} grants added, ${d.accessLevels.length} access-level changes)`,
      );
      const bySeverity = new Map<string, number>();
      for (const f of evaluation.findings) bySeverity.set(f.severity, (bySeverity.get(f.severity) ?? 0) + 1);
      console.log(
        `  rules on run 3 (+ run 2 for new) : ${rulesSeconds.toFixed(2)} s (${fmt(evaluation.findings.length)} findings: ${[...bySeverity].map(([k, v]) => `${fmt(v)} ${k}`).join(", ")})`,
      );
      console.log(`  peak RSS after ingest / diff / rules: ${peakAfterIngest} / ${peakAfterDiff} / ${peak()}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

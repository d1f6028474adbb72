// Findings stored per run: read back equal to the in-memory evaluation, "new" as a join with the previous
// run's stored findings, history from stored sets, covered by the evidence digest, pruned with their runs,
// and evaluated on first use for runs stored before the findings table existed.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { parseConfig, type Config } from "../../src/config/load.js";
import { diffRuns, type DiffResult } from "../../src/diff/differ.js";
import { applySuppressions, evaluate } from "../../src/rules/evaluate.js";
import { findingSet, stateFindingSet, storedFindingCount, storedFindingSource } from "../../src/rules/stored.js";
import type { Credential, Grant, Principal } from "../../src/model.js";
import { renderReport, writeReport } from "../../src/report/render.js";
import { withScopeLabels } from "../../src/report/roles.js";
import { scopeLabels } from "../../src/store/reader.js";
import { roleCatalogueAt } from "../../src/store/roles.js";
import { buildReport } from "../../src/build-report.js";
import { openStore, type Db } from "../../src/store/db.js";
import { canStoreFindings, reportedFindings } from "../../src/store/findings.js";
import { verifyChain } from "../../src/store/integrity.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { pruneRuns } from "../../src/store/prune.js";
import { RunWriter } from "../../src/store/writer.js";
import { asDigestFormat2 } from "../helpers/digest-format.js";

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

const SUPPRESS = `[[suppress]]\nrule = "unused-credential"\nsubject = "app/main/ivy/*"\nreason = "break-glass key"\nuntil = "2999-01-01"\n`;

function config(extra = ""): Config {
  return parseConfig(
    `[[sources]]\nid = "idp"\ntype = "file"\npath = "idp.csv"\n[[sources]]\nid = "app"\ntype = "file"\npath = "app.csv"\n[identity]\nproviders = ["idp"]\n${extra}`,
    "/tmp/whohas.toml",
    CONNECTORS,
  );
}

function storePath(): string {
  return join(mkdtempSync(join(tmpdir(), "whohas-findings-")), "s.db");
}

type Data = Record<string, { principals?: Principal[]; credentials?: Credential[]; grants?: Grant[] }>;

function run(db: Db, sources: Data): number {
  const r = RunWriter.begin(db);
  for (const [source, data] of Object.entries(sources)) {
    const w = r.openScope(source, "file", "main");
    w.write(data);
    w.end();
  }
  r.finish();
  return r.runId;
}

const human = (id: string, over: Partial<Principal> = {}): Principal => ({
  id,
  kind: "human",
  name: id,
  email: `${id}@example.com`,
  status: "active",
  mfa: "enabled",
  createdAt: ago(1000),
  lastActive: { at: ago(1), known: true },
  ...over,
});
const key = (id: string, principalId: string, over: Partial<Credential> = {}): Credential => ({
  id,
  principalId,
  kind: "access_key",
  status: "active",
  createdAt: ago(400),
  lastUsed: { at: ago(200), known: true },
  ...over,
});
const grant = (principalId: string, level: Grant["level"], privilege = "Admins"): Grant => ({ principalId, privilege, level, scope: "main", via: "direct" });

/**
 * Four runs that exercise every kind of finding the store must keep apart: state findings, change findings
 * (new admin, escalation, MFA off), a leaver found only through the diff (removed from the identity
 * provider), a suppression, and findings that come and go.
 */
const RUNS: Data[] = [
  {
    idp: { principals: [human("ann"), human("bob", { status: "disabled" }), human("sam"), human("ivy")] },
    app: {
      principals: [human("ann"), human("bob"), human("sam"), human("ivy"), human("old", { lastActive: { at: ago(300), known: true } }), human("eve", { mfa: "disabled" })],
      credentials: [key("k-ivy", "ivy"), key("k-ann", "ann", { lastUsed: { at: ago(1), known: true } })],
      grants: [grant("bob", "admin"), grant("eve", "admin"), grant("sam", "read")],
    },
  },
  {
    idp: { principals: [human("ann"), human("bob", { status: "disabled" }), human("ivy")] },
    app: {
      principals: [human("ann", { mfa: "disabled" }), human("bob"), human("sam"), human("ivy"), human("old", { lastActive: { at: ago(300), known: true } }), human("eve", { mfa: "disabled" })],
      credentials: [key("k-ivy", "ivy"), key("k-ann", "ann", { lastUsed: { at: ago(1), known: true } })],
      grants: [grant("bob", "admin"), grant("eve", "admin"), grant("sam", "write"), grant("ann", "admin")],
    },
  },
  {
    idp: { principals: [human("ann"), human("ivy")] },
    app: {
      principals: [human("ann", { mfa: "disabled" }), human("bob"), human("sam"), human("ivy"), human("eve", { mfa: "disabled" }), human("new", { mfa: "disabled" })],
      credentials: [key("k-ivy", "ivy"), key("k-ann", "ann", { lastUsed: { at: ago(1), known: true } })],
      grants: [grant("bob", "admin"), grant("eve", "admin"), grant("sam", "write"), grant("ann", "admin"), grant("new", "admin")],
    },
  },
  {
    idp: { principals: [human("ann"), human("ivy")] },
    app: {
      principals: [human("ann"), human("bob"), human("sam"), human("ivy"), human("new", { mfa: "disabled" })],
      credentials: [key("k-ivy", "ivy")],
      grants: [grant("bob", "admin"), grant("sam", "admin"), grant("new", "admin")],
    },
  },
];

function fixture(db: Db): number[] {
  return RUNS.map((data) => run(db, data));
}

/** The stored finding source read back in the evaluator's shape, to compare with evaluate(). */
function storedEvaluation(db: Db, cfg: Config, runId: number, diff?: DiffResult) {
  const source = storedFindingSource(db, cfg, runId, diff);
  return { run: source.run, previousRun: diff ? diff.from : null, evaluatedAt: new Date(source.now).toISOString(), ...applySuppressions(source.each(), cfg.suppress, source.now) };
}

const findingRows = (db: Db) => db.prepare("SELECT COUNT(*) FROM findings").pluck().get() as number;
const setRows = (db: Db) => db.prepare("SELECT run_id AS run, basis FROM finding_sets ORDER BY run_id, basis").all() as { run: number; basis: number }[];

describe("findings stored per run", () => {
  it("read back equal to the in-memory evaluation, new ones included, for every run of a multi-run fixture", () => {
    const db = openStore(storePath());
    const runs = fixture(db);
    const cfg = config(SUPPRESS);
    for (let i = 0; i < runs.length; i++) {
      const diff = i > 0 ? diffRuns(db, runs[i - 1]!, runs[i]!) : undefined;
      const expected = evaluate(db, cfg, runs[i]!, diff);
      const stored = storedEvaluation(db, cfg, runs[i]!, diff);
      expect(setRows(db)).toContainEqual({ run: runs[i], basis: i > 0 ? runs[i - 1] : 0 });
      expect(stored).toEqual(expected);
      // Read again from the stored sets, nothing evaluated: the same.
      const before = setRows(db);
      const again = storedEvaluation(db, cfg, runs[i]!, diff);
      expect(again).toEqual(expected);
      expect(setRows(db)).toEqual(before);
    }
    // The fixture has what it is meant to have: change findings, new and old, a diff-only leaver, a suppression.
    const last = evaluate(db, cfg, runs[2]!, diffRuns(db, runs[1]!, runs[2]!));
    const rules = new Set(last.findings.map((f) => f.rule));
    for (const r of ["new-admin", "orphaned-access", "admin-without-mfa"]) expect(rules).toContain(r);
    expect(last.findings.some((f) => f.new)).toBe(true);
    expect(last.findings.some((f) => !f.new)).toBe(true);
    expect(last.suppressed.map((s) => s.reason)).toEqual(["break-glass key"]);
    const second = evaluate(db, cfg, runs[1]!, diffRuns(db, runs[0]!, runs[1]!));
    expect(second.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(["new-admin", "privilege-escalation", "mfa-disabled"]));
  });

  it('"new" against a run other than the one before (the email since the last one sent) equals the evaluation too', () => {
    const db = openStore(storePath());
    const runs = fixture(db);
    const cfg = config();
    const diff = diffRuns(db, runs[0]!, runs[3]!);
    const stored = storedEvaluation(db, cfg, runs[3]!, diff);
    expect(stored).toEqual(evaluate(db, cfg, runs[3]!, diff));
  });

  it("a leaver seen only in the diff is not a state finding of that run: the next run still marks it as it does today", () => {
    const db = openStore(storePath());
    const runs = fixture(db);
    const cfg = config();
    // Run 2: bob is disabled in the identity provider (state), sam was removed from it (diff only).
    const set = findingSet(db, cfg, runs[1]!, diffRuns(db, runs[0]!, runs[1]!));
    const orphaned = [...reportedFindings(db, set, null)].filter((f) => f.rule === "orphaned-access");
    expect(orphaned.map((f) => f.subject).sort()).toEqual(["app/main/bob", "app/main/sam"]);
    const inState = db
      .prepare("SELECT i.id, f.in_state FROM findings f JOIN finding_ids i ON i.fid = f.fid WHERE f.set_id = ? AND i.id LIKE 'orphaned-access:%' ORDER BY i.id")
      .all(set.id);
    expect(inState).toEqual([
      { id: "orphaned-access:app/main/bob", in_state: 1 },
      { id: "orphaned-access:app/main/sam", in_state: 0 },
    ]);
  });

  it("history charts count stored findings, suppressions in force left out, and evaluate each earlier run once", () => {
    const db = openStore(storePath());
    const runs = fixture(db);
    const cfg = config(SUPPRESS);
    const report = buildReport(db, cfg, { history: 8 });
    const expected = runs.map((r, i) => (i === runs.length - 1 ? null : evaluate(db, cfg, r, undefined, false).findings.length));
    expect(report.history.map((h) => h.findings)).toEqual(expected);
    for (const r of runs.slice(0, -1)) expect(storedFindingCount(db, cfg, r)).toBe(evaluate(db, cfg, r, undefined, false).findings.length);
    const sets = setRows(db);
    // The report's run against its predecessor, and the earlier runs' state sets: nothing more.
    expect(sets).toEqual([
      { run: runs[0], basis: 0 },
      { run: runs[1], basis: 0 },
      { run: runs[2], basis: 0 },
      { run: runs[3], basis: runs[2] },
    ]);
    const again = buildReport(db, cfg, { history: 8 });
    expect(again.history).toEqual(report.history);
    expect(again.findings).toEqual(report.findings);
    expect(setRows(db)).toEqual(sets);
  });

  it("a finding that reads the same in many runs is stored once: a run's set adds a few integers per finding", () => {
    const db = openStore(storePath());
    const same = RUNS[0]!;
    const runs = [run(db, same), run(db, same), run(db, same)];
    const cfg = config();
    for (const r of runs) stateFindingSet(db, cfg, r);
    const perRun = stateFindingSet(db, cfg, runs[0]!).reported;
    expect(perRun).toBeGreaterThan(0);
    expect(findingRows(db)).toBe(3 * perRun);
    expect(db.prepare("SELECT COUNT(*) FROM finding_bodies").pluck().get()).toBe(perRun);
    expect(db.prepare("SELECT COUNT(*) FROM finding_ids").pluck().get()).toBe(perRun);
  });

  it("another policy evaluates again and replaces the run's stale sets", () => {
    const db = openStore(storePath());
    const runs = fixture(db);
    stateFindingSet(db, config(), runs[0]!);
    const lenient = config(`[policy]\nunused_credential_days = 500\n`);
    const stored = storedEvaluation(db, lenient, runs[0]!);
    expect(stored).toEqual(evaluate(db, lenient, runs[0]!));
    expect(stored.findings.map((f) => f.rule)).not.toContain("unused-credential");
    expect(evaluate(db, config(), runs[0]!).findings.map((f) => f.rule)).toContain("unused-credential");
    expect(setRows(db)).toEqual([{ run: runs[0], basis: 0 }]);
  });

  it("the evidence digest covers findings: an edited or deleted finding row fails verify at its run", () => {
    const db = openStore(storePath());
    const runs = fixture(db);
    buildReport(db, config(), { history: 8 });
    expect(verifyChain(db)).toEqual({ ok: true, checked: runs.length });
    const set = db.prepare("SELECT id FROM finding_sets WHERE run_id = ?").pluck().get(runs[1]) as number;
    // ann's admin-without-mfa first reads so in run 2.
    const edited = db
      .prepare("UPDATE finding_bodies SET detail = 'nothing to see' WHERE rule = 'admin-without-mfa' AND subject = 'app/main/ann' AND bid IN (SELECT bid FROM findings WHERE set_id = ?)")
      .run(set).changes;
    expect(edited).toBeGreaterThan(0);
    expect(verifyChain(db)).toMatchObject({ ok: false, firstBad: { runId: runs[1], reason: "its stored findings no longer match their digest" } });

    const db2 = openStore(storePath());
    const runs2 = fixture(db2);
    buildReport(db2, config(), { history: 8 });
    const set2 = db2.prepare("SELECT id FROM finding_sets WHERE run_id = ?").pluck().get(runs2[3]) as number;
    const deleted = db2.prepare("DELETE FROM findings WHERE set_id = ? AND bid IN (SELECT bid FROM finding_bodies WHERE rule = 'new-admin')").run(set2).changes;
    expect(deleted).toBeGreaterThan(0);
    expect(verifyChain(db2)).toMatchObject({ ok: false, firstBad: { runId: runs2[3] } });
  });

  it("prune removes findings with their runs", () => {
    const db = openStore(storePath());
    const runs = fixture(db);
    buildReport(db, config(), { history: 8 });
    const kept = (db.prepare("SELECT COUNT(*) FROM findings f JOIN finding_sets s ON s.id = f.set_id WHERE s.run_id = ?").pluck().get(runs[3]) as number);
    expect(kept).toBeGreaterThan(0);
    pruneRuns(db, 1);
    expect(setRows(db)).toEqual([{ run: runs[3], basis: runs[2] }]);
    expect(findingRows(db)).toBe(kept);
    // Bodies and ids no kept set refers to are gone; those it refers to stay.
    const unreferenced = db.prepare("SELECT COUNT(*) FROM finding_bodies WHERE bid NOT IN (SELECT bid FROM findings)").pluck().get();
    expect(unreferenced).toBe(0);
    expect(db.prepare("SELECT COUNT(*) FROM finding_bodies").pluck().get()).toBe(kept);
    expect(verifyChain(db).ok).toBe(true);
  });

  it("runs stored before the findings table existed still report, and their findings are stored on first use", () => {
    const path = storePath();
    const old = openStore(path);
    // Back to the schema before findings were stored, then collect as that version did.
    old.exec("DROP TABLE findings; DROP TABLE finding_bodies; DROP TABLE finding_ids; DROP TABLE finding_sets;");
    old.pragma(`user_version = ${MIGRATIONS.findIndex((m) => m.includes("CREATE TABLE finding_sets"))}`);
    const runs = fixture(old);
    const cfg = config(SUPPRESS);
    const diff = diffRuns(old, runs[2]!, runs[3]!);
    const expected = evaluate(old, cfg, runs[3]!, diff);
    const history = runs.slice(0, -1).map((r) => evaluate(old, cfg, r, undefined, false).findings.length);
    // Tables of the migrations after the findings' (which this writer uses, empty here) are created again at
    // open; that version sealed its runs in digest format 2, which the column added later then records.
    asDigestFormat2(old);
    old.exec("DROP TABLE roles;");
    old.exec("ALTER TABLE runs DROP COLUMN digest_format;");
    old.close();

    const db = openStore(path);
    expect(setRows(db)).toEqual([]);
    const report = buildReport(db, cfg, { history: 8 });
    expect(report.findings).toEqual(expected.findings);
    expect(report.counts.newFindings).toBe(expected.findings.filter((f) => f.new).length);
    expect(report.history.map((h) => h.findings)).toEqual([...history, null]);
    expect(setRows(db)).toHaveLength(runs.length);
    expect(verifyChain(db)).toEqual({ ok: true, checked: runs.length });
  });

  it("a store opened read-only evaluates in memory, the same", () => {
    const path = storePath();
    const db = openStore(path);
    const runs = fixture(db);
    db.close();
    const ro = openStore(path, { readonly: true });
    const cfg = config();
    const diff = diffRuns(ro, runs[2]!, runs[3]!);
    expect(canStoreFindings(ro)).toBe(false);
    const stored = storedEvaluation(ro, cfg, runs[3]!, diff);
    expect(stored).toEqual(evaluate(ro, cfg, runs[3]!, diff));
  });

  it("an access review narrowed to one source reads and counts that source's principals only", () => {
    const db = openStore(storePath());
    fixture(db);
    const all = [...buildReport(db, config(), { type: "access-review" }).eachPrincipal!()];
    const sources = [...new Set(all.map((p) => p.source))];
    expect(sources.length).toBeGreaterThan(1);
    const one = buildReport(db, config(), { type: "access-review", filter: { sources: [sources[0]!] } });
    const shown = [...one.eachPrincipal!()];
    expect(shown.map((p) => p.id)).toEqual(all.filter((p) => p.source === sources[0]).map((p) => p.id));
    expect(one.inventoryCount).toBe(shown.length);
  });

  it("JSON and CSV reports written a row at a time are the documents rendered whole", () => {
    const db = openStore(storePath());
    fixture(db);
    const report = buildReport(db, config(SUPPRESS), { history: 8, type: "access-review" });
    expect(report.findings.length).toBeGreaterThan(2);
    // The tally is the renderers' (which rules were cut short), not part of the document; the inventory is
    // read from the store as it is written, in its place after the feeds.
    const { tally: _tally, eachPrincipal, inventoryCount, roles: _roles, eachRoleHolders: _holders, remediation, filter, ...head } = report;
    // The roles with every holder, as `whohas roles` reads them.
    const all = roleCatalogueAt(db, report.run.id, {}, Number.POSITIVE_INFINITY).roles.map(({ holderCount: _n, firstHolders, ...r }) => ({ ...r, holders: firstHolders }));
    const roles = withScopeLabels(all, scopeLabels(db, report.run.id));
    const doc = { ...head, inventory: [...eachPrincipal!()], roles, remediation, filter };
    expect(doc.inventory.length).toBeGreaterThan(2);
    expect(inventoryCount).toBe(doc.inventory.length);
    for (const [format, whole] of [
      ["json", JSON.stringify(doc, null, 2) + "\n"],
      ["csv", renderReport(report, "csv")], // an access review: one row per grant
    ] as const) {
      const writes: string[] = [];
      writeReport({ write: (t) => void writes.push(t), close: () => {} }, report, format);
      expect(writes.join("")).toBe(whole);
    }
  });
});

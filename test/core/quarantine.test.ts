// Record-level isolation and unresolved principals, in the store the engine writes through: a record that does
// not fit is quarantined (field named), the scope ends "partial" and keeps the record's earlier version; a
// holder no listing returned becomes an unresolved principal, or the principal of the same id in another scope.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { parseConfig } from "../../src/config/load.js";
import { diffRuns } from "../../src/diff/differ.js";
import { evaluate } from "../../src/rules/evaluate.js";
import { buildReport } from "../../src/build-report.js";
import { renderText } from "../../src/report/render.js";
import type { Credential, Grant, Principal } from "../../src/model.js";
import { openStore, type Db } from "../../src/store/db.js";
import { verifyChain } from "../../src/store/integrity.js";
import { getRun, inventoryAt, quarantineOf, scopeRuns } from "../../src/store/reader.js";
import { checkCredential, checkGrant, checkPrincipal, isoProblem } from "../../src/store/validate.js";
import { RunWriter } from "../../src/store/writer.js";

const store = (): Db => openStore(join(mkdtempSync(join(tmpdir(), "whohas-quarantine-")), "s.db"));

const human = (id: string, over: Partial<Principal> = {}): Principal => ({
  id,
  kind: "human",
  name: id,
  status: "active",
  mfa: "enabled",
  createdAt: "2020-01-01T00:00:00.000Z",
  lastActive: { at: "2026-11-01T00:00:00.000Z", known: true },
  ...over,
});
const secret = (id: string, principalId: string, over: Partial<Credential> = {}): Credential => ({ id, principalId, kind: "client_secret", status: "active", ...over });
const grant = (principalId: string, privilege: string, level: Grant["level"] = "admin", over: Partial<Grant> = {}): Grant => ({ principalId, privilege, level, scope: "tenant", via: "direct", ...over });

interface ScopeData {
  principals?: unknown[];
  credentials?: unknown[];
  grants?: unknown[];
}

function run(db: Db, scopes: Record<string, ScopeData>, source = "src"): number {
  const r = RunWriter.begin(db);
  for (const [scope, data] of Object.entries(scopes)) {
    const w = r.openScope(source, "file", scope);
    w.write(data as never);
    w.end();
  }
  r.finish();
  return r.runId;
}

const config = () => parseConfig(`[[sources]]\nid = "src"\ntype = "file"\npath = "a.csv"\n`, "/tmp/whohas.toml", CONNECTORS);

describe("boundary validation", () => {
  it("names the field at fault", () => {
    expect(checkPrincipal(human("u1"))).toBeNull();
    expect(checkPrincipal({ ...human("u1"), id: null })?.reason).toBe("id is null, expected a non-empty string");
    expect(checkPrincipal({ ...human("u1"), kind: "robot" })?.reason).toMatch(/^kind is "robot", expected one of human, /);
    expect(checkPrincipal(human("u1", { createdAt: "2023-02-29T10:00:00Z" }))?.reason).toBe('createdAt "2023-02-29T10:00:00Z" is not a date on the calendar');
    expect(checkPrincipal(human("u1", { createdAt: "yesterday" }))?.reason).toBe('createdAt "yesterday" is not an ISO-8601 date');
    expect(checkPrincipal(human("u1", { lastActive: { at: "2026-13-01", known: true } }))?.reason).toMatch(/^lastActive\.at /);
    expect(checkPrincipal(human("u1", { attributes: { roles: { a: 1 } as never } }))?.reason).toMatch(/^attributes\.roles is an object, expected/);
    expect(checkCredential({ ...secret("k", "u1"), id: null })).toMatchObject({ table: "credentials", principalId: "u1", kind: "client_secret", id: null, reason: "id is null, expected a non-empty string" });
    expect(checkGrant({ ...grant("u1", "Admin"), level: "owner" })).toMatchObject({ table: "grants", principalId: "u1", reason: expect.stringMatching(/^level is "owner"/) });
    expect(checkGrant({ ...grant("u1", "Admin"), privilege: null })).toMatchObject({ id: null, principalId: "u1", reason: "privilege is null, expected a non-empty string" });
  });

  it("keeps real dates of any year, including the far past, and 29 February of leap years", () => {
    expect(isoProblem("0001-01-01T00:00:00Z")).toBeNull();
    expect(isoProblem("1960-05-01T00:00:00.000Z")).toBeNull();
    expect(isoProblem("2024-02-29")).toBeNull();
    expect(isoProblem("2024-02-30")).toBe("is not a date on the calendar");
    expect(isoProblem("2024-01-01T24:00:00Z")).toBe("is not a time of day");
  });

  it("agrees with the calendar of Date on every month and day number, in common, leap and century years", () => {
    const pad = (n: number, w: number) => String(n).padStart(w, "0");
    let real = 0;
    for (const y of [0, 1, 1900, 2000, 2023, 2024, 2100, 9999]) {
      for (let mo = 0; mo <= 13; mo++) {
        for (let d = 0; d <= 32; d++) {
          const probe = new Date(0);
          probe.setUTCFullYear(y, mo - 1, d);
          const exists = probe.getUTCMonth() === mo - 1 && probe.getUTCDate() === d;
          if (exists) real++;
          expect([y, mo, d, isoProblem(`${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}`)]).toEqual([y, mo, d, exists ? null : "is not a date on the calendar"]);
        }
      }
    }
    // 8 years, three of them leap (0, 2000, 2024): 8 × 365 + 3 days.
    expect(real).toBe(8 * 365 + 3);
  });
});

describe("quarantine", () => {
  it("stores the good records of a batch, quarantines the bad ones with the field named, and ends the scope partial", () => {
    const db = store();
    const id = run(db, {
      t: {
        principals: [human("u1"), { ...human("u2"), id: null }, human("u3", { createdAt: "2023-02-30T00:00:00Z" })],
        credentials: [secret("k1", "u1"), { ...secret("k2", "u1"), id: null }],
        grants: [grant("u1", "Admin"), { ...grant("u3", "Reader"), level: "sometimes" }],
      },
    });
    const [scope] = scopeRuns(db, id);
    expect(scope).toMatchObject({ status: "partial", principals: 1, credentials: 1, grants: 1, quarantined: 4 });
    expect(getRun(db, id)?.status).toBe("partial");
    const q = quarantineOf(db, id);
    expect(q.map((r) => [r.table, r.recordId, r.principalId, r.reason])).toEqual([
      ["principals", null, null, "id is null, expected a non-empty string"],
      ["principals", "u3", null, 'createdAt "2023-02-30T00:00:00Z" is not a date on the calendar'],
      ["credentials", null, "u1", "id is null, expected a non-empty string"],
      ["grants", "u3\u001fReader\u001ftenant\u001fdirect", "u3", 'level is "sometimes", expected one of admin, privileged, write, read'],
    ]);
    expect(verifyChain(db).ok).toBe(true);
  });

  it("keeps a quarantined record's earlier version instead of closing it as removed", () => {
    const db = store();
    const r1 = run(db, { t: { principals: [human("u1"), human("u2")], credentials: [secret("k1", "u1"), secret("k2", "u2")], grants: [grant("u2", "Admin")] } });
    const r2 = run(db, {
      t: {
        principals: [human("u1"), human("u2", { createdAt: "not a date" })],
        // u1's secret comes back without its id: every secret of u1 is kept; u2's is gone for real.
        credentials: [{ ...secret("k1", "u1"), id: null }],
        grants: [{ ...grant("u2", "Admin"), via: "magic" }],
      },
    });
    const diff = diffRuns(db, r1, r2);
    expect(diff.scopes[0]!.compared).toBe(true);
    expect(diff.principals.removed).toEqual([]);
    expect(diff.grants.removed).toEqual([]);
    expect(diff.credentials.removed.map((c) => c.id)).toEqual(["k2"]);
    const inv = [...inventoryAt(db, r2)];
    expect(inv.map((p) => [p.id, p.createdAt, p.grants.length, p.credentials.map((c) => c.id)])).toEqual([
      ["u1", "2020-01-01T00:00:00.000Z", 0, ["k1"]],
      ["u2", "2020-01-01T00:00:00.000Z", 1, []],
    ]);
    expect(verifyChain(db).ok).toBe(true);
  });

  it("isolates a record the store itself refuses: the rest of its batch is stored and the digest still verifies", () => {
    const db = store();
    run(db, { t: { principals: [human("u1"), human("u2")] } });
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON principals WHEN NEW.name = 'refused' BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END");
    const r2 = run(db, { t: { principals: [human("u1", { displayName: "changed" }), human("u2", { name: "refused" }), human("u3")] } });
    expect(scopeRuns(db, r2)[0]).toMatchObject({ status: "partial", principals: 2, quarantined: 1 });
    expect(quarantineOf(db, r2)).toMatchObject([{ table: "principals", recordId: "u2", reason: "the store refused it: refused by a trigger" }]);
    expect([...inventoryAt(db, r2)].map((p) => `${p.id}:${p.name}:${p.displayName ?? ""}`)).toEqual(["u1:u1:changed", "u2:u2:", "u3:u3:"]);
    expect(verifyChain(db).ok).toBe(true);
  });

  it("drops the quarantine of a scope that fails afterwards, with the rest of its writes", () => {
    const db = store();
    const r = RunWriter.begin(db);
    const w = r.openScope("src", "file", "t");
    w.write({ principals: [human("u1"), { ...human("u2"), kind: "robot" } as never] });
    w.fail("connection reset");
    r.finish();
    expect(quarantineOf(db, r.runId)).toEqual([]);
    expect(scopeRuns(db, r.runId)[0]!.status).toBe("failed");
  });
});

describe("unresolved principals", () => {
  it("attaches grants and credentials of a holder no listing returned to an unresolved principal, with a finding by grant level", () => {
    const db = store();
    const r1 = run(db, {
      t: {
        principals: [human("u1")],
        grants: [grant("u1", "Reader", "read"), grant("ghost", "Global Administrator", "admin", { attributes: { holder_kind: "servicePrincipal" } })],
        credentials: [secret("k9", "phantom")],
      },
    });
    expect(scopeRuns(db, r1)[0]).toMatchObject({ status: "ok", principals: 1, unresolved: 2 });
    const inv = [...inventoryAt(db, r1)];
    const ghost = inv.find((p) => p.id === "ghost")!;
    expect(ghost).toMatchObject({ kind: "unknown", status: "unknown", accessLevel: "admin", attributes: { unresolved: true, claimed_kind: "servicePrincipal", seen_in: ["grants"] } });
    expect(ghost.grants.map((g) => g.privilege)).toEqual(["Global Administrator"]);
    expect(inv.find((p) => p.id === "phantom")!.credentials.map((c) => c.id)).toEqual(["k9"]);

    const findings = evaluate(db, config(), r1).findings.filter((f) => f.rule === "unresolved-grantee");
    expect(findings.map((f) => [f.principalId, f.severity])).toEqual([
      ["ghost", "high"],
      ["phantom", "low"],
    ]);
    expect(findings[0]!.detail).toContain("the provider says: servicePrincipal");
    // The text report counts them per scope, also on a scope that ended ok.
    const text = renderText(buildReport(db, config(), { run: r1 }), false);
    expect(text).toMatch(/\nGrant holders no listing returned \(shown as kind unknown\)\n {2}\S+\/t: 2 unresolved\n/);

    // Unchanged next run: no new versions; once the holder is listed, it replaces the stub.
    const versions = () => (db.prepare("SELECT COUNT(*) n FROM principals").get() as { n: number }).n;
    const before = versions();
    const r2 = run(db, { t: { principals: [human("u1")], grants: [grant("u1", "Reader", "read"), grant("ghost", "Global Administrator", "admin", { attributes: { holder_kind: "servicePrincipal" } })], credentials: [secret("k9", "phantom")] } });
    expect(versions()).toBe(before);
    expect(diffRuns(db, r1, r2).principals).toMatchObject({ added: [], removed: [], changed: [] });
    const r3 = run(db, { t: { principals: [human("u1"), human("ghost", { kind: "service" })], grants: [grant("ghost", "Global Administrator", "admin")] } });
    const d = diffRuns(db, r2, r3);
    expect(d.principals.changed.map((c) => [c.id, c.events])).toEqual([["ghost", ["kind-changed", "reactivated", "mfa-on"]]]);
    expect(d.principals.removed.map((p) => p.id)).toEqual(["phantom"]);
    expect([...inventoryAt(db, r3)].filter((p) => p.kind === "unknown")).toEqual([]);
  });

  it("joins a holder to the principal of the same id in another scope of the same source that this run collected", () => {
    const db = store();
    const sa = { id: "1171", kind: "service", name: "deployer@proj.iam.gserviceaccount.com", status: "active", mfa: "not_applicable", lastActive: { at: null, known: false } };
    const id = run(db, { "gcp:proj": { principals: [sa] }, customer: { principals: [human("u1")], grants: [grant("1171", "Super Admin", "admin", { attributes: { holder_kind: "USER" } })] } });
    expect(scopeRuns(db, id).map((s) => [s.scope, s.unresolved, s.meta?.joined_elsewhere ?? 0])).toEqual([
      ["customer", 0, 1],
      ["gcp:proj", 0, 0],
    ]);
    const joined = [...inventoryAt(db, id)].find((p) => p.scope === "customer" && p.id === "1171")!;
    expect(joined).toMatchObject({ kind: "service", name: "deployer@proj.iam.gserviceaccount.com", accessLevel: "admin", attributes: { same_as: "gcp:proj", claimed_kind: "USER" } });
    const risky = evaluate(db, config(), id).findings.filter((f) => f.rule === "risky-admin" || f.rule === "unresolved-grantee");
    expect(risky.map((f) => [f.rule, f.subject])).toEqual([["risky-admin", "src/customer/deployer@proj.iam.gserviceaccount.com"]]);
  });
});

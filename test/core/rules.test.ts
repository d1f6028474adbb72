// Audit rules, one by one, on runs built in a real store; the false-positive traps included.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { parseConfig, type Config } from "../../src/config/load.js";
import { diffRuns } from "../../src/diff/differ.js";
import { evaluate, type Finding } from "../../src/rules/evaluate.js";
import type { Credential, Grant, Principal } from "../../src/model.js";
import { openStore, type Db } from "../../src/store/db.js";
import { RunWriter } from "../../src/store/writer.js";

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

interface ScopeData {
  principals?: Principal[];
  credentials?: Credential[];
  grants?: Grant[];
  fail?: string;
}

function config(extra = ""): Config {
  return parseConfig(
    `[[sources]]\nid = "idp"\ntype = "file"\npath = "idp.csv"\n[[sources]]\nid = "app"\ntype = "file"\npath = "app.csv"\n[identity]\nproviders = ["idp"]\n${extra}`,
    "/tmp/whohas.toml",
    CONNECTORS,
  );
}

function store(): Db {
  return openStore(join(mkdtempSync(join(tmpdir(), "whohas-rules-")), "s.db"));
}

function run(db: Db, sources: Record<string, ScopeData>): number {
  const r = RunWriter.begin(db);
  for (const [source, data] of Object.entries(sources)) {
    const w = r.openScope(source, "file", "main");
    w.write(data);
    if (data.fail) w.fail(data.fail);
    else w.end();
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
  createdAt: ago(30),
  lastUsed: { at: ago(1), known: true },
  ...over,
});
const admin = (principalId: string, privilege = "Admins"): Grant => ({ principalId, privilege, level: "admin", scope: "main", via: "direct" });

function findings(db: Db, cfg: Config, runId: number, previous?: number): Finding[] {
  return evaluate(db, cfg, runId, previous ? diffRuns(db, previous, runId) : undefined).findings;
}
const rulesFor = (fs: Finding[], subject: string) => fs.filter((f) => f.subject.includes(subject)).map((f) => f.rule).sort();

describe("dormancy", () => {
  it("flags an account idle past the window, and one never used once it is old enough; unknown is 'cannot assess', never dormant", () => {
    const db = store();
    const r = run(db, {
      app: {
        principals: [
          human("idle", { lastActive: { at: ago(120), known: true } }),
          human("never-old", { lastActive: { at: null, known: true }, createdAt: ago(200) }),
          human("never-new", { lastActive: { at: null, known: true }, createdAt: ago(10) }),
          human("unknown", { lastActive: { at: null, known: false } }),
          human("recent"),
          human("idle-but-suspended", { status: "suspended", lastActive: { at: ago(300), known: true } }),
        ],
      },
    });
    const fs = findings(db, config(), r);
    expect(fs.filter((f) => f.rule === "dormant-account").map((f) => f.subject).sort()).toEqual(["app/main/idle", "app/main/never-old"]);
    const cannot = fs.filter((f) => f.rule === "cannot-assess");
    expect(cannot).toHaveLength(1);
    expect(cannot[0]!.detail).toMatch(/^1 active account\(s\) with unknown last activity/);
    expect(cannot[0]!.severity).toBe("info");
  });

  it("honours a per-source policy override", () => {
    const db = store();
    const r = run(db, { app: { principals: [human("idle", { lastActive: { at: ago(40), known: true } })] } });
    expect(rulesFor(findings(db, config(), r), "idle")).toEqual([]);
    const strict = parseConfig(
      `[[sources]]\nid = "app"\ntype = "file"\npath = "a.csv"\npolicy = { dormant_after_days = 30 }\n`,
      "/tmp/w.toml",
      CONNECTORS,
    );
    expect(rulesFor(findings(db, strict, r), "idle")).toEqual(["dormant-account"]);
  });
});

describe("credentials", () => {
  it("unused, rotation, expiring, expired and multiple keys; a recently rotated key is in its grace period", () => {
    const db = store();
    const r = run(db, {
      app: {
        principals: [human("svc", { kind: "service", mfa: "not_applicable" })],
        credentials: [
          key("k-unused", "svc", { createdAt: ago(400), lastUsed: { at: ago(200), known: true } }),
          key("k-fresh-never-used", "svc", { createdAt: ago(5), lastUsed: { at: null, known: true } }),
          key("k-unknown", "svc", { kind: "client_secret", createdAt: ago(400), lastUsed: { at: null, known: false } }),
          key("k-expiring", "svc", { kind: "client_secret", createdAt: ago(10), expiresAt: new Date(Date.now() + 10 * DAY).toISOString() }),
          key("k-expired", "svc", { kind: "client_secret", createdAt: ago(10), expiresAt: ago(3) }),
          key("k-inactive", "svc", { status: "inactive", createdAt: ago(900), lastUsed: { at: ago(800), known: true } }),
        ],
      },
    });
    const fs = findings(db, config(), r);
    const byCred = (id: string) => fs.filter((f) => f.credentialId === id).map((f) => f.rule).sort();
    expect(byCred("k-unused")).toEqual(["credential-rotation", "unused-credential"]);
    expect(byCred("k-fresh-never-used")).toEqual([]);
    expect(byCred("k-unknown")).toEqual(["credential-rotation"]);
    expect(byCred("k-expiring")).toEqual(["credential-expiring"]);
    expect(byCred("k-expired")).toEqual(["credential-expired"]);
    expect(byCred("k-inactive")).toEqual([]);
    // k-unused, k-fresh-never-used are both active access keys
    expect(fs.filter((f) => f.rule === "multiple-active-keys").map((f) => f.detail)).toEqual(["2 active access keys"]);
  });

  it("shows the provider's data freshness in unused-credential findings", () => {
    const db = store();
    const r = RunWriter.begin(db);
    const w = r.openScope("app", "file", "main");
    w.write({ principals: [human("u")], credentials: [key("k", "u", { createdAt: ago(400), lastUsed: { at: ago(100), known: true } })] });
    w.end({ activity_as_of: "2026-01-01T04:00:00Z" });
    r.finish();
    const f = findings(db, config(), r.runId).find((x) => x.rule === "unused-credential")!;
    expect(f.detail).toMatch(/provider data as of 2026-01-01T04:00:00Z/);
  });
});

describe("privilege and MFA", () => {
  it("admin without MFA (unknown MFA is not flagged), root key, risky admin", () => {
    const db = store();
    const r = run(db, {
      app: {
        principals: [
          human("ada", { mfa: "disabled" }),
          human("bob", { mfa: "unknown" }),
          human("root", { kind: "root", mfa: "disabled" }),
          human("guest", { kind: "guest" }),
        ],
        credentials: [key("rk", "root")],
        grants: [admin("ada"), admin("bob"), admin("root"), admin("guest")],
      },
    });
    const fs = findings(db, config(), r);
    expect(rulesFor(fs, "/ada")).toEqual(["admin-without-mfa"]);
    expect(rulesFor(fs, "/bob")).toEqual([]);
    expect(fs.find((f) => f.rule === "admin-without-mfa" && f.subject.endsWith("/root"))!.severity).toBe("critical");
    expect(fs.find((f) => f.rule === "root-access-key")!.severity).toBe("critical");
    expect(rulesFor(fs, "/guest")).toEqual(["risky-admin"]);
  });

  it("between runs: new admin, escalation, MFA turned off; findings are marked new only when they first appear", () => {
    const db = store();
    const r1 = run(db, { app: { principals: [human("a"), human("b"), human("c", { mfa: "disabled" })] } });
    const r2 = run(db, {
      app: {
        principals: [human("a"), human("b", { mfa: "disabled" }), human("c", { mfa: "disabled" })],
        grants: [admin("a"), { principalId: "b", privilege: "Editors", level: "write", scope: "main", via: "group" }],
      },
    });
    const fs = findings(db, config(), r2, r1);
    expect(fs.find((f) => f.rule === "new-admin")).toMatchObject({ subject: "app/main/a", new: true, severity: "high" });
    expect(fs.find((f) => f.rule === "privilege-escalation")).toMatchObject({ subject: "app/main/b", detail: expect.stringMatching(/none → write/) });
    expect(fs.filter((f) => f.rule === "mfa-disabled").map((f) => f.subject)).toEqual(["app/main/b"]);
    const r3 = run(db, { app: { principals: [human("a"), human("b", { mfa: "disabled" }), human("c", { mfa: "disabled" })], grants: [admin("a")] } });
    const later = findings(db, config(), r3, r2);
    expect(later.filter((f) => f.rule === "admin-without-mfa")).toEqual([]);
    expect(later.some((f) => f.new && f.rule === "new-admin")).toBe(false);
  });

  it("too many and too few admins per identity-provider scope", () => {
    const db = store();
    const many = ["a", "b", "c", "d", "e"];
    const r = run(db, { idp: { principals: many.map((n) => human(n)), grants: many.map((n) => admin(n)) }, app: { principals: [human("z")] } });
    const fs = findings(db, config(), r);
    expect(fs.filter((f) => f.rule === "too-many-admins").map((f) => f.subject)).toEqual(["idp/main"]);
    const db2 = store();
    const r2 = run(db2, { idp: { principals: [human("solo")], grants: [admin("solo")] } });
    expect(findings(db2, config(), r2).filter((f) => f.rule === "too-few-admins").map((f) => f.subject)).toEqual(["idp/main"]);
  });
});

describe("leavers and temporary access", () => {
  it("orphaned access: disabled in the identity provider, still active elsewhere; matched by email or alias", () => {
    const db = store();
    const r = run(db, {
      idp: { principals: [human("grace", { status: "disabled" }), human("ada"), human("ken", { status: "suspended" })] },
      app: {
        principals: [human("grace"), human("ada"), human("kthompson", { email: null }), human("ken-old", { email: "ken@example.com", status: "disabled" })],
        grants: [admin("grace")],
      },
    });
    const fs = findings(db, config(`aliases = { "app:kthompson" = "ken@example.com" }`), r);
    const orphaned = fs.filter((f) => f.rule === "orphaned-access");
    expect(orphaned.map((f) => f.subject).sort()).toEqual(["app/main/grace", "app/main/kthompson"]);
    expect(orphaned.find((f) => f.subject === "app/main/grace")!.severity).toBe("critical");
    expect(orphaned.find((f) => f.subject === "app/main/grace")!.detail).toMatch(/grace@example.com is disabled in idp\/main/);
  });

  it("a person removed from the identity provider between runs is a leaver too", () => {
    const db = store();
    const r1 = run(db, { idp: { principals: [human("sam")] }, app: { principals: [human("sam")] } });
    const r2 = run(db, { idp: { principals: [] }, app: { principals: [human("sam")] } });
    const fs = findings(db, config(), r2, r1);
    expect(fs.find((f) => f.rule === "orphaned-access")!.detail).toMatch(/removed from idp\/main in run 2/);
  });

  it("a failed identity-provider scope is not a mass departure", () => {
    const db = store();
    const r1 = run(db, { idp: { principals: [human("sam"), human("ann")] }, app: { principals: [human("sam"), human("ann")] } });
    const r2 = run(db, { idp: { principals: [], fail: "503 from provider" }, app: { principals: [human("sam"), human("ann")] } });
    const diff = diffRuns(db, r1, r2);
    expect(diff.principals.removed).toEqual([]);
    expect(diff.scopes.find((s) => s.source === "idp")).toMatchObject({ compared: false, reason: "failed in run 2: 503 from provider" });
    expect(evaluate(db, config(), r2, diff).findings.filter((f) => f.rule === "orphaned-access")).toEqual([]);
  });

  it("temporary access past its end date, and a temporary account holding admin too long", () => {
    const db = store();
    const r = run(db, {
      app: {
        principals: [human("ends", { attributes: { access_expires_at: ago(2) } }), human("ext-contractor-1"), human("regular")],
        grants: [admin("ext-contractor-1"), admin("regular")],
      },
    });
    db.prepare("UPDATE runs SET started_at = ? WHERE id = ?").run(ago(60), r);
    const r2 = run(db, {
      app: {
        principals: [human("ends", { attributes: { access_expires_at: ago(2) } }), human("ext-contractor-1"), human("regular")],
        grants: [admin("ext-contractor-1"), admin("regular")],
      },
    });
    const fs = findings(db, config(), r2).filter((f) => f.rule === "temporary-access-overdue");
    expect(fs.map((f) => f.subject).sort()).toEqual(["app/main/ends", "app/main/ext-contractor-1"]);
    expect(fs.find((f) => f.subject.endsWith("contractor-1"))!.detail).toMatch(/held admin Admins since/);
  });
});

describe("suppressions", () => {
  it("hide a finding until their date and bring it back, marked, afterwards", () => {
    const db = store();
    const r = run(db, { app: { principals: [human("ada", { mfa: "disabled" })], grants: [admin("ada")] } });
    const active = evaluate(db, config(`[[suppress]]\nrule = "admin-without-mfa"\nsubject = "app/*/ada"\nreason = "hardware key on order"\nuntil = "2999-01-01"`), r);
    expect(active.findings.filter((f) => f.rule === "admin-without-mfa")).toEqual([]);
    expect(active.suppressed.map((s) => s.reason)).toEqual(["hardware key on order"]);
    const expired = evaluate(db, config(`[[suppress]]\nrule = "admin-without-mfa"\nsubject = "app/*/ada"\nreason = "hardware key on order"\nuntil = "2020-01-01"`), r);
    expect(expired.findings.find((f) => f.rule === "admin-without-mfa")!.suppressionExpired).toEqual({ reason: "hardware key on order", until: "2020-01-01" });
  });
});

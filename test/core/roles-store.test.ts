// Role definitions in the store: versioned like grants (an unchanged run adds no row), closed when no longer
// sent, quarantined when malformed, covered by the evidence digest; and the catalogue read back with holders.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Grant, Principal, RoleDefinition } from "../../src/model.js";
import { openStore, type Db } from "../../src/store/db.js";
import { verifyChain } from "../../src/store/integrity.js";
import { pruneRuns } from "../../src/store/prune.js";
import { scopeRuns } from "../../src/store/reader.js";
import { roleCatalogueAt, roleVersionsOpenedIn, type RoleFilter, type RoleHolder } from "../../src/store/roles.js";
import { RunWriter, type RecordBatch } from "../../src/store/writer.js";

/**
 * Every role with all its holders, from the catalogue's in-memory pass keeping every holder: the oracle the
 * store's holder cursors (read by SQL, sorted by SQLite) are checked against.
 */
const rolesAt = (db: Db, runId: number, filter: RoleFilter = {}) =>
  roleCatalogueAt(db, runId, filter, Number.POSITIVE_INFINITY).roles.map(({ holderCount: _n, firstHolders, ...r }) => ({ ...r, holders: firstHolders }));

const tempDb = (): Db => openStore(join(mkdtempSync(join(tmpdir(), "whohas-roles-")), "s.db"));

const person = (id: string): Principal => ({ id, kind: "human", name: `${id}-name`, status: "active", mfa: "enabled" });
const grant = (principalId: string, privilege: string, level: Grant["level"] = "write", scope = "org"): Grant => ({ principalId, privilege, level, scope, via: "direct" });
const role = (privilege: string, over: Partial<RoleDefinition> = {}): RoleDefinition => ({
  id: privilege,
  privilege,
  name: privilege,
  kind: "github_repo_role",
  level: "write",
  reason: "documented",
  permissions: ["push"],
  ...over,
});

function run(db: Db, batch: RecordBatch, end = true): number {
  const r = RunWriter.begin(db);
  const w = r.openScope("gh", "github", "acme");
  w.write(batch);
  if (end) w.end();
  else w.fail("boom");
  r.finish();
  return r.runId;
}

const BASE: RecordBatch = {
  principals: [person("u1"), person("u2"), person("u3")],
  grants: [grant("u1", "org:owner", "admin"), grant("u2", "collaborator:write", "write", "repo:a"), grant("u2", "collaborator:write", "write", "repo:b"), grant("u3", "collaborator:write"), grant("u3", "inline:user/p", "read")],
  roles: [
    role("org:owner", { level: "admin", kind: "github_org_role", permissions: ["everything"] }),
    role("collaborator:write"),
    role("inline:user/p", { id: "u3/inline:user/p", holderId: "u3", level: "read", kind: "aws_inline_policy" }),
    // Another holder's inline policy of the same name: not u3's.
    role("inline:user/p", { id: "u9/inline:user/p", holderId: "u9", level: "admin", kind: "aws_inline_policy" }),
  ],
};

describe("role definitions in the store", () => {
  it("adds no row for an unchanged definition, a new version for a changed one, and closes one no longer sent", () => {
    const db = tempDb();
    const r1 = run(db, BASE);
    expect(roleVersionsOpenedIn(db, r1)).toBe(4);
    const r2 = run(db, BASE);
    expect(roleVersionsOpenedIn(db, r2)).toBe(0);
    expect(db.prepare("SELECT COUNT(*) FROM roles WHERE to_run IS NOT NULL").pluck().get()).toBe(0);

    const changed = { ...BASE, roles: [role("org:owner", { level: "admin", permissions: ["everything", "and more"] }), role("collaborator:write")] };
    const r3 = run(db, changed);
    expect(roleVersionsOpenedIn(db, r3)).toBe(1);
    // The changed owner role and both inline policies no longer sent are closed by run 3.
    expect(db.prepare("SELECT COUNT(*) FROM roles WHERE to_run = ?").pluck().get(r3)).toBe(3);
    expect(verifyChain(db)).toMatchObject({ ok: true, checked: 3 });
    // What run 1 read is still what run 1 reads.
    expect(rolesAt(db, r1).find((r) => r.privilege === "org:owner")!.permissions).toEqual(["everything"]);
    expect(rolesAt(db, r3).find((r) => r.privilege === "org:owner")!.permissions).toEqual(["everything", "and more"]);
  });

  it("an edited definition breaks the evidence digest", () => {
    const db = tempDb();
    run(db, BASE);
    db.prepare("UPDATE roles SET permissions = '[\"nothing\"]' WHERE privilege = 'org:owner'").run();
    expect(verifyChain(db).ok).toBe(false);
  });

  it("a failed scope keeps its previous definitions; a definition without an id is quarantined, its stored version kept", () => {
    const db = tempDb();
    run(db, BASE);
    const failed = run(db, { ...BASE, roles: [] }, false);
    expect(rolesAt(db, failed).filter((r) => r.id !== null)).toHaveLength(3);
    const partial = run(db, { ...BASE, roles: [...BASE.roles!.filter((r) => r.privilege !== "collaborator:write"), { ...role("collaborator:write"), id: "" }] });
    expect(scopeRuns(db, partial)[0]).toMatchObject({ status: "partial", quarantined: 1 });
    expect(rolesAt(db, partial).find((r) => r.privilege === "collaborator:write")!.id).toBe("collaborator:write");
  });

  it("reads the catalogue with holders, most privileged first, and lists a held privilege without a definition", () => {
    const db = tempDb();
    const r1 = run(db, { ...BASE, grants: [...BASE.grants!, grant("u1", "custom:thing", "privileged")] });
    const roles = rolesAt(db, r1);
    expect(roles.map((r) => `${r.privilege}:${r.level}:${r.holders.length}`)).toEqual(["org:owner:admin:1", "custom:thing:privileged:1", "collaborator:write:write:2", "inline:user/p:read:1"]);
    const write = roles.find((r) => r.privilege === "collaborator:write")!;
    expect(write.holders).toEqual([
      { id: "u2", name: "u2-name", via: ["direct"], grantScopes: ["repo:a", "repo:b"] },
      { id: "u3", name: "u3-name", via: ["direct"], grantScopes: ["org"] },
    ]);
    // The inline policy held by u3 is u3's definition, not u9's (which nobody here holds).
    expect(roles.find((r) => r.privilege === "inline:user/p")).toMatchObject({ id: "u3/inline:user/p", holderId: "u3", level: "read" });
    expect(roles.find((r) => r.privilege === "custom:thing")).toMatchObject({ id: null, kind: "undefined", permissions: [] });
    expect(rolesAt(db, r1, { sources: ["other"] })).toEqual([]);
    expect(rolesAt(db, r1, { scopes: new Set(["gh/acme"]) })).toHaveLength(4);
  });

  it("the access review's catalogue holds each role's first holders; the one sorted read gives all of them in the same order", () => {
    const db = tempDb();
    // 40 holders of one shared role: names in mixed case, one holder the listing did not return (its id is its
    // name), one with its own inline definition of the privilege (its grant goes there), one holding it twice.
    const names = Array.from({ length: 38 }, (_, i) => `p${String(i).padStart(2, "0")}`);
    const principals = names.map((id, i) => ({ ...person(id), name: i % 3 === 0 ? `Name-${id}` : `name-${id}` }));
    const grants = [...names.map((id) => grant(id, "collaborator:write")), grant("p05", "collaborator:write", "write", "repo:z"), grant("ghost", "collaborator:write"), grant("p07", "inline:p")];
    grants.push(grant("p09", "inline:p"));
    const roles = [role("collaborator:write"), role("inline:p", { id: "p07/inline:p", holderId: "p07", kind: "aws_inline_policy" })];
    const r1 = run(db, { principals, grants, roles });
    const catalogue = roleCatalogueAt(db, r1, {}, 5);
    const all = rolesAt(db, r1);
    expect(catalogue.roles.map((r) => `${r.privilege}:${r.holderCount}:${r.firstHolders.length}`)).toEqual(["collaborator:write:39:5", "inline:p:1:1", "inline:p:1:1"]);
    // One sorted read for every role: the same holders, role by role, in the order asked for.
    const seen: [string, RoleHolder[]][] = [];
    for (const [r, holders] of catalogue.eachRoleHolders(catalogue.roles)) seen.push([`${r.privilege}:${r.holderId}`, [...holders]]);
    expect(seen).toEqual(all.map((r) => [`${r.privilege}:${r.holderId}`, r.holders]));
    for (const [i, r] of catalogue.roles.entries()) expect(seen[i]![1].slice(0, r.firstHolders.length)).toEqual(r.firstHolders);
    const wide = seen[0]![1];
    expect(wide.map((h) => h.name)).toEqual([...wide.map((h) => h.name)].sort());
    expect(wide.find((h) => h.id === "p05")!.grantScopes).toEqual(["org", "repo:z"]);
    expect(wide.find((h) => h.id === "ghost")!.name).toBe("ghost");
    expect(wide.some((h) => h.id === "p07")).toBe(true); // p07's collaborator:write grant; its inline:p is its own role
    // A subset, the first role read only in part: the next role still gets its own holders, none of the first's.
    const wideRole = catalogue.roles[0]!;
    const owned = catalogue.roles.find((r) => r.holderId === "p07")!;
    const undefinedRole = catalogue.roles.find((r) => r.kind === "undefined")!;
    const partial: [string, string[]][] = [];
    for (const [r, holders] of catalogue.eachRoleHolders([wideRole, undefinedRole])) {
      const ids: string[] = [];
      for (const h of holders) if (ids.push(h.id) === 7) break;
      partial.push([r.kind, ids]);
    }
    expect(partial).toEqual([["github_repo_role", all[0]!.holders.slice(0, 7).map((h) => h.id)], ["undefined", ["p09"]]]);
    // A reader that stops before the last role frees the read: the next read of the catalogue works.
    for (const [, holders] of catalogue.eachRoleHolders(catalogue.roles)) {
      expect([...holders]).toHaveLength(39);
      break;
    }
    // Principals holding any of the roles: 38 named and the ghost; p07 and p09 once each though they hold two roles.
    expect(catalogue.principalsHolding(catalogue.roles)).toBe(39);
    expect(catalogue.principalsHolding([owned, undefinedRole])).toBe(2);
    expect(catalogue.principalsHolding([owned])).toBe(1);
    expect(catalogue.principalsHolding([wideRole])).toBe(39);
    expect(catalogue.principalsHolding([])).toBe(0);
  });

  it("retention drops closed definition versions older than the kept runs and the chain still verifies", () => {
    const db = tempDb();
    run(db, BASE);
    run(db, { ...BASE, roles: [] });
    run(db, { ...BASE, roles: [] });
    expect(pruneRuns(db, 1).removedVersions).toBeGreaterThanOrEqual(4);
    expect(verifyChain(db).ok).toBe(true);
  });
});

// Terminal tables: fitted to a width with ellipses, sorted by a key; scope names and --scope matching.
import { describe, expect, it } from "vitest";
import { resolveScopes, scopeText } from "../../src/query/principals.js";
import { table, TextTable } from "../../src/report/text.js";

describe("TextTable", () => {
  const rows = [
    ["b-source", "a".repeat(70), "admin", "x".repeat(120)],
    ["a-source", "short", "read", "y"],
  ];

  it("fits every line in the width, cutting the widest cells with an ellipsis", () => {
    const out = table(["SOURCE", "NAME", "ACCESS", "ROLES"], rows, { maxWidth: 60 });
    const lines = out.trimEnd().split("\n");
    expect(lines.every((l) => l.length <= 60)).toBe(true);
    expect(out).toContain("…");
    // Narrow columns keep their content whole.
    expect(out).toMatch(/admin/);
  });

  it("without a width keeps whole cells up to the cap", () => {
    const out = table(["SOURCE", "NAME", "ACCESS", "ROLES"], rows);
    expect(out).toContain("a".repeat(70));
    expect(out).toContain("x".repeat(120));
  });

  it("writes rows in sort-key order", () => {
    const t = new TextTable(["SOURCE", "NAME"]);
    t.add(["b", "2"], "b");
    t.add(["a", "1"], "a");
    t.add(["c", "3"], "c");
    expect(t.toString().split("\n").slice(2, 5).map((l) => l[0])).toEqual(["a", "b", "c"]);
  });
});

describe("scopes by name", () => {
  const scopes = [
    { source: "aws", scope: "222222222222", label: "prod (222222222222)" },
    { source: "aws", scope: "333333333333", label: "staging (333333333333)" },
    { source: "entra", scope: "0f0e0d0c-0b0a-4908-8706-050403020100", label: "Entra ID tenant contoso.onmicrosoft.com" },
    { source: "gh", scope: "acme", label: "GitHub org acme" },
  ];

  it("shows labels that carry the id, puts a label before an opaque id, and keeps readable ids", () => {
    expect(scopes.map(scopeText)).toEqual(["prod (222222222222)", "staging (333333333333)", "Entra ID tenant contoso.onmicrosoft.com (0f0e0d0c-0b0a-4908-8706-050403020100)", "acme"]);
  });

  it("matches a scope by id, source/scope, label or the label's name, in any case; names the unknown ones", () => {
    const r = resolveScopes(["PROD", "aws/333333333333", "acme", "nope"], scopes);
    expect([...r.keys].sort()).toEqual(["aws/222222222222", "aws/333333333333", "gh/acme"]);
    expect(r.unknown).toEqual(["nope"]);
  });
});

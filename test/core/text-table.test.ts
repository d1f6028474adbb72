// Terminal tables: fitted to a width with ellipses, sorted by a key; scope names and --scope matching.
import { describe, expect, it } from "vitest";
import { resolveScopes, scopeText } from "../../src/query/principals.js";
import { writeEvents } from "../../src/report/events.js";
import { writeInventory } from "../../src/report/inventory.js";
import { table, TextTable } from "../../src/report/text.js";
import { openRowSpill, orderedKey } from "../../src/store/spill.js";
import type { RowSpill, StoredEvent } from "../../src/views.js";
import { principals, RUN } from "../helpers/principals.js";

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

describe("TextTable past its spill threshold", () => {
  /** A spill that counts what the table did with it, so a test can tell it spilled and closed. */
  function counted() {
    const seen = { opened: 0, added: 0, closed: 0 };
    const open = (): RowSpill => {
      const inner = openRowSpill();
      seen.opened++;
      return {
        add: (k, r) => (seen.added++, inner.add(k, r)),
        rows: (o) => inner.rows(o),
        close: () => (seen.closed++, inner.close()),
      };
    };
    return { seen, open };
  }

  // Keys where JS order (UTF-16 code units) and UTF-8 byte order disagree, NUL-separated parts, prefixes,
  // empty keys, and duplicates that must keep the order they were added in.
  const HOSTILE = ["\u{1F600}", "\uffff", "\ue000", "\ud7ff", "a\u0000b", "a", "", "a\u0000", "\u{10FFFF}z", "\uffff", "é", "e\u0301", "\ud800", "a", "", "\u{1F600}"];
  const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ key: HOSTILE[i % HOSTILE.length]! + (i % 3 === 0 ? "" : String(i % 5)), cells: [`r${i}`, HOSTILE[i % HOSTILE.length]!, i % 7 === 0 ? "x".repeat(500) : "\u001b[2Jcell"] }));

  function render(rows: ReturnType<typeof rowsOf>, opts: { spillAfter?: number; keyed?: boolean | "some"; maxWidth?: number }) {
    const { seen, open } = counted();
    const t = new TextTable(["ID", "KEY", "NOTE"], { maxWidth: opts.maxWidth, spill: opts.spillAfter === undefined ? undefined : { open, after: opts.spillAfter } });
    try {
      rows.forEach((r, i) => t.add(r.cells, opts.keyed === false || (opts.keyed === "some" && i === 5) ? undefined : r.key));
      return { out: t.toString(), size: t.size, seen };
    } finally {
      t.close();
    }
  }

  it("orders keys as JS compares them, byte for byte, where UTF-8 byte order would not", () => {
    const keys = [...HOSTILE, "\ud83d", "\ud83d\ude00x", "\u0000", "\u0000\u0000"];
    const js = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const bytes = [...keys].sort((a, b) => Buffer.compare(orderedKey(a), orderedKey(b)));
    expect(bytes).toEqual(js);
    // Every string of up to two code units from each encoding length's edges, surrogates alone and paired.
    const edges = ["\u0000", "a", "\u007f", "\u0080", "\u07ff", "\u0800", "\ud7ff", "\ud800", "\udbff", "\udc00", "\udfff", "\ue000", "\uffff"];
    const all = [...edges, ...edges.flatMap((x) => edges.map((y) => x + y))];
    expect([...all].sort((a, b) => Buffer.compare(orderedKey(a), orderedKey(b)))).toEqual([...all].sort());
    // The case that needs the encoding: U+1F600 sorts before U+FFFF in JS, after it in UTF-8.
    expect(js.indexOf("\u{1F600}")).toBeLessThan(js.indexOf("\uffff"));
    expect(Buffer.compare(Buffer.from("\u{1F600}"), Buffer.from("\uffff"))).toBeGreaterThan(0);
  });

  it("writes the same bytes spilled as in memory: sorted by hostile keys, ties in the order added", () => {
    const rows = rowsOf(400);
    const memory = render(rows, {});
    const spilled = render(rows, { spillAfter: 10 });
    expect(spilled.seen).toEqual({ opened: 1, added: 400, closed: 1 });
    expect(spilled.size).toBe(400);
    expect(spilled.out).toBe(memory.out);
    // The sort did something: the first row written is not the first added, and equal keys keep their order.
    const ids = memory.out.split("\n").slice(2, -1).map((l) => Number(l.split(" ")[0]!.slice(1)));
    expect(ids[0]).not.toBe(0);
    const dup = rows.map((r, i) => ({ key: r.key, i })).filter((r) => r.key === rows[0]!.key).map((r) => r.i);
    expect(dup.length).toBeGreaterThan(2);
    expect(ids.filter((i) => dup.includes(i))).toEqual(dup);
  });

  it("fitted to a width, spilled rows are cut exactly as rows in memory are", () => {
    const rows = rowsOf(100);
    expect(render(rows, { spillAfter: 3, maxWidth: 40 }).out).toBe(render(rows, { maxWidth: 40 }).out);
  });

  it("keeps the order rows were added in when not every row has a key, spilled or not", () => {
    const rows = rowsOf(60);
    for (const keyed of [false, "some"] as const) {
      const memory = render(rows, { keyed });
      expect(memory.out.split("\n")[2]!.startsWith("r0 ")).toBe(true);
      expect(render(rows, { keyed, spillAfter: 7 }).out).toBe(memory.out);
    }
  });

  it("gives rows back exactly: numbers stay text, lone surrogates and NULs survive", () => {
    const rows = ["123", "1e3", " 42 ", "0x10", "", "-0", "a\u0000b", "\ud800x", "x\udfff", "\u{1F600}", "é"];
    const spill = openRowSpill();
    try {
      rows.forEach((r, i) => spill.add(String(rows.length - i), r));
      expect([...spill.rows("added")]).toEqual(rows);
      const byKey = rows.map((r, i) => ({ k: String(rows.length - i), r })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      expect([...spill.rows("key")]).toEqual(byKey.map((x) => x.r));
    } finally {
      spill.close();
    }
  });

  it("does not spill at or below the threshold", () => {
    expect(render(rowsOf(10), { spillAfter: 10 }).seen.opened).toBe(0);
  });

  it("inventory text closes its spill when the principals fail half way, and spills a large listing", () => {
    const { seen, open } = counted();
    function* failing() {
      yield* principals(50);
      throw new Error("store read failed");
    }
    const sink = { write: () => {}, close: () => {} };
    expect(() => writeInventory(sink, RUN, failing(), "text", { spill: { open, after: 20 } })).toThrow("store read failed");
    expect(seen).toEqual({ opened: 1, added: 50, closed: 1 });

    let spilled = "";
    let memory = "";
    expect(writeInventory({ write: (t) => void (spilled += t), close: () => {} }, RUN, principals(300, 50), "text", { spill: { open, after: 20 } })).toBe(300);
    writeInventory({ write: (t) => void (memory += t), close: () => {} }, RUN, principals(300, 50), "text");
    expect(seen.opened).toBe(2);
    expect(seen.closed).toBe(2);
    expect(spilled).toBe(memory);
  });

  it("events text keeps the order the store gave, spilled or not, and closes its spill", () => {
    const { seen, open } = counted();
    const events = (n: number): StoredEvent[] =>
      Array.from({ length: n }, (_, i) => ({
        source: "aws",
        sourceType: "aws-iam",
        scope: "1",
        feed: "cloudtrail",
        id: `e${i}`,
        // Not in key order of anything: the table must not sort them.
        at: `2026-01-${String(28 - (i % 28)).padStart(2, "0")}T00:00:00Z`,
        action: "grant.add",
        providerAction: `ConsoleLogin${HOSTILE[i % HOSTILE.length]}`,
        outcome: "success",
        actor: { id: `a${i}`, name: HOSTILE[i % HOSTILE.length]!, kind: "person" },
        target: { principalId: null, name: null, privilege: null, credentialId: null },
        ip: null,
        userAgent: null,
        details: null,
      }));
    let spilled = "";
    let memory = "";
    expect(writeEvents({ write: (t) => void (spilled += t), close: () => {} }, events(200), "text", { spill: { open, after: 30 } })).toBe(200);
    writeEvents({ write: (t) => void (memory += t), close: () => {} }, events(200), "text");
    expect(seen).toEqual({ opened: 1, added: 200, closed: 1 });
    expect(spilled).toBe(memory);
    expect(memory.split("\n")[2]!.startsWith("2026-01-28")).toBe(true);
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

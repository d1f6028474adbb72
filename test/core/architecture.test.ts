// The shape issue #12 asks for, held: SQL lives in src/store only, and no two folders import each other
// (directly or round a loop), so a command loads what it needs and a reader can follow one direction.
import { describe, expect, it } from "vitest";
import { cycleEdges, cycles, importSpecifiers, moduleSpecifiers, parse, parsed, resolveImport, sqlUses, tsFiles, unitGraph, unitOf } from "../helpers/architecture.js";

const FILES = tsFiles("src", "connectors");

describe("SQL lives in src/store", () => {
  it("the detector finds SQL calls and SQL strings, and leaves regular expressions and prose alone", () => {
    const uses = (text: string) => sqlUses(parse("x.ts", text)).map((u) => u.what);
    expect(uses(`db.prepare("SELECT 1 FROM runs").get();`)).toHaveLength(2);
    expect(uses(`this.db.exec(sql);`)).toEqual(["this.db.exec(…)"]);
    expect(uses("const q = `DELETE FROM ${t} WHERE id = ?`;")).toHaveLength(1);
    expect(uses(`const s = "UPDATE principals SET status = 'x'";`)).toHaveLength(1);
    expect(uses(`const m = PATTERN.exec(name); const n = /^a$/.exec("a"); logins.prepare(items);`)).toEqual([]);
    expect(uses(`const e = "select the rows from the list"; const c = /^GROUPS_(CREATE|UPDATE|DELETE)$/;`)).toEqual([]);
  });

  it("no module outside src/store prepares or executes SQL or holds an SQL string", () => {
    const found = FILES.filter((f) => !f.startsWith("src/store/"))
      .flatMap((f) => sqlUses(parsed(f)))
      .map((u) => `${u.file}:${u.line} ${u.what}`);
    expect(found).toEqual([]);
    // The check is not vacuous: the store itself is full of it.
    expect(FILES.filter((f) => f.startsWith("src/store/")).flatMap((f) => sqlUses(parsed(f))).length).toBeGreaterThan(50);
  });

  it("the renderers (src/report) import no store module, not even for a type: src/build-report.ts reads the store for them", () => {
    const report = FILES.filter((f) => f.startsWith("src/report/"));
    const reached = report.flatMap((f) => importSpecifiers(parsed(f)).map((s) => `${f} → ${resolveImport(f, s)}`)).filter((edge) => edge.split(" → ")[1]!.startsWith("src/store/"));
    expect(reached).toEqual([]);
    // The check is not vacuous: the report's folder is there, and the application module that builds it reads the store.
    expect(report.length).toBeGreaterThan(10);
    expect(importSpecifiers(parsed("src/build-report.ts")).map((s) => resolveImport("src/build-report.ts", s))).toContain("src/store/reader.ts");
  });

  it("no module outside src/store imports the SQLite driver", () => {
    const drivers = FILES.filter((f) => !f.startsWith("src/store/") && moduleSpecifiers(parsed(f)).includes("better-sqlite3"));
    expect(drivers).toEqual([]);
  });
});

/**
 * The modules a connector may import from src/, and that src/ may import without importing a connector: the
 * connector contract spread over the folders whose engine consumes it. They form one unit of the folder graph.
 */
const CONTRACTS = new Set([
  "src/connector.ts",
  "src/model.ts",
  "src/events/contract.ts",
  "src/remediate/contract.ts",
  "src/remediate/recent-reads.ts",
  "src/remediate/config-schema.ts",
  "src/store/validate.ts",
]);

/**
 * Imports that still close a loop between folders, each with the move that removes it. The test fails when
 * one of them disappears (take it off this list) and when any other import closes a loop: the list only shrinks.
 */
const KNOWN_LOOPS = new Map<string, string>([]);

describe("no import cycle between folders", () => {
  it("resolves specifiers and groups modules by folder", () => {
    expect(resolveImport("connectors/github/map.ts", "../../src/model.js")).toBe("src/model.ts");
    expect(unitOf("src/store/reader.ts")).toBe("src/store");
    expect(unitOf("src/collect.ts")).toBe("src/collect");
    expect(unitOf("connectors/index.ts")).toBe("connectors/index");
    expect(importSpecifiers(parse("x.ts", `import a from "./a.js"; export { b } from "../b.js"; const c = () => import("./c.js"); import z from "zod";`))).toEqual([
      "./a.js",
      "../b.js",
      "./c.js",
    ]);
    const g = unitGraph(["src/store/reader.ts"]);
    expect([...g.get("src/store")!.keys()]).toContain("src/model");
  });

  it("finds a loop when there is one", () => {
    const g = new Map([
      ["a", new Map([["b", ["a.ts → b.ts"]]])],
      ["b", new Map([["c", ["b.ts → c.ts"]]])],
      ["c", new Map([["a", ["c.ts → a.ts"]]])],
      ["d", new Map([["a", ["d.ts → a.ts"]]])],
    ]);
    expect(cycles(g)).toEqual([["a", "b", "c"]]);
    expect(cycleEdges(g, ["a", "b", "c"]).sort()).toEqual(["a.ts → b.ts", "b.ts → c.ts", "c.ts → a.ts"]);
  });

  it("src/<folder>, src/<module>, connectors/<type>, the registry and the contract form no cycle", () => {
    const g = unitGraph(FILES, { contracts: CONTRACTS, skip: new Set(KNOWN_LOOPS.keys()) });
    const loops = cycles(g).map((c) => ({ units: c, imports: cycleEdges(g, c) }));
    expect(loops).toEqual([]);
    expect(g.size).toBeGreaterThan(20);
    // The graph is the real one: the registry reaches every connector, connectors reach the contract.
    expect([...g.get("connectors/index")!.keys()].filter((u) => u.startsWith("connectors/")).length).toBeGreaterThanOrEqual(6);
    expect(g.get("connectors/github")!.has("contract")).toBe(true);
  });

  it("connectors reach src/ folders only through the contract (and the simulator harness)", () => {
    const g = unitGraph(FILES, { contracts: CONTRACTS });
    const isFolder = (unit: string) => FILES.some((f) => f.startsWith(`${unit}/`));
    const engine = [...g]
      .filter(([u]) => u.startsWith("connectors/"))
      .flatMap(([, to]) => [...to].filter(([v]) => v.startsWith("src/") && isFolder(v) && v !== "src/simulator").flatMap(([, lines]) => lines));
    expect(engine).toEqual([]);
    expect(isFolder("src/store") && !isFolder("src/collect")).toBe(true);
  });

  it("each known loop is still there (when one is cut, take it off the list)", () => {
    const full = unitGraph(FILES, { contracts: CONTRACTS });
    const inLoops = new Set(cycles(full).flatMap((c) => cycleEdges(full, c)));
    expect([...KNOWN_LOOPS.keys()].filter((edge) => !inLoops.has(edge))).toEqual([]);
  });
});

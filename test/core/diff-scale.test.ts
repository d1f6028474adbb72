// `whohas diff` of a first run of a large source: every account is "added". Its text was built by spreading each
// section's lines as arguments to push, which throws RangeError (call stack) past ~100,000 lines.
import { describe, expect, it } from "vitest";
import type { DiffResult } from "../../src/diff/differ.js";
import { writeDiff } from "../../src/report/diff.js";
import type { RunRow } from "../../src/store/reader.js";

const N = 300_000;
const run = (id: number): RunRow => ({ id, startedAt: `2026-01-0${id}T00:00:00.000Z`, finishedAt: null, status: "ok", trigger: "manual", error: null, digest: null });

describe("diff text at scale", () => {
  it(`writes ${N.toLocaleString("en")} added accounts, one line each, with a hostile name escaped`, () => {
    const added = Array.from({ length: N }, (_, i) => ({
      source: "erp",
      scope: "erp",
      id: `u${i}`,
      name: i === 7 ? "x\u001b[2J\nCRITICAL (9)" : `user${i}`,
      row: { kind: "human", status: "active" },
    }));
    const d: DiffResult = {
      from: run(1),
      to: run(2),
      scopes: [{ source: "erp", scope: "erp", compared: true }] as DiffResult["scopes"],
      principals: { added, removed: [], changed: [] },
      credentials: { added: [], removed: [], changed: [], rotated: [] },
      grants: { added: [], removed: [] },
      accessLevels: [],
    };
    let out = "";
    let writes = 0;
    writeDiff({ write: (t) => void (writes++, (out += t)), close: () => {} }, d, "text");
    const lines = out.split("\n");
    // Streamed in chunks: not held as one string to the end, and not a write per line either.
    expect(writes).toBeGreaterThan(10);
    expect(writes).toBeLessThan(N / 100);
    expect(lines).toContain(`Accounts added (${N})`);
    expect(lines.filter((l) => l.startsWith("  erp/erp: + "))).toHaveLength(N);
    expect(lines).toContain("  erp/erp: + x\\x1b[2J\\nCRITICAL (9) (human, active)");
    expect(lines.some((l) => l.startsWith("CRITICAL"))).toBe(false);
  });
});

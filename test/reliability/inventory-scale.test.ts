// `whohas inventory` as text at a million principals (it crashed at 250,000 with a spread over the rows):
// the renderer on its own, fed as the store's reader feeds it. Counts and sizes are asserted, never times;
// the time and heap are printed for docs/reliability.md.
import { describe, expect, it } from "vitest";
import { writeInventory } from "../../src/report/inventory.js";
import { CELL_MAX } from "../../src/report/text.js";
import { principals, RUN } from "../helpers/principals.js";

const N = Number(process.env.WHOHAS_INVENTORY_PRINCIPALS ?? 1_000_000);

describe("inventory text at scale", () => {
  it(`renders ${N.toLocaleString("en")} principals, one capped line each, written in chunks`, () => {
    let bytes = 0;
    let lines = 0;
    let writes = 0;
    let longest = 0;
    const sink = {
      write: (t: string) => {
        writes++;
        bytes += t.length;
        for (let i = t.indexOf("\n"), from = 0; i >= 0; from = i + 1, i = t.indexOf("\n", i + 1)) {
          lines++;
          longest = Math.max(longest, i - from);
        }
      },
      close: () => {},
    };
    const started = process.hrtime.bigint();
    const heapBefore = process.memoryUsage().heapUsed;
    expect(writeInventory(sink, RUN, principals(N, 1000), "text")).toBe(N);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(lines).toBe(N + 4);
    expect(writes).toBeLessThan(N / 1000);
    // One 1 KB name in every thousand widens no line past the capped columns.
    expect(longest).toBeLessThan(CELL_MAX + 80);
    console.log(`inventory text: ${N} principals, ${(bytes / 1e6).toFixed(1)} MB in ${writes} writes, longest line ${longest}, ${ms.toFixed(0)} ms, heap +${((process.memoryUsage().heapUsed - heapBefore) / 1e6).toFixed(0)} MB after`);
  });
});

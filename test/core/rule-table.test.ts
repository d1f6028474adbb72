// The README's rule table and the catalogue (src/rules/rules.ts) say the same: every rule listed once, its
// catalogue severity among those the row names, its controls exactly the catalogue's. The table once called
// credential-expired low while the catalogue said medium; this keeps them from drifting apart again.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RULES } from "../../src/rules/rules.js";
import { SEVERITIES } from "../../src/vocabulary.js";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

interface Row {
  rules: string[];
  severityCell: string;
  controls: string[];
}

/** "SOC2 CC6.2 CC9.2, ISO27001 A.5.19" → ["SOC2 CC6.2", "SOC2 CC9.2", "ISO27001 A.5.19"]: the table names a framework once per group. */
function expandControls(cell: string): string[] {
  return cell.split(",").flatMap((group) => {
    const words = group.trim().split(/\s+/);
    // "CIS AWS 1.10": the framework is two words.
    const framework = words[0] === "CIS" ? words.slice(0, 2).join(" ") : words[0]!;
    return words.slice(framework.split(" ").length).map((id) => `${framework} ${id}`);
  });
}

function ruleRows(markdown: string): Row[] {
  const start = markdown.indexOf("| rule | severity | what it means | controls evidenced |");
  expect(start, "the README's rule table").toBeGreaterThan(-1);
  const rows: Row[] = [];
  for (const line of markdown.slice(start).split("\n").slice(2)) {
    if (!line.startsWith("|")) break;
    const cells = line.split(" | ").map((c) => c.replace(/^\| ?| ?\|$/g, ""));
    rows.push({ rules: [...cells[0]!.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!), severityCell: cells[1]!, controls: expandControls(cells[cells.length - 1]!) });
  }
  return rows;
}

describe("README rule table", () => {
  const rows = ruleRows(README);

  it("expands the table's control shorthand", () => {
    expect(expandControls("SOC2 CC6.2 CC9.2, ISO27001 A.5.19, NIST AC-2(3), CIS AWS 1.12 1.13")).toEqual([
      "SOC2 CC6.2",
      "SOC2 CC9.2",
      "ISO27001 A.5.19",
      "NIST AC-2(3)",
      "CIS AWS 1.12",
      "CIS AWS 1.13",
    ]);
  });

  it("lists every rule of the catalogue once, and no other", () => {
    const listed = rows.flatMap((r) => r.rules);
    expect([...listed].sort()).toEqual(Object.keys(RULES).sort());
    expect(new Set(listed).size).toBe(listed.length);
  });

  it("names each rule's catalogue severity in its row", () => {
    const wrong = rows.flatMap((r) => {
      // "medium / low" for two rules in one row: one severity each, in order; otherwise the cell (which may
      // name the raised ones too: "high (critical with admin)") is every rule's of the row.
      const parts = r.severityCell.split(" / ");
      const paired = r.rules.length > 1 && parts.length === r.rules.length;
      return r.rules.flatMap((rule, i) => {
        const cell = paired ? parts[i]! : r.severityCell;
        const named = SEVERITIES.filter((s) => new RegExp(`\\b${s}\\b`).test(cell));
        const severity = RULES[rule as keyof typeof RULES].severity;
        return named.includes(severity) ? [] : [`${rule}: catalogue ${severity}, README "${cell}"`];
      });
    });
    expect(wrong).toEqual([]);
  });

  it("gives each row exactly its rules' controls", () => {
    const wrong = rows.flatMap((r) => {
      const catalogue = [...new Set(r.rules.flatMap((rule) => RULES[rule as keyof typeof RULES].controls as readonly string[]))].sort();
      const table = [...r.controls].sort();
      return JSON.stringify(catalogue) === JSON.stringify(table) ? [] : [{ rules: r.rules, catalogue, table }];
    });
    expect(wrong).toEqual([]);
  });
});

// The output-safety layer on its own: what a terminal, a Markdown viewer and Slack receive for hostile
// values, and the text table at a size where a spread over rows or padding to one huge cell used to crash.
import { describe, expect, it } from "vitest";
import { clip, escapeControls, FIELD_MAX, markdownText, shown, shownLines, slackText } from "../../src/safe-text.js";
import { writeInventory } from "../../src/report/inventory.js";
import { CELL_MAX, table } from "../../src/report/text.js";
import { principals, RUN } from "../helpers/principals.js";

/** Any byte a terminal or a bidi-aware viewer would act on rather than show. */
const ACTIVE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe("escapeControls / shown", () => {
  it("shows ESC, OSC, CR, LF, NUL, DEL, C1 and bidi controls as escapes and changes nothing else", () => {
    expect(escapeControls("\u001b]0;pwned\u0007x")).toBe("\\x1b]0;pwned\\x07x");
    expect(escapeControls("overwritten\rtrusted-user")).toBe("overwritten\\rtrusted-user");
    expect(escapeControls("a\nCRITICAL (9)")).toBe("a\\nCRITICAL (9)");
    expect(escapeControls("nul\u0000del\u007fcsi\u009b")).toBe("nul\\x00del\\x7fcsi\\x9b");
    expect(escapeControls("admin\u202egnp.exe\u2066x\u2069\u200e\u200f\u061c")).toBe("admin\\u202egnp.exe\\u2066x\\u2069\\u200e\\u200f\\u061c");
    expect(escapeControls("a\tb")).toBe("a\\tb");
    expect(escapeControls("a\tb", { keepTab: true })).toBe("a\tb");
    // Ordinary text, backslashes and non-Latin names pass untouched.
    expect(escapeControls("CORP\\alice Zoë 李雷 😀")).toBe("CORP\\alice Zoë 李雷 😀");
  });

  it("caps a value with an ellipsis, never splitting a surrogate pair, and a 3 MB value costs no more than a short one", () => {
    expect(clip("abcdef", 4)).toBe("abc…");
    expect(clip("ab😀cd", 4)).toBe("ab…");
    const huge = "\u001b[2J" + "x".repeat(3 * 1024 * 1024);
    const out = shown(huge);
    expect(out.length).toBe(FIELD_MAX);
    expect(out.startsWith("\\x1b[2Jxx")).toBe(true);
    expect(out.endsWith("…")).toBe(true);
    expect(shown(null)).toBe("");
    expect(shown(42)).toBe("42");
  });

  it("keeps the line breaks of a multi-line message and escapes everything inside its lines", () => {
    expect(shownLines("first: a\u001b[2Jb\nsecond\rx")).toBe("first: a\\x1b[2Jb\nsecond\\rx");
  });
});

describe("markdownText", () => {
  it("leaves no HTML, no link, no autolink and no row break in a table cell", () => {
    expect(markdownText("[clickme](https://evil.example)")).toBe("\\[clickme\\]\\(https\\://evil.example\\)");
    expect(markdownText("<img src=x onerror=alert(1)>")).toBe("\\<img src=x onerror=alert\\(1\\)\\>");
    expect(markdownText("<script>alert(1)</script>")).not.toMatch(/(^|[^\\])</);
    expect(markdownText("a|b\r\nc")).toBe("a\\|b\\\\r\\\\nc");
    expect(markdownText("![x](data:,y)")).toBe("\\!\\[x\\]\\(data\\:,y\\)");
    expect(markdownText("app/app/grace")).toBe("app/app/grace");
  });
});

describe("slackText", () => {
  it("is one line with Slack's three control characters escaped", () => {
    expect(slackText("<!channel> eve\n• *critical* forged")).toBe("&lt;!channel&gt; eve\\n• *critical* forged");
    expect(slackText("a&b")).toBe("a&amp;b");
  });
});

describe("text tables", () => {
  it("escapes cells and caps padded columns, so one long cell does not pad every row", () => {
    const out = table(["NAME", "NOTE"], [["x".repeat(100_000), "ok"], ["\u001b]0;t\u0007", "line\nforged"]]);
    const lines = out.split("\n");
    expect(lines).toHaveLength(5); // header, rule, two rows, trailing newline
    expect(lines[2]!.length).toBe(CELL_MAX + 2 + 2);
    expect(lines[3]).toBe(`${"\\x1b]0;t\\x07".padEnd(CELL_MAX)}  line\\nforged`);
    expect(out.replace(/\n/g, "")).not.toMatch(ACTIVE);
  });

  it("writes inventory text for 300,000 principals in chunks, one line each, with hostile names escaped and capped", () => {
    const n = 300_000;
    let bytes = 0;
    let lines = 0;
    let writes = 0;
    let active = 0;
    const sink = {
      write: (t: string) => {
        writes++;
        bytes += t.length;
        for (let i = t.indexOf("\n"); i >= 0; i = t.indexOf("\n", i + 1)) lines++;
        if (ACTIVE.test(t.replace(/\n/g, ""))) active++;
      },
      close: () => {},
    };
    expect(writeInventory(sink, RUN, principals(n, 1000), "text")).toBe(n);
    expect(lines).toBe(n + 4); // title, blank, header, rule, one per principal
    expect(active).toBe(0);
    // Chunked: far fewer writes than lines.
    expect(writes).toBeLessThan(n / 100);
    // Every row is at most the capped widths: the 1 KB names did not widen the table.
    expect(bytes / n).toBeLessThan(CELL_MAX + 80);
  });
});

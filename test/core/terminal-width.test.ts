import { describe, expect, it } from "vitest";
import { charColumns, clipColumns, textColumns } from "../../src/terminal-width.js";

describe("terminal columns", () => {
  it("counts ASCII as one, CJK, Hangul, fullwidth and emoji as two, combining marks as none", () => {
    expect(textColumns("alice")).toBe(5);
    expect(textColumns("中文")).toBe(4);
    expect(textColumns("한국")).toBe(4);
    expect(textColumns("ＡＢ")).toBe(4);
    expect(textColumns("😀")).toBe(2);
    expect(textColumns("e\u0301")).toBe(1);
    expect(charColumns("\u200b")).toBe(0);
    expect(charColumns("\u{20000}")).toBe(2);
  });

  it("cuts to at most the given columns, with an ellipsis, never inside a character", () => {
    expect(clipColumns("short", 10)).toBe("short");
    expect(clipColumns("中中中中中", 10)).toBe("中中中中中");
    expect(clipColumns("中中中中中中", 10)).toBe("中中中中…");
    expect(textColumns(clipColumns("中中中中中中", 10))).toBe(9);
    expect(clipColumns("ab😀😀😀", 5)).toBe("ab😀…");
    expect(clipColumns("abc😀😀", 5)).toBe("abc…");
    expect(clipColumns("abcdefgh", 5)).toBe("abcd…");
    for (const s of ["x中y😀z".repeat(20), "中".repeat(99), "a".repeat(99)]) {
      for (let max = 1; max < 40; max++) expect(textColumns(clipColumns(s, max))).toBeLessThanOrEqual(Math.max(1, max));
    }
  });
});

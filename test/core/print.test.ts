// The access review printed to PDF by headless Chromium: every inventory column on every printed page that
// holds inventory rows (a clipped or dropped column fails), and the page number in the margin. Skipped, with
// the reason, when the machine has no Chromium or no pdftotext (.ci/run installs both from Debian).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderHtml } from "../../src/report/html.js";
import { reviewReport } from "../helpers/review-report.js";

const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const pdftotext = existsSync("/usr/bin/pdftotext") ? "/usr/bin/pdftotext" : undefined;
const missing = !chromium ? "no chromium" : !pdftotext ? "no pdftotext (poppler-utils)" : "";

describe.skipIf(missing !== "")(`access review printed to PDF${missing ? ` (skipped: ${missing})` : ""}`, () => {
  it("shows every inventory column and a page number on every page with inventory rows", () => {
    const dir = mkdtempSync(join(tmpdir(), "whohas-print-"));
    const html = join(dir, "review.html");
    const pdf = join(dir, "review.pdf");
    writeFileSync(html, renderHtml(reviewReport({ organisation: "Acme", filler: 80 })));
    spawnSync(chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${join(dir, "profile")}`, "--no-pdf-header-footer", `--print-to-pdf=${pdf}`, `file://${html}`], { timeout: 90_000 });
    expect(existsSync(pdf)).toBe(true);
    const text = join(dir, "review.txt");
    expect(spawnSync(pdftotext!, [pdf, text]).status).toBe(0);
    const pages = readFileSync(text, "utf8").split("\f").map((p) => p.replace(/\s+/g, " "));
    const inventoryPages = pages.filter((p) => p.includes("filler.user."));
    expect(inventoryPages.length).toBeGreaterThan(1); // the table spans pages, so repeated headers are tested
    for (const [i, page] of inventoryPages.entries()) {
      for (const column of ["Source", "Scope", "Username", "Email", "Status", "Access", "Roles", "MFA", "Last active", "Credentials", "Reviewer", "Decision", "Comment"]) {
        expect(page, `inventory page ${i + 1}: column ${column}`).toContain(column);
      }
      // The last columns' cells are printed too, not only their headers: each filler row's key id tail.
      expect(page, `inventory page ${i + 1}: credentials cells`).toMatch(/access_key …\d{4} created 2025-03-01/);
    }
    const numbered = pages.filter((p) => /Page \d+ of \d+/.test(p));
    expect(numbered.length).toBe(pages.filter((p) => p.trim() !== "").length);
  });
});

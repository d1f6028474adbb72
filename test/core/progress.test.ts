// Collect's progress lines: the display on its own (a fake terminal and clock: throttling, final lines, logs
// printed above the block, hostile names, a block bounded by the screen), then the built CLI on a pseudo-terminal
// (util-linux `script`) against a SCIM simulator whose every answer is slow: redraws with growing counts and a
// final state line; the same collect on a pipe prints none of it.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { generateTenant, startScimSimulator, type ScimSimulator } from "../../connectors/scim/simulator.js";
import type { ProgressEvent } from "../../src/collect.js";
import { ProgressLines, REDRAW_MS } from "../../src/commands/progress.js";
import { CLI } from "../helpers/cli.js";
import { textColumns } from "../../src/terminal-width.js";

const ev = (scope: string, state: ProgressEvent["state"], records = 0, requests = 0, source = "src"): ProgressEvent => ({ source, scope, state, records, requests, quarantined: 0 });

describe("ProgressLines", () => {
  let clock = 0;
  let out: string[] = [];
  const term = { write: (t: string) => out.push(t), columns: 60, rows: 8 };
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 1_000;
    out = [];
  });
  afterEach(() => vi.useRealTimers());
  const advance = (ms: number) => {
    clock += ms;
    vi.advanceTimersByTime(ms);
  };

  it("redraws at most once per interval however many updates arrive, with the latest counts", () => {
    const p = new ProgressLines(term, () => clock);
    p.update(ev("a", "started"));
    expect(out).toHaveLength(1);
    for (let i = 1; i <= 50; i++) p.update(ev("a", "collecting", i * 10, i));
    expect(out).toHaveLength(1);
    advance(REDRAW_MS);
    expect(out).toHaveLength(2);
    expect(out[1]).toContain("src/a: 50 requests · 500 records");
    // The previous line is cleared before the new one is drawn.
    expect(out[1]!.startsWith("\r\x1b[1A\x1b[J")).toBe(true);
    p.close();
  });

  it("prints a scope's final state once, removes it from the block, and ignores it afterwards", () => {
    const p = new ProgressLines(term, () => clock);
    p.update(ev("a", "started"));
    p.update(ev("b", "started"));
    advance(REDRAW_MS);
    clock += 2_000;
    p.update(ev("a", "ok", 42, 3));
    const last = out.at(-1)!;
    expect(last).toContain("  src/a: ok · 3 requests · 42 records · 2.");
    // Below the final line, only b is still drawn.
    expect(last.split("\n").filter((l) => l.includes("src/b:"))).toHaveLength(1);
    expect(last).not.toMatch(/src\/a: \d+ request/);
    const before = out.length;
    p.update(ev("a", "collecting", 99, 9));
    p.update(ev("a", "failed"));
    advance(REDRAW_MS * 2);
    expect(out.slice(before).join("")).not.toContain("src/a");
    p.close();
    expect(out.join("").match(/src\/a: ok/g)).toHaveLength(1);
  });

  it("puts printed text above the block and draws the block again below it", () => {
    const p = new ProgressLines(term, () => clock);
    p.update(ev("a", "started"));
    p.print("12:00:01 WARN  something\n");
    const last = out.at(-1)!;
    expect(last.indexOf("WARN")).toBeLessThan(last.indexOf("src/a:"));
    expect(last.startsWith("\r\x1b[1A\x1b[J")).toBe(true);
    p.close();
    expect(out.at(-1)).toBe("\r\x1b[1A\x1b[J");
    p.print("after\n");
    expect(out.at(-1)).toBe("after\n");
  });

  it("shows a hostile scope name escaped and each line cut to the terminal's width", () => {
    const p = new ProgressLines(term, () => clock);
    p.update(ev("evil\x1b]0;owned\x07\rname-" + "x".repeat(200), "started"));
    const drawn = out.join("");
    expect(drawn).toContain("evil\\x1b]0;owned\\x07\\rname-");
    expect(drawn).not.toContain("\x1b]0;");
    const line = drawn.split("\n").find((l) => l.includes("evil"))!;
    expect(line.length).toBeLessThanOrEqual(term.columns - 1);
    expect(line.endsWith("…")).toBe(true);
    p.close();
  });

  it("counts wide characters as two columns, so a CJK or emoji scope name never wraps the line", () => {
    const p = new ProgressLines(term, () => clock);
    p.update(ev("租户-" + "中".repeat(80), "started"));
    const line = out.join("").split("\n").find((l) => l.includes("租户"))!;
    expect(line.endsWith("…")).toBe(true);
    expect(textColumns(line)).toBeLessThanOrEqual(term.columns - 1);
    // Cut by columns, not by UTF-16 units: far fewer characters than the width.
    expect(line.length).toBeLessThan(term.columns / 2 + 4);
    p.close();
  });

  it("keeps the block within the screen: the scopes beyond it are counted on one line", () => {
    const p = new ProgressLines(term, () => clock);
    for (let i = 0; i < 20; i++) p.update(ev(`s${i}`, "started"));
    advance(REDRAW_MS);
    const last = out.at(-1)!;
    const lines = last.replace(/^\r\x1b\[\d+A\x1b\[J/, "").split("\n").filter(Boolean);
    expect(lines).toHaveLength(term.rows - 2);
    expect(lines.at(-1)).toBe(`  … and ${20 - (term.rows - 3)} more scopes running`);
    p.close();
  });
});

const hasScript = spawnSync("script", ["--version"]).status === 0;

/** The built CLI as a child, on a pipe or (tty) on a pseudo-terminal made by `script`; stdout and stderr as one text on a tty. */
function collectRun(args: string[], env: NodeJS.ProcessEnv, tty: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  // -q no banner, -f flush as written, -e the child's exit code, -c the command; the typescript file is discarded.
  const child = tty
    ? spawn("script", ["-qfec", [process.execPath, CLI, ...args].map(quote).join(" "), "/dev/null"], { env: { ...process.env, TERM: "xterm", ...env } })
    : spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d));
  child.stderr.on("data", (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe.skipIf(!hasScript)("collect progress on a terminal", () => {
  const dir = mkdtempSync(join(tmpdir(), "whohas-progress-"));
  let scim: ScimSimulator;
  let config: string;

  beforeAll(async () => {
    // Sixty users read ten at a time, one page at a time, every answer 300 ms late: a scope that takes seconds.
    scim = await startScimSimulator({ tenant: generateTenant({ seed: 14, users: 60, groups: 2 }), maxPageSize: 10, latencyMs: 300 });
    config = join(dir, "whohas.toml");
    writeFileSync(
      config,
      `[store]\npath = ${JSON.stringify(join(dir, "w.db"))}\n[[sources]]\nid = "slow"\ntype = "scim"\nbase_url = "${scim.baseUrl}"\ntoken = "env:WHOHAS_TEST_SCIM_TOKEN"\npage_size = 10\nconcurrency = 1\n`,
      { mode: 0o600 },
    );
  });
  afterAll(async () => {
    await scim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const progressLine = /slow\/\S+: (\d+) requests? · (\d+) records? · \d+\.\ds/g;

  it("redraws one line for the running scope with growing counts, then prints its final state once", async () => {
    const { code, stdout: output } = await collectRun(["collect", "--config", config], { WHOHAS_TEST_SCIM_TOKEN: scim.tenant.token }, true);
    expect(code, output).toBe(0);
    const frames = [...output.matchAll(progressLine)].map((m) => ({ requests: Number(m[1]), records: Number(m[2]) }));
    // Redrawn in place (cursor up, erase below), more than one frame, counts that only grow.
    expect(output).toMatch(/\r\x1b\[1A\x1b\[J/);
    expect(frames.length).toBeGreaterThan(2);
    for (let i = 1; i < frames.length; i++) {
      expect(frames[i]!.records).toBeGreaterThanOrEqual(frames[i - 1]!.records);
      expect(frames[i]!.requests).toBeGreaterThanOrEqual(frames[i - 1]!.requests);
    }
    expect(new Set(frames.map((f) => f.records)).size).toBeGreaterThan(1);
    const finals = [...output.matchAll(/slow\/\S+: ok · (\d+) requests · (\d+) records · \d+\.\ds/g)];
    expect(finals).toHaveLength(1);
    expect(Number(finals[0]![2])).toBeGreaterThanOrEqual(60);
    expect(Number(finals[0]![1])).toBeGreaterThanOrEqual(7);
    expect(output).toContain("Run 1: ok");
  });

  it("prints no progress on a pipe, nor with --quiet on a terminal", async () => {
    // Nothing here waits to be seen, so the simulator answers at once.
    scim.sim.latencyMs = 0;
    const env = { WHOHAS_TEST_SCIM_TOKEN: scim.tenant.token };
    const piped = await collectRun(["collect", "--config", config], env, false);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toContain("Run 2: ok");
    expect(piped.stderr.match(progressLine)).toBeNull();
    expect(piped.stderr).not.toContain("\x1b[");

    const quiet = await collectRun(["collect", "--quiet", "--config", config], env, true);
    expect(quiet.code, quiet.stdout).toBe(0);
    expect(quiet.stdout).toContain("Run 3: ok");
    expect(quiet.stdout.match(progressLine)).toBeNull();
    expect(quiet.stdout).not.toMatch(/: ok · \d+ requests/);
  });
});

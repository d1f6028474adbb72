import { execFileSync, spawn } from "node:child_process";
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openFileStream, OutputError, writeOutput } from "../../src/report/output.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "whohas-out-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

describe("--out files", () => {
  it("replace a symlink planted at the path instead of writing through it", () => {
    const victim = join(dir, "victim");
    writeFileSync(victim, "precious\n", { mode: 0o644 });
    const out = join(dir, "report.json");
    symlinkSync(victim, out);
    writeOutput(out, (sink) => sink.write("{\"who\":\"has\"}\n"));
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(mode(victim)).toBe(0o644);
    expect(lstatSync(out).isFile()).toBe(true);
    expect(readFileSync(out, "utf8")).toBe("{\"who\":\"has\"}\n");
    expect(mode(out)).toBe(0o600);
  });

  it("are left as they were when the writer fails, with nothing left beside them", () => {
    const out = join(dir, "inventory.csv");
    writeFileSync(out, "yesterday's inventory\n");
    expect(() =>
      writeOutput(out, (sink) => {
        sink.write("half of today's");
        throw new Error("store went away");
      }),
    ).toThrow("store went away");
    expect(readFileSync(out, "utf8")).toBe("yesterday's inventory\n");
    expect(readdirSync(dir)).toEqual(["inventory.csv"]);
  });

  it("name the --out path and the reason when it is a directory, before anything is written", () => {
    const out = join(dir, "reports");
    mkdirSync(out);
    let filled = false;
    const attempt = () =>
      writeOutput(out, (sink) => {
        filled = true;
        sink.write("x");
      });
    expect(attempt).toThrow(OutputError);
    expect(attempt).toThrow(`--out ${out}: cannot write (EISDIR)`);
    expect(filled).toBe(false);
  });

  it("write through the system's own links: /proc/self/fd/N reaches the file the descriptor holds", () => {
    const target = join(dir, "redirected.txt");
    const fd = openSync(target, "w");
    try {
      writeOutput(`/proc/self/fd/${fd}`, (sink) => sink.write("to stdout's file\n"));
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(target, "utf8")).toBe("to stdout's file\n");
  });

  it("add to what a system link's file already holds when the shell opened it to append (>>)", () => {
    const target = join(dir, "appended.log");
    writeFileSync(target, "an older line\n");
    const fd = openSync(target, "a");
    try {
      writeOutput(`/proc/self/fd/${fd}`, (sink) => sink.write("new\n"));
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(target, "utf8")).toBe("an older line\nnew\n");
  });

  it("write into a pipe as it is, without replacing it", async () => {
    const fifo = join(dir, "pipe");
    execFileSync("mkfifo", [fifo]);
    const reader = spawn("cat", [fifo]);
    const received = new Promise<string>((resolve) => {
      let text = "";
      reader.stdout.on("data", (d: Buffer) => (text += d.toString()));
      reader.on("close", () => resolve(text));
    });
    writeOutput(fifo, (sink) => sink.write("streamed\n"));
    expect(await received).toBe("streamed\n");
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it("as a stream (the workbook): replaced once finished, untouched when destroyed with an error", async () => {
    const victim = join(dir, "victim");
    writeFileSync(victim, "precious\n");
    const out = join(dir, "review.xlsx");
    symlinkSync(victim, out);
    const stream = openFileStream(out);
    await new Promise<void>((resolve, reject) => {
      stream.on("finish", resolve).on("error", reject);
      stream.end(Buffer.from("PK workbook"));
    });
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(readFileSync(out, "utf8")).toBe("PK workbook");
    expect(mode(out)).toBe(0o600);

    const failed = openFileStream(out);
    failed.write(Buffer.from("half a workbook"));
    await new Promise<void>((resolve) => {
      failed.on("close", resolve).on("error", () => {});
      failed.destroy(new Error("report failed"));
    });
    expect(readFileSync(out, "utf8")).toBe("PK workbook");
    expect(readdirSync(dir).sort()).toEqual(["review.xlsx", "victim"]);
  });
});

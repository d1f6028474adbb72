// whohas completion bash|zsh|fish: scripts generated from the commander program name every command, and the
// bash one parses (bash -n) and completes commands and enum values when bash runs it.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli.js";
import { completionScript, SHELLS } from "../../src/completion.js";

const program = buildProgram();
const commands = program.commands.map((c) => c.name());
const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

describe("shell completion", () => {
  it.each(SHELLS)("the %s script names every command and parses", (shell) => {
    const script = completionScript(program, shell);
    expect(commands.length).toBeGreaterThan(20);
    for (const c of commands) expect(script, c).toMatch(new RegExp(`\\b${c}\\b`));
    for (const v of ["access-review", "critical", "orphaned-access", "admin", "guest"]) expect(script, v).toContain(v);
    if (has(shell)) expect(spawnSync(shell, ["-n"], { input: script }).status).toBe(0);
  });

  it("bash completes commands, options and enum values", () => {
    const complete = (...words: string[]) => {
      const script = `${completionScript(program, "bash")}\nCOMP_WORDS=(${words.map((w) => `"${w}"`).join(" ")}); COMP_CWORD=${words.length - 1}; _whohas_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
      expect(r.status).toBe(0);
      return r.stdout.trim().split("\n");
    };
    expect(complete("whohas", "rep")).toEqual(["report"]);
    expect(complete("whohas", "rol")).toEqual(["roles"]);
    expect(complete("whohas", "roles", "--level", "")).toEqual(["admin", "privileged", "write", "read"]);
    expect(complete("whohas", "roles", "-f", "")).toEqual(["text", "json", "csv", "md"]);
    expect(complete("whohas", "report", "--severity", "")).toEqual(["critical", "high", "medium", "low", "info"]);
    expect(complete("whohas", "report", "-f", "")).toEqual(["text", "json", "csv", "md", "html", "xlsx"]);
    expect(complete("whohas", "inventory", "--kind", "gu")).toEqual(["guest"]);
    expect(complete("whohas", "collect", "--log-l")).toEqual(["--log-level"]);
    expect(complete("whohas", "completion", "z")).toEqual(["zsh"]);
  });
});

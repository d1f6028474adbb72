// whohas completion bash|zsh|fish
import type { Command } from "commander";
import { completionScript, type Shell } from "../completion.js";

/** The script describes the program this command belongs to: every command, option and enum value it has. */
export const action = (shell: Shell, _opts: object, command: Command) => {
  process.stdout.write(completionScript(command.parent ?? command, shell));
};

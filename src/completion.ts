// Shell completion scripts (bash, zsh, fish) generated from the commander program itself, so a new command,
// option or enum value (--format, --kind, --level, --severity, --rule ...) is completed without anyone
// remembering to edit a script. Every word written into a script is whohas's own vocabulary, checked against a
// plain-word pattern; descriptions are reduced to characters no shell quoting can trip on.
import type { Command, Option } from "commander";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

interface OptionSpec {
  short?: string;
  long: string;
  description: string;
  /** The option takes a value. */
  value: boolean;
  /** The value is a path: complete file names. */
  path: boolean;
  choices: string[];
  variadic: boolean;
}

interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  /** Values of the first positional argument, when it has a fixed set (completion bash|zsh|fish). */
  argChoices: string[];
}

const WORD = /^(?:--?)?[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/;

function word(w: string, what: string): string {
  if (!WORD.test(w)) throw new Error(`completion: ${what} "${w}" is not a plain word`);
  return w;
}

/** One line, at most 70 characters, nothing a shell's quoting or zsh's spec syntax would read. */
function plain(text: string): string {
  const flat = text.replace(/\s+/g, " ").replace(/[^A-Za-z0-9 ,.;()/+=@_-]/g, "").trim();
  return flat.length > 70 ? `${flat.slice(0, 67).trimEnd()}...` : flat;
}

function optionSpec(o: Option): OptionSpec {
  const flags = o.flags;
  return {
    short: o.short ? word(o.short, "option") : undefined,
    long: word(o.long ?? o.short ?? flags, "option"),
    description: plain(o.description ?? ""),
    value: o.required || o.optional,
    path: /<(path|file|dir)>/.test(flags),
    choices: (o.argChoices ?? []).map((c) => word(c, `value of ${flags}`)),
    variadic: o.variadic,
  };
}

export function describeProgram(program: Command): { name: string; commands: CommandSpec[] } {
  const help: OptionSpec = { short: "-h", long: "--help", description: "show help", value: false, path: false, choices: [], variadic: false };
  const commands = program.commands.map((c) => ({
    name: word(c.name(), "command"),
    description: plain(c.description()),
    options: [...c.options.filter((o) => !o.hidden).map(optionSpec), help],
    argChoices: (c.registeredArguments[0]?.argChoices ?? []).map((a) => word(a, `argument of ${c.name()}`)),
  }));
  return { name: word(program.name(), "program"), commands };
}

const flagsOf = (o: OptionSpec) => [o.short, o.long].filter((f): f is string => f !== undefined);

function bash(name: string, commands: CommandSpec[]): string {
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, "_")}_complete`;
  const cases = commands.map((c) => {
    const valued = c.options.filter((o) => o.value);
    const prevCases = valued.map((o) => {
      const reply = o.choices.length > 0 ? `COMPREPLY=( $(compgen -W "${o.choices.join(" ")}" -- "$cur") )` : o.path ? `COMPREPLY=( $(compgen -f -- "$cur") )` : "COMPREPLY=()";
      return `        ${flagsOf(o).join("|")}) ${reply}; return ;;`;
    });
    const words = [...c.options.flatMap(flagsOf), ...c.argChoices].join(" ");
    return [`    ${c.name})`, "      case \"$prev\" in", ...prevCases, "      esac", `      COMPREPLY=( $(compgen -W "${words}" -- "$cur") ) ;;`].join("\n");
  });
  return `# ${name} completion for bash. Load it in this shell:   source <(${name} completion bash)
# or for every shell:   ${name} completion bash > ~/.local/share/bash-completion/completions/${name}
${fn}() {
  local cur prev cmd i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=( $(compgen -W "${commands.map((c) => c.name).join(" ")} --help --version" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases.join("\n")}
  esac
}
complete -o default -F ${fn} ${name}
`;
}

function zsh(name: string, commands: CommandSpec[]): string {
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  const spec = (o: OptionSpec, flag: string) => {
    const exclusive = o.short && !o.variadic ? `(${flagsOf(o).join(" ")})` : "";
    const repeat = o.variadic ? "*" : "";
    const value = !o.value ? "" : o.choices.length > 0 ? `:${o.long.replace(/^--/, "")}:(${o.choices.join(" ")})` : o.path ? ":path:_files" : ":value: ";
    return `'${exclusive}${repeat}${flag}[${o.description}]${value}'`;
  };
  const cases = commands.map((c) => {
    const specs = c.options.flatMap((o) => flagsOf(o).map((f) => spec(o, f)));
    if (c.argChoices.length > 0) specs.push(`'1:${c.name}:(${c.argChoices.join(" ")})'`);
    return `    ${c.name})\n      _arguments -s \\\n        ${specs.join(" \\\n        ")}\n      ;;`;
  });
  return `#compdef ${name}
# ${name} completion for zsh. Load it in this shell:   source <(${name} completion zsh)
# or for every shell: save it as _${name} in a directory of $fpath, e.g.
#   ${name} completion zsh > "\${fpath[1]}/_${name}"   (then start a new shell)
${fn}() {
  local -a commands
  commands=(
${commands.map((c) => `    '${c.name}:${c.description}'`).join("\n")}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands '${name} command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases.join("\n")}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}

function fish(name: string, commands: CommandSpec[]): string {
  const q = (text: string) => `'${text}'`;
  const lines = [
    `# ${name} completion for fish. Load it in this shell:   ${name} completion fish | source`,
    `# or for every shell:   ${name} completion fish > ~/.config/fish/completions/${name}.fish`,
    `complete -c ${name} -f`,
    ...commands.map((c) => `complete -c ${name} -n __fish_use_subcommand -a ${c.name} -d ${q(c.description)}`),
  ];
  for (const c of commands) {
    const when = `-n ${q(`__fish_seen_subcommand_from ${c.name}`)}`;
    for (const o of c.options) {
      const flags = [o.short ? `-s ${o.short.slice(1)}` : "", `-l ${o.long.replace(/^--/, "")}`].filter(Boolean).join(" ");
      const value = !o.value ? "" : o.choices.length > 0 ? ` -x -a ${q(o.choices.join(" "))}` : o.path ? " -r -F" : " -x";
      lines.push(`complete -c ${name} ${when} ${flags}${value} -d ${q(o.description)}`);
    }
    if (c.argChoices.length > 0) lines.push(`complete -c ${name} ${when} -a ${q(c.argChoices.join(" "))}`);
  }
  return `${lines.join("\n")}\n`;
}

export function completionScript(program: Command, shell: Shell): string {
  const { name, commands } = describeProgram(program);
  switch (shell) {
    case "bash":
      return bash(name, commands);
    case "zsh":
      return zsh(name, commands);
    case "fish":
      return fish(name, commands);
  }
}

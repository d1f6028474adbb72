#!/usr/bin/env node
// The command line: its commands, options and exit codes (0 ok, 1 runtime error or a scope failed in collect,
// 2 usage or config error, 3 --fail-on matched). Each command lives in src/commands/ and is imported when it
// runs, so `whohas --version` loads commander and nothing else, and no command but collect and demo loads a
// provider SDK. The only place that prints.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Argument, Command, CommanderError, Option } from "commander";
import { SHELLS } from "./completion.js";
import { EXIT_OK, EXIT_USAGE } from "./commands/exit.js";
import { REPORT_FORMATS } from "./report/render.js";
import { GRANTED_LEVELS, MFA_STATES, PRINCIPAL_KINDS, PRINCIPAL_STATUSES } from "./model.js";
import { RULE_IDS, SEVERITIES } from "./vocabulary.js";
import { EVENT_ACTIONS, EVENT_OUTCOMES } from "./events/contract.js";
import { toolVersion } from "./version.js";

const configOption = () => new Option("-c, --config <path>", "config file (default $WHOHAS_CONFIG, then ./whohas.toml, then /etc/whohas/config.toml)");
// The logging options of every command that logs to stderr (collect, watch, apply, undo), in one place.
const logLevelOption = () => new Option("--log-level <level>", "debug, info, warn (default, or $WHOHAS_LOG_LEVEL), error or silent").choices(["debug", "info", "warn", "error", "silent"]);
const logFormatOption = () => new Option("--log-format <format>", "human (default on a terminal) or json (JSON lines, string levels)").choices(["human", "json"]);

/** The command's module is imported when the command runs. */
function lazy<A extends unknown[]>(load: () => Promise<{ action: (...args: A) => unknown }>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    await (await load()).action(...args);
  };
}

export function buildProgram(): Command {
  const program = new Command("whohas")
    .description("Who has access to what, and what changed: identity inventory across AWS IAM, Entra ID, Google Workspace, GitHub and exports.")
    .version(toolVersion())
    .showHelpAfterError()
    .exitOverride();

  program
    .command("collect")
    .description("collect every enabled source into a new snapshot run")
    .addOption(configOption())
    .option("-s, --source <id...>", "only these sources")
    .addOption(new Option("-f, --format <format>", "summary format").choices(["text", "json"]).default("text"))
    .option("-v, --verbose", "log debug details to stderr")
    .option("-q, --quiet", "log errors only")
    .addOption(logLevelOption())
    .addOption(logFormatOption())
    .action(lazy(() => import("./commands/collect.js")));

  program
    .command("runs")
    .description("list runs with the status of every source and scope")
    .addOption(configOption())
    .option("-n, --limit <n>", "how many runs", "20")
    .addOption(new Option("-f, --format <format>").choices(["text", "json"]).default("text"))
    .action(lazy(() => import("./commands/runs.js")));

  principalFilters(
    program
      .command("inventory")
      .description("who has access to what, as of a run (default the latest)")
      .addOption(configOption())
      .option("-r, --run <id>", "run id"),
  )
    .addOption(new Option("-f, --format <format>").choices(["text", "json", "csv"]).default("text"))
    .option("-o, --out <file>", "write to a file (created 0600) instead of stdout")
    .action(lazy(() => import("./commands/inventory.js")));

  principalFilters(
    program
      .command("who")
      .description('who holds access at or above a level, and through which grants: e.g. "who --level admin --scope prod", "who --level admin --mfa disabled --status active"')
      .addOption(configOption())
      .option("-r, --run <id>", "run id (default the latest)"),
  )
    .addOption(new Option("-f, --format <format>").choices(["text", "json", "csv"]).default("text"))
    .option("-o, --out <file>", "write to a file (created 0600) instead of stdout")
    .action(lazy(() => import("./commands/who.js")));

  program
    .command("person")
    .description("every account, grant and credential of one person across all sources (matched by email, [identity] aliases, login or name)")
    .argument("<who>", "an email, an alias key (source:account), a login, a display name, or the name before the @ (grace.hopper)")
    .addOption(configOption())
    .option("-r, --run <id>", "run id (default the latest)")
    .addOption(new Option("-f, --format <format>").choices(["text", "json", "csv"]).default("text"))
    .option("-o, --out <file>", "write to a file (created 0600) instead of stdout")
    .option("--wide", "do not fit the tables to the terminal")
    .action(lazy(() => import("./commands/person.js")));

  program
    .command("roles")
    .description("what each role, policy or group somebody holds permits (in the provider's terms), why it has its level, and who holds it")
    .addOption(configOption())
    .option("-r, --run <id>", "run id (default the latest)")
    .option("-s, --source <id...>", "only these sources")
    .option("--scope <scope...>", "only these scopes: a scope id, source/scope or label (e.g. prod)")
    .option("--role <name...>", "only these roles (name, privilege or id, any case), each shown in full after the table")
    .addOption(new Option("--level <level>", "only roles at or above this level").choices(GRANTED_LEVELS))
    .addOption(new Option("-f, --format <format>").choices(["text", "json", "csv", "md"]).default("text"))
    .option("-o, --out <file>", "write to a file (created 0600) instead of stdout")
    .option("--wide", "every column, and do not fit the table to the terminal")
    .option("--columns <list>", "the text table's columns, comma-separated (e.g. level,scope,role,holders,permits); see --wide for all")
    .action(lazy(() => import("./commands/roles.js")));

  program
    .command("diff")
    .description("what changed between two runs (default the last two)")
    .argument("[from]", "older run id")
    .argument("[to]", "newer run id")
    .addOption(configOption())
    .addOption(new Option("-f, --format <format>").choices(["text", "json"]).default("text"))
    .option("-o, --out <file>", "write to a file (created 0600) instead of stdout")
    .addOption(failOnOption())
    .option("--strict", "compare a scope only where it succeeded in both runs (default: from its last successful run, so changes made during an outage show)")
    .action(lazy(() => import("./commands/diff.js")));

  program
    .command("report")
    .description("findings, changes, coverage and evidence for a run (default the latest), compared with the run before it")
    .addOption(configOption())
    .option("-r, --run <id>", "run id")
    .addOption(new Option("-t, --type <type>", "changes (default) or access-review (adds the full inventory; as csv or xlsx one row per grant)").choices(["changes", "access-review"]).default("changes"))
    .addOption(new Option("-f, --format <format>", "xlsx (a review workbook) needs --out").choices([...REPORT_FORMATS, "xlsx"]).default("text"))
    .option("-o, --out <file>", "write to a file (created 0600) instead of stdout")
    .option("--history <n>", "runs of history in the HTML charts", "8")
    .option("--top <n>", "text, Markdown and HTML: findings listed per rule (default [report] top, 20); with --out every finding goes to X.findings.csv beside it")
    .option("--all", "text, Markdown and HTML: list every finding (no top per rule)")
    .addOption(failOnOption())
    .addOption(new Option("--severity <severity...>", "only findings of these severities").choices([...SEVERITIES]))
    .addOption(new Option("--rule <rule...>", "only findings of these rules").choices([...RULE_IDS]))
    .option("-s, --source <id...>", "only findings (and inventory) of these sources")
    .option("--scope <scope...>", "only these scopes: a scope id, source/scope or label (e.g. prod)")
    .option("--new-only", "only findings not present in the previous run")
    .option("--search <text>", "only findings whose rule, subject or detail contains this text (any case)")
    .option("--send", "email it now with the [email] settings (text + HTML, CSV attached), e.g. to test them; also written to [report] dir")
    .action(lazy(() => import("./commands/report.js")));

  program
    .command("events")
    .description("stored provider audit events (who did what, when, from where), oldest first; --feeds: each feed's health and covered window")
    .addOption(configOption())
    .option("-s, --source <id...>", "only these sources")
    .option("--scope <scope>", "only this scope")
    .option("--since <time>", "at or after: an ISO date/time or a time ago (30m, 24h, 7d)")
    .option("--until <time>", "before: an ISO date/time or a time ago")
    .option("--actor <text>", "actor id or name contains this (any case)")
    .option("--target <text>", "target account id or name contains this (any case)")
    .addOption(new Option("--action <action...>", "only these actions").choices([...EVENT_ACTIONS]))
    .addOption(new Option("--outcome <outcome...>", "only these outcomes").choices([...EVENT_OUTCOMES]))
    .option("-n, --limit <n>", "at most this many events")
    .option("--feeds", "show the feeds' health and covered windows instead of events")
    .addOption(new Option("-f, --format <format>").choices(["text", "json", "csv"]).default("text"))
    .option("-o, --out <file>", "write to a file (created 0600) instead of stdout")
    .action(lazy(() => import("./commands/events.js")));

  program
    .command("history")
    .description("one timeline of a person (or account) across every system: what the snapshots show changed, merged with the audit events")
    .argument("<who>", "an email, an alias key (source:account), a login, a display name or an account id")
    .addOption(configOption())
    .option("-r, --run <id>", "find the person's accounts as of this run (default the latest)")
    .addOption(new Option("-f, --format <format>").choices(["text", "json", "csv"]).default("text"))
    .option("-o, --out <file>", "write to a file (created 0600) instead of stdout")
    .action(lazy(() => import("./commands/history.js")));

  program
    .command("watch")
    .description("poll only the audit-log feeds every --interval minutes and alert ([[alerts]], [email]) on privileged changes, without a collect")
    .addOption(configOption())
    .option("--once", "poll once and exit (exit 1 when a feed failed or an alert could not be delivered)")
    .option("--interval <minutes>", "minutes between polls", "5")
    .addOption(new Option("-f, --format <format>", "one summary per poll").choices(["text", "json"]).default("text"))
    .option("-v, --verbose", "log debug details to stderr")
    .option("-q, --quiet", "log errors only")
    .addOption(logLevelOption())
    .addOption(logFormatOption())
    .action(lazy(() => import("./commands/watch.js")));

  program
    .command("verify")
    .description("recompute the evidence digest chain of every run and name the first run that no longer matches")
    .addOption(configOption())
    .action(lazy(() => import("./commands/verify.js")));

  program
    .command("check-config")
    .description("validate the config and the secret references without collecting")
    .addOption(configOption())
    .action(lazy(() => import("./commands/check-config.js")));

  program
    .command("init")
    .description("write a commented starter config (0600); never overwrites")
    .argument("[path]", "where to write it", "whohas.toml")
    .action(lazy(() => import("./commands/init.js")));

  program
    .command("prune")
    .description("remove old runs, keeping the newest N (what remaining runs read does not change)")
    .addOption(configOption())
    .requiredOption("-k, --keep <n>", "runs to keep")
    .action(lazy(() => import("./commands/prune.js")));

  program
    .command("daemon")
    .description("collect, report, email and alert on the [schedule] of the config until SIGTERM; SIGHUP reloads the config; logs JSON lines to stdout")
    .addOption(configOption())
    .option("--now", "also run one collect right after starting")
    .option("--once", "run one collect, report, email and alerts, then exit (for systemd timers and cron); needs no [schedule]")
    .option("--stop-timeout <seconds>", "on SIGTERM, how long to wait for the collect to stop before marking its run failed", "20")
    .option("-v, --verbose", "log debug details")
    .option("-q, --quiet", "log warnings and errors only")
    .action(lazy(() => import("./commands/daemon.js")));

  program
    .command("status")
    .description("last runs, each source's last outcome, recent email/webhook/file deliveries and the schedule; exit 1 when something needs attention")
    .addOption(configOption())
    .addOption(new Option("-f, --format <format>").choices(["text", "json"]).default("text"))
    .option("--max-age <hours>", "also a problem: a source not collected successfully for this long")
    .option("-n, --limit <n>", "runs and deliveries to show", "10")
    .action(lazy(() => import("./commands/status.js")));

  program
    .command("plan")
    .description("remediation: what the [[remediate]] entries would do now, written as a plan file (0600) and printed; sends nothing to any provider")
    .addOption(configOption())
    .option("-e, --entry <name...>", "only these [[remediate]] entries")
    .addOption(new Option("-f, --format <format>").choices(["text", "json"]).default("text"))
    .action(lazy(() => import("./commands/plan.js")));

  program
    .command("apply")
    .description("remediation: apply a plan (refused when stale or blocked), re-checking each action first and recording it")
    .argument("<plan>", "the plan file whohas plan wrote")
    .addOption(configOption())
    .option("--resume", "after an interrupted apply: reconcile actions left unknown by reading the provider, then apply the rest")
    .option("--dry-run", "check the plan and read each target's state; change nothing")
    .option("--approver <name>", "who approved (default: the OS user)")
    .addOption(new Option("-f, --format <format>").choices(["text", "json"]).default("text"))
    .option("-v, --verbose", "log debug details to stderr")
    .option("-q, --quiet", "log errors only")
    .addOption(logLevelOption())
    .addOption(logFormatOption())
    .action(lazy(() => import("./commands/apply.js")));

  program
    .command("undo")
    .description("remediation: undo an action, or every done action of a plan")
    .argument("<id>", "action id or plan id (see whohas actions)")
    .addOption(configOption())
    .option("--approver <name>", "who approved the undo (default: the OS user)")
    .addOption(new Option("-f, --format <format>").choices(["text", "json"]).default("text"))
    .option("-v, --verbose", "log debug details to stderr")
    .option("-q, --quiet", "log errors only")
    .addOption(logLevelOption())
    .addOption(logFormatOption())
    .action(lazy(() => import("./commands/undo.js")));

  program
    .command("actions")
    .description("remediation: what was done, by which plan, approved by whom")
    .addOption(configOption())
    .option("--since <date>", "only actions changed since then")
    .option("--status <status...>", "only these statuses (planned, applied, done, failed, skipped, unknown, undone)")
    .option("-n, --limit <n>", "how many", "200")
    .addOption(new Option("-f, --format <format>").choices(["text", "json"]).default("text"))
    .action(lazy(() => import("./commands/actions.js")));

  program
    .command("demo")
    .description("run whohas end to end against loopback simulators: two collects with changes between them, the headline findings, the diff and an HTML report, kept in ./whohas-demo")
    .addOption(new Option("-f, --format <format>", "text, or json: one whohas.demo/v1 document on stdout (progress and tables on stderr)").choices(["text", "json"]).default("text"))
    .option("--dir <path>", "the demo's folder (an earlier demo's files in it are replaced)", "whohas-demo")
    .option("--clean", "remove the demo's folder when done")
    .action(lazy(() => import("./commands/demo.js")));

  program
    .command("completion")
    .description("print a shell completion script for bash, zsh or fish (README: Shell completion)")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices([...SHELLS]))
    .action(lazy(() => import("./commands/completion.js")));

  return program;
}

/** The principal filters `inventory` and `who` share; unknown values are exit 2 naming the valid ones. */
function principalFilters(cmd: Command): Command {
  return cmd
    .option("-s, --source <id...>", "only these sources")
    .option("--scope <scope...>", "only these scopes: a scope id, source/scope or label (e.g. prod)")
    .addOption(new Option("-k, --kind <kind...>", "only these principal kinds").choices([...PRINCIPAL_KINDS]))
    .addOption(new Option("--status <status...>", "only these account statuses").choices([...PRINCIPAL_STATUSES]))
    .addOption(new Option("--mfa <state...>", "only these MFA states").choices([...MFA_STATES]))
    .addOption(new Option("--level <level>", "only access at or above this level").choices(GRANTED_LEVELS))
    .option("--search <text>", "only principals whose name, email, display name, id or grants contain this text (any case)")
    .option("--wide", "every column, and do not fit the table to the terminal")
    .option("--columns <list>", "the text table's columns, comma-separated (e.g. scope,name,access,mfa); see --wide for all");
}

function failOnOption(): Option {
  return new Option("--fail-on <severity>", "exit 3 when a finding at or above this severity is open").choices([...SEVERITIES]);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") return EXIT_OK;
      return EXIT_USAGE;
    }
    const { describeFailure } = await import("./commands/failure.js");
    const failure = describeFailure(err);
    process.stderr.write(failure.text);
    return failure.exitCode;
  }
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(process.argv[1]);
if (invokedDirectly) {
  // The AWS SDK warns once per process about Node 20; the README carries that advice instead.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  void main(process.argv).then((code) => {
    // SDK keep-alive sockets must not hold a finished command open.
    process.stdout.write("", () => process.exit(code));
  });
}

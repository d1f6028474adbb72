// Bad input to the CLI. A corpus of broken configs: every one exits 2 from check-config (and, when it is
// not about a secret's value, from collect too) with "whohas: FILE…KEY: what was expected", and a secret
// value placed where it does not belong is never echoed. Bad command lines: run ids, formats, output
// paths, options — all exit 2 with a message naming the argument. Every case runs the built binary (a
// command that loads no provider SDK starts in a fraction of a second).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pLimit from "p-limit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli-process.js";

/** WHOHAS_BAD_INPUT_EVERY=N tries every Nth case of each corpus (`npm test`); all of them by default. */
const EVERY = Number(process.env.WHOHAS_BAD_INPUT_EVERY ?? 1);
const sample = <T>(cases: T[]): T[] => cases.filter((_, i) => i % EVERY === 0);

let dir: string;
let csv: string;
const tally = { configs: 0, commandLines: 0 };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "whohas-badinput-"));
  csv = join(dir, "erp.csv");
  writeFileSync(csv, "username,email,status\nada,ada@example.com,active\ngrace,grace@example.com,active\n", { mode: 0o600 });
});

afterAll(() => {
  console.log(`bad input: ${tally.configs} broken configs and ${tally.commandLines} bad command lines tried, every one refused with exit 2`);
  rmSync(dir, { recursive: true, force: true });
});

const q = (s: string) => JSON.stringify(s);

interface ConfigCase {
  name: string;
  /** Config text; FILE_SOURCE is a valid file source, STORE a valid [store]. */
  toml: string | ((d: string) => string);
  /** What the message must say besides the file name (the key path and the expectation). */
  expect: RegExp;
  /** A value that must not appear in any output. */
  secret?: string;
  /** Only check-config can tell (the value behind a secret reference); collect fails that source instead. */
  secretValue?: boolean;
  setup?: (d: string) => void;
  /** The config path, when not the default one written from `toml`. */
  path?: (d: string) => string;
}

const STORE = () => `[store]\npath = ${q(join(dir, "corpus.db"))}\n`;
const FILE_SOURCE = () => `[[sources]]\nid = "erp"\ntype = "file"\npath = ${q(csv)}\n`;
const ENTRA = (secretRef: string) =>
  `[[sources]]\nid = "aad"\ntype = "entra-id"\ntenant_id = "contoso.onmicrosoft.com"\nclient_id = "6f1c0e8e-4b5a-4d7e-9a55-0c2d2b8f3a10"\nclient_secret = ${q(secretRef)}\n`;

const CORPUS: ConfigCase[] = [
  { name: "TOML syntax error", toml: () => `${STORE()}[sources\nid = "x"\n`, expect: /\.toml:3:\d+: invalid TOML/ },
  { name: "TOML error on a line holding a pasted secret", toml: () => `${STORE()}[[sources]]\nid = "aad"\nclient_secret = "Zq8~pasted-literal-secret-4471\n`, expect: /\.toml:5:\d+: invalid TOML/, secret: "Zq8~pasted-literal-secret-4471" },
  { name: "duplicate TOML key", toml: () => `${STORE()}[store]\npath = "again.db"\n`, expect: /invalid TOML/ },
  { name: "unknown top-level table", toml: () => `${STORE()}[stroe]\npath = "x"\n${FILE_SOURCE()}`, expect: /: stroe: unknown key/ },
  { name: "unknown key in [store]", toml: () => `[store]\npaht = "x.db"\n${FILE_SOURCE()}`, expect: /: store\.paht: unknown key/ },
  { name: "unknown key in a source", toml: () => `${STORE()}${FILE_SOURCE()}pth = "typo.csv"\n`, expect: /: sources\[0\]\.pth: unknown key/ },
  { name: "unknown key in [policy]", toml: () => `${STORE()}[policy]\ndormant_days = 30\n${FILE_SOURCE()}`, expect: /: policy\.dormant_days: unknown key/ },
  { name: "string where a number goes", toml: () => `[store]\npath = ${q(join(dir, "x.db"))}\nkeep_runs = "ten"\n${FILE_SOURCE()}`, expect: /: store\.keep_runs: expected number, received string/ },
  { name: "negative threshold", toml: () => `${STORE()}[policy]\ndormant_after_days = -5\n${FILE_SOURCE()}`, expect: /: policy\.dormant_after_days: .*>0/ },
  { name: "concurrency out of range", toml: () => `${STORE()}[collect]\nconcurrency = 0\n${FILE_SOURCE()}`, expect: /: collect\.concurrency: .*>=1/ },
  { name: "sources is not an array of tables", toml: () => `sources = "erp"\n${STORE()}`, expect: /: sources: expected array/ },
  { name: "boolean as a string", toml: () => `${STORE()}${FILE_SOURCE()}enabled = "yes"\n`, expect: /: sources\[0\]\.enabled: expected boolean/ },
  { name: "empty store path", toml: () => `[store]\npath = ""\n${FILE_SOURCE()}`, expect: /: store\.path: .*>=1 character/ },
  { name: "duplicate source ids", toml: () => `${STORE()}${FILE_SOURCE()}${FILE_SOURCE()}`, expect: /: sources\[1\]\.id: "erp" is already used by sources\[0\]/ },
  { name: "source id that is not a slug", toml: () => `${STORE()}[[sources]]\nid = "ERP Prod"\ntype = "file"\npath = ${q(csv)}\n`, expect: /: sources\[0\]\.id: expected a slug/ },
  { name: "unknown source type", toml: () => `${STORE()}[[sources]]\nid = "dir"\ntype = "ldap"\n`, expect: /: sources\[0\]\.type: unknown type "ldap"; expected one of file, aws-iam/ },
  { name: "source without its required key", toml: () => `${STORE()}[[sources]]\nid = "gh"\ntype = "github"\ntoken = "env:GH_TOKEN"\n`, expect: /: sources\[0\]\.orgs: expected array, received undefined/ },
  {
    name: "literal secret instead of a reference",
    toml: () => `${STORE()}${ENTRA("Zq8~literal-client-secret-9921")}`,
    expect: /: sources\[0\]\.client_secret: expected a secret reference "env:NAME" or "file:\/absolute\/path", not a literal secret/,
    secret: "Zq8~literal-client-secret-9921",
  },
  { name: "relative secret file path", toml: () => `${STORE()}${ENTRA("file:secret.txt")}`, expect: /: sources\[0\]\.client_secret: expected a secret reference/ },
  { name: "aws: access key without its secret", toml: () => `${STORE()}[[sources]]\nid = "aws"\ntype = "aws-iam"\naccess_key_id = "env:AWS_KEY"\n`, expect: /: sources\[0\]\.access_key_id: access_key_id and secret_access_key go together/ },
  { name: "aws: account id of the wrong length", toml: () => `${STORE()}[[sources]]\nid = "aws"\ntype = "aws-iam"\naccounts = ["12345"]\n`, expect: /: sources\[0\]\.accounts\[0\]: an AWS account id is 12 digits/ },
  { name: "aws: region outside its partition", toml: () => `${STORE()}[[sources]]\nid = "aws"\ntype = "aws-iam"\npartition = "aws-cn"\nregion = "us-east-1"\n`, expect: /: sources\[0\]\.region: region us-east-1 is not in partition aws-cn/ },
  { name: "entra: multi-tenant alias as tenant", toml: () => `${STORE()}${ENTRA("env:X").replace("contoso.onmicrosoft.com", "common")}`, expect: /: sources\[0\]\.tenant_id: must name one tenant/ },
  { name: "entra: plain-http authority", toml: () => `${STORE()}${ENTRA("env:X")}authority_host = "http://login.example.com"\n`, expect: /: sources\[0\]\.authority_host: must be an https:\/\/ URL/ },
  { name: "google: subject that is not an email", toml: () => `${STORE()}[[sources]]\nid = "gws"\ntype = "google-workspace"\nsubject = "admin"\n`, expect: /: sources\[0\]\.subject: .*email/i },
  { name: "google: page size above the API's maximum", toml: () => `${STORE()}[[sources]]\nid = "gws"\ntype = "google-workspace"\nsubject = "admin@example.com"\npage_size = 1000\n`, expect: /: sources\[0\]\.page_size: .*<=500/ },
  { name: "github: token and app together", toml: () => `${STORE()}[[sources]]\nid = "gh"\ntype = "github"\norgs = ["acme"]\ntoken = "env:T"\napp_id = 1\nprivate_key = "env:K"\n`, expect: /: sources\[0\]\.token: set either token or app_id \+ private_key, not both/ },
  { name: "alias with a bad email", toml: () => `${STORE()}${FILE_SOURCE()}[identity]\naliases = { "erp:ada" = "ada-at-example" }\n`, expect: /: identity\.aliases\.erp:ada: .*email/i },
  { name: "alias naming an unknown source", toml: () => `${STORE()}${FILE_SOURCE()}[identity]\naliases = { "hr:ada" = "ada@example.com" }\n`, expect: /: identity\.aliases\."hr:ada": "hr" is not a configured source id/ },
  { name: "identity provider that is not a source", toml: () => `${STORE()}${FILE_SOURCE()}[identity]\nproviders = ["okta"]\n`, expect: /: identity\.providers\[0\]: "okta" is not a configured source id/ },
  { name: "suppression with a bad date", toml: () => `${STORE()}${FILE_SOURCE()}[[suppress]]\nrule = "dormant-account"\nsubject = "*"\nreason = "x"\nuntil = "next week"\n`, expect: /: suppress\[0\]\.until: expected a date YYYY-MM-DD/ },
  { name: "suppression of an unknown rule", toml: () => `${STORE()}${FILE_SOURCE()}[[suppress]]\nrule = "no-such-rule"\nsubject = "*"\nreason = "x"\nuntil = "2030-01-01"\n`, expect: /: suppress\[0\]\.rule: .*expected one of/ },
  { name: "temporary pattern that is not a regex", toml: () => `${STORE()}[policy]\ntemporary_patterns = ["(contractor"]\n${FILE_SOURCE()}`, expect: /: policy\.temporary_patterns\[0\]: expected a valid regular expression/ },
  { name: "cron with a minute of 61", toml: () => `${STORE()}${FILE_SOURCE()}[schedule]\ncollect = "61 2 * * *"\n`, expect: /: schedule\.collect: expected a cron expression/ },
  { name: "cron in words", toml: () => `${STORE()}${FILE_SOURCE()}[schedule]\ncollect = "every night"\n`, expect: /: schedule\.collect: expected a cron expression/ },
  { name: "report cron with too many fields", toml: () => `${STORE()}${FILE_SOURCE()}[schedule]\ncollect = "0 2 * * *"\nreport = "0 0 7 * * 1 2"\n`, expect: /: schedule\.report: expected a cron expression/ },
  { name: "unknown time zone", toml: () => `${STORE()}${FILE_SOURCE()}[schedule]\ncollect = "0 2 * * *"\ntimezone = "Mars/Olympus_Mons"\n`, expect: /: schedule\.timezone: expected an IANA time zone/ },
  { name: "recipient that is not an email", toml: () => `${STORE()}${FILE_SOURCE()}[email]\nhost = "smtp.example.com"\nfrom = "whohas@example.com"\nto = ["security-team"]\n`, expect: /: email\.to\[0\]: .*email/i },
  { name: "sender that is not an address", toml: () => `${STORE()}${FILE_SOURCE()}[email]\nhost = "smtp.example.com"\nfrom = "whohas"\nto = ["sec@example.com"]\n`, expect: /: email\.from: expected an address/ },
  { name: "SMTP user without a password", toml: () => `${STORE()}${FILE_SOURCE()}[email]\nhost = "smtp.example.com"\nfrom = "whohas@example.com"\nto = ["sec@example.com"]\nuser = "whohas"\n`, expect: /: email\.password: expected a secret reference/ },
  { name: "SMTP password in clear text", toml: () => `${STORE()}${FILE_SOURCE()}[email]\nhost = "smtp.example.com"\nfrom = "whohas@example.com"\nto = ["sec@example.com"]\nuser = "whohas"\npassword = "hunter2-smtp-canary"\n`, expect: /: email\.password: expected a secret reference/, secret: "hunter2-smtp-canary" },
  { name: "webhook over plain http to a remote host", toml: () => `${STORE()}${FILE_SOURCE()}[[alerts]]\nname = "slack"\nurl = "http://hooks.example.com/T000/B000"\n`, expect: /: alerts\[0\]\.url: expected an https:\/\/ URL/ },
  { name: "metrics listen without a port", toml: () => `${STORE()}${FILE_SOURCE()}[metrics]\nlisten = "127.0.0.1"\n`, expect: /: metrics\.listen: expected "host:port"/ },
  // Secret references whose value cannot be had: only check-config resolves them (collect fails that source).
  { name: "secret from an unset environment variable", toml: () => `${STORE()}${ENTRA("env:WHOHAS_CORPUS_UNSET_SECRET")}`, expect: /: sources\.aad\.client_secret: environment variable WHOHAS_CORPUS_UNSET_SECRET .*is not set or empty/, secretValue: true },
  { name: "secret file that does not exist", toml: (d) => `${STORE()}${ENTRA(`file:${join(d, "absent.secret")}`)}`, expect: /: sources\.aad\.client_secret: cannot read secret file .*absent\.secret: ENOENT/, secretValue: true },
  {
    name: "secret file that cannot be read",
    // Tests run as root here, where mode 000 does not deny: a directory is what root cannot read as a file.
    setup: (d) => (process.getuid?.() === 0 ? mkdirSync(join(d, "unreadable.secret")) : (writeFileSync(join(d, "unreadable.secret"), "x"), chmodSync(join(d, "unreadable.secret"), 0))),
    toml: (d) => `${STORE()}${ENTRA(`file:${join(d, "unreadable.secret")}`)}`,
    expect: /: sources\.aad\.client_secret: (cannot read secret file .*unreadable\.secret: (EISDIR|EACCES)|secret file .* is readable by group or others)/,
    secretValue: true,
  },
  {
    name: "world-readable secret file",
    setup: (d) => writeFileSync(join(d, "world.secret"), "Zq8~world-readable-secret-5512\n", { mode: 0o644 }),
    toml: (d) => `${STORE()}${ENTRA(`file:${join(d, "world.secret")}`)}`,
    expect: /: sources\.aad\.client_secret: secret file .*world\.secret is readable by group or others \(mode 644\); run chmod 600/,
    secret: "Zq8~world-readable-secret-5512",
    secretValue: true,
  },
  {
    name: "group-readable secret file",
    setup: (d) => (writeFileSync(join(d, "group.secret"), "Zq8~group-readable-secret-7730\n"), chmodSync(join(d, "group.secret"), 0o640)),
    toml: (d) => `${STORE()}${ENTRA(`file:${join(d, "group.secret")}`)}`,
    expect: /: sources\.aad\.client_secret: secret file .*group\.secret is readable by group or others \(mode 640\)/,
    secret: "Zq8~group-readable-secret-7730",
    secretValue: true,
  },
  { name: "empty secret file", setup: (d) => writeFileSync(join(d, "empty.secret"), "\n", { mode: 0o600 }), toml: (d) => `${STORE()}${ENTRA(`file:${join(d, "empty.secret")}`)}`, expect: /: sources\.aad\.client_secret: secret file .*empty\.secret is empty/, secretValue: true },
  {
    name: "SMTP password from an unset variable",
    toml: () => `${STORE()}${FILE_SOURCE()}[email]\nhost = "smtp.example.com"\nfrom = "whohas@example.com"\nto = ["sec@example.com"]\nuser = "whohas"\npassword = "env:WHOHAS_CORPUS_UNSET_SMTP"\n`,
    expect: /: email\.password: environment variable WHOHAS_CORPUS_UNSET_SMTP/,
    secretValue: true,
  },
  // The file itself.
  { name: "config file that does not exist", toml: "", path: (d) => join(d, "no-such-config.toml"), expect: /no-such-config\.toml: config file not found/ },
  { name: "config path that is a directory", toml: "", setup: (d) => mkdirSync(join(d, "config-dir.toml")), path: (d) => join(d, "config-dir.toml"), expect: /config-dir\.toml: cannot read \(EISDIR\)/ },
];

describe(`a corpus of ${CORPUS.length} broken configs`, () => {
  it("every one exits 2 from check-config and collect, naming the file and the key, never echoing a secret", async () => {
    const limit = pLimit(4);
    const failures: string[] = [];
    await Promise.all(
      sample(CORPUS).map((c, i) =>
        limit(async () => {
          const d = join(dir, `case-${i}`);
          mkdirSync(d);
          c.setup?.(d);
          const file = c.path ? c.path(d) : join(d, "whohas.toml");
          if (!c.path) writeFileSync(file, typeof c.toml === "string" ? c.toml : c.toml(d), { mode: 0o600 });
          const commands = c.secretValue ? [["check-config"]] : [["check-config"], ["collect"]];
          const results = [];
          for (const cmd of commands) results.push({ cmd, r: await runCli([...cmd, "--config", file]) });
          for (const { cmd, r } of results) {
            const line = r.stderr.split("\n").find((l) => l.startsWith("whohas: ")) ?? "";
            const problem = [
              r.code !== 2 && `exit ${r.code}`,
              !line && "no \"whohas: \" message",
              !r.stderr.includes(file) && "message does not name the file",
              !c.expect.test(r.stderr) && `message does not match ${c.expect}`,
              c.secret !== undefined && (r.stderr.includes(c.secret) || r.stdout.includes(c.secret)) && "the secret value was echoed",
              / at .*\(.*:\d+:\d+\)/.test(r.stderr) && "a stack trace was printed",
            ].filter(Boolean);
            if (problem.length) failures.push(`${c.name} (${cmd[0]}): ${problem.join(", ")}\n    ${r.stderr.trim().replace(/\n/g, "\n    ")}`);
          }
          tally.configs++;
        }),
      ),
    );
    expect(failures).toEqual([]);
  }, 180_000);

  it("a collect with a secret that cannot be resolved fails that source, names key and reference, and stores nothing for it", async () => {
    const d = join(dir, "collect-secret");
    mkdirSync(d);
    const file = join(d, "whohas.toml");
    writeFileSync(file, `[store]\npath = ${q(join(d, "w.db"))}\n${FILE_SOURCE()}${ENTRA("env:WHOHAS_CORPUS_UNSET_SECRET")}`, { mode: 0o600 });
    const r = await runCli(["collect", "--config", file, "--format", "json"], { env: { WHOHAS_CORPUS_UNSET_SECRET: "" } });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { status: string; scopes: { source: string; status: string; principals: number; error: string | null }[] };
    expect(out.status).toBe("partial");
    expect(out.scopes.find((s) => s.source === "erp")).toMatchObject({ status: "ok", principals: 2 });
    expect(out.scopes.find((s) => s.source === "aad")).toMatchObject({ status: "failed", principals: 0, error: expect.stringContaining("sources.aad.client_secret: environment variable WHOHAS_CORPUS_UNSET_SECRET") });
  });
});

describe("bad command lines", () => {
  let config: string;
  beforeAll(async () => {
    const d = join(dir, "cli");
    mkdirSync(d);
    config = join(d, "whohas.toml");
    writeFileSync(config, `[store]\npath = ${q(join(d, "w.db"))}\n${FILE_SOURCE()}`, { mode: 0o600 });
    for (let i = 0; i < 2; i++) expect((await runCli(["collect", "--config", config])).code).toBe(0);
    mkdirSync(join(d, "a-directory"));
    writeFileSync(join(d, "a-file"), "x");
  });

  const cases = (): { args: string[]; expect: RegExp }[] => {
    const d = join(dir, "cli");
    const c = ["--config", config];
    return [
      { args: ["diff", "abc", "2", ...c], expect: /FROM: expected a run id \(a positive integer, see "whohas runs"\), got "abc"/ },
      { args: ["diff", "0", "2", ...c], expect: /FROM: expected a run id .* got "0"/ },
      { args: ["diff", "1", "2.5", ...c], expect: /TO: expected a run id .* got "2\.5"/ },
      { args: ["diff", "2", "1", ...c], expect: /the first run \(2\) must be older than the second \(1\)/ },
      { args: ["diff", "1", "999999", ...c], expect: /run 999999 does not exist/ },
      { args: ["diff", ...c, "--", "-1", "2"], expect: /FROM: expected a run id .* got "-1"/ },
      { args: ["inventory", "--run", "x1", ...c], expect: /--run: expected a run id .* got "x1"/ },
      { args: ["inventory", "--run", "424242", ...c], expect: /run 424242 does not exist/ },
      { args: ["report", "--run", "0", ...c], expect: /--run: expected a run id .* got "0"/ },
      { args: ["report", "--run", "31337", ...c], expect: /run 31337 does not exist/ },
      { args: ["report", "--history", "-3", ...c], expect: /--history: expected a number, got "-3"|unknown option '-3'/ },
      { args: ["runs", "--limit", "ten", ...c], expect: /--limit: expected a number, got "ten"/ },
      { args: ["prune", "--keep", "0", ...c], expect: /--keep: expected a positive number, got "0"/ },
      { args: ["inventory", "--format", "xml", ...c], expect: /argument 'xml' is invalid\. Allowed choices are text, json, csv/ },
      { args: ["diff", "--format", "yaml", ...c], expect: /argument 'yaml' is invalid\. Allowed choices are text, json/ },
      { args: ["report", "--format", "pdf", ...c], expect: /argument 'pdf' is invalid\. Allowed choices are/ },
      { args: ["runs", "--format", "csv", ...c], expect: /argument 'csv' is invalid\. Allowed choices are text, json/ },
      { args: ["collect", "--format", "xml", ...c], expect: /argument 'xml' is invalid/ },
      { args: ["report", "--type", "everything", ...c], expect: /argument 'everything' is invalid\. Allowed choices are changes, access-review/ },
      { args: ["diff", "--fail-on", "apocalyptic", ...c], expect: /argument 'apocalyptic' is invalid/ },
      { args: ["inventory", "--out", join(d, "no-such-dir", "inv.json"), ...c], expect: /--out .*no-such-dir\/inv\.json: cannot write \(ENOENT\)/ },
      { args: ["inventory", "--out", join(d, "a-directory"), ...c], expect: /--out .*a-directory: cannot write \(EISDIR\)/ },
      { args: ["diff", "--out", join(d, "a-file", "diff.json"), ...c], expect: /--out .*a-file\/diff\.json: cannot write \(ENOTDIR\)/ },
      { args: ["report", "--format", "html", "--out", join(d, "no-such-dir", "r.html"), ...c], expect: /--out .*r\.html: cannot write \(ENOENT\)/ },
      { args: ["collect", "--source", "nope", ...c], expect: /unknown source nope in .*whohas\.toml; configured: erp/ },
      { args: ["collect", "--sorce", "erp", ...c], expect: /unknown option '--sorce'/ },
      { args: ["colect", ...c], expect: /unknown command 'colect'/ },
      { args: ["diff", "1", "2", "3", ...c], expect: /too many arguments/ },
      { args: ["init", config], expect: /already exists; not overwriting it/ },
    ];
  };

  it("every one exits 2 with a message naming the argument and what was expected", async () => {
    const limit = pLimit(4);
    const failures: string[] = [];
    const all = sample(cases());
    await Promise.all(
      all.map((c, i) =>
        limit(async () => {
          const r = await runCli(c.args);
          const problem = [r.code !== 2 && `exit ${r.code}`, !c.expect.test(r.stderr) && `stderr does not match ${c.expect}`, / at .*\(.*:\d+:\d+\)/.test(r.stderr) && "a stack trace was printed"].filter(Boolean);
          if (problem.length) failures.push(`whohas ${c.args.filter((a) => a !== config && a !== "--config").join(" ")}: ${problem.join(", ")}\n    ${r.stderr.trim()}`);
          tally.commandLines++;
        }),
      ),
    );
    expect(failures).toEqual([]);
  }, 120_000);
});

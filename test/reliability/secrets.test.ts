// Canary secrets: every secret the sources, the mailer and the webhook are given is a unique canary value
// (AWS secret key, Entra client secrets, Google service-account keys, the GitHub App key and a GitHub token,
// the SMTP password, the webhook's HMAC key and the token in its URL), and what the simulators issue (STS
// session keys, access tokens) is searched for by shape. Then the built CLI collects, diffs, reports in every format, runs the
// daemon once (report files, email, webhook), is killed mid-run (its WAL is kept as it was), and does it all
// again with wrong secrets (the error paths). Every byte whohas wrote — database, WAL/SHM, report files,
// stdout, stderr, daemon logs, the emails and webhook bodies received — is scanned: zero hits.
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSmtp, startWebhookReceiver, SMTP_PASSWORD, SMTP_USER, type SmtpServer, type WebhookReceiver } from "../daemon/helpers.js";
import { runCli, type ChildRun } from "./cli-process.js";
import { canary, startLab, type Lab } from "./lab.js";

let lab: Lab;
let smtp: SmtpServer;
let hook: WebhookReceiver;
const hookKey = canary("webhook-hmac-key");
const hookToken = canary("webhook-url-token");
/** Wrong secrets for the error-path round: they must not leak either. */
const wrong = { aws: canary("wrong-aws-secret"), entra: canary("wrong-entra-secret"), pat: canary("wrong-github-pat"), smtp: canary("wrong-smtp-password"), hook: canary("wrong-webhook-key") };

/** Everything whohas printed, named by the command that printed it. */
const outputs: { what: string; text: string }[] = [];
/** Copies of store files taken at moments a later process would change them (a killed run's WAL). */
const snapshots: string[] = [];

async function cli(what: string, args: string[], opts: Parameters<typeof runCli>[1] = {}): Promise<ChildRun> {
  const r = await runCli(args, { env: lab.env, ...opts });
  outputs.push({ what: `${what} stdout`, text: r.stdout }, { what: `${what} stderr`, text: r.stderr });
  return r;
}

function secretFile(name: string, value: string): string {
  const path = join(lab.dir, name);
  writeFileSync(path, value + "\n", { mode: 0o600 });
  return path;
}

function deliveryToml(password: string, key: string): string {
  return `
[report]
dir = ${JSON.stringify(join(lab.dir, "reports"))}
formats = ["html", "json", "csv", "md", "text"]

[email]
host = "127.0.0.1"
port = ${smtp.port}
starttls = true
ca = ${JSON.stringify(smtp.caFile)}
user = ${JSON.stringify(SMTP_USER)}
password = ${JSON.stringify(`file:${password}`)}
from = "whohas <whohas@example.com>"
to = ["security@example.com"]
send = "always"
retries = 0

[[alerts]]
name = "hook"
url = ${JSON.stringify(`file:${secretFile("hook-url", `${hook.url}?token=${hookToken}`)}`)}
secret = ${JSON.stringify(`file:${key}`)}
min_severity = "info"
retries = 0
`;
}

beforeAll(async () => {
  lab = await startLab();
  smtp = await startSmtp(lab.dir);
  hook = await startWebhookReceiver(hookKey);
}, 60_000);

afterAll(async () => {
  await hook?.close();
  await smtp?.close();
  await lab?.close();
});

/** Every file under `dir`, except those that hold secrets on purpose (what the sources are given). */
function filesUnder(dir: string, skip: Set<string>): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (skip.has(path)) continue;
    const st = statSync(path);
    if (st.isDirectory()) out.push(...filesUnder(path, skip));
    else if (st.isFile()) out.push(path);
  }
  return out;
}

describe("canary secrets", () => {
  it("never reach the database, WAL, logs, reports, emails or webhooks — error paths included", async () => {
    const c = ["--config", lab.configPath];
    const smtpPassword = secretFile("smtp-password", SMTP_PASSWORD);
    const hookKeyFile = secretFile("hook-key", hookKey);
    lab.writeConfig(deliveryToml(smtpPassword, hookKeyFile));

    // --- the good round -------------------------------------------------------------------------
    expect((await cli("collect", ["collect", ...c, "--verbose"])).code).toBe(0);
    // Something for the alert to be about: a new super admin.
    const rec = lab.googleA.tenant.record(5)!;
    lab.googleA.tenant.makeSuperAdmin(rec.user.primaryEmail);
    const once = await cli("daemon --once", ["daemon", "--once", ...c, "--verbose"]);
    expect(once.code, once.stderr).toBe(0);
    expect(smtp.mails.length).toBeGreaterThanOrEqual(1);
    expect(hook.requests.length).toBeGreaterThanOrEqual(1);
    expect(hook.requests.every((r) => r.verified === true)).toBe(true);
    expect((await cli("diff", ["diff", ...c, "--format", "json"])).code).toBe(0);
    for (const format of ["text", "json", "csv", "md", "html"]) {
      expect((await cli(`report ${format}`, ["report", ...c, "--format", format, "--out", join(lab.dir, "reports", `cli.${format}`)])).code).toBe(0);
    }
    expect((await cli("access review", ["report", ...c, "--type", "access-review", "--format", "json", "--out", join(lab.dir, "reports", "access-review.json")])).code).toBe(0);
    expect((await cli("inventory json", ["inventory", ...c, "--format", "json"])).code).toBe(0);
    expect((await cli("inventory csv", ["inventory", ...c, "--format", "csv", "--out", join(lab.dir, "reports", "inventory.csv")])).code).toBe(0);
    expect((await cli("runs", ["runs", ...c, "--format", "json"])).code).toBe(0);
    await cli("status", ["status", ...c, "--format", "json"]);
    expect((await cli("report --send", ["report", ...c, "--send"])).code).toBe(0);

    // --- a run killed mid-write: its WAL holds whatever pages were in flight ----------------------
    const db = join(lab.dir, "whohas.db");
    const killed = await cli("killed collect", ["collect", ...c], { killFrom: `${db}.lock`, killAfterMs: 500 });
    expect(killed.killed).toBe(true);
    for (const suffix of ["", "-wal", "-shm"]) {
      if (!existsSync(db + suffix)) continue;
      const copy = join(lab.dir, `killed-snapshot.db${suffix}`);
      copyFileSync(db + suffix, copy);
      snapshots.push(copy);
    }
    expect(snapshots.some((s) => s.endsWith("-wal") && statSync(s).size > 0)).toBe(true);
    expect((await cli("collect after kill", ["collect", ...c])).code).toBe(0);

    // --- the error paths: every credential wrong --------------------------------------------------
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const otherLines = other.split("\n").filter((l) => l.length >= 60);
    const wrongGithubLine = otherLines[Math.floor(otherLines.length / 2)]!;
    const googleKey = JSON.parse(readFileSync(lab.secretFiles.googleA, "utf8")) as { private_key: string };
    const forgedGoogle = JSON.parse(readFileSync(lab.secretFiles.googleB, "utf8")) as { private_key: string; client_email: string };
    const forgedLines = forgedGoogle.private_key.split("\n").filter((l) => l.length >= 60);
    const originals = Object.fromEntries(Object.entries(lab.secretFiles).map(([k, p]) => [k, readFileSync(p, "utf8")]));
    try {
      writeFileSync(lab.secretFiles.aws, wrong.aws + "\n", { mode: 0o600 });
      writeFileSync(lab.secretFiles.entraA, wrong.entra + "\n", { mode: 0o600 });
      writeFileSync(lab.secretFiles.github, other, { mode: 0o600 });
      writeFileSync(lab.secretFiles.githubPat, wrong.pat + "\n", { mode: 0o600 });
      // google-a signs with google-b's key under its own account: Google answers invalid_grant.
      writeFileSync(lab.secretFiles.googleA, JSON.stringify({ ...JSON.parse(originals.googleA!), private_key: forgedGoogle.private_key }), { mode: 0o600 });
      const badStore = join(lab.dir, "bad", "whohas.db");
      lab.writeConfig(deliveryToml(secretFile("smtp-password-wrong", wrong.smtp), secretFile("hook-key-wrong", wrong.hook)), badStore);
      const bad = await cli("collect, wrong secrets", ["collect", ...c, "--verbose", "--format", "json"]);
      expect(bad.code).toBe(1);
      const scopes = (JSON.parse(bad.stdout) as { scopes: { source: string; status: string; error: string | null }[] }).scopes;
      for (const source of ["aws", "entra-a", "google-a", "github", "github-pat"]) {
        expect(scopes.filter((s) => s.source === source).every((s) => s.status === "failed" && (s.error ?? "").length > 0), source).toBe(true);
      }
      const badOnce = await cli("daemon --once, wrong secrets", ["daemon", "--once", ...c, "--verbose"]);
      expect(badOnce.code).not.toBe(0);
      await cli("status, wrong secrets", ["status", ...c, "--format", "json"]);
      await cli("report --send, wrong SMTP password", ["report", ...c, "--send"]);
    } finally {
      for (const [k, p] of Object.entries(lab.secretFiles)) writeFileSync(p, originals[k]!, { mode: 0o600 });
    }

    // --- the scan ---------------------------------------------------------------------------------
    const sessionSecrets = [...lab.aws.org.identities.values()].filter((i) => i.sessionToken).flatMap((i) => [i.secretAccessKey, i.sessionToken!]);
    const canaries = [
      ...lab.canaries,
      SMTP_PASSWORD,
      hookKey,
      hookToken,
      ...Object.values(wrong),
      wrongGithubLine,
      forgedLines[Math.floor(forgedLines.length / 2)]!,
      googleKey.private_key.split("\n").filter((l) => l.length >= 60)[3]!,
      ...sessionSecrets,
    ];
    expect(sessionSecrets.length).toBeGreaterThan(0);
    const issuedTokens: [string, RegExp][] = [
      ["Google access token", /ya29\.[A-Za-z0-9_-]{8,}/],
      ["GitHub installation token", /ghs_[0-9a-f]{16,}/],
      ["JWT (Entra access token, App or delegation assertion)", /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\./],
    ];
    const skip = new Set([...Object.values(lab.secretFiles), smtpPassword, hookKeyFile, join(lab.dir, "hook-url"), join(lab.dir, "smtp-password-wrong"), join(lab.dir, "hook-key-wrong")]);
    const haystacks: { what: string; text: string }[] = [
      ...outputs,
      ...filesUnder(lab.dir, skip).map((f) => ({ what: f.slice(lab.dir.length + 1), text: readFileSync(f).toString("latin1") })),
      ...smtp.mails.map((m, i) => ({ what: `email ${i + 1}`, text: m.raw + (m.parsed.attachments ?? []).map((a) => a.content.toString("utf8")).join("") })),
      ...hook.requests.map((r, i) => ({ what: `webhook ${i + 1}`, text: r.body })),
    ];
    const hits: string[] = [];
    let bytes = 0;
    for (const h of haystacks) {
      bytes += h.text.length;
      for (const value of canaries) if (h.text.includes(value)) hits.push(`${h.what}: ${value.slice(0, 24)}…`);
      for (const [name, re] of issuedTokens) if (re.test(h.text)) hits.push(`${h.what}: ${name} ${re.exec(h.text)![0].slice(0, 24)}…`);
    }
    // The canaries are really what the sources were given: the scan finds each in the secret files it skips.
    const given = [...skip].filter((f) => existsSync(f)).map((f) => readFileSync(f, "utf8")).join("\n");
    for (const value of [...lab.canaries, SMTP_PASSWORD, hookKey, hookToken]) expect(given.includes(value), value.slice(0, 24)).toBe(true);
    // The scan is worth something only if it read what matters: the store, its WAL, reports, logs, mail.
    expect(haystacks.some((h) => h.what === "whohas.db")).toBe(true);
    expect(haystacks.some((h) => h.what.startsWith("killed-snapshot.db-wal"))).toBe(true);
    expect(haystacks.some((h) => h.what.startsWith("reports/") && h.what.endsWith(".html"))).toBe(true);
    expect(haystacks.some((h) => h.what.includes("daemon --once stdout") && h.text.includes('"msg"'))).toBe(true);
    expect(haystacks.filter((h) => h.what.includes("wrong secrets") && /AccessDenied|SignatureDoesNotMatch|invalid_client|invalid_grant|401/.test(h.text)).length).toBeGreaterThan(0);
    console.log(
      `canary scan: ${canaries.length} secret values and ${issuedTokens.length} issued-token shapes searched in ${haystacks.length} outputs and files (${(bytes / 1e6).toFixed(1)} MB: database, WAL/SHM of a killed run, report files, CLI and daemon logs, ${smtp.mails.length} emails, ${hook.requests.length} webhook bodies); hits: ${hits.length}`,
    );
    expect(hits).toEqual([]);
  }, 300_000);
});

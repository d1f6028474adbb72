// Hostile names from providers, not files: a Google OAuth app's display text is chosen by whoever publishes the
// app, a GitHub fine-grained token's name by its owner, a SCIM app's userName by whoever administers that app, and
// an AWS account's name (Organizations) and a CloudTrail record's session name and user agent by whoever runs the
// account or the client. Each is collected through the real client
// against its simulator into the real store, then read as a terminal, a Markdown viewer and a JSON consumer
// would read it, with NUL, `<script>`, Slack markup and a 3 MB name of the same kind besides. (Entra's application display name has its own test beside its connector.)
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { generateKeyPairSync } from "node:crypto";
import { generateOrganization } from "../../connectors/aws-iam/sim-tenant.js";
import { startAwsSimulator } from "../../connectors/aws-iam/simulator.js";
import { startGithubSimulator } from "../../connectors/github/simulator.js";
import { findOrg, generateTenant as generateGithubTenant, mutations as githubMutations } from "../../connectors/github/tenant.js";
import { startGoogleSimulator } from "../../connectors/google-workspace/simulator.js";
import { addUser, generateTenant } from "../../connectors/scim/sim-tenant.js";
import { startScimSimulator } from "../../connectors/scim/simulator.js";
import { collect } from "../../src/collect.js";
import { loadConfig, type Config } from "../../src/config/load.js";
import { writeDiff } from "../../src/report/diff.js";
import { writeInventory } from "../../src/report/inventory.js";
import { renderMarkdown } from "../../src/report/render.js";
import { buildReport } from "../../src/build-report.js";
import { openStore } from "../../src/store/db.js";
import { getRun, inventoryAt, scopeLabels } from "../../src/store/reader.js";
import { queryEvents } from "../../src/store/events.js";
import { pollEvents } from "../../src/events/engine.js";
import { writeEvents } from "../../src/report/events.js";
import { alertBody } from "../../src/daemon/alerts.js";
import { recordingLog } from "../daemon/helpers.js";

const HOSTILE =
  "Scan\u001b]0;pwned\u0007\u001b[2J\r\n  forged line\u202e\u0000 <script>alert(1)</script> <img src=x onerror=alert(1)> [x](https://evil.example) <!channel>";
const SHOWN =
  "Scan\\x1b]0;pwned\\x07\\x1b[2J\\r\\n  forged line\\u202e\\x00 <script>alert(1)</script> <img src=x onerror=alert(1)> [x](https://evil.example) <!channel>";
/** AWS serves names in XML, which cannot carry NUL (not even as a character reference): the rest of the bytes. */
const XML_HOSTILE = HOSTILE.replace("\u0000", "");
/** A 3 MB name that starts with the same bytes. */
const HUGE = HOSTILE + "H".repeat(3 * 1024 * 1024);
/** What a terminal would act on: C0 (but LF), DEL, C1, bidi overrides and isolates. */
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** Every human output stays small whatever one name weighs. */
const BOUND = 256 * 1024;

const closers: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

function configFile(source: string): Config {
  const dir = mkdtempSync(join(tmpdir(), "whohas-hostile-provider-"));
  writeFileSync(join(dir, "w.toml"), `[store]\npath = "w.db"\n${source}`, { mode: 0o600 });
  return loadConfig(join(dir, "w.toml"), CONNECTORS);
}

interface Rendered {
  diff: string;
  inventory: string;
  md: string;
  json: string;
  inventoryJson: string;
  /** The Slack webhook body's text for the run's findings about the hostile names; null when the change is no finding. */
  slack: string | null;
}

/** The second run against the first, as the terminal, Markdown, Slack and JSON receive it. */
function rendered(config: Config): Rendered {
  const db = openStore(config.store.path, { readonly: true });
  try {
    const report = buildReport(db, config, { run: 2 });
    let diff = "";
    writeDiff({ write: (t) => void (diff += t), close: () => {} }, report.diff!, "text");
    let inventory = "";
    writeInventory({ write: (t) => void (inventory += t), close: () => {} }, getRun(db, 2)!, inventoryAt(db, 2), "text");
    let inventoryJson = "";
    writeInventory({ write: (t) => void (inventoryJson += t), close: () => {} }, getRun(db, 2)!, inventoryAt(db, 2), "json");
    let json = "";
    writeDiff({ write: (t) => void (json += t), close: () => {} }, report.diff!, "json");
    const findings = report.findings.filter((f) => f.subject.includes("Scan"));
    const slack = findings.length > 0 ? (JSON.parse(alertBody({ format: "slack" }, report, findings)) as { text: string }).text : null;
    return { diff, inventory, md: renderMarkdown(report), json, inventoryJson, slack };
  } finally {
    db.close();
  }
}

function expectSafe(out: Rendered, diffLine: string): void {
  for (const [what, text] of [["diff", out.diff], ["inventory", out.inventory], ["Slack", out.slack ?? ""]] as const) {
    expect(ACTIVE.exec(text)?.[0], what).toBeUndefined();
  }
  expect(out.diff).toContain(diffLine);
  // A newline in the name must not start a line of its own in any human output.
  for (const text of [out.diff, out.inventory, out.md, out.slack ?? ""]) {
    expect(text.split("\n").some((l) => l.trimStart().startsWith("forged line"))).toBe(false);
    expect(text.length).toBeLessThan(BOUND);
  }
  // Markdown: HTML and link syntax never arrive live.
  expect(out.md).not.toMatch(/(?<!\\)<(img|script|!channel)|(?<!\\)\]\(https/);
  expect(out.md).toContain("\\<script\\>alert\\(1\\)\\</script\\>");
  // Slack: one line per finding, its markup escaped (no @channel).
  if (out.slack !== null) {
    expect(out.slack).toContain("&lt;!channel&gt;");
    expect(out.slack).not.toMatch(/<!channel>|<script>/);
  }
  // Machine output keeps the exact bytes, the 3 MB name whole.
  expect(out.json).toContain(JSON.stringify(HOSTILE).slice(1, -1));
  expect(out.json.includes(JSON.stringify(HUGE).slice(1, -1)) || out.inventoryJson.includes(JSON.stringify(HUGE).slice(1, -1))).toBe(true);
}

describe("hostile names from providers' simulators", () => {
  it("Google Workspace: an OAuth app's display text", async () => {
    const google = await startGoogleSimulator({ seed: 42, users: 12 });
    closers.push(() => google.close());
    const dir = mkdtempSync(join(tmpdir(), "whohas-hostile-gws-"));
    writeFileSync(join(dir, "key.json"), google.tenant.keyFile(), { mode: 0o600 });
    const config = configFile(
      `[[sources]]\nid = "gws"\ntype = "google-workspace"\nsubject = "admin@${google.tenant.domain}"\ncredentials = "file:${join(dir, "key.json")}"\nroot_url = "${google.rootUrl}"\ntoken_url = "${google.tokenUrl}"\ncollect_oauth_tokens = true\n`,
    );
    const log = recordingLog();
    expect((await collect(config, { log })).status).toBe("ok");
    const holder = google.tenant.record(3)!.user.primaryEmail;
    google.tenant.addOAuthToken(holder, { displayText: HOSTILE, scopes: ["https://www.googleapis.com/auth/drive"] });
    google.tenant.addOAuthToken(google.tenant.record(4)!.user.primaryEmail, { displayText: HUGE, scopes: ["https://www.googleapis.com/auth/drive"] });
    expect((await collect(config, { log })).status).toBe("ok");

    expectSafe(rendered(config), `+ oauth_grant ${SHOWN} of ${holder}`);
  });

  it("GitHub: a fine-grained personal access token's name", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const appId = 29110;
    const tenant = generateGithubTenant({ seed: 5, orgs: [{ login: "acme", members: 8, owners: 2, repos: 2, teams: 1, patGrants: 1 }] });
    const gh = await startGithubSimulator({ tenant, app: { id: appId, publicKey: publicKey.export({ type: "spki", format: "pem" }).toString() } });
    closers.push(() => gh.close());
    const dir = mkdtempSync(join(tmpdir(), "whohas-hostile-gh-"));
    writeFileSync(join(dir, "app.pem"), privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
    const config = configFile(`[[sources]]\nid = "gh"\ntype = "github"\norgs = ["acme"]\nbase_url = "${gh.baseUrl}"\napp_id = ${appId}\nprivate_key = "file:${join(dir, "app.pem")}"\n`);
    const log = recordingLog();
    expect((await collect(config, { log })).status).toBe("ok");
    const owner = [...findOrg(tenant, "acme").members].find(([, role]) => role === "member")!;
    const login = tenant.users.get(owner[0])!.login;
    githubMutations(tenant).addPatGrant("acme", login, { token_name: HOSTILE });
    githubMutations(tenant).addPatGrant("acme", login, { token_name: HUGE });
    expect((await collect(config, { log })).status).toBe("ok");

    expectSafe(rendered(config), `+ pat ${SHOWN} of ${login}`);
  });

  it("SCIM: an app account's userName, in the admin group", async () => {
    const scim = await startScimSimulator({ tenant: generateTenant({ seed: 7, users: 10 }) });
    closers.push(() => scim.sim.close());
    const config = configFile(`[[sources]]\nid = "app"\ntype = "scim"\nbase_url = "${scim.baseUrl}"\ntoken = "env:WHOHAS_TEST_SCIM_TOKEN"\nadmin_groups = ["Admins"]\n`);
    const env = { ...process.env, WHOHAS_TEST_SCIM_TOKEN: scim.tenant.token };
    const log = recordingLog();
    expect((await collect(config, { log, env })).status).toBe("ok");
    addUser(scim.tenant, { userName: HOSTILE, displayName: "Mallory", email: "mallory@example.com", groups: ["Admins"] });
    addUser(scim.tenant, { userName: HUGE, displayName: "Mallet", email: "mallet@example.com", groups: ["Admins"] });
    expect((await collect(config, { log, env })).status).toBe("ok");

    const out = rendered(config);
    expectSafe(out, `+ ${SHOWN} (human, active)`);
    expect(out.diff).toContain(`${SHOWN} group:Admins (admin, direct)`);
    // The new admin is a finding and a change in the Markdown report, escaped there.
    expect(out.md).toContain("\\<img src=x onerror=alert\\(1\\)\\> \\[x\\]\\(https\\://evil.example\\) \\<\\!channel\\>");
    // New admins are findings: Slack gets one line for each.
    expect(out.slack!.split("\n").length).toBeGreaterThan(1);
  });

  it("AWS: an account's name from Organizations, a CloudTrail record's session name and user agent", async () => {
    const prod = "222222222222";
    const { org, caller } = generateOrganization({
      seed: 11,
      managementAccountId: "111111111111",
      memberRoleName: "WhohasAudit",
      accounts: [
        { id: "111111111111", name: "management", users: 2, roles: 3 },
        { id: prod, name: XML_HOSTILE, users: 3, roles: 3 },
      ],
    });
    const aws = await startAwsSimulator({ org });
    closers.push(() => aws.close());
    const env = { ...process.env, WHOHAS_TEST_AWS_KEY: caller.accessKeyId, WHOHAS_TEST_AWS_SECRET: caller.secretAccessKey };
    const config = configFile(
      `[[sources]]\nid = "aws"\ntype = "aws-iam"\naccess_key_id = "env:WHOHAS_TEST_AWS_KEY"\nsecret_access_key = "env:WHOHAS_TEST_AWS_SECRET"\n` +
        `organization = true\nmember_role_name = "WhohasAudit"\nendpoints = { iam = "${aws.url}", sts = "${aws.url}", organizations = "${aws.url}", cloudtrail = "${aws.url}" }\n` +
        `[sources.events]\nlookback_days = 1\n`,
    );
    const log = recordingLog();
    expect((await collect(config, { log, env })).status).toBe("ok");
    org.trail.as(prod, { type: "AssumedRole", name: "AWSReservedSSO_AdministratorAccess", session: HOSTILE, ip: "203.0.113.7", userAgent: HOSTILE }, () => {
      org.createUser(prod, "mallory");
      org.addUserToGroup(prod, "mallory", "Admins");
    });
    expect((await collect(config, { log, env })).status).toBe("ok");

    const db = openStore(config.store.path);
    try {
      const polled = await pollEvents(db, config, { log, env });
      expect(polled.sources.flatMap((s) => s.feeds).every((f) => f.status !== "failed")).toBe(true);
      const labels = scopeLabels(db, 2);
      expect(labels.get(`aws/${prod}`)).toBe(`${XML_HOSTILE} (${prod})`);
      let inventory = "";
      writeInventory({ write: (t) => void (inventory += t), close: () => {} }, getRun(db, 2)!, inventoryAt(db, 2), "text", { labels, columns: ["NAME", "SCOPE", "ACCESS"] });
      let inventoryJson = "";
      writeInventory({ write: (t) => void (inventoryJson += t), close: () => {} }, getRun(db, 2)!, inventoryAt(db, 2), "json", { labels });
      const events = [...queryEvents(db, { sources: ["aws"] })].filter((e) => e.scope === prod && e.target.name === "mallory");
      expect(events.length).toBeGreaterThanOrEqual(2);
      let eventsText = "";
      writeEvents({ write: (t) => void (eventsText += t), close: () => {} }, events, "text");
      let eventsCsv = "";
      writeEvents({ write: (t) => void (eventsCsv += t), close: () => {} }, events, "csv");

      for (const text of [inventory, eventsText]) {
        expect(ACTIVE.exec(text)?.[0]).toBeUndefined();
        expect(text.split("\n").some((l) => l.trimStart().startsWith("forged line"))).toBe(false);
        expect(text.length).toBeLessThan(BOUND);
      }
      // The account's label is shown escaped where a person reads the scope, exact where a program does.
      expect(inventory).toContain("Scan\\x1b]0;pwned\\x07");
      expect(inventoryJson).toContain(JSON.stringify(`${XML_HOSTILE} (${prod})`));
      // The actor's session name reaches the events table escaped; the CSV keeps it and the user agent exact.
      expect(eventsText).toContain("Scan\\x1b]0;pwned\\x07");
      expect(events.every((e) => e.userAgent === HOSTILE)).toBe(true);
      expect(eventsCsv).toContain(`"${HOSTILE}`);
    } finally {
      db.close();
    }
  });
});

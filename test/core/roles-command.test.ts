// whohas roles and the access review's "Roles held" section, through the built CLI, on a store holding what the
// four catalogue-collecting connectors store (AWS policies, an Entra directory role, a Google admin role, GitHub
// org roles) plus a held privilege without a definition and a role whose name and permissions are hostile.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { beforeAll, describe, expect, it } from "vitest";
import type { Grant, Principal, RoleDefinition } from "../../src/model.js";
import { REVIEW_HOLDERS_MAX, REVIEW_PERMITS_MAX, rolesSectionHtml, rolesSectionMarkdown, rolesSectionText, TEXT_HOLDERS_MAX, writeRoles, type LabelledRoleSummary } from "../../src/report/roles.js";
import { escapeHtml } from "../../src/report/html.js";
import { openStore } from "../../src/store/db.js";
import type { RunRow } from "../../src/store/reader.js";
import { RunWriter, type RecordBatch } from "../../src/store/writer.js";
import { whohas } from "../helpers/cli.js";

const ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess";
const READONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess";
/** ESC ] 0 ; … BEL retitles a terminal; U+202E reverses what follows; markup and Markdown syntax besides. */
const HOSTILE = "\u001b]0;pwned\u0007Evil\u202eRole <img src=x onerror=alert(1)> *[x](https://evil.example)*";
const HOSTILE_PERMIT = "service x: <script>alert(1)</script>\r\nforged line";

const person = (id: string, name = id): Principal => ({ id, kind: "human", name, status: "active", mfa: "enabled" });
const grant = (principalId: string, privilege: string, level: Grant["level"], over: Partial<Grant> = {}): Grant => ({ principalId, privilege, level, scope: "org", via: "direct", ...over });
const def = (privilege: string, over: Partial<RoleDefinition>): RoleDefinition => ({ id: privilege, privilege, name: privilege, kind: "github_org_role", level: "write", reason: "documented", permissions: [], ...over });

const ENTRA_ADMINS = ["u1", "u2", "u3", "u4", "u5", "u6", "u7"];

const SCOPES: { source: string; type: string; scope: string; label?: string; batch: RecordBatch }[] = [
  {
    source: "aws",
    type: "aws-iam",
    scope: "222222222222",
    label: "prod (222222222222)",
    batch: {
      principals: [person("AIDAALICE", "alice"), person("AROADEPLOY", "deployer")],
      grants: [
        grant("AIDAALICE", ADMIN_ARN, "admin", { via: "group", scope: "account:222222222222" }),
        grant("AROADEPLOY", "inline:role/deploy", "privileged", { scope: "account:222222222222" }),
      ],
      roles: [
        def(ADMIN_ARN, { name: "AdministratorAccess", kind: "aws_managed_policy", level: "admin", reason: "AWS managed AdministratorAccess", permissions: ["Allow * (every action of every service) on * (any resource)"] }),
        def("inline:role/deploy", {
          id: "AROADEPLOY/inline:role/deploy",
          holderId: "AROADEPLOY",
          name: "deploy",
          kind: "aws_inline_policy",
          level: "privileged",
          reason: "iam:PassRole on arn:aws:iam::222222222222:role/app-*",
          permissions: ["Allow cloudformation: * (every cloudformation action) on * (any resource)", "Allow ecr: * (every ecr action) on * (any resource)", "Allow iam: PassRole on arn:aws:iam::222222222222:role/app-*", "Allow s3: GetObject, PutObject on * (any resource)"],
        }),
      ],
    },
  },
  {
    source: "aws",
    type: "aws-iam",
    scope: "333333333333",
    label: "sandbox (333333333333)",
    batch: {
      principals: [person("AIDAALICE2", "alice")],
      grants: [grant("AIDAALICE2", READONLY_ARN, "read")],
      roles: [def(READONLY_ARN, { name: "ReadOnlyAccess", kind: "aws_managed_policy", level: "read", reason: "AWS managed ReadOnlyAccess", permissions: ["Allow * (every action of every service): Get*, List*, Describe* on * (any resource)"] })],
    },
  },
  {
    source: "entra",
    type: "entra-id",
    scope: "50b363d1-feb5-4b7f-a847-bf36ef64b78c",
    label: "Contoso",
    batch: {
      principals: ENTRA_ADMINS.map((u) => person(u, `${u}@contoso.example`)),
      grants: ENTRA_ADMINS.map((u) => grant(u, "Global Administrator", "admin", { scope: "/" })),
      roles: [def("Global Administrator", { id: "62e90394-69f5-4237-9190-012177145e10", kind: "entra_directory_role", level: "admin", reason: "built-in role Global Administrator", permissions: ["microsoft.directory/allEntities/allProperties/allTasks"] })],
    },
  },
  {
    source: "google",
    type: "google-workspace",
    scope: "my_customer",
    batch: {
      principals: [person("g1", "bob@example.com")],
      grants: [grant("g1", HOSTILE, "privileged")],
      roles: [def(HOSTILE, { id: "3894208461080401", kind: "google_admin_role", level: "privileged", reason: "holds USERS_RESET_PASSWORD, which changes who has access", permissions: [HOSTILE_PERMIT] })],
    },
  },
  {
    source: "gh",
    type: "github",
    scope: "acme",
    batch: {
      principals: [person("1", "octocat"), person("2", "mona")],
      grants: [grant("1", "org:owner", "admin"), grant("2", "custom:thing", "write")],
      roles: [def("org:owner", { name: "organization owner", level: "admin", reason: "owners administer the whole organization", permissions: ["complete administrative access to the organization"] })],
    },
  },
];

describe("whohas roles", () => {
  const dir = mkdtempSync(join(tmpdir(), "whohas-roles-cmd-"));
  const config = join(dir, "whohas.toml");
  const run = (args: string[]) => whohas([...args, "--config", config]);

  beforeAll(() => {
    // The config names a file source (the store also holds the sources written below, which filters accept).
    writeFileSync(join(dir, "hr.csv"), "username,email,status\nada,ada@example.com,active\n");
    writeFileSync(config, `[store]\npath = "${join(dir, "w.db")}"\n[[sources]]\nid = "hr"\ntype = "file"\npath = "${join(dir, "hr.csv")}"\nsystem = "hr"\n`);
    const db = openStore(join(dir, "w.db"));
    const w = RunWriter.begin(db);
    for (const s of SCOPES) {
      const scope = w.openScope(s.source, s.type, s.scope, s.label);
      scope.write(s.batch);
      scope.end();
    }
    w.finish();
    db.close();
  });

  it("text: every held role, most privileged first, with scope labels, why, holders capped and what it permits", () => {
    const r = run(["roles"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^Roles held at run 1 \(.*\): 7 roles held by 13 principals$/);
    expect(lines[2]).toMatch(/^LEVEL +SOURCE +SCOPE +ROLE +WHY +HOLDERS +HELD BY +PERMITS$/);
    const rows = lines.slice(4).filter(Boolean);
    expect(rows).toHaveLength(7);
    // admin (most held first), privileged, write, read.
    expect(rows.map((l) => l.split(/ {2,}/)[0])).toEqual(["admin", "admin", "admin", "privileged", "privileged", "write", "read"]);
    expect(rows[0]).toMatch(/^admin +entra +Contoso \(50b363d1-feb5-4b7f-a847-bf36ef64b78c\) +Global Administrator +built-in role Global Administrator +7 +u1@contoso\.example, u2@contoso\.example, u3@contoso\.example … and 4 more +microsoft\.directory\/allEntities\/allProperties\/allTasks$/);
    expect(r.stdout).toMatch(/admin +aws +prod \(222222222222\) +AdministratorAccess +AWS managed AdministratorAccess +1 +alice +Allow \* \(every action of every service\) on \* \(any resource\)/);
    // Four permission lines: three shown, then a count.
    expect(r.stdout).toMatch(/deploy +iam:PassRole .* +1 +deployer +Allow cloudformation: .*; Allow ecr: .*; Allow iam: PassRole .* … and 1 more/);
    // Held without a definition: listed, and says so.
    expect(r.stdout).toMatch(/write +gh +acme +custom:thing +no definition collected for this privilege +1 +mona +\(no definition collected/);
  });

  it("text: hostile role names and permissions are shown escaped, never obeyed", () => {
    const r = run(["roles", "--source", "google"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/[\u001b\u0007\u202e\r]/);
    expect(r.stdout).toContain("\\x1b]0;pwned\\x07Evil\\u202eRole <img src=x onerror=alert(1)>");
    expect(r.stdout).toContain("service x: <script>alert(1)</script>\\r\\nforged line");
    const rows = r.stdout.split("\n").filter((l) => l.startsWith("privileged"));
    expect(rows).toHaveLength(1);
  });

  it("JSON keeps every value exact: names, permissions, holders and how they hold it, scope labels", () => {
    const r = run(["roles", "-f", "json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schema).toBe("whohas.roles/v1");
    expect(doc.run).toMatchObject({ id: 1, status: "ok" });
    expect(doc.filter).toBeUndefined();
    expect(doc.roles).toHaveLength(7);
    const hostile = doc.roles.find((x: { sourceType: string }) => x.sourceType === "google-workspace");
    expect(hostile).toMatchObject({ name: HOSTILE, privilege: HOSTILE, permissions: [HOSTILE_PERMIT], level: "privileged", holders: [{ id: "g1", name: "bob@example.com", via: ["direct"], grantScopes: ["org"] }] });
    expect(hostile.scopeLabel).toBeUndefined();
    const admin = doc.roles.find((x: { name: string }) => x.name === "AdministratorAccess");
    expect(admin).toMatchObject({ source: "aws", scope: "222222222222", scopeLabel: "prod (222222222222)", id: ADMIN_ARN, kind: "aws_managed_policy", reason: "AWS managed AdministratorAccess" });
    expect(admin.holders).toEqual([{ id: "AIDAALICE", name: "alice", via: ["group"], grantScopes: ["account:222222222222"] }]);
    expect(doc.roles.find((x: { name: string }) => x.name === "Global Administrator").holders).toHaveLength(7);
  });

  it("CSV: one row per role, exact values, holders listed in full", () => {
    const r = run(["roles", "-f", "csv", "--source", "entra", "google"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\r\n");
    expect(lines[0]).toBe("level,source,scope,scope_label,name,kind,privilege,role_id,reason,permissions,holder_count,holders,holder_ids,since");
    expect(lines[1]).toMatch(/^admin,entra,50b363d1-feb5-4b7f-a847-bf36ef64b78c,Contoso,Global Administrator,entra_directory_role,.*,7,u1@contoso\.example;u2@contoso\.example;.*u7@contoso\.example,u1;u2;u3;u4;u5;u6;u7,/);
    // The hostile name is kept exact (CSV is a machine format); the permission's CR LF is inside a quoted field.
    expect(r.stdout).toContain(`privileged,google,my_customer,,${HOSTILE},google_admin_role`);
    expect(r.stdout).toContain(`"${HOSTILE_PERMIT}"`);
  });

  it("Markdown: a block per role with its permissions as a list; hostile text cannot become markup or a link", () => {
    const r = run(["roles", "-f", "md"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# Roles held at run 1\n/);
    expect(r.stdout).toContain("## AdministratorAccess (admin)\n");
    expect(r.stdout).toContain("- Allow cloudformation\\: \\* \\(every cloudformation action\\) on \\* \\(any resource\\)");
    expect(r.stdout).toContain("Held by 7: u1@contoso.example, u2@contoso.example, u3@contoso.example, u4@contoso.example, u5@contoso.example, u6@contoso.example, u7@contoso.example");
    expect(r.stdout).not.toMatch(/[\u001b\u202e\r]|(^|[^\\])(<img|<script|\]\(https)/);
    expect(r.stdout).toContain("\\<script\\>");
  });

  it("filters: source, scope by label, level, and --role by name, privilege or id (shown in full)", () => {
    const names = (args: string[]) => JSON.parse(run(["roles", "-f", "json", ...args]).stdout).roles.map((x: { name: string }) => x.name);
    expect(names(["--source", "aws"])).toEqual(["AdministratorAccess", "deploy", "ReadOnlyAccess"]);
    expect(names(["--scope", "sandbox"])).toEqual(["ReadOnlyAccess"]);
    expect(names(["--scope", "prod", "--level", "admin"])).toEqual(["AdministratorAccess"]);
    expect(names(["--level", "privileged"])).toEqual(["Global Administrator", "AdministratorAccess", "organization owner", HOSTILE, "deploy"]);
    expect(names(["--role", "administratoraccess", ADMIN_ARN, "62e90394-69f5-4237-9190-012177145e10"])).toEqual(["Global Administrator", "AdministratorAccess"]);
    expect(JSON.parse(run(["roles", "-f", "json", "--scope", "prod"]).stdout).filter).toEqual({ scopes: ["aws/222222222222"] });

    const detail = run(["roles", "--role", "deploy"]);
    expect(detail.code).toBe(0);
    expect(detail.stdout).toContain("deploy  [privileged]  aws / prod (222222222222)\n  kind: aws_inline_policy; id: AROADEPLOY/inline:role/deploy;");
    expect(detail.stdout).toContain("  why privileged: iam:PassRole on arn:aws:iam::222222222222:role/app-*\n");
    // Every permission line, not the table's three.
    expect(detail.stdout).toContain("    Allow s3: GetObject, PutObject on * (any resource)\n  held by 1:\n    deployer (AROADEPLOY) on account:222222222222\n");
    const admin = run(["roles", "--role", "AdministratorAccess"]);
    expect(admin.stdout).toContain("    alice (AIDAALICE) via group on account:222222222222\n");
  });

  it.each([
    [["roles", "--source", "nope"], /--source: unknown source "nope"; expected one of aws, entra, gh, google, hr/],
    [["roles", "--scope", "nope"], /--scope: unknown scope "nope"; .*one of aws\/222222222222 \(prod \(222222222222\)\), aws\/333333333333 \(sandbox \(333333333333\)\)/],
    [["roles", "--role", "Administrator"], /--role: no role named "Administrator" is held at run 1 .*; roles whose name contains it: "Global Administrator", "AdministratorAccess"$/m],
    [["roles", "--role", "zzz"], /--role: no role named "zzz" .*held roles: .*"\\x1b\]0;pwned\\x07Evil\\u202eRole/],
    [["roles", "--level", "owner"], /Allowed choices are admin, privileged, write, read/],
    [["roles", "-f", "html"], /Allowed choices are text, json, csv, md/],
    [["roles", "--columns", "role,shoe-size"], /--columns: unknown column "shoe-size"; expected .*held-by, permits/],
    [["roles", "--run", "9"], /run 9 does not exist/],
  ])("bad value %j exits 2 naming the valid values", (args, expected) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(expected);
    expect(r.stderr).not.toMatch(/[\u001b\u202e]/);
    expect(r.stdout).toBe("");
  });

  it("--columns picks the table's columns; --wide shows every column", () => {
    const r = run(["roles", "--columns", "role,held-by", "--source", "gh"]);
    expect(r.stdout.split("\n").slice(2, 6)).toEqual(["ROLE                HELD BY", "------------------  -------", "organization owner  octocat", "custom:thing        mona"]);
    expect(run(["roles", "--wide"]).stdout).toMatch(/^LEVEL +SOURCE +SCOPE +ROLE +KIND +WHY +HOLDERS +HELD BY +PERMITS +PRIVILEGE +ID +SINCE$/m);
  });
  describe("the access review's Roles held section", () => {
    const review = (format: string, extra: string[] = []) => {
      const r = run(["report", "--type", "access-review", "-f", format, ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };

    it("JSON: the catalogue as `roles`, exact, valid against the published schema; absent from the changes report", () => {
      const report = JSON.parse(review("json"));
      const schema = JSON.parse(readFileSync(new URL("../../docs/schema/report.schema.json", import.meta.url), "utf8"));
      const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
      expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
      expect(report.roles).toEqual(JSON.parse(run(["roles", "-f", "json"]).stdout).roles);
      expect(report.roles.find((x: { sourceType: string }) => x.sourceType === "google-workspace").name).toBe(HOSTILE);
      expect(validate({ ...report, roles: [{ ...report.roles[0], level: "owner" }] })).toBe(false);
      expect(JSON.parse(run(["report", "-f", "json"]).stdout).roles).toBeUndefined();
      // Narrowed like the inventory: --source keeps that source's roles only.
      expect(JSON.parse(review("json", ["--source", "aws"])).roles.map((x: { name: string }) => x.name)).toEqual(["AdministratorAccess", "deploy", "ReadOnlyAccess"]);
    });

    it("text: each role once with why, what it permits and its holders, capped; hostile text escaped", () => {
      const text = review("text");
      const section = text.slice(text.indexOf("Roles held (7): what each permits and who holds it"));
      expect(section.length).toBeLessThan(text.length);
      expect(section.match(/^\S.*  \[(admin|privileged|write|read)\]  /gm)).toHaveLength(7);
      expect(section).toContain("AdministratorAccess  [admin]  aws / prod (222222222222)\n  kind: aws_managed_policy; id: arn:aws:iam::aws:policy/AdministratorAccess;");
      expect(section).toContain("  why admin: AWS managed AdministratorAccess\n  permits:\n    Allow * (every action of every service) on * (any resource)\n  held by 1:\n    alice (AIDAALICE) via group on account:222222222222\n");
      expect(section).toContain("  held by 7:\n    u1@contoso.example (u1) on /\n");
      expect(text).not.toMatch(/[\u001b\u202e\r]/);
      expect(section).toContain("\\x1b]0;pwned\\x07Evil\\u202eRole");
      expect(review("text", ["--scope", "sandbox"])).toMatch(/Roles held \(1\)[\s\S]*ReadOnlyAccess  \[read\]  aws \/ sandbox \(333333333333\)/);
    });

    it("Markdown: a block per role under its own heading; hostile text cannot become markup", () => {
      const md = review("md");
      const section = md.slice(md.indexOf("## Roles held (7): what each permits and who holds it"));
      expect(section.match(/^### /gm)).toHaveLength(7);
      expect(section).toContain("### AdministratorAccess (admin)\n\naws · prod \\(222222222222\\) · aws\\_managed\\_policy. Why admin: AWS managed AdministratorAccess.");
      expect(section).toContain("Held by 7: u1@contoso.example, u2@contoso.example");
      expect(md).not.toMatch(/[\u001b\u202e\r]|(^|[^\\])(<img|<script|\]\(https)/);
    });

    it("HTML: one table row per role, permissions as a list, holders with a count; hostile text escaped", () => {
      const html = review("html");
      const start = html.indexOf("<h2>Roles held (7): what each permits and who holds it</h2>");
      expect(html.indexOf("<h2>Access inventory")).toBeGreaterThan(0);
      expect(start).toBeGreaterThan(html.indexOf("<h2>Access inventory"));
      const section = html.slice(start, html.indexOf("<h2>Evidence</h2>"));
      expect(section.match(/<tr><td>/g)).toHaveLength(7);
      expect(section).toContain('<table class=roles><colgroup><col style="width:18%">');
      expect(section).toContain("<td><b>AdministratorAccess</b><br><span class=muted>aws_managed_policy</span></td><td>admin<br><span class=muted>AWS managed AdministratorAccess</span></td><td>aws<br>prod (222222222222)</td>");
      expect(section).toContain("<li>Allow * (every action of every service) on * (any resource)</li>");
      expect(section).toContain("<td>7: u1@contoso.example, u2@contoso.example,");
      expect(section).not.toMatch(/<img|<script|[\u001b\u202e\r]/);
      expect(section).toContain("\\x1b]0;pwned\\x07Evil\\u202eRole &lt;img src=x onerror=alert(1)&gt;");
      expect(section).toContain("service x: &lt;script&gt;alert(1)&lt;/script&gt;\\r\\nforged line");
      expect(run(["report", "-f", "html"]).stdout).not.toContain("Roles held");
    });
  });
});

describe("whohas roles: a role held by more than the human formats list", () => {
  const dir = mkdtempSync(join(tmpdir(), "whohas-roles-wide-"));
  const config = join(dir, "whohas.toml");
  const run = (args: string[]) => whohas([...args, "--config", config]);
  const MANY = REVIEW_HOLDERS_MAX + 5;
  const ids = Array.from({ length: MANY }, (_, i) => `m${String(i).padStart(2, "0")}`);

  beforeAll(() => {
    writeFileSync(config, `[store]\npath = "${join(dir, "w.db")}"\n`);
    const db = openStore(join(dir, "w.db"));
    const w = RunWriter.begin(db);
    const scope = w.openScope("gh", "github", "acme");
    // Names with a comma, so the CSV cell is quoted whole; one principal also holds a second role.
    scope.write({
      principals: ids.map((id) => person(id, `${id}, member`)),
      grants: [...ids.map((id) => grant(id, "org:member", "read")), grant("m03", "org:owner", "admin")],
      roles: [def("org:member", { name: "organization member", level: "read" }), def("org:owner", { name: "organization owner", level: "admin" })],
    });
    scope.end();
    w.finish();
    db.close();
  });

  it("text and Markdown show the count and the first holders; JSON and CSV every holder", () => {
    const text = run(["roles"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/: 2 roles held by 30 principals\n/);
    expect(text.stdout).toMatch(new RegExp(`organization member +documented +${MANY} +m00, member, m01, member.* … and \\d+ more`));
    const md = run(["roles", "-f", "md"]).stdout;
    expect(md).toContain(`Held by ${MANY}: m00, member, m01, member,`);
    expect(md).toContain(`m${REVIEW_HOLDERS_MAX - 1}, member … and 5 more\n`);
    expect(md).not.toContain(`m${REVIEW_HOLDERS_MAX}, member`);

    const json = JSON.parse(run(["roles", "-f", "json"]).stdout);
    expect(json.roles.map((r: { holders: unknown[] }) => r.holders.length)).toEqual([1, MANY]);
    expect(json.roles[1].holders.map((h: { id: string }) => h.id)).toEqual(ids);
    const csv = run(["roles", "-f", "csv"]).stdout.split("\r\n");
    expect(csv[2]).toContain(`,${MANY},"${ids.map((id) => `${id}, member`).join(";")}",${ids.join(";")},`);

    // --role prints every holder of the role asked for, after the table's first few.
    const detail = run(["roles", "--role", "organization member"]).stdout;
    expect(detail).toContain(`  held by ${MANY}:\n${ids.map((id) => `    ${id}, member (${id}) on org\n`).join("")}`);
  });

  it("the count of principals is of the roles shown", () => {
    expect(run(["roles", "--level", "admin"]).stdout).toMatch(/: 1 role held by 1 principal\n/);
    expect(run(["roles", "--role", "organization member"]).stdout).toMatch(/: 1 role held by 30 principals\n/);
    expect(run(["roles", "-f", "md", "--role", "organization member", "--role", "org:owner"]).stdout).toMatch(/: 2 roles held by 30 principals\.\n/);
    expect(TEXT_HOLDERS_MAX).toBeLessThan(MANY);
  });
});

describe("the roles table fits a terminal", () => {
  it("every line within the width, long cells cut with an ellipsis", () => {
    const holders = ["alice", "bob", "carol", "dave", "erin", "frank"].map((n) => ({ id: n, name: n, via: ["direct" as const], grantScopes: [] }));
    const role: LabelledRoleSummary = {
      source: "aws",
      sourceType: "aws-iam",
      scope: "222222222222",
      scopeLabel: "prod (222222222222)",
      id: ADMIN_ARN,
      privilege: ADMIN_ARN,
      name: "AdministratorAccess-with-a-very-long-name-indeed",
      kind: "aws_managed_policy",
      level: "admin",
      reason: "AWS managed AdministratorAccess, a reason long enough to be cut somewhere",
      permissions: ["Allow * (every action of every service) on * (any resource)"],
      holderId: null,
      attributes: null,
      since: null,
      holderCount: holders.length,
      firstHolders: holders,
    };
    let out = "";
    const run: RunRow = { id: 1, startedAt: "2026-12-01T00:00:00.000Z", finishedAt: null, status: "ok", trigger: "cli", digest: null } as unknown as RunRow;
    const catalogue = { roles: [role], principals: () => holders.length, eachRoleHolders: () => expect.unreachable("the table reads no holder beyond the first") };
    writeRoles({ write: (t) => void (out += t), close: () => {} }, run, catalogue, "text", { maxWidth: 100 });
    const table = out.split("\n").slice(2).filter(Boolean);
    expect(table).toHaveLength(3);
    for (const line of table) expect(line.length).toBeLessThanOrEqual(100);
    expect(table[2]).toContain("…");
  });

  it("the access review caps a role's holders and permission lines with a count of the rest, in every format", () => {
    const holders = Array.from({ length: REVIEW_HOLDERS_MAX + 5 }, (_, i) => ({ id: `h${i}`, name: `holder${String(i).padStart(2, "0")}`, via: ["direct" as const], grantScopes: [] }));
    // As the report holds it: how many hold the role and the first of them.
    const role: LabelledRoleSummary = {
      source: "aws", sourceType: "aws-iam", scope: "222222222222", id: "p", privilege: "p", name: "Wide", kind: "aws_customer_policy", level: "write", reason: "r",
      permissions: Array.from({ length: REVIEW_PERMITS_MAX + 3 }, (_, i) => `Allow svc${i}: Get on *`), holderId: null, attributes: null, since: null,
      holderCount: holders.length, firstHolders: holders.slice(0, REVIEW_HOLDERS_MAX),
    };
    const text = rolesSectionText([role]);
    expect(text).toContain(`    holder${REVIEW_HOLDERS_MAX - 1} (h${REVIEW_HOLDERS_MAX - 1})\n    … and 5 more\n`);
    expect(text).toContain(`    Allow svc${REVIEW_PERMITS_MAX - 1}: Get on *\n    … and 3 more\n`);
    expect(text).not.toContain(`holder${REVIEW_HOLDERS_MAX} `);
    const md = rolesSectionMarkdown([role]);
    expect(md).toContain(`Held by ${REVIEW_HOLDERS_MAX + 5}: holder00,`);
    expect(md).toContain(`holder${REVIEW_HOLDERS_MAX - 1} … and 5 more`);
    expect(md).toContain("- … and 3 more");
    const html = rolesSectionHtml([role], escapeHtml);
    expect(html).toContain(`<td>${REVIEW_HOLDERS_MAX + 5}: holder00,`);
    expect(html).toContain(`holder${REVIEW_HOLDERS_MAX - 1} … and 5 more</td>`);
    expect(html).toContain("<li>… and 3 more</li>");
    expect(html.match(/<li>/g)).toHaveLength(REVIEW_PERMITS_MAX + 1);
  });
});

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileConnector } from "../../connectors/file/index.js";
import { parseCsv } from "../../src/csv.js";
import { parseInventory } from "../../connectors/file/map.js";
import { drain } from "../helpers/collect.js";

describe("CSV parsing", () => {
  it("handles quotes, doubled quotes, CRLF and newlines inside quotes, keeping start lines", () => {
    const rows = parseCsv('a,b\r\n"x, y","say ""hi"""\r\n"multi\nline",z\n');
    expect(rows.map((r) => [r.line, r.fields])).toEqual([
      [1, ["a", "b"]],
      [2, ["x, y", 'say "hi"']],
      [3, ["multi\nline", "z"]],
    ]);
  });
  it("rejects an unterminated quote with its line", () => {
    expect(() => parseCsv('a\n"open')).toThrow(/line 2: unterminated/);
  });
});

describe("inventory mapping", () => {
  const header = "username,email,role,access_level,status,mfa,last_active,credential_id,credential_kind,credential_last_used";
  it("maps rows, keeps unknown apart from never, and roles with their own levels", () => {
    const inv = parseInventory(
      `${header}\nada,ADA@Example.com,admin:admin;viewer,read,active,enabled,2026-11-01,key1,access_key,never\nbob,,viewer,read,suspended,unknown,,,,\n`,
      "csv",
      "erp",
    );
    expect(inv.principals.map((p) => [p.name, p.email, p.status, p.lastActive])).toEqual([
      ["ada", "ada@example.com", "active", { at: "2026-11-01T00:00:00.000Z", known: true, signal: "export" }],
      ["bob", null, "suspended", { at: null, known: false, signal: "export" }],
    ]);
    expect(inv.grants.map((g) => `${g.principalId}:${g.privilege}:${g.level}`)).toEqual(["ada:admin:admin", "ada:viewer:read", "bob:viewer:read"]);
    expect(inv.credentials[0]).toMatchObject({ id: "key1", kind: "access_key", lastUsed: { at: null, known: true } });
  });
  it.each([
    ["bad status", `${header}\nada,,r,read,gone,enabled,,,,`, /line 2: status: .*expected one of/],
    ["bad date", `${header}\nada,,r,read,active,enabled,yesterday,,,`, /line 2: last_active: .*ISO-8601/],
    ["bad email", `${header}\nada,not-an-email,r,read,active,enabled,,,,`, /line 2: email/],
    ["short row", `${header}\nada,x`, /line 2: expected 10 fields, found 2/],
    ["duplicate", `${header}\nada,,r,read,active,enabled,,,,\nada,,r,read,active,enabled,,,,`, /line 3: account "ada" already appears at line 2/],
    ["unknown column", `username,colour\nada,red`, /line 1: unknown column\(s\) colour/],
  ])("CSV error: %s", (_n, text, expected) => {
    expect(() => parseInventory(text, "csv", "erp")).toThrow(expected);
  });
  it("reads the JSON form with credentials and reports errors by index", () => {
    const inv = parseInventory(
      JSON.stringify([{ username: "svc", kind: "service", mfa: "not_applicable", credentials: [{ id: "t1", kind: "pat", expires_at: "2027-01-01" }] }]),
      "json",
      "erp",
    );
    expect(inv.credentials[0]).toMatchObject({ principalId: "svc", expiresAt: "2027-01-01T00:00:00.000Z", lastUsed: { known: false } });
    expect(() => parseInventory(JSON.stringify([{ username: "a" }, { username: "b", kind: "robot" }]), "json", "erp")).toThrow(/\[1\] kind/);
    expect(() => parseInventory("{", "json", "erp")).toThrow(/not valid JSON/);
  });

  it("accepts a JSON export with a UTF-8 byte order mark, as the CSV reader does", () => {
    const inv = parseInventory("\ufeff" + JSON.stringify([{ username: "ada" }]), "json", "erp");
    expect(inv.principals.map((p) => p.name)).toEqual(["ada"]);
    expect(parseInventory("\ufeffusername\nada\n", "csv", "erp").principals.map((p) => p.name)).toEqual(["ada"]);
  });

  it("names the line and the field of a refused JSON record, and of a duplicate", () => {
    const text = '\ufeff[\n  {"username": "a"},\n  {"username": "b,[{\\"x"},\n  {\n    "username": "c",\n    "mfa": "sometimes"\n  }\n]\n';
    expect(() => parseInventory(text, "json", "erp")).toThrow(/^line 4 \[2\] mfa: /);
    const dup = '[{"username": "a"},\n{"username": "a"}]';
    expect(() => parseInventory(dup, "json", "erp")).toThrow('line 2 [1]: account "a" already appears at line 1 [0]');
  });

  it("shows the parser's quote of a broken JSON export escaped", () => {
    expect(() => parseInventory("\u001b]0;x\u0007 oops", "json", "erp")).toThrow(/^not valid JSON: .*\\x1b\]0;x\\x07/);
  });

  it("shows a hostile column name escaped and capped in its error, never raw", () => {
    const header = `username,"\u001b]0;pwned\u0007${"x".repeat(10_000)}"\nada,1\n`;
    let message = "";
    try {
      parseInventory(header, "csv", "erp");
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^line 1: unknown column\(s\) \\x1b\]0;pwned\\x07x+…; expected some of/);
    expect(message.length).toBeLessThan(600);
    expect(message).not.toMatch(/[\u0000-\u001f]/);
  });
});

describe("file connector", () => {
  it("yields a failed scope and no records for a file with one bad row", async () => {
    const dir = mkdtempSync(join(tmpdir(), "whohas-file-"));
    const path = join(dir, "users.csv");
    writeFileSync(path, "username,status\nada,active\nbob,zombie\n");
    const { scopes } = await drain(fileConnector.create("erp", { path }));
    const s = scopes.get("users.csv")!;
    expect(s.status).toBe("failed");
    expect(s.error).toMatch(/source erp: .*users\.csv: line 3: status/);
    expect(s.principals).toHaveLength(0);
  });
  it("yields a failed scope naming the file when it cannot be read", async () => {
    const { scopes } = await drain(fileConnector.create("erp", { path: "/nonexistent/x.json", system: "erp" }));
    expect(scopes.get("erp")).toMatchObject({ status: "failed", error: expect.stringMatching(/x\.json: cannot read the file \(ENOENT\)/) });
  });
});

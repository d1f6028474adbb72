import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { parseConfig } from "../../src/config/load.js";
import { resolveSecret, SecretError } from "../../src/secrets.js";
import { configErrorOf } from "../helpers/config-error.js";

const FILE = "/etc/whohas/test.toml";
const errorOf = (text: string): string => configErrorOf(text, FILE);

describe("config errors name the file, the key and what was expected", () => {
  it.each([
    ["bad TOML", `[store\npath = "x"`, /test\.toml:1:\d+: invalid TOML/],
    ["unknown top-level key", `stor = 1`, /test\.toml: stor: unknown key/],
    ["unknown key in a table", `[policy]\ndormant_days = 30`, /policy\.dormant_days: unknown key/],
    ["wrong type", `[policy]\ndormant_after_days = "ninety"`, /policy\.dormant_after_days: expected number, received string/],
    ["negative threshold", `[policy]\nrotate_after_days = -1`, /policy\.rotate_after_days: .*>0/],
    ["unknown source type", `[[sources]]\nid = "x"\ntype = "okta"`, /sources\[0\]\.type: unknown type "okta"; expected one of .*file/],
    ["bad source id", `[[sources]]\nid = "Prod AWS"\ntype = "file"\npath = "a.csv"`, /sources\[0\]\.id: expected a slug/],
    ["missing connector key", `[[sources]]\nid = "erp"\ntype = "file"`, /sources\[0\]\.path: expected string, received undefined/],
    ["unknown connector key (typo)", `[[sources]]\nid = "erp"\ntype = "file"\npath = "a.csv"\nformt = "csv"`, /sources\[0\]\.formt: unknown key/],
    ["bad enum", `[[sources]]\nid = "erp"\ntype = "file"\npath = "a.csv"\nformat = "xml"`, /sources\[0\]\.format: .*"csv"\|"json"/],
    ["duplicate source id", `[[sources]]\nid = "erp"\ntype = "file"\npath = "a.csv"\n[[sources]]\nid = "erp"\ntype = "file"\npath = "b.csv"`, /sources\[1\]\.id: "erp" is already used by sources\[0\]/],
  ])("%s", (_name, text, expected) => {
    expect(errorOf(text)).toMatch(expected);
  });

  it("reports every error at once, not one per attempt", () => {
    const msg = errorOf(`[[sources]]\nid = "a"\ntype = "nope"\n[[sources]]\nid = "b"\ntype = "file"`);
    expect(msg.split("\n")).toHaveLength(2);
  });

  it("never echoes a value, so a secret pasted into the wrong key stays out of logs", () => {
    const msg = errorOf(`[[sources]]\nid = "erp"\ntype = "file"\npath = "a.csv"\nclient_secret = "s3cr3t-value-123"`);
    expect(msg).toMatch(/client_secret: unknown key/);
    expect(msg).not.toContain("s3cr3t-value-123");
    const toml = errorOf(`a = "s3cr3t-value-123`);
    expect(toml).not.toContain("s3cr3t-value-123");
  });

  it("applies defaults and per-source policy overrides, and resolves the store path from the config's directory", () => {
    const c = parseConfig(`[store]\npath = "data/w.db"\n[[sources]]\nid = "erp"\ntype = "file"\npath = "a.csv"\npolicy = { dormant_after_days = 30 }`, FILE, CONNECTORS);
    expect(c.store.path).toBe("/etc/whohas/data/w.db");
    expect(c.policy.dormant_after_days).toBe(90);
    expect(c.sources[0]!.policy).toMatchObject({ dormant_after_days: 30, unused_credential_days: 90 });
    expect(c.sources[0]!.enabled).toBe(true);
  });

  it("config.example.toml documents a valid config", () => {
    const text = readFileSync(new URL("../../config.example.toml", import.meta.url), "utf8");
    const c = parseConfig(text, "config.example.toml", CONNECTORS);
    expect(c.sources.length).toBeGreaterThan(0);
  });
});

describe("secret references", () => {
  const dir = mkdtempSync(join(tmpdir(), "whohas-secret-"));
  it("reads env: and file: references", async () => {
    expect(await resolveSecret("env:WHOHAS_T", "k", { WHOHAS_T: "abc" })).toBe("abc");
    const f = join(dir, "ok");
    writeFileSync(f, "value-from-file\n", { mode: 0o600 });
    expect(await resolveSecret(`file:${f}`, "k")).toBe("value-from-file");
  });
  it("refuses group/world readable files, missing files and unset variables, naming the key but not the value", async () => {
    const f = join(dir, "open");
    writeFileSync(f, "top-secret-value");
    chmodSync(f, 0o644);
    await expect(resolveSecret(`file:${f}`, "sources.x.client_secret")).rejects.toThrow(/sources\.x\.client_secret: secret file .* readable by group or others \(mode 644\)/);
    await expect(resolveSecret(`file:${f}`, "k")).rejects.not.toThrow(/top-secret-value/);
    await expect(resolveSecret(`file:${dir}/missing`, "k")).rejects.toThrow(/cannot read secret file .*ENOENT/);
    await expect(resolveSecret("env:WHOHAS_UNSET_X", "token", {})).rejects.toThrow(SecretError);
    await expect(resolveSecret("plaintext", "token", {})).rejects.toThrow(/not a secret reference/);
  });
});

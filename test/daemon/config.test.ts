// The daemon's config sections: defaults, the documented example, and errors that name file, key and what was
// expected.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { ConfigError, parseConfig } from "../../src/config/load.js";
import { ALERT_DEFAULT_RULES, REPORT_FILE_FORMATS } from "../../src/config/schema.js";
import { REPORT_FORMATS } from "../../src/report/render.js";

const FILE = "/etc/whohas/config.toml";
const SOURCE = `[[sources]]\nid = "erp"\ntype = "file"\npath = "a.csv"\n`;
const parse = (text: string) => parseConfig(`${text}\n${SOURCE}`, FILE, CONNECTORS);
const errorOf = (text: string): string => {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("daemon config sections", () => {
  it("are optional; reports default to a directory next to the database", () => {
    const c = parse('[store]\npath = "/var/lib/whohas/whohas.db"');
    expect(c.schedule).toBeNull();
    expect(c.email).toBeNull();
    expect(c.metrics).toBeNull();
    expect(c.alerts).toEqual([]);
    expect(c.report).toEqual({ dir: "/var/lib/whohas/reports", formats: ["html"], type: "changes", history: 8, suppressionWarnDays: 14, organisation: null, top: 20 });
  });

  it("every key documented in config.example.toml validates, the commented examples included", () => {
    const text = readFileSync(new URL("../../config.example.toml", import.meta.url), "utf8");
    const plain = parseConfig(text, "config.example.toml", CONNECTORS);
    expect(plain.schedule).toEqual({ collect: "0 2 * * *", timezone: "UTC" });
    // "#key = value" and "#[table]" lines are the examples to switch on.
    const all = parseConfig(text.replace(/^#(?=\[|[a-z_]+ = )/gm, ""), FILE, CONNECTORS);
    expect(all.schedule?.report).toBe("0 7 * * 1-5");
    expect(all.report.dir).toBe("/var/lib/whohas/reports");
    expect(all.email).toMatchObject({ host: "smtp.example.com", port: 587, starttls: true, password: "env:WHOHAS_SMTP_PASSWORD", ca: "/etc/whohas/smtp-ca.pem", send: "changes" });
    expect(all.metrics).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(all.alerts).toHaveLength(1);
    expect(all.alerts[0]).toMatchObject({ name: "secops-slack", format: "slack", min_severity: "medium", rules: [...ALERT_DEFAULT_RULES] });
  });

  it("report file formats are the report command's formats", () => {
    expect([...REPORT_FILE_FORMATS]).toEqual([...REPORT_FORMATS]);
  });

  it("resolves relative paths from the config's directory", () => {
    const c = parse('[report]\ndir = "out"\n[email]\nhost = "h"\nca = "ca.pem"\nfrom = "a@example.com"\nto = ["b@example.com"]');
    expect(c.report.dir).toBe("/etc/whohas/out");
    expect(c.email?.ca).toBe("/etc/whohas/ca.pem");
  });

  it("names file and key of a bad schedule", () => {
    expect(errorOf('[schedule]\ncollect = "0 25 * * *"')).toBe(
      `${FILE}: schedule.collect: expected a cron expression ("minute hour day month weekday", optionally seconds first), hour: 25 is a invalid expression for hour`,
    );
    expect(errorOf('[schedule]\ncollect = "0 2 * *"')).toMatch(/^\/etc\/whohas\/config\.toml: schedule\.collect: expected a cron expression .*expected 5 or 6 fields but got 4$/);
    expect(errorOf('[schedule]\ncollect = "0 2 * * *"\ntimezone = "Mars/Olympus"')).toBe(`${FILE}: schedule.timezone: expected an IANA time zone such as "Europe/Berlin" or "UTC"`);
    expect(errorOf('[schedule]\ncollect = "0 2 * * *"\nreprt = "0 7 * * *"')).toBe(`${FILE}: schedule.reprt: unknown key`);
  });

  it("names file and key of bad email settings, without quoting a value", () => {
    const base = 'host = "h"\nfrom = "a@example.com"\nto = ["b@example.com"]';
    expect(errorOf(`[email]\n${base}\nuser = "u"`)).toBe(`${FILE}: email.password: expected a secret reference: user is set`);
    expect(errorOf(`[email]\n${base}\nuser = "u"\npassword = "hunter2-literal"`)).toBe(
      `${FILE}: email.password: expected a secret reference "env:NAME" or "file:/absolute/path", not a literal secret`,
    );
    expect(errorOf(`[email]\n${base}\nuser = "u"\npassword = "env:P"\nstarttls = false`)).toBe(
      `${FILE}: email.starttls: expected true (or secure = true): authenticating without TLS would send the password in clear`,
    );
    expect(errorOf('[email]\nhost = "h"\nfrom = "a@example.com"\nto = ["not-an-address"]')).toMatch(/^\/etc\/whohas\/config\.toml: email\.to\[0\]: /);
    expect(errorOf('[email]\nhost = "h"\nfrom = "nobody"\nto = ["b@example.com"]')).toBe(`${FILE}: email.from: expected an address, "whohas@example.com" or "whohas <whohas@example.com>"`);
    expect(errorOf(`[email]\n${base}\nsend = "sometimes"`)).toMatch(/^\/etc\/whohas\/config\.toml: email\.send: .*"changes".*"always"/);
    expect(errorOf(`[email]\n${base}\nsubject = "a\\nBcc: x@example.com"`)).toBe(`${FILE}: email.subject: expected one line`);
    expect(errorOf(`[email]\n${base}\nport = 70000`)).toMatch(/^\/etc\/whohas\/config\.toml: email\.port: /);
  });

  it("names file and key of bad alerts and metrics", () => {
    expect(errorOf('[[alerts]]\nname = "a"\nurl = "http://hooks.example.com/x"')).toBe(
      `${FILE}: alerts[0].url: expected an https:// URL (http:// only to loopback) or a secret reference "env:NAME" / "file:/path" holding one`,
    );
    expect(errorOf('[[alerts]]\nname = "a"\nurl = "https://h.example.com"\nmin_severity = "severe"')).toMatch(/^\/etc\/whohas\/config\.toml: alerts\[0\]\.min_severity: /);
    expect(errorOf('[[alerts]]\nname = "a"\nurl = "https://h.example.com"\nrules = ["new-admins"]')).toMatch(/^\/etc\/whohas\/config\.toml: alerts\[0\]\.rules\[0\]: /);
    expect(errorOf('[[alerts]]\nname = "a"\nurl = "https://h.example.com"\n[[alerts]]\nname = "a"\nurl = "env:HOOK"')).toBe(`${FILE}: alerts[1].name: "a" is already used by alerts[0]`);
    expect(errorOf('[metrics]\nlisten = "9464"')).toBe(`${FILE}: metrics.listen: expected "host:port", e.g. "127.0.0.1:9464"`);
    expect(errorOf('[metrics]\nlisten = "127.0.0.1:99999"')).toBe(`${FILE}: metrics.listen: expected a port from 0 to 65535, got 99999`);
    expect(parse('[metrics]\nlisten = "[::1]:9464"').metrics).toEqual({ host: "::1", port: 9464 });
    expect(parse('[[alerts]]\nname = "a"\nurl = "http://127.0.0.1:8080/hook"').alerts[0]).toMatchObject({ format: "json", min_severity: "medium", retries: 3 });
  });
});

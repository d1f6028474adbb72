// Each provider's `remediate` block through the real config loader: its own app / key / token merged over the
// source's options, the collector's credentials never inherited nor repeated.
import { describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { ConfigError, parseConfig } from "../../src/config/load.js";

const FILE = "/etc/whohas/config.toml";

function errorOf(text: string): string {
  try {
    parseConfig(text, FILE, CONNECTORS);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("entra-id", () => {
  const SOURCE = `[[sources]]
id = "aad"
type = "entra-id"
tenant_id = "contoso.onmicrosoft.com"
client_id = "11111111-2222-4333-8444-555555555555"
client_secret = "env:AAD_READ"
sign_in_activity = false
`;

  it("signs in as its own app registration and keeps the source's other settings", () => {
    const c = parseConfig(`${SOURCE}[sources.remediate]\nclient_id = "66666666-7777-4888-8999-aaaaaaaaaaaa"\nclient_secret = "env:AAD_FIX"\n`, FILE, CONNECTORS);
    expect(c.sources[0]!.remediate!.options).toMatchObject({
      tenant_id: "contoso.onmicrosoft.com",
      client_id: "66666666-7777-4888-8999-aaaaaaaaaaaa",
      client_secret: "env:AAD_FIX",
      sign_in_activity: false,
    });
  });

  it("refuses the collector's app registration, and a block without an app of its own", () => {
    expect(errorOf(`${SOURCE}[sources.remediate]\nclient_id = "11111111-2222-4333-8444-555555555555"\nclient_secret = "env:AAD_FIX"\n`)).toMatch(
      /sources\[0\]\.remediate\.client_id: reuses the collector's client_id/,
    );
    expect(errorOf(`${SOURCE}[sources.remediate]\nclient_secret = "env:AAD_FIX"\n`)).toMatch(/sources\[0\]\.remediate\.client_id: expected string/);
  });
});

describe("google-workspace", () => {
  const SOURCE = `[[sources]]
id = "gws"
type = "google-workspace"
subject = "admin@example.com"
credentials = "file:/etc/whohas/gws-reader.json"
`;

  it("brings its own key and keeps subject and customer", () => {
    const c = parseConfig(`${SOURCE}[sources.remediate]\ncredentials = "file:/etc/whohas/gws-remediate.json"\nsuspend_super_admins = true\n`, FILE, CONNECTORS);
    expect(c.sources[0]!.remediate!.options).toMatchObject({ subject: "admin@example.com", customer: "my_customer", credentials: "file:/etc/whohas/gws-remediate.json", suspend_super_admins: true });
    expect((c.sources[0]!.options as { suspend_super_admins: boolean }).suspend_super_admins).toBe(false);
  });

  it("refuses the reader's key", () => {
    expect(errorOf(`${SOURCE}[sources.remediate]\ncredentials = "file:/etc/whohas/gws-reader.json"\n`)).toMatch(/remediate\.credentials: reuses the collector's credentials/);
  });
});

describe("github", () => {
  const SOURCE = `[[sources]]
id = "gh"
type = "github"
orgs = ["acme"]
app_id = 1001
private_key = "file:/etc/whohas/gh-read.pem"
`;

  it("brings its own App; allow_irreversible belongs to the block", () => {
    const c = parseConfig(`${SOURCE}[sources.remediate]\napp_id = 2002\nprivate_key = "file:/etc/whohas/gh-fix.pem"\nallow_irreversible = ["revoke-token"]\n`, FILE, CONNECTORS);
    expect(c.sources[0]!.remediate!.options).toMatchObject({ orgs: ["acme"], app_id: 2002, private_key: "file:/etc/whohas/gh-fix.pem", allow_irreversible: ["revoke-token"] });
    expect((c.sources[0]!.options as { allow_irreversible: string[] }).allow_irreversible).toEqual([]);
  });

  it("refuses the reading App", () => {
    expect(errorOf(`${SOURCE}[sources.remediate]\napp_id = 1001\nprivate_key = "file:/etc/whohas/gh-fix.pem"\n`)).toMatch(/remediate\.app_id: reuses the collector's app_id/);
  });
});

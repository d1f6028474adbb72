import { describe, expect, it } from "vitest";
import { entraIdConnector } from "../../../connectors/entra-id/index.js";
import { endpoints, entraOptions } from "../../../connectors/entra-id/options.js";
import { findConnector } from "../../../connectors/index.js";

const base = { tenant_id: "contoso.onmicrosoft.com", client_id: "11111111-2222-4333-8444-555555555555", client_secret: "env:ENTRA_SECRET" };

describe("entra-id options", () => {
  it("is registered under its type, and its descriptor loads the implementation", async () => {
    expect(findConnector("entra-id")?.options).toBe(entraOptions);
    expect(await findConnector("entra-id")!.load()).toBe(entraIdConnector);
  });

  it("applies defaults", () => {
    expect(entraOptions.parse(base)).toMatchObject({ cloud: "public", sign_in_activity: true, mfa_registration: true, eligible_roles: true, max_retries: 5 });
  });

  it("rejects typos, literal secrets, both or neither credential, and plain http", () => {
    const issues = (o: Record<string, unknown>) => entraOptions.safeParse(o).error?.issues.map((i) => i.message).join("; ") ?? "";
    expect(issues({ ...base, client_secrt: "x" })).toMatch(/Unrecognized key/);
    expect(issues({ ...base, client_secret: "abc123" })).toMatch(/not a literal secret/);
    expect(issues({ ...base, certificate_key: "file:/etc/whohas/key.pem" })).toMatch(/exactly one of client_secret or certificate_key/);
    expect(issues({ tenant_id: base.tenant_id, client_id: base.client_id })).toMatch(/exactly one/);
    expect(issues({ ...base, authority_host: "http://login.example" })).toMatch(/https/);
    expect(issues({ ...base, graph_base_url: "https://proxy.example/graph" })).toMatch(/without a path/);
    expect(issues({ ...base, client_id: "my-app" })).toMatch(/GUID/);
    expect(issues({ ...base, tenant_id: "common" })).toMatch(/one tenant/);
    expect(issues({ ...base, certificate_thumbprint: "abc" })).toMatch(/thumbprint/);
  });

  it("picks the authority, Graph host and token audience of each cloud", () => {
    const ep = (o: Record<string, unknown>) => endpoints(entraOptions.parse({ ...base, ...o }));
    expect(ep({})).toMatchObject({ authority: "https://login.microsoftonline.com/contoso.onmicrosoft.com", graphBaseUrl: "https://graph.microsoft.com", scope: "https://graph.microsoft.com/.default" });
    expect(ep({ cloud: "usgov" })).toMatchObject({ authority: "https://login.microsoftonline.us/contoso.onmicrosoft.com", graphBaseUrl: "https://graph.microsoft.us" });
    expect(ep({ cloud: "usgov-dod" })).toMatchObject({ graphBaseUrl: "https://dod-graph.microsoft.us", scope: "https://dod-graph.microsoft.us/.default" });
    expect(ep({ cloud: "china" })).toMatchObject({ authority: "https://login.chinacloudapi.cn/contoso.onmicrosoft.com", graphBaseUrl: "https://microsoftgraph.chinacloudapi.cn" });
    // An override moves requests, not the token audience.
    expect(ep({ authority_host: "https://login.proxy.example:8443", graph_base_url: "https://graph.proxy.example" })).toEqual({
      authority: "https://login.proxy.example:8443/contoso.onmicrosoft.com",
      knownAuthorityHost: "login.proxy.example:8443",
      graphBaseUrl: "https://graph.proxy.example",
      graphOrigin: "https://graph.proxy.example",
      scope: "https://graph.microsoft.com/.default",
    });
  });
});

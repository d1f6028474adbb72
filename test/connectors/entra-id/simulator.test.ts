// The simulator's wire format, checked with plain HTTP so that a fault in it cannot hide behind the SDKs.
import { Agent, fetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFixture, type Fixture } from "./setup.js";

describe("Entra simulator wire format", () => {
  let f: Fixture;
  let agent: Agent;
  let token: string;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${f.sim.url}${path}`, { dispatcher: agent, headers: { authorization: `Bearer ${token}`, ...headers } });

  beforeAll(async () => {
    f = await startFixture({ seed: 31, users: 620 });
    agent = new Agent({ connect: { ca: f.sim.ca } });
    const res = await fetch(`${f.sim.url}/${f.tenant.domains[0]}/oauth2/v2.0/token`, {
      dispatcher: agent,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: f.clientId, client_secret: f.secret, scope: "https://graph.microsoft.com/.default" }).toString(),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token_type: string; expires_in: number; access_token: string };
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599 });
    token = body.access_token;
  });
  afterAll(async () => {
    await agent.close();
    await f.close();
  });

  it("answers a wrong secret with an AADSTS error body", async () => {
    const res = await fetch(`${f.sim.url}/${f.tenant.id}/oauth2/v2.0/token`, {
      dispatcher: agent,
      method: "POST",
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: f.clientId, client_secret: "nope", scope: "https://graph.microsoft.com/.default" }).toString(),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client", error_codes: [7000215], error_description: expect.stringMatching(/^AADSTS7000215: .* Trace ID: /) });
  });

  it("requires the /.default scope of a Graph resource", async () => {
    const res = await fetch(`${f.sim.url}/${f.tenant.id}/oauth2/v2.0/token`, {
      dispatcher: agent,
      method: "POST",
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: f.clientId, client_secret: f.secret, scope: "User.Read.All" }).toString(),
    });
    expect(await res.json()).toMatchObject({ error: "invalid_scope", error_codes: [1002012] });
  });

  it("caps pages at 500 users when signInActivity is selected, projects $select, and links the next page", async () => {
    const res = await get("/v1.0/users?$select=id,displayName,signInActivity&$top=999");
    const body = (await res.json()) as { value: Record<string, unknown>[]; "@odata.nextLink": string; "@odata.context": string };
    expect(body.value).toHaveLength(500);
    expect(Object.keys(body.value[0]!).sort()).toEqual(["displayName", "id", "signInActivity"]);
    expect(body["@odata.context"]).toBe(`${f.sim.url}/v1.0/$metadata#users(id,displayName,signInActivity)`);
    expect(body["@odata.nextLink"]).toMatch(new RegExp(`^${f.sim.url}/v1\\.0/users\\?\\$select=id,displayName,signInActivity&\\$top=999&\\$skiptoken=`));
    const next = (await (await get(body["@odata.nextLink"].slice(f.sim.url.length))).json()) as { value: unknown[]; "@odata.nextLink"?: string };
    expect(next.value).toHaveLength(120);
    expect(next["@odata.nextLink"]).toBeUndefined();
  });

  it("speaks Graph errors: bad $top, unknown property, tampered skiptoken, missing token", async () => {
    const error = async (path: string, headers?: Record<string, string>) => {
      const res = await get(path, headers);
      return { status: res.status, body: (await res.json()) as { error: { code: string; message: string; innerError: Record<string, string> } } };
    };
    const top = await error("/v1.0/users?$top=1000");
    expect(top.status).toBe(400);
    expect(top.body.error).toMatchObject({ code: "Request_UnsupportedQuery", message: expect.stringContaining("Must be between 1 and 999") });
    expect(top.body.error.innerError["request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect((await error("/v1.0/users?$select=nope")).body.error.code).toBe("BadRequest");
    expect((await error("/v1.0/users?$top=10&$skiptoken=RFNwdAforged.x")).body.error.code).toBe("Directory_ExpiredPageToken");
    const anon = await error("/v1.0/users", { authorization: "" });
    expect(anon.status).toBe(401);
    expect(anon.body.error.code).toBe("InvalidAuthenticationToken");
    expect((await error("/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=5")).status).toBe(400);
  });

  it("leaves disabled users out of the registration report, paged by the server", async () => {
    const body = (await (await get("/v1.0/reports/authenticationMethods/userRegistrationDetails")).json()) as { value: { id: string; isMfaRegistered: boolean }[] };
    const enabled = [...f.tenant.users.values()].filter((u) => u.accountEnabled);
    expect(enabled.length).toBeLessThan(f.tenant.users.size);
    expect(body.value.map((v) => v.id).sort()).toEqual(enabled.map((u) => u.id).sort());
  });

  it("sends a Graph 429 with Retry-After when throttling is injected", async () => {
    f.sim.throttle("/v1.0/applications", { retryAfterSeconds: 7 });
    const res = await get("/v1.0/applications");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("TooManyRequests");
  });
});

// The simulator's side of the contract: Google's wire format as the unmodified clients see it, the checks
// Google's token endpoint makes, and a deterministic seeded tenant.
import { createPrivateKey, sign } from "node:crypto";
import { admin } from "@googleapis/admin";
import { JWT } from "google-auth-library";
import { afterEach, describe, expect, it } from "vitest";
import { applyFields, parseFields, validateFields } from "../../../connectors/google-workspace/sim-fields.js";
import { GOOGLE_TOKEN_AUDIENCE, SCOPES, SimTenant, startGoogleSimulator, type GoogleSimulator } from "../../../connectors/google-workspace/simulator.js";

let google: GoogleSimulator | undefined;
afterEach(async () => {
  await google?.close();
  google = undefined;
});

const NOW = new Date("2025-06-01T12:00:00Z");

/** The unmodified clients, with only the token URL redirected on the auth client's transporter. */
function realClients(g: GoogleSimulator, subject: string, scopes: string[]) {
  const sa = g.tenant.serviceAccount;
  const jwt = new JWT({ email: sa.email, key: sa.privateKeyPem, subject, scopes });
  jwt.transporter.interceptors.request.add({
    resolved: async (o) => {
      if (String(o.url).startsWith(GOOGLE_TOKEN_AUDIENCE)) o.url = new URL(g.tokenUrl);
      o.retry = false;
      return o;
    },
  });
  return { jwt, dir: admin({ version: "directory_v1", auth: jwt as never, rootUrl: g.rootUrl, retry: false }) };
}

function assertion(g: GoogleSimulator, claims: Record<string, unknown>, alg = "RS256"): string {
  const head = Buffer.from(JSON.stringify({ alg, typ: "JWT" })).toString("base64url");
  const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const sig = sign("RSA-SHA256", Buffer.from(`${head}.${body}`), createPrivateKey(g.tenant.serviceAccount.privateKeyPem)).toString("base64url");
  return `${head}.${body}.${sig}`;
}

async function exchange(g: GoogleSimulator, form: Record<string, string>) {
  const res = await fetch(g.tokenUrl, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

describe("token endpoint", () => {
  it("issues a token to google-auth-library's JWT-bearer assertion for a delegated admin", async () => {
    google = await startGoogleSimulator({ users: 5, now: NOW });
    const { jwt } = realClients(google, `admin@${google.tenant.domain}`, [SCOPES.userReadonly]);
    const { token } = await jwt.getAccessToken();
    expect(token).toMatch(/^ya29\./);
    expect(google.stats.tokensIssued).toBe(1);
  });

  it("checks signature, audience, lifetime, scope, subject and delegated scopes like Google", async () => {
    google = await startGoogleSimulator({ users: 5, now: NOW });
    const g = google;
    const iat = Math.floor(Date.now() / 1000);
    const good = { iss: g.tenant.serviceAccount.email, sub: `admin@${g.tenant.domain}`, scope: SCOPES.userReadonly, aud: GOOGLE_TOKEN_AUDIENCE, iat, exp: iat + 3600 };
    expect((await exchange(g, { grant_type: BEARER, assertion: assertion(g, good) })).status).toBe(200);
    expect(await exchange(g, { grant_type: "client_credentials", assertion: assertion(g, good) })).toMatchObject({ status: 400, body: { error: "unsupported_grant_type" } });
    const tampered = assertion(g, good).replace(/\.[^.]+$/, ".AAAA");
    expect(await exchange(g, { grant_type: BEARER, assertion: tampered })).toMatchObject({ status: 400, body: { error: "invalid_grant", error_description: "Invalid JWT Signature." } });
    expect(await exchange(g, { grant_type: BEARER, assertion: assertion(g, { ...good, aud: "https://example.com" }) })).toMatchObject({
      body: { error: "invalid_grant", error_description: "Invalid JWT: Failed audience check." },
    });
    expect((await exchange(g, { grant_type: BEARER, assertion: assertion(g, { ...good, exp: iat + 7200 }) })).body.error).toBe("invalid_grant");
    expect(await exchange(g, { grant_type: BEARER, assertion: assertion(g, { ...good, scope: "" }) })).toMatchObject({ status: 400, body: { error: "invalid_scope" } });
    expect(await exchange(g, { grant_type: BEARER, assertion: assertion(g, { ...good, sub: "nobody@example.com" }) })).toMatchObject({
      body: { error: "invalid_grant", error_description: "Invalid email or User ID" },
    });
    expect(await exchange(g, { grant_type: BEARER, assertion: assertion(g, { ...good, scope: SCOPES.user }) })).toMatchObject({ status: 401, body: { error: "unauthorized_client" } });
  });
});

describe("Directory API wire format", () => {
  it("serves users.list pages, partial responses and Google's errors to the real client", async () => {
    google = await startGoogleSimulator({ users: 12, now: NOW });
    const { dir } = realClients(google, `admin@${google.tenant.domain}`, [SCOPES.userReadonly, SCOPES.roleReadonly, SCOPES.userSecurity]);
    const page1 = await dir.users.list({ customer: "my_customer", maxResults: 5, fields: "nextPageToken,users(id,name/fullName)" });
    expect(page1.data.users).toHaveLength(5);
    expect(Object.keys(page1.data)).toEqual(["users", "nextPageToken"]);
    expect(Object.keys(page1.data.users![0]!)).toEqual(["id", "name"]);
    expect(Object.keys(page1.data.users![0]!.name!)).toEqual(["fullName"]);
    const page3 = await dir.users.list({ customer: "my_customer", maxResults: 5, pageToken: (await dir.users.list({ customer: "my_customer", maxResults: 5, pageToken: page1.data.nextPageToken! })).data.nextPageToken! });
    expect(page3.data.users).toHaveLength(2);
    expect(page3.data.nextPageToken).toBeUndefined();
    expect(page3.data.kind).toBe("admin#directory#users");

    await expect(dir.users.list({ customer: "my_customer", maxResults: 501 })).rejects.toMatchObject({
      status: 400,
      response: { data: { error: { code: 400, message: "Invalid value '501'. Values must be within the range: [1, 500]", errors: [{ reason: "invalidParameter", location: "maxResults" }] } } },
    });
    await expect(dir.users.list({ customer: "my_customer", fields: "users(id,nosuchfield)" })).rejects.toMatchObject({
      status: 400,
      response: { data: { error: { message: "Invalid field selection users/nosuchfield" } } },
    });
    await expect(dir.users.list({ customer: "C0nottheirs" })).rejects.toMatchObject({ status: 400 });
    // An empty token list has no `items`, as Google sends it.
    const empty = [...Array(google.tenant.slotCount).keys()].map((s) => google!.tenant.record(s)!).find((r) => r.tokens.length === 0)!;
    expect((await dir.tokens.list({ userKey: empty.user.id })).data).toEqual({ kind: "admin#directory#tokenList", etag: expect.any(String) });
    await expect(dir.asps.list({ userKey: "999" })).rejects.toMatchObject({ status: 404, response: { data: { error: { errors: [{ reason: "notFound" }] } } } });
  });

  it("refuses a missing token with 401 and a token without the scope with 403 insufficientPermissions", async () => {
    google = await startGoogleSimulator({ users: 3, now: NOW });
    const res = await fetch(`${google.rootUrl}admin/directory/v1/users?customer=my_customer`);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("invalid_token");
    expect(((await res.json()) as { error: { errors: { reason: string }[] } }).error.errors[0]!.reason).toBe("authError");
    const { dir } = realClients(google, `admin@${google.tenant.domain}`, [SCOPES.userReadonly]);
    await expect(dir.roles.list({ customer: "my_customer" })).rejects.toMatchObject({ status: 403, response: { data: { error: { errors: [{ reason: "insufficientPermissions" }] } } } });
  });
});

describe("seeded tenant", () => {
  it("is deterministic per seed and generates users on demand", () => {
    const a = new SimTenant({ seed: 9, users: 200, now: NOW });
    const b = new SimTenant({ seed: 9, users: 200, now: NOW });
    const c = new SimTenant({ seed: 10, users: 200, now: NOW });
    const dump = (t: SimTenant) => [...Array(t.slotCount).keys()].map((s) => t.record(s));
    expect(dump(a)).toEqual(dump(b));
    expect(a.roleAssignments).toEqual(b.roleAssignments);
    expect(dump(a)).not.toEqual(dump(c));
    expect(a.find(`grace.hopper@${a.domain}`)?.user.name.fullName).toBe("Grace Hopper");
    const users = dump(a).filter((r) => r !== undefined);
    expect(users.some((r) => r!.user.suspended)).toBe(true);
    expect(users.some((r) => r!.user.lastLoginTime.startsWith("1970"))).toBe(true);
    expect(users.some((r) => r!.tokens.length > 0)).toBe(true);
  });

  it("mutations: removal drops role assignments; admin flags follow assignments", () => {
    const t = new SimTenant({ seed: 3, users: 30, now: NOW });
    const target = t.record(5)!.user;
    t.makeSuperAdmin(target.primaryEmail);
    expect(t.adminFlags(target.id).isAdmin).toBe(true);
    t.removeUser(target.id);
    expect(t.find(target.primaryEmail)).toBeUndefined();
    expect(t.roleAssignments.some((a) => a.assignedTo === target.id)).toBe(false);
    const added = t.addUser({ givenName: "New", familyName: "Hire" });
    expect(t.find(added.primaryEmail)?.user.id).toBe(added.id);
    expect(t.find(added.id)?.user.primaryEmail).toBe(added.primaryEmail);
  });
});

describe("fields selector", () => {
  it("parses paths, sub-selections and wildcards and merges repeats", () => {
    const sel = parseFields("nextPageToken,users(id,name/fullName),users/primaryEmail,items/*");
    const out = applyFields(
      { kind: "k", nextPageToken: "t", users: [{ id: "1", primaryEmail: "a", isAdmin: true, name: { fullName: "A", givenName: "x" } }], items: [{ a: 1, b: { c: 2 } }] },
      sel,
    );
    expect(out).toEqual({ nextPageToken: "t", users: [{ id: "1", primaryEmail: "a", name: { fullName: "A" } }], items: [{ a: 1, b: { c: 2 } }] });
  });
  it("rejects malformed selections and unknown names", () => {
    expect(() => parseFields("users(id")).toThrow(/missing \)/);
    expect(() => parseFields("users)")).toThrow(/unbalanced/);
    expect(() => validateFields(parseFields("users(idd)"), { users: { id: true } })).toThrow("Invalid field selection users/idd");
  });
});

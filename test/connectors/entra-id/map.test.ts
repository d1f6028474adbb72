import { describe, expect, it } from "vitest";
import {
  credentialStatus,
  directoryScope,
  isoUtc,
  lastActiveFromSignIn,
  mapGroupMemberGrant,
  mapKeyCredential,
  mapPasswordCredential,
  mapRoleAssignment,
  mapUser,
  ownership,
  userKind,
  userStatus,
} from "../../../connectors/entra-id/map.js";
import { GLOBAL_ADMINISTRATOR, roleLevel, roleName } from "../../../connectors/entra-id/roles.js";

describe("lastActiveFromSignIn", () => {
  it("reads null signInActivity as never only for an account created after Entra began keeping sign-ins (April 2020)", () => {
    expect(lastActiveFromSignIn(null, "2021-03-01T00:00:00.000Z")).toEqual({ at: null, known: true, signal: "signInActivity" });
    expect(lastActiveFromSignIn({ lastSignInDateTime: null, lastNonInteractiveSignInDateTime: null }, "2021-03-01T00:00:00.000Z")).toEqual({ at: null, known: true, signal: "signInActivity" });
    const older = { at: null, known: false, signal: "no sign-in recorded since April 2020 (Entra keeps none older)" };
    expect(lastActiveFromSignIn(null, "2019-06-01T00:00:00.000Z")).toEqual(older);
    expect(lastActiveFromSignIn(null, null)).toEqual(older);
  });

  it("reads signInActivity absent although selected, or empty, as unknown, never as never", () => {
    expect(lastActiveFromSignIn(undefined, "2025-01-01T00:00:00.000Z")).toEqual({ at: null, known: false, signal: "signInActivity missing from Graph's answer" });
    expect(lastActiveFromSignIn({}, "2025-01-01T00:00:00.000Z")).toEqual({ at: null, known: false, signal: "signInActivity empty in Graph's answer" });
  });

  it("prefers the last successful sign-in over later attempts, which include failures", () => {
    const a = lastActiveFromSignIn({
      lastSignInDateTime: "2026-11-20T10:00:00Z",
      lastNonInteractiveSignInDateTime: "2026-11-21T10:00:00Z",
      lastSuccessfulSignInDateTime: "2026-09-01T08:00:00Z",
    });
    expect(a).toEqual({ at: "2026-09-01T08:00:00.000Z", known: true, signal: "lastSuccessfulSignInDateTime" });
  });

  it("falls back to the latest attempt, naming its field, when no successful sign-in is on record", () => {
    expect(
      lastActiveFromSignIn({ lastSignInDateTime: "2023-05-01T00:00:00Z", lastNonInteractiveSignInDateTime: "2023-06-01T00:00:00Z", lastSuccessfulSignInDateTime: null }),
    ).toEqual({ at: "2023-06-01T00:00:00.000Z", known: true, signal: "lastNonInteractiveSignInDateTime" });
    expect(lastActiveFromSignIn({ lastSignInDateTime: "2023-07-01T00:00:00Z" })).toMatchObject({ signal: "lastSignInDateTime" });
  });
});

describe("mapUser", () => {
  const user = {
    id: "u1",
    userPrincipalName: "ada@example.com",
    mail: "ada@example.com",
    accountEnabled: true,
    userType: "Member",
    signInActivity: { lastSuccessfulSignInDateTime: "2026-01-02T03:04:05Z" },
  };

  it("never turns a refused signInActivity into 'never signed in'", () => {
    const p = mapUser(user, { signIn: { available: false, reason: "Authentication_RequestFromNonPremiumTenantOrB2CTenant" } });
    expect(p.lastActive).toEqual({ at: null, known: false, signal: expect.stringContaining("NonPremium") });
  });

  it("maps MFA registration, and leaves users missing from the report unknown", () => {
    const facts = { registered: false, methods: ["email"] };
    expect(mapUser(user, { signIn: { available: true }, mfa: () => facts }).mfa).toBe("disabled");
    expect(mapUser(user, { signIn: { available: true }, mfa: () => ({ ...facts, registered: true }) }).mfa).toBe("enabled");
    expect(mapUser(user, { signIn: { available: true }, mfa: () => undefined }).mfa).toBe("unknown");
    expect(mapUser(user, { signIn: { available: true } }).mfa).toBe("unknown");
  });

  it("keeps ids and timestamps in the model's form", () => {
    const p = mapUser({ ...user, createdDateTime: "2020-02-02T02:02:02Z" }, { signIn: { available: true } });
    expect(p).toMatchObject({ id: "u1", name: "ada@example.com", createdAt: "2020-02-02T02:02:02.000Z", status: "active", kind: "human" });
    expect(p.lastActive?.at).toBe("2026-01-02T03:04:05.000Z");
  });
});

describe("kinds and statuses", () => {
  it("distinguishes members, guests and B2B members", () => {
    expect(userKind({ userType: "Member", userPrincipalName: "a@example.com" })).toBe("human");
    expect(userKind({ userType: "Guest", userPrincipalName: "a_x.org#EXT#@t.onmicrosoft.com" })).toBe("guest");
    expect(userKind({ userType: "Member", userPrincipalName: "a_x.org#EXT#@t.onmicrosoft.com" })).toBe("external");
  });

  it("maps disabled and pending invitations", () => {
    expect(userStatus({ accountEnabled: false, externalUserState: "Accepted" })).toBe("disabled");
    expect(userStatus({ accountEnabled: true, externalUserState: "PendingAcceptance" })).toBe("invited");
    expect(userStatus({ accountEnabled: true, externalUserState: null })).toBe("active");
  });

  it("rejects Graph's zero date and garbage as timestamps", () => {
    expect(isoUtc("0001-01-01T00:00:00Z")).toBeNull();
    // Only Graph's documented placeholder is a sentinel: a real past date stays a date.
    expect(isoUtc("1999-12-31T00:00:00Z")).toBe("1999-12-31T00:00:00.000Z");
    expect(isoUtc("1970-01-01T00:00:00Z")).toBe("1970-01-01T00:00:00.000Z");
    expect(isoUtc("not a date")).toBeNull();
    expect(isoUtc("2024-02-29T12:00:00+02:00")).toBe("2024-02-29T10:00:00.000Z");
  });
});

describe("credentials", () => {
  const now = new Date("2026-06-01T00:00:00Z");
  const owner = { principalId: "sp1", objectType: "application" as const, objectId: "app1", appId: "appid1" };

  it("derives status from the validity window", () => {
    expect(credentialStatus("2025-01-01T00:00:00.000Z", "2026-05-31T00:00:00.000Z", now)).toBe("expired");
    expect(credentialStatus("2026-07-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z", now)).toBe("pending");
    expect(credentialStatus("2026-01-01T00:00:00.000Z", null, now)).toBe("active");
  });

  it("keeps metadata, never secret material", () => {
    const c = mapPasswordCredential(
      { keyId: "k1", displayName: "ci", startDateTime: "2026-01-01T00:00:00Z", endDateTime: "2027-01-01T00:00:00Z", hint: "abc", secretText: "hunter2" } as never,
      owner,
      now,
    );
    expect(c).toMatchObject({ id: "k1", principalId: "sp1", kind: "client_secret", status: "active", expiresAt: "2027-01-01T00:00:00.000Z" });
    expect(JSON.stringify(c)).not.toMatch(/hunter2|"abc"/);
    const cert = mapKeyCredential({ keyId: "k2", type: "AsymmetricX509Cert", usage: "Verify", endDateTime: "2026-01-01T00:00:00Z" }, owner, now);
    expect(cert).toMatchObject({ kind: "certificate", status: "expired" });
  });
});

describe("ownership", () => {
  it("marks apps owned by another tenant as third-party, Microsoft's own apart", () => {
    expect(ownership({ appOwnerOrganizationId: "AAAA", servicePrincipalType: "Application" }, "aaaa")).toBe("this-tenant");
    expect(ownership({ appOwnerOrganizationId: "f8cdef31-a31e-4b4a-93e4-5f571e91255a", servicePrincipalType: "Application" }, "aaaa")).toBe("microsoft");
    expect(ownership({ appOwnerOrganizationId: "bbbb", servicePrincipalType: "Application" }, "aaaa")).toBe("third-party");
    expect(ownership({ appOwnerOrganizationId: "bbbb", servicePrincipalType: "ManagedIdentity" }, "aaaa")).toBe("managed-identity");
    expect(ownership({ appOwnerOrganizationId: "bbbb", servicePrincipalType: "Application" }, null)).toBe("unknown");
  });
});

describe("roles", () => {
  it("uses the documented table for built-in roles by templateId", () => {
    expect(roleLevel({ id: GLOBAL_ADMINISTRATOR })).toBe("admin");
    expect(roleLevel({ id: "x", templateId: "158c047a-c907-4556-b7ef-446551a6b5f7" })).toBe("privileged");
    expect(roleLevel({ id: "x", templateId: "f2ef992c-3afb-46b9-b7cf-a126ee74c451" })).toBe("read");
  });

  it("judges custom roles by their actions", () => {
    const perms = (...a: string[]) => [{ allowedResourceActions: a }];
    expect(roleLevel({ id: "c1", rolePermissions: perms("microsoft.directory/applications/credentials/update") })).toBe("privileged");
    expect(roleLevel({ id: "c2", rolePermissions: perms("microsoft.directory/users/standard/read") })).toBe("read");
    expect(roleLevel({ id: "c3", rolePermissions: perms("microsoft.directory/users/basic/update") })).toBe("write");
  });

  it("reads what Graph's description allows to be null: a null action or permission allows nothing; a null role cannot be mapped", () => {
    expect(roleLevel({ id: "c4", rolePermissions: [null, { allowedResourceActions: [null, "microsoft.directory/users/standard/read"] }] })).toBe("read");
    const a = { id: "a1", principalId: "p1", roleDefinitionId: null as unknown as string, directoryScopeId: "/" };
    expect(() => mapRoleAssignment(a, new Map())).toThrow("role assignment a1 has no roleDefinitionId (null)");
  });

  it("a role id named after an Object.prototype member is a custom role judged by its actions", () => {
    for (const id of ["constructor", "__proto__", "CONSTRUCTOR"]) {
      expect(roleLevel({ id, rolePermissions: [{ allowedResourceActions: ["microsoft.directory/users/standard/read"] }] }), id).toBe("read");
      expect(roleName(undefined, id)).toBe(`role ${id}`);
    }
  });

  it("maps assignment scopes and group membership", () => {
    expect(directoryScope("/")).toBe("tenant");
    expect(directoryScope("/administrativeUnits/au1")).toBe("administrativeUnit:au1");
    const defs = new Map([[GLOBAL_ADMINISTRATOR, { id: GLOBAL_ADMINISTRATOR, displayName: "Global Administrator", templateId: GLOBAL_ADMINISTRATOR, isBuiltIn: true }]]);
    const g = mapRoleAssignment(
      { id: "a1", principalId: "g1", roleDefinitionId: GLOBAL_ADMINISTRATOR, directoryScopeId: "/", principal: { "@odata.type": "#microsoft.graph.group", id: "g1", displayName: "Admins" } },
      defs,
    );
    expect(g).toMatchObject({ principalId: "g1", privilege: "Global Administrator", level: "admin", via: "direct", scope: "tenant" });
    expect(g.attributes?.principalType).toBe("group");
    const m = mapGroupMemberGrant(g, "u9", "g1", "Admins");
    expect(m).toMatchObject({ principalId: "u9", via: "group", level: "admin", attributes: { groupId: "g1", groupName: "Admins" } });
    expect(m.attributes).not.toHaveProperty("assignmentId");
  });
});

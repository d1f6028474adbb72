// Pure mapping rules: the edge values Google sends that a live tenant rarely shows on demand.
import { describe, expect, it } from "vitest";
import {
  epochMsToIso,
  lastLoginActivity,
  mapAsp,
  mapRoleAssignment,
  mapServiceAccountKey,
  mapToken,
  mapUser,
  roleLevel,
} from "../../../connectors/google-workspace/map.js";

describe("lastLoginActivity", () => {
  it("1970-01-01 is 'never', with the signal", () => {
    expect(lastLoginActivity("1970-01-01T00:00:00.000Z")).toEqual({ at: null, known: true, signal: "lastLoginTime" });
  });
  it("only that exact instant is the sentinel: any other date is a date", () => {
    expect(lastLoginActivity("1969-12-31T23:59:59.000Z")).toEqual({ at: "1969-12-31T23:59:59.000Z", known: true, signal: "lastLoginTime" });
    expect(lastLoginActivity("1970-01-02T00:00:00.000Z")).toEqual({ at: "1970-01-02T00:00:00.000Z", known: true, signal: "lastLoginTime" });
  });
  it("absent or unparseable is unknown, never 'never'", () => {
    expect(lastLoginActivity(undefined)).toEqual({ at: null, known: false, signal: "lastLoginTime" });
    expect(lastLoginActivity(null)).toEqual({ at: null, known: false, signal: "lastLoginTime" });
    expect(lastLoginActivity("yesterday")).toEqual({ at: null, known: false, signal: "lastLoginTime" });
  });
  it("normalizes to ISO-8601 UTC", () => {
    expect(lastLoginActivity("2025-05-31T23:10:00+02:00")).toEqual({ at: "2025-05-31T21:10:00.000Z", known: true, signal: "lastLoginTime" });
  });
});

describe("mapUser", () => {
  const base = { id: "1234", primaryEmail: "ada@example.com", name: { fullName: "Ada L" } };
  it("archived wins over suspended; guests are guests", () => {
    expect(mapUser({ ...base, suspended: true, archived: true }).status).toBe("archived");
    expect(mapUser({ ...base, suspended: true, archived: false }).status).toBe("suspended");
    expect(mapUser({ ...base, isGuestUser: true }).kind).toBe("guest");
  });
  it("2SV and admin flags absent from the response stay unknown", () => {
    const p = mapUser(base);
    expect(p.mfa).toBe("unknown");
    expect(p.accessLevel).toBeUndefined();
    expect(mapUser({ ...base, isAdmin: false, isDelegatedAdmin: true }).accessLevel).toBe("privileged");
    expect(mapUser({ ...base, isAdmin: true, isDelegatedAdmin: true }).accessLevel).toBe("admin");
  });
  it("flattens custom schema fields, multi-valued ones as their values", () => {
    const p = mapUser({ ...base, customSchemas: { HR: { grade: 7, site: "LON", phones: [{ type: "work", value: "+44" }] } } });
    expect(p.attributes).toMatchObject({ "schema.HR.grade": 7, "schema.HR.site": "LON", "schema.HR.phones": ["+44"] });
  });
  it("refuses a user without its stable id", () => {
    expect(() => mapUser({ primaryEmail: "x@example.com" })).toThrow(/without id/);
  });
});

describe("roleLevel (README 'Role levels')", () => {
  type RoleInput = Parameters<typeof roleLevel>[0];
  const role = (...privs: string[]): RoleInput => ({ isSuperAdminRole: false, rolePrivileges: privs.map((privilegeName) => ({ privilegeName })) });
  it.each([
    [{ isSuperAdminRole: true, rolePrivileges: [] } as RoleInput, "admin"],
    [role("SUPER_ADMIN"), "admin"],
    [role("USERS_ALL"), "privileged"],
    [role("USERS_RETRIEVE", "USERS_RESET_PASSWORD"), "privileged"],
    [role("USER_SECURITY_ALL"), "privileged"],
    [role("GROUPS_ALL"), "privileged"],
    [role("CHANGE_USER_GROUP_MEMBERSHIP", "USERS_RETRIEVE"), "privileged"],
    [role("USERS_RETRIEVE", "ORGANIZATION_UNITS_RETRIEVE", "ADMIN_DASHBOARD"), "read"],
    [role("APP_ADMIN", "ADMIN_DASHBOARD"), "write"],
    [role(), "write"],
  ] as [RoleInput, string][])("%j → %s", (r, level) => {
    expect(roleLevel(r)).toBe(level);
  });
});

describe("mapRoleAssignment", () => {
  const helpdesk = { roleId: "9", roleName: "_HELP_DESK_ADMIN_ROLE", isSystemRole: true, rolePrivileges: [{ privilegeName: "USERS_RESET_PASSWORD" }] };
  it("scopes org-unit assignments to the org unit", () => {
    const g = mapRoleAssignment({ roleId: "9", assignedTo: "u1", assigneeType: "USER", scopeType: "ORG_UNIT", orgUnitId: "id:03abc", roleAssignmentId: "77" }, helpdesk)!;
    expect(g).toMatchObject({ principalId: "u1", privilege: "_HELP_DESK_ADMIN_ROLE", level: "privileged", scope: "org_unit:id:03abc", via: "direct" });
  });
  it("keeps group assignments, marked as such, and the lower-case assigneeType of older responses", () => {
    expect(mapRoleAssignment({ roleId: "9", assignedTo: "g1", assigneeType: "group", scopeType: "CUSTOMER" }, helpdesk)!.attributes?.assigneeType).toBe("GROUP");
  });
  it("an assignment of a role that could not be read is kept as privileged, not dropped", () => {
    expect(mapRoleAssignment({ roleId: "404", assignedTo: "u1", scopeType: "CUSTOMER" }, undefined)).toMatchObject({ privilege: "role:404", level: "privileged", attributes: { roleUnknown: true } });
    // The description marks every member optional: without an assignee or a role the grant cannot be told (quarantined by the engine).
    expect(() => mapRoleAssignment({ roleId: "9", roleAssignmentId: "78" }, helpdesk)).toThrow("role assignment 78 has no assignedTo");
    expect(() => mapRoleAssignment({ assignedTo: "u1", roleAssignmentId: "79" }, undefined)).toThrow("role assignment 79 has no roleId");
    expect(mapRoleAssignment({ roleId: "9", assignedTo: "u1" }, { ...helpdesk, rolePrivileges: [null as never, { privilegeName: null as never }] })).toMatchObject({ level: "write" });
  });
});

describe("credentials", () => {
  it("an OAuth grant is identified by user and client, has no known last use", () => {
    const c = mapToken("u1", { clientId: "123.apps.googleusercontent.com", displayText: "Zoom", scopes: ["b", "a"], nativeApp: false })!;
    expect(c).toMatchObject({ id: "u1/oauth/123.apps.googleusercontent.com", kind: "oauth_grant", lastUsed: { at: null, known: false }, attributes: { scopes: ["a", "b"] } });
  });
  it("ASP int64 millisecond strings become ISO; '0' is never used, absent is unknown", () => {
    expect(epochMsToIso("1717236000000")).toBe("2024-06-01T10:00:00.000Z");
    expect(mapAsp("u1", { codeId: 5, name: "x", creationTime: "1717236000000", lastTimeUsed: "0" })!.lastUsed).toEqual({ at: null, known: true, signal: "asps.lastTimeUsed" });
    expect(mapAsp("u1", { codeId: 5, name: "x" })!.lastUsed?.known).toBe(false);
  });
  it("a token without clientId or an app password without codeId (both optional in the Discovery document) is refused with the member named, so it is quarantined rather than silently dropped", () => {
    expect(() => mapToken("u1", { displayText: "Zoom", scopes: ["a"] })).toThrow("an OAuth token of user u1 has no clientId");
    expect(() => mapAsp("u1", { name: "x", lastTimeUsed: "0" })).toThrow("an app password of user u1 has no codeId");
  });
  it("a per-entity answer about another user or service account is refused (quarantined with the reason), never stored on the one asked", () => {
    expect(() => mapToken("u1", { clientId: "c", userKey: "u2" })).toThrow("tokens.list for user u1 answered about another user (u2)");
    expect(() => mapAsp("u1", { codeId: 5, userKey: "u2" })).toThrow("asps.list for user u1 answered about another user (u2)");
    expect(mapToken("u1", { clientId: "c", userKey: "u1" }).principalId).toBe("u1");
    const now = new Date("2025-06-01T00:00:00Z");
    const other = { name: "projects/p/serviceAccounts/b@p.iam.gserviceaccount.com/keys/abc" };
    expect(() => mapServiceAccountKey("1001", other, now, "a@p.iam.gserviceaccount.com")).toThrow(
      "keys.list for service account a@p.iam.gserviceaccount.com answered about another account (b@p.iam.gserviceaccount.com)",
    );
    expect(mapServiceAccountKey("1001", { name: "projects/p/serviceAccounts/1001/keys/abc" }, now, "a@p.iam.gserviceaccount.com").id).toBe("abc");
  });
  it("service account keys: 9999-12-31 means no expiry; past validBefore is expired; disabled is inactive", () => {
    const now = new Date("2025-06-01T00:00:00Z");
    const name = "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys/abcdef0123456789";
    expect(mapServiceAccountKey("sa", { name, validAfterTime: "2024-01-01T00:00:00Z", validBeforeTime: "9999-12-31T23:59:59Z", keyType: "USER_MANAGED" }, now, "a@p.iam.gserviceaccount.com")).toMatchObject({
      id: "abcdef0123456789",
      status: "active",
      createdAt: "2024-01-01T00:00:00.000Z",
      expiresAt: null,
    });
    expect(mapServiceAccountKey("sa", { name, validBeforeTime: "2025-01-01T00:00:00Z" }, now, "a@p.iam.gserviceaccount.com")!.status).toBe("expired");
    expect(mapServiceAccountKey("sa", { name, disabled: true }, now, "a@p.iam.gserviceaccount.com")!.status).toBe("inactive");
  });
});

// Pure parts of the SCIM connector: resource mapping, group nesting, options, and the pager's arithmetic.
import { describe, expect, it } from "vitest";
import { ACTIVITY_UNKNOWN_REASON, buildGroupIndex, isoUtc, mapUser, primaryEmail, type MapSettings } from "../../../connectors/scim/map.js";
import { scopeOf } from "../../../connectors/scim/options.js";
import { complete, listResources, type FetchPage } from "../../../connectors/scim/paging.js";
import { SCHEMA, type ScimGroup, type ScimUser } from "../../../connectors/scim/wire.js";
import { globMatcher } from "../../../src/glob.js";
import { parseOptions } from "./setup.js";

const settings: MapSettings = { scope: "app.example.com/scim/v2", isAdminGroup: globMatcher(["Admins", "*-owners"]), isAdminRole: globMatcher(["admin", "owner"]) };
const NO_GROUPS = buildGroupIndex([]);

describe("mapUser", () => {
  const base: ScimUser & { id: string } = {
    schemas: [SCHEMA.user, SCHEMA.enterpriseUser],
    id: "2819c223-7f76-453a-919d-413861904646",
    externalId: "00u1a2b3",
    userName: "bjensen@example.com",
    name: { formatted: "Ms. Barbara J Jensen III", familyName: "Jensen", givenName: "Barbara" },
    displayName: "Babs Jensen",
    userType: "Employee",
    active: true,
    emails: [
      { value: "bjensen@home.example", type: "home" },
      { value: "Barbara.Jensen@Example.com", type: "work", primary: true },
    ],
    meta: { resourceType: "User", created: "2010-01-23T04:56:22Z", lastModified: "2011-05-13T04:42:34Z" },
    [SCHEMA.enterpriseUser]: { employeeNumber: "701984", department: "Tour Operations", manager: { value: "26118915-6090-4610-87e4-49d8ca9f808d", displayName: "John Smith" } },
  };

  it("maps the RFC 7643 example user", () => {
    const { principal, grants } = mapUser(base, NO_GROUPS, settings);
    expect(principal).toEqual({
      id: base.id,
      kind: "human",
      name: "bjensen@example.com",
      email: "Barbara.Jensen@Example.com",
      displayName: "Babs Jensen",
      status: "active",
      mfa: "unknown",
      createdAt: "2010-01-23T04:56:22.000Z",
      accessLevel: "read",
      lastActive: { at: null, known: false, signal: "none: SCIM has no last-activity attribute" },
      attributes: { external_id: "00u1a2b3", user_type: "Employee", department: "Tour Operations", employee_number: "701984", manager_id: "26118915-6090-4610-87e4-49d8ca9f808d", manager_name: "John Smith" },
    });
    expect(grants).toEqual([]);
  });

  it("reads active=false as disabled and a missing active as active, saying it was not reported", () => {
    expect(mapUser({ ...base, active: false }, NO_GROUPS, settings).principal.status).toBe("disabled");
    const { principal } = mapUser({ ...base, active: undefined }, NO_GROUPS, settings);
    expect(principal.status).toBe("active");
    expect(principal.attributes?.active_reported).toBe(false);
  });

  it("takes roles and entitlements as grants, admin where the globs say so", () => {
    const { grants } = mapUser({ ...base, roles: [{ value: "Owner", primary: true }, { value: "billing" }], entitlements: [{ value: "export" }] }, NO_GROUPS, settings);
    expect(grants.map((g) => [g.privilege, g.level, g.via])).toEqual([
      ["role:Owner", "admin", "direct"],
      ["role:billing", "read", "direct"],
      ["entitlement:export", "read", "direct"],
    ]);
    expect(grants[0]!.attributes).toEqual({ primary: true });
  });

  it("falls back on what the server sent: no userName, a guest, far-future and garbage dates", () => {
    const { principal } = mapUser({ id: "u1", userType: "Guest", displayName: undefined, name: { givenName: "Ada", familyName: "L" }, meta: { created: "+275760-09-13T00:00:00Z" } }, NO_GROUPS, settings);
    expect(principal).toMatchObject({ name: "u1", kind: "guest", displayName: "Ada L", email: null, createdAt: null, attributes: { user_name_missing: true, active_reported: false } });
    expect(isoUtc("10000-01-01T00:00:00Z")).toBeNull();
    expect(isoUtc("not a date")).toBeNull();
    expect(isoUtc("2024-02-29T12:00:00+02:00")).toBe("2024-02-29T10:00:00.000Z");
  });

  it("refuses a user without id, naming it (the collector quarantines it)", () => {
    expect(() => mapUser({ userName: "ghost@example.com" }, NO_GROUPS, settings)).toThrow('/Users returned a user without id (userName "ghost@example.com")');
  });

  it("keeps hostile values exactly", () => {
    const evil = "\u202Egnp.exe <img src=x onerror=alert(1)> '; DROP TABLE x;--\n";
    const { principal } = mapUser({ ...base, userName: evil, displayName: evil, emails: [{ value: evil, primary: true }] }, NO_GROUPS, settings);
    expect([principal.name, principal.displayName, principal.email]).toEqual([evil, evil, evil]);
  });

  it("chooses the primary email, then the work one, then the first", () => {
    expect(primaryEmail([{ value: "a@x" }, { value: "b@x", primary: true }])).toBe("b@x");
    expect(primaryEmail([{ value: "a@x", type: "home" }, { value: "b@x", type: "work" }])).toBe("b@x");
    expect(primaryEmail([{ type: "work" }, { value: "c@x" }])).toBe("c@x");
    expect(primaryEmail(undefined)).toBeNull();
  });
});

describe("group membership", () => {
  const groups: ScimGroup[] = [
    { id: "g-admins", displayName: "Admins", members: [{ value: "g-ops", type: "Group" }] },
    { id: "g-ops", displayName: "Ops", members: [{ value: "u1", type: "User" }, { value: "g-oncall" }] },
    // An untyped member that is a known group id counts as a nested group.
    { id: "g-oncall", displayName: "Oncall", members: [{ value: "u2" }, { value: "g-admins", type: "Group" }] },
    { id: "g-dup-1", displayName: "Team", members: [{ value: "u1", type: "User" }] },
    { id: "g-dup-2", displayName: "Team", members: [{ value: "u2", type: "User" }] },
  ];
  const index = buildGroupIndex(groups);

  it("expands nesting to inherited grants and ends on cycles", () => {
    const u2 = mapUser({ id: "u2", userName: "u2" }, index, settings).grants;
    expect(u2.map((g) => [g.privilege, g.via, g.level]).sort()).toEqual([
      ["group:Admins", "inherited", "admin"],
      ["group:Oncall", "direct", "read"],
      ["group:Ops", "inherited", "read"],
      ["group:Team (g-dup-2)", "direct", "read"],
    ]);
    expect(u2.every((g) => g.scope === settings.scope && typeof g.attributes?.group_id === "string")).toBe(true);
  });

  it("adds groups only the user's own groups attribute names", () => {
    const { grants } = mapUser({ id: "u9", userName: "u9", groups: [{ value: "g-admins", display: "Admins" }, { value: "g-elsewhere", display: "sre-owners", type: "indirect" }] }, index, settings);
    expect(grants.map((g) => [g.privilege, g.via, g.level])).toEqual([
      ["group:Admins", "direct", "admin"],
      ["group:sre-owners", "inherited", "admin"],
    ]);
    expect(grants.map((g) => g.principalId)).toEqual(["u9", "u9"]);
  });
});

describe("options", () => {
  const ok = { base_url: "https://api.example.com/scim/v2/", token: "env:SCIM_TOKEN" };
  it("takes https anywhere and plain http on loopback only", () => {
    expect(parseOptions(ok)).toMatchObject({ page_size: 100, concurrency: 4, request_timeout_seconds: 60, admin_groups: [] });
    expect(parseOptions({ ...ok, base_url: "http://127.0.0.1:8080/scim" }).base_url).toBe("http://127.0.0.1:8080/scim");
    expect(() => parseOptions({ ...ok, base_url: "http://scim.example.com/v2" })).toThrow(/https/);
    expect(() => parseOptions({ ...ok, base_url: "https://u:p@scim.example.com/v2" })).toThrow(/without query, fragment or credentials/);
  });
  it("refuses a literal token and unknown keys", () => {
    expect(() => parseOptions({ ...ok, token: "eyJhbGciOi" })).toThrow(/secret reference/);
    expect(() => parseOptions({ ...ok, pagesize: 10 })).toThrow(/pagesize/);
  });
  it("names the scope by host and path", () => {
    expect(scopeOf(parseOptions(ok))).toBe("api.example.com/scim/v2");
  });
});

describe("index paging", () => {
  /** A list of `n` resources served `cap` at a time, with per-start overrides. */
  function server(n: number, cap: number, override: (start: number, count: number) => { items?: number; total?: number } | undefined = () => undefined) {
    const asked: string[] = [];
    const fetchPage: FetchPage<{ id: string }> = async (startIndex, count) => {
      asked.push(`${startIndex}+${count}`);
      const o = override(startIndex, count) ?? {};
      const total = o.total ?? n;
      const size = Math.min(count, cap, o.items ?? cap);
      const Resources = Array.from({ length: Math.max(0, Math.min(size, total - startIndex + 1)) }, (_, i) => ({ id: `r${startIndex + i}` }));
      return { totalResults: total, itemsPerPage: Resources.length, startIndex, Resources };
    };
    return { asked, fetchPage };
  }
  async function drainAll<T>(pages: AsyncGenerator<T[]>): Promise<T[]> {
    const out: T[] = [];
    for await (const p of pages) out.push(...p);
    return out;
  }

  it("asks a window of pages at the server's page size once the first page told the total", async () => {
    const s = server(250, 50);
    const l = listResources(s.fetchPage, { what: "Users", pageSize: 100, concurrency: 3 });
    expect((await drainAll(l.pages)).map((r) => r.id)).toEqual(Array.from({ length: 250 }, (_, i) => `r${i + 1}`));
    expect(s.asked).toEqual(["1+100", "51+50", "101+50", "151+50", "201+50"]);
    expect(complete(l)).toBe(true);
  });

  it("fills the gap a short page leaves, in order", async () => {
    const s = server(300, 100, (start) => (start === 101 ? { items: 40 } : undefined));
    const l = listResources(s.fetchPage, { what: "Users", pageSize: 100, concurrency: 4 });
    expect((await drainAll(l.pages)).map((r) => r.id)).toEqual(Array.from({ length: 300 }, (_, i) => `r${i + 1}`));
    expect(s.asked).toEqual(["1+100", "101+100", "201+100", "141+60"]);
    expect(l.stats).toMatchObject({ pages: 4, shortPages: 1, duplicates: 0 });
  });

  it("stops where the total shrank and says the count changed", async () => {
    const s = server(300, 100, (start) => (start > 1 ? { total: 150 } : undefined));
    const l = listResources(s.fetchPage, { what: "Users", pageSize: 100, concurrency: 1 });
    expect(await drainAll(l.pages)).toHaveLength(150);
    expect(l.stats.totalChanged).toBe(true);
    expect(complete(l)).toBe(false);
  });

  it("throws on a page that does not advance; hands on a resource without id, counted", async () => {
    const stall = server(300, 100, (start) => (start === 201 ? { items: 0 } : undefined));
    await expect(drainAll(listResources(stall.fetchPage, { what: "Users", pageSize: 100, concurrency: 1 }).pages)).rejects.toThrow(/Users startIndex=201: the server returned no resources although totalResults is 300/);
    const noId: FetchPage<{ id?: string }> = async () => ({ totalResults: 2, Resources: [{ id: "a" }, {}] });
    const l = listResources(noId, { what: "Groups", pageSize: 100, concurrency: 1 });
    expect(await drainAll(l.pages)).toEqual([{ id: "a" }, {}]);
    expect(l.stats.withoutId).toBe(1);
    expect(complete(l)).toBe(true);
    const notList = (async () => ({ Resources: [] })) as unknown as FetchPage<{ id: string }>;
    await expect(drainAll(listResources(notList, { what: "Users", pageSize: 100, concurrency: 1 }).pages)).rejects.toThrow(/not a SCIM ListResponse/);
  });

  it("skips ids an earlier pass handed on", async () => {
    const s = server(5, 10);
    const l = listResources(s.fetchPage, { what: "Users", pageSize: 10, concurrency: 1, skip: new Set(["r1", "r2"]) });
    expect((await drainAll(l.pages)).map((r) => r.id)).toEqual(["r3", "r4", "r5"]);
    expect(l.ids.size).toBe(5);
  });

  it("the activity reason names SCIM", () => {
    expect(ACTIVITY_UNKNOWN_REASON).toMatch(/^SCIM/);
  });
});

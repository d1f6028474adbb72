// Property-based tests (fast-check) of every parser and mapper that reads provider data: the AWS credential
// report CSV and authorization-details records, Graph user JSON, Directory API user JSON, GitHub member JSON, and inventory exports. Odd but
// legal values (unicode, quotes and commas in names, missing optional fields, nulls, 1970, N/A, huge inputs)
// map without loss and keep "unknown" apart from "never"; illegal ones raise the parser's own error type
// with a message naming where, never a TypeError.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { UserDetail } from "@aws-sdk/client-iam";
import { accountScope, mapUser as mapAwsUser, type AccountContext } from "../../connectors/aws-iam/map.js";
import { CredentialReportFormatError, parseCredentialReport } from "../../connectors/aws-iam/report.js";
import { isoUtc, mapUser as mapEntraUser, type GraphUser } from "../../connectors/entra-id/map.js";
import { InventoryError, parseInventory } from "../../connectors/file/map.js";
import { iso as githubIso, mapOrgUser } from "../../connectors/github/map.js";
import type { GhSimpleUser } from "../../connectors/github/wire.js";
import { epochMsToIso, lastLoginActivity, mapUser as mapGoogleUser } from "../../connectors/google-workspace/map.js";
import { CsvError } from "../../src/csv.js";
import type { Activity, Principal } from "../../src/model.js";

const RUNS = Number(process.env.WHOHAS_PROPERTY_RUNS ?? 300);
const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Names as people and admins write them: any unicode, with commas, quotes, line breaks and emoji. */
const oddText = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
  fc.constantFrom("Zoë O'Brien-Ünal", "李小龙", "José, \"Pepe\" García", "line\nbreak", "tab\tname", "👩🏽‍💻 dev", "  padded  ", "ﬁ ligature", "\u202Eevil"),
);

/** Timestamps: ordinary ones, the epoch, far past and future, and sub-second ones. */
const instant = fc.oneof(
  fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true }),
  fc.constantFrom(new Date(0), new Date("2000-02-29T12:00:00Z"), new Date("2038-01-19T03:14:08Z")),
);

const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const nullable = <T>(a: fc.Arbitrary<T>) => fc.oneof(a, fc.constant(null), fc.constant(undefined));

/** Dates at and beyond the edges of 4-digit years, which ISO strings (and SQL string order) cannot hold. */
const edgeDate = fc.constantFrom("+010000-01-01T00:00:00Z", "-000001-01-01T00:00:00Z", "+275760-09-13T00:00:00.000Z", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "1969-12-31T23:59:59Z");
const edgeEpoch = fc.oneof(fc.integer({ min: -1e16, max: 1e16 }), fc.constantFrom(253402300799999, 253402300800000, 8.64e15, -1));

/** Every activity the model emits keeps unknown apart from never: at is null or an ISO instant. */
function checkActivity(a: Activity | undefined, where: string): void {
  expect(a, where).toBeDefined();
  expect(typeof a!.known, where).toBe("boolean");
  if (a!.at !== null) {
    expect(a!.at, where).toMatch(ISO_Z);
    expect(a!.known, `${where}: a date is known`).toBe(true);
  }
}

function checkPrincipal(p: Principal, where: string): void {
  expect(typeof p.id, where).toBe("string");
  expect(p.id.length, where).toBeGreaterThan(0);
  expect(typeof p.name, where).toBe("string");
  if (p.createdAt !== null && p.createdAt !== undefined) expect(p.createdAt, where).toMatch(ISO_Z);
  checkActivity(p.lastActive, `${where}.lastActive`);
  expect(() => JSON.stringify(p)).not.toThrow();
}

// ---- AWS credential report --------------------------------------------------------------------------

const HEADER = [
  "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed", "password_next_rotation", "mfa_active",
  "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
  "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
  "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
];

const reportTime = fc.oneof(
  instant.map((d) => ({ cell: d.toISOString().replace(/\.\d{3}Z$/, "+00:00"), at: new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString() as string | null })),
  fc.constantFrom("N/A", "no_information", "not_supported", "").map((s) => ({ cell: s, at: null as string | null })),
);
const bool = fc.constantFrom("true", "false", "TRUE", "False");
const csvField = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

const reportRow = fc.record({
  user: oddText.filter((s) => s.trim() === s && s !== "<root_account>"),
  created: reportTime,
  password: bool,
  passwordLastUsed: reportTime,
  mfa: bool,
  key1: fc.record({ active: bool, rotated: reportTime, used: reportTime, region: fc.constantFrom("us-east-1", "N/A"), service: fc.constantFrom("s3", "N/A") }),
  key2: fc.record({ active: bool, rotated: reportTime, used: reportTime, region: fc.constantFrom("eu-west-1", "N/A"), service: fc.constantFrom("sts", "N/A") }),
});

type ReportRowSpec = typeof reportRow extends fc.Arbitrary<infer R> ? R : never;

function renderReport(rows: ReportRowSpec[], eol: string): string {
  const lines = [HEADER.join(",")];
  rows.forEach((r, i) => {
    lines.push(
      [
        csvField(r.user), `arn:aws:iam::123456789012:user/u${i}`, r.created.cell, r.password, r.passwordLastUsed.cell, "N/A", "N/A", r.mfa,
        r.key1.active, r.key1.rotated.cell, r.key1.used.cell, r.key1.region, r.key1.service,
        r.key2.active, r.key2.rotated.cell, r.key2.used.cell, r.key2.region, r.key2.service,
        "false", "N/A", "false", "N/A",
      ].join(","),
    );
  });
  return lines.join(eol) + eol;
}

const awsContext: AccountContext = {
  accountId: "123456789012",
  partition: "aws",
  scope: accountScope("123456789012"),
  accountEmail: null,
  policies: new Map(),
  groups: new Map(),
  internalAccounts: new Set(["123456789012"]),
  emailTag: "email",
};

describe("AWS credential report (CSV)", () => {
  it("odd but legal rows: names round-trip exactly, times become ISO or stay sentinels, every activity keeps unknown apart from never", () => {
    fc.assert(
      fc.property(fc.array(reportRow, { maxLength: 25 }), fc.constantFrom("\n", "\r\n"), (rows, eol) => {
        const parsed = parseCredentialReport(renderReport(rows, eol));
        expect(parsed).toHaveLength(rows.length);
        parsed.forEach((p, i) => {
          const r = rows[i]!;
          expect(p.user).toBe(r.user);
          expect(p.isRoot).toBe(false);
          expect(p.userCreationTime).toBe(r.created.at);
          expect(p.passwordEnabled).toBe(r.password.toLowerCase() === "true");
          expect("at" in p.passwordLastUsed ? p.passwordLastUsed.at : null).toBe(r.passwordLastUsed.at);
          for (const k of p.keys) expect(k.active || k.lastRotated !== null).toBe(true);
          // Through the mapper: AWS cannot say "never", so no activity is ever known without a date.
          const m = mapAwsUser(awsContext, { UserName: r.user, UserId: `AIDA${i}`, Arn: `arn:aws:iam::123456789012:user/u${i}`, CreateDate: new Date(0) } as UserDetail, p)!;
          checkPrincipal(m.principal, `row ${i}`);
          expect(m.principal.lastActive!.known).toBe(m.principal.lastActive!.at !== null);
          for (const c of m.credentials) {
            checkActivity(c.lastUsed, `row ${i} ${c.id}`);
            expect(c.lastUsed!.known).toBe(c.lastUsed!.at !== null);
          }
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("illegal reports raise CredentialReportFormatError or CsvError, nothing else", () => {
    const garbage = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.array(fc.array(fc.string({ maxLength: 12 }), { maxLength: 8 }), { maxLength: 6 }).map((rows) => rows.map((r) => r.join(",")).join("\n")),
      fc.constantFrom("", "\n\n", "user,arn\nx,y\n", `${HEADER.slice(0, 5).join(",")}\nonly,five,cols,here,x\n`, `${HEADER.join(",")}\n"unterminated,quote`),
    );
    let errors = 0;
    fc.assert(
      fc.property(garbage, (text) => {
        try {
          for (const row of parseCredentialReport(text)) expect(typeof row.user).toBe("string");
        } catch (err) {
          errors++;
          expect(err instanceof CredentialReportFormatError || err instanceof CsvError, String(err)).toBe(true);
          expect((err as Error).message.length).toBeGreaterThan(10);
        }
      }),
      { numRuns: RUNS },
    );
    expect(errors).toBeGreaterThan(0);
  });

  it("a report of 20,000 users parses whole: every row, in order, the last one field for field", () => {
    // How fast is `npm run bench -- aws-iam`'s business; here: nothing lost, nothing shifted at scale.
    const row = (i: number) => `user${i},arn:aws:iam::123456789012:user/user${i},2020-01-01T00:00:00+00:00,true,2025-01-01T00:00:00+00:00,N/A,N/A,true,true,2021-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`;
    const text = [HEADER.join(","), ...Array.from({ length: 20_000 }, (_, i) => row(i))].join("\n");
    const rows = parseCredentialReport(text);
    expect(rows).toHaveLength(20_000);
    expect(rows.every((r, i) => r.user === `user${i}`)).toBe(true);
    expect(rows[19_999]).toEqual(parseCredentialReport([HEADER.join(","), row(19_999)].join("\n"))[0]);
  });
});

// ---- AWS: GetAccountAuthorizationDetails records (the SDK's parse of IAM's XML) -----------------------------

/** Policy documents as IAM could hand them back: valid ones, odd JSON, URL-encoded, or not JSON at all. */
const policyDocument = fc.oneof(
  fc.constant(encodeURIComponent(JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }))),
  fc.record({ Version: fc.constant("2012-10-17"), Statement: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.array(fc.record({ Effect: fc.constantFrom("Allow", "Deny", "Maybe"), Action: fc.oneof(fc.string(), fc.array(fc.string()), fc.jsonValue({ maxDepth: 1 })), Resource: fc.jsonValue({ maxDepth: 1 }), Condition: maybe(fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: [] }), { maxLength: 3 })) }).map((d) => encodeURIComponent(JSON.stringify(d))),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string(),
);

const userDetail = fc.record(
  {
    UserName: oddText,
    UserId: fc.stringMatching(/^AIDA[A-Z0-9]{16}$/),
    Arn: fc.constant("arn:aws:iam::123456789012:user/x"),
    Path: maybe(fc.constantFrom("/", "/engineering/", "/a b/")),
    CreateDate: maybe(instant),
    GroupList: maybe(fc.array(oddText, { maxLength: 3 })),
    AttachedManagedPolicies: maybe(fc.array(fc.record({ PolicyName: maybe(oddText), PolicyArn: maybe(fc.constantFrom("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/custom", "not-an-arn")) }, { requiredKeys: [] }), { maxLength: 3 })),
    UserPolicyList: maybe(fc.array(fc.record({ PolicyName: maybe(oddText), PolicyDocument: maybe(policyDocument) }, { requiredKeys: [] }), { maxLength: 3 })),
    Tags: maybe(fc.array(fc.record({ Key: maybe(fc.constantFrom("email", "name", "team", "")), Value: maybe(oddText) }, { requiredKeys: [] }), { maxLength: 3 })),
    PermissionsBoundary: maybe(fc.record({ PermissionsBoundaryArn: maybe(fc.constantFrom("arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/missing")) }, { requiredKeys: [] })),
  },
  { requiredKeys: ["UserName", "UserId"] },
) as fc.Arbitrary<UserDetail>;

describe("AWS user records (GetAccountAuthorizationDetails)", () => {
  it("map whatever optional parts are missing or odd; unparseable inline policies become 'write' grants, never a crash", () => {
    fc.assert(
      fc.property(userDetail, (u) => {
        const m = mapAwsUser(awsContext, u, undefined)!;
        checkPrincipal(m.principal, u.UserId!);
        expect(m.principal.id).toBe(u.UserId);
        // Without the credential report nothing is known about activity or MFA: unknown, never "never".
        expect(m.principal.lastActive).toMatchObject({ at: null, known: false });
        expect(m.principal.mfa).toBe("unknown");
        for (const g of m.grants) {
          expect(g.principalId).toBe(u.UserId);
          expect(["admin", "privileged", "write", "read"]).toContain(g.level);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("a record without UserId or UserName is not mapped (the connector quarantines it)", () => {
    fc.assert(
      fc.property(userDetail, fc.constantFrom("UserId", "UserName"), (u, drop) => {
        const broken: Record<string, unknown> = { ...u };
        delete broken[drop];
        expect(mapAwsUser(awsContext, broken as UserDetail, undefined)).toBeUndefined();
      }),
      { numRuns: 50 },
    );
  });
});

// ---- Entra ID: Graph user JSON --------------------------------------------------------------------------

const graphDate = fc.oneof(
  instant.map((d) => d.toISOString().replace(/\.\d{3}Z$/, "Z")),
  fc.constantFrom("0001-01-01T00:00:00Z", "not a date", "", "1970-01-01T00:00:00Z"),
);

const graphUser: fc.Arbitrary<GraphUser> = fc.record(
  {
    id: fc.uuid(),
    userPrincipalName: nullable(oddText.map((s) => `${s}@contoso.onmicrosoft.com`)),
    mail: nullable(fc.emailAddress()),
    displayName: nullable(oddText),
    accountEnabled: nullable(fc.boolean()),
    userType: nullable(fc.constantFrom("Member", "Guest", "member", "")),
    createdDateTime: nullable(graphDate),
    externalUserState: nullable(fc.constantFrom("PendingAcceptance", "Accepted")),
    signInActivity: nullable(
      fc.record({ lastSignInDateTime: nullable(graphDate), lastSuccessfulSignInDateTime: nullable(graphDate), lastNonInteractiveSignInDateTime: nullable(graphDate) }, { requiredKeys: [] }),
    ),
  },
  { requiredKeys: ["id"] },
) as fc.Arbitrary<GraphUser>;

describe("Entra ID user (Graph JSON)", () => {
  it("maps any user shape: id kept, dates ISO or null, Graph's 0001 placeholder never a date, sign-in unknown when unavailable", () => {
    fc.assert(
      fc.property(graphUser, fc.boolean(), (u, available) => {
        const p = mapEntraUser(u, { signIn: available ? { available: true } : { available: false, reason: "Authentication_RequestFromNonPremiumTenantOrB2CTenant" } });
        checkPrincipal(p, u.id);
        expect(p.id).toBe(u.id);
        expect(p.mfa).toBe("unknown");
        if (!available) expect(p.lastActive).toMatchObject({ at: null, known: false });
        // Only Graph's 0001-01-01 placeholder is a sentinel; real past dates stay dates.
        if (p.lastActive!.at) expect(p.lastActive!.at.startsWith("0001-01-01")).toBe(false);
        // Unknown is not never: absent is unknown; null is never only for accounts created after April 2020.
        if (available && u.signInActivity === undefined) expect(p.lastActive).toMatchObject({ at: null, known: false });
        if (available && u.signInActivity === null) expect(p.lastActive!.known).toBe(p.createdAt !== null && p.createdAt !== undefined && p.createdAt >= "2020-04-01T00:00:00.000Z");
        expect(p.status).toBe(u.accountEnabled === false ? "disabled" : u.externalUserState === "PendingAcceptance" ? "invited" : "active");
      }),
      { numRuns: RUNS },
    );
  });

  it("isoUtc: any string is an ISO instant or null", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), graphDate, edgeDate), (s) => {
        const v = isoUtc(s);
        if (v !== null) expect(v).toMatch(ISO_Z);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- Google Workspace: Directory API user JSON ------------------------------------------------------------

const googleLogin = fc.oneof(
  instant.filter((d) => d.getTime() > 0).map((d) => ({ raw: d.toISOString() as string | undefined | null, expect: { at: d.toISOString(), known: true } as Partial<Activity> })),
  fc.constant({ raw: "1970-01-01T00:00:00.000Z", expect: { at: null, known: true } }),
  fc.constantFrom(undefined, null, "", "garbage", "N/A").map((raw) => ({ raw, expect: { at: null, known: false } })),
);

const googleUser = fc.record({
  id: fc.stringMatching(/^[0-9]{6,21}$/),
  primaryEmail: fc.emailAddress(),
  name: maybe(fc.record({ fullName: maybe(oddText) }, { requiredKeys: [] })),
  suspended: maybe(fc.boolean()),
  archived: maybe(fc.boolean()),
  isAdmin: maybe(fc.boolean()),
  isDelegatedAdmin: maybe(fc.boolean()),
  isEnrolledIn2Sv: maybe(fc.boolean()),
  isGuestUser: maybe(fc.boolean()),
  creationTime: maybe(fc.oneof(instant.map((d) => d.toISOString()), fc.constant("garbage"))),
  aliases: maybe(fc.array(fc.emailAddress(), { maxLength: 3 })),
  customSchemas: maybe(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), { maxKeys: 2 })),
});

describe("Google Workspace user (Directory API JSON)", () => {
  it("maps any user shape; 1970 is 'never' (known), absent or unparseable is unknown, archived wins over suspended", () => {
    fc.assert(
      fc.property(googleUser, googleLogin, (u, login) => {
        const p = mapGoogleUser({ ...u, lastLoginTime: login.raw } as Parameters<typeof mapGoogleUser>[0]);
        checkPrincipal(p, u.id);
        expect(p.id).toBe(u.id);
        expect(p.lastActive).toMatchObject(login.expect);
        expect(p.status).toBe(u.archived ? "archived" : u.suspended ? "suspended" : "active");
        expect(p.mfa).toBe(u.isEnrolledIn2Sv === undefined ? "unknown" : u.isEnrolledIn2Sv ? "enabled" : "disabled");
        for (const v of Object.values(p.attributes ?? {})) expect(["string", "number", "boolean", "object"]).toContain(typeof v);
      }),
      { numRuns: RUNS },
    );
  });

  it("a user without id or primaryEmail is refused with a message, not mapped", () => {
    fc.assert(
      fc.property(googleUser, fc.constantFrom("id", "primaryEmail"), (u, drop) => {
        const broken: Record<string, unknown> = { ...u };
        delete broken[drop];
        expect(() => mapGoogleUser(broken as Parameters<typeof mapGoogleUser>[0])).toThrow(/without id or primaryEmail/);
      }),
      { numRuns: 50 },
    );
  });

  it("epochMsToIso and lastLoginActivity: any input gives ISO or null, never NaN or a throw", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer().map(String), fc.double().map(String), edgeEpoch.map(String), edgeDate), (s) => {
        const v = epochMsToIso(s);
        if (v !== null) expect(v).toMatch(ISO_Z);
        checkActivity(lastLoginActivity(s), s);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- GitHub: member JSON ----------------------------------------------------------------------------------

const ghUser: fc.Arbitrary<GhSimpleUser> = fc.record(
  {
    login: fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37})$/),
    id: fc.integer({ min: 1, max: 2 ** 31 }),
    node_id: fc.base64String({ minLength: 4, maxLength: 40 }).filter((s) => s.length > 0),
    type: fc.constantFrom("User", "Bot", "Organization"),
    site_admin: fc.boolean(),
    name: nullable(oddText),
    email: nullable(fc.emailAddress()),
    created_at: maybe(fc.oneof(instant.map((d) => d.toISOString().replace(/\.\d{3}Z$/, "Z")), fc.constant("garbage"))),
  },
  { requiredKeys: ["login", "id", "node_id", "type", "site_admin"] },
) as fc.Arbitrary<GhSimpleUser>;

describe("GitHub member (REST JSON)", () => {
  it("maps any member; without the audit log, last activity is unknown (never 'never'); 2FA unknown stays unknown", () => {
    fc.assert(
      fc.property(ghUser, fc.constantFrom("owner", "member", "outside_collaborator") as fc.Arbitrary<"owner" | "member" | "outside_collaborator">, (u, relation) => {
        const p = mapOrgUser(u, relation, { kind: "unknown", reason: "filter refused" }, undefined);
        checkPrincipal(p, u.login);
        expect(p.id).toBe(u.node_id);
        expect(p.lastActive).toMatchObject({ at: null, known: false });
        expect(p.mfa).toBe("unknown");
        expect(p.kind).toBe(relation === "outside_collaborator" ? "external" : u.type === "Bot" ? "bot" : "human");
      }),
      { numRuns: RUNS },
    );
  });

  it("iso(): any string or number gives ISO or null", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer(), fc.double(), edgeEpoch, edgeDate), (v) => {
        const out = githubIso(v);
        if (out !== null) expect(out).toMatch(ISO_Z);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- Inventory exports (CSV and JSON) -----------------------------------------------------------------

/** Addresses as directories hold them (zod's email check is stricter than RFC 5322's "!a@a.aa"). */
const plainEmail = fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,15}$/), fc.stringMatching(/^[a-z0-9]{1,12}\.[a-z]{2,6}$/)).map(([l, d]) => `${l.replace(/\.+$/, "").replace(/\.\.+/g, ".")}@${d}`).filter((e) => !e.startsWith("@") && !/\.@/.test(e));

const fileAccount = fc.record({
  username: oddText.filter((s) => s.trim() === s && s.length > 0),
  email: maybe(plainEmail),
  display_name: maybe(oddText.filter((s) => s.trim() === s)),
  status: maybe(fc.constantFrom("active", "suspended", "disabled", "invited", "archived")),
  mfa: maybe(fc.constantFrom("enabled", "disabled", "not_applicable", "unknown")),
  created_at: maybe(instant.map((d) => d.toISOString())),
  last_active: maybe(fc.oneof(instant.map((d) => d.toISOString()), fc.constant("never"))),
});

type FileAccountSpec = typeof fileAccount extends fc.Arbitrary<infer A> ? A : never;

function toCsv(accounts: FileAccountSpec[]): string {
  const cols = ["username", "email", "display_name", "status", "mfa", "created_at", "last_active"] as const;
  return [cols.join(","), ...accounts.map((a) => cols.map((c) => csvField(a[c] ?? "")).join(","))].join("\n") + "\n";
}

const uniqueAccounts = fc.uniqueArray(fileAccount, { selector: (a) => a.username, maxLength: 30 });

describe("inventory exports (file connector)", () => {
  it("CSV and JSON with odd but legal values map every account; empty activity is unknown, 'never' is known-never", () => {
    fc.assert(
      fc.property(uniqueAccounts, (accounts) => {
        for (const [format, text] of [
          ["csv", toCsv(accounts)],
          ["json", JSON.stringify(accounts)],
        ] as const) {
          const inv = parseInventory(text, format, "erp");
          expect(inv.principals.map((p) => p.name)).toEqual(accounts.map((a) => a.username));
          inv.principals.forEach((p, i) => {
            checkPrincipal(p, `${format} ${i}`);
            const raw = accounts[i]!.last_active;
            expect(p.lastActive).toMatchObject(raw === undefined ? { at: null, known: false } : raw === "never" ? { at: null, known: true } : { at: new Date(raw).toISOString(), known: true });
            expect(p.displayName ?? null).toBe(accounts[i]!.display_name ?? null);
          });
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("illegal exports raise InventoryError or CsvError naming the line or index, nothing else", () => {
    const illegal = fc.oneof(
      fc.string({ maxLength: 200 }).map((t) => ["csv", t] as const),
      fc.string({ maxLength: 200 }).map((t) => ["json", t] as const),
      fc.jsonValue({ maxDepth: 3 }).map((v) => ["json", JSON.stringify(v)] as const),
      fc.constantFrom(
        ["csv", "username,status\nada,retired\n"],
        ["csv", "username,created_at\nada,31/12/2024\n"],
        ["csv", "username,colour\nada,red\n"],
        ["csv", "username,email\nada,not-an-email\n"],
        ["csv", "username\nada\nada\n"],
        ["json", '[{"username":"ada","mfa":"maybe"}]'],
        ["json", '{"username":"ada"}'],
        ["json", '[{"username":""}]'],
      ) as fc.Arbitrary<readonly ["csv" | "json", string]>,
    );
    let errors = 0;
    fc.assert(
      fc.property(illegal, ([format, text]) => {
        try {
          const inv = parseInventory(text, format, "erp");
          for (const p of inv.principals) checkPrincipal(p, "accepted");
        } catch (err) {
          errors++;
          expect(err instanceof InventoryError || err instanceof CsvError, `${format} ${JSON.stringify(text)}: ${String(err)}`).toBe(true);
          if (err instanceof InventoryError && /^(line|\[)/.test(err.message)) expect(err.message).toMatch(/^(line \d+|\[\d+\])/);
        }
      }),
      { numRuns: RUNS },
    );
    expect(errors).toBeGreaterThan(RUNS / 4);
  });

  it("an export of 50,000 accounts parses whole, in order", () => {
    const lines = ["username,email,status,last_active"];
    for (let i = 0; i < 50_000; i++) lines.push(`user${i},user${i}@example.com,active,2025-0${(i % 9) + 1}-01`);
    const inv = parseInventory(lines.join("\n"), "csv", "erp");
    expect(inv.principals).toHaveLength(50_000);
    expect(inv.principals.every((p, i) => p.name === `user${i}`)).toBe(true);
  });
});

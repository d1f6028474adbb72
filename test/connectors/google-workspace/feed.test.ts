// The Google Workspace audit reader (feeds admin, login, token) driven through the contract with the real
// @googleapis/admin reports_v1 client and google-auth-library against the simulator: events made by tenant
// mutations, paging, quota errors, refusals, hostile names, and resuming from the covered time.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { googleWorkspaceConnector } from "../../../connectors/google-workspace/index.js";
import { ADMIN_IP, ATTACKER_IP, SCOPES } from "../../../connectors/google-workspace/simulator.js";
import { sameRef } from "../../../src/events/attribute.js";
import type { FeedRequest } from "../../../src/events/contract.js";
import { testContext } from "../../helpers/collect.js";
import { clockPastThisMillisecond, readFeeds } from "../../helpers/feed-reader.js";
import { setup, type Setup } from "./setup.js";

let s: Setup;
const scope = "my_customer";
const DEFAULT_DELEGATION = [SCOPES.userReadonly, SCOPES.roleReadonly, SCOPES.userSecurity, SCOPES.reportsAudit];

beforeAll(async () => {
  // The Reports API keeps six months: the seeded sign-ins must be recent by the real clock.
  s = await setup({ seed: 7, users: 30, now: new Date() });
});
afterAll(() => s?.close());
beforeEach(() => {
  s.google.sim.clearFaults();
  s.google.activitiesPageCap = undefined;
  s.google.tenant.setDelegatedScopes(DEFAULT_DELEGATION);
});

const request = (feed: string, since: string, cursor: string | null = null): FeedRequest => ({ scope, feed, since, cursor });
const read = async (requests: FeedRequest[], extra: Record<string, unknown> = {}) => {
  const ctx = testContext("gws");
  const out = await readFeeds(googleWorkspaceConnector.events!("gws", s.options(extra)), ctx, requests);
  return { ...out, ctx };
};
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

function ordinaryUser(skip = 0): string {
  const t = s.google.tenant;
  let seen = 0;
  for (let slot = 2; slot < t.slotCount; slot++) {
    const rec = t.record(slot);
    if (!rec || rec.user.suspended || rec.user.archived) continue;
    const f = t.adminFlags(rec.user.id);
    if (f.isAdmin || f.isDelegatedAdmin) continue;
    if (seen++ === skip) return rec.user.primaryEmail;
  }
  throw new Error("no ordinary user");
}

describe("Google Workspace admin and token feeds", () => {
  it("turn tenant mutations into events that name the admin, the target and the privilege as collected", async () => {
    const t = s.google.tenant;
    const since = new Date().toISOString();
    const promoted = ordinaryUser(0);
    const helped = ordinaryUser(1);
    t.makeSuperAdmin(promoted);
    t.assignRole(helped, "_HELP_DESK_ADMIN_ROLE");
    t.suspendUser(helped);
    t.changePassword(promoted);
    const grant = t.addOAuthToken(promoted, { displayText: "Free PDF Converter", scopes: ["https://www.googleapis.com/auth/gmail.readonly"] });
    const hired = t.addUser({ givenName: "New", familyName: "Hire" });

    const { feeds } = await read([request("admin", since), request("token", since)]);
    const adminFeed = feeds.get(`${scope}/admin`)!;
    expect(adminFeed.status).toBe("ok");
    const byName = new Map(adminFeed.events.map((e) => [e.providerAction, e]));
    expect([...byName.keys()].sort()).toEqual(["ASSIGN_ROLE", "CHANGE_PASSWORD", "CREATE_USER", "GRANT_ADMIN_PRIVILEGE", "SUSPEND_USER"]);
    const adminId = t.userId(0);
    expect(byName.get("GRANT_ADMIN_PRIVILEGE")).toMatchObject({
      action: "grant.add",
      outcome: "success",
      actor: { id: adminId, name: `admin@${t.domain}`, kind: "person" },
      target: { name: promoted, privilege: "_SEED_ADMIN_ROLE" },
      ip: ADMIN_IP,
    });
    expect(byName.get("ASSIGN_ROLE")).toMatchObject({ action: "grant.add", target: { name: helped, privilege: "_HELP_DESK_ADMIN_ROLE" } });
    expect(byName.get("SUSPEND_USER")).toMatchObject({ action: "account.disable", target: { name: helped } });
    expect(byName.get("CHANGE_PASSWORD")!.action).toBe("account.update");
    expect(byName.get("CREATE_USER")!.target?.name).toBe(hired.primaryEmail);
    // Google's id is uniqueQualifier + time.
    expect(adminFeed.events.every((e) => /^-?\d+:\d{4}-\d\d-\d\dT/.test(e.id))).toBe(true);

    const tokenFeed = feeds.get(`${scope}/token`)!;
    expect(tokenFeed.status).toBe("ok");
    expect(tokenFeed.events).toHaveLength(1);
    const promotedId = t.find(promoted)!.user.id;
    expect(tokenFeed.events[0]).toMatchObject({
      action: "credential.create",
      providerAction: "authorize",
      actor: { id: promotedId, name: promoted },
      target: { principalId: promotedId, credentialId: `${promotedId}/oauth/${grant.clientId}` },
      details: { appName: "Free PDF Converter", scopes: ["https://www.googleapis.com/auth/gmail.readonly"] },
    });

    // The ids and names are the collector's: the new grant and the OAuth credential are stored under them.
    const { scopes } = await s.run({ collect_oauth_tokens: true });
    const collected = scopes.get(scope)!;
    expect(collected.status).toBe("ok");
    expect(collected.grants.some((g) => g.principalId === promotedId && g.privilege === "_SEED_ADMIN_ROLE")).toBe(true);
    expect(collected.credentials.some((c) => c.id === `${promotedId}/oauth/${grant.clientId}`)).toBe(true);
    expect(collected.principals.find((p) => p.id === t.find(helped)!.user.id)?.name).toBe(helped);

    t.removeOAuthToken(promoted, grant.clientId);
    const revoked = (await read([request("token", tokenFeed.coveredUntil!)])).feeds.get(`${scope}/token`)!;
    expect(revoked.events).toEqual([expect.objectContaining({ action: "credential.delete", target: expect.objectContaining({ credentialId: `${promotedId}/oauth/${grant.clientId}` }) })]);
  });

  it("an admin revoking an application-specific password is a credential.delete naming the ASP the collector stores", async () => {
    const t = s.google.tenant;
    const holder = ordinaryUser(2);
    const since = new Date().toISOString();
    const asp = t.addAppPassword(holder, "Legacy scanner");
    const { scopes } = await s.run({ collect_app_passwords: true });
    const holderId = t.find(holder)!.user.id;
    const stored = scopes.get(scope)!.credentials.find((c) => c.principalId === holderId && c.kind === "app_password" && c.name === "Legacy scanner")!;
    expect(stored.id).toBe(`${holderId}/asp/${asp.codeId}`);
    // Creating one is the user's own doing; no Reports application records it.
    const created = await read([request("admin", since), request("token", since), request("login", since)]);
    expect([...created.feeds.values()].flatMap((f) => f.events).filter((e) => e.target?.name === holder)).toEqual([]);

    t.revokeAppPassword(holder, asp.codeId);
    const { feeds } = await read([request("admin", since)]);
    const revoked = feeds.get(`${scope}/admin`)!.events.filter((e) => e.providerAction === "REVOKE_ASP");
    expect(revoked).toEqual([
      expect.objectContaining({
        action: "credential.delete",
        actor: expect.objectContaining({ name: `admin@${t.domain}`, kind: "person" }),
        target: { name: holder, credentialId: `asp/${asp.codeId}` },
        ip: ADMIN_IP,
        details: expect.objectContaining({ application: "admin", eventType: "USER_SETTINGS" }),
      }),
    ]);
    // Attribution matches the event to the stored credential by that id.
    expect(sameRef(revoked[0]!.target!.credentialId, stored.id)).toBe(true);
    expect(sameRef(revoked[0]!.target!.credentialId, `${holderId}/asp/${asp.codeId + 1}`)).toBe(false);
    const gone = (await s.run({ collect_app_passwords: true })).scopes.get(scope)!;
    expect(gone.credentials.some((c) => c.id === stored.id)).toBe(false);
  });

  it("follows nextPageToken, one cursor per page, no event twice", async () => {
    const since = new Date().toISOString();
    const users = Array.from({ length: 7 }, (_, i) => s.google.tenant.addUser({ givenName: "Paged", familyName: `User${i}` }));
    s.google.activitiesPageCap = 3;
    const before = s.google.stats.calls.get("activities") ?? 0;
    const r = (await read([request("admin", since)])).feeds.get(`${scope}/admin`)!;
    expect(r.status).toBe("ok");
    expect(r.events.map((e) => e.target?.name).sort()).toEqual(users.map((u) => u.primaryEmail).sort());
    expect(new Set(r.events.map((e) => e.id)).size).toBe(7);
    expect(r.cursors).toHaveLength(3);
    expect((s.google.stats.calls.get("activities") ?? 0) - before).toBe(3);
  });

  it("waits out 429 rateLimitExceeded (Retry-After) and 403 quotaExceeded, and carries on", async () => {
    const since = new Date().toISOString();
    s.google.tenant.addUser({ givenName: "After", familyName: "Quota" });
    s.google.injectGoogleError("rateLimitExceeded", { endpoint: "activities", times: 1, retryAfterSeconds: 1 });
    s.google.injectGoogleError("quotaExceeded", { endpoint: "activities", times: 1 });
    const { feeds, ctx } = await read([request("admin", since)]);
    expect(feeds.get(`${scope}/admin`)).toMatchObject({ status: "ok", events: [expect.objectContaining({ action: "account.create" })] });
    const retries = ctx.logged.filter((l) => l.msg === "google-workspace: retrying after a retryable error");
    expect(retries.map((l) => (l.obj as { reason: string }).reason)).toEqual(["rateLimitExceeded", "quotaExceeded"]);
    expect(retries[0]!.obj).toMatchObject({ retryAfter: true, delayMs: 1000 });
  });

  it("asks for the reports scope only in the reader: without its delegation the feeds fail, the collector still runs", async () => {
    s.google.tenant.setDelegatedScopes([SCOPES.userReadonly, SCOPES.roleReadonly]);
    const { feeds } = await read([request("admin", ago(60_000)), request("login", ago(60_000))]);
    for (const feed of ["admin", "login"]) {
      const r = feeds.get(`${scope}/${feed}`)!;
      expect(r.status).toBe("failed");
      expect(r.error).toContain("unauthorized_client");
      expect(r.error).toContain("admin.reports.audit.readonly");
      expect(r.events).toEqual([]);
    }
    const { scopes } = await s.run();
    expect(scopes.get(scope)!.status).toBe("ok");
  });

  it("a subject who is not an administrator is refused with the API's error, per feed", async () => {
    const { feeds } = await read([request("admin", ago(60_000))], { subject: ordinaryUser(2) });
    expect(feeds.get(`${scope}/admin`)).toMatchObject({ status: "failed", error: expect.stringContaining("HTTP 401 authError: Access denied. You are not authorized to read activity records.") });
  });

  it("keeps hostile names exactly; an event named like an Object member is just 'other'", async () => {
    const since = new Date().toISOString();
    const evil = "__proto__\u001b[31m<img src=x>@example.com";
    s.google.tenant.addUser({ givenName: "Evil", familyName: "Name", email: evil });
    s.google.sim.injectFault({
      match: (r) => r.url.pathname.endsWith("/applications/admin"),
      fault: {
        kind: "rewrite",
        rewrite: (a) => {
          const body = JSON.parse(a.body.toString("utf8")) as { items: { events: { name: string; type: string }[]; id: { uniqueQualifier: string } }[] };
          const first = body.items[0]!;
          body.items.push({ ...first, id: { ...first.id, uniqueQualifier: "1" }, events: [{ type: "X", name: "constructor" }, { type: "X", name: "toString" }] });
          return { ...a, body: Buffer.from(JSON.stringify(body)) };
        },
      },
      times: 1,
    });
    const r = (await read([request("admin", since)])).feeds.get(`${scope}/admin`)!;
    expect(r.status).toBe("ok");
    expect(r.events.find((e) => e.providerAction === "CREATE_USER")!.target?.name).toBe(evil);
    const odd = r.events.filter((e) => e.id.startsWith("1:"));
    expect(odd.map((e) => [e.providerAction, e.action])).toEqual([
      ["constructor", "other"],
      ["toString", "other"],
    ]);
    // Several events in one activity get distinct ids.
    expect(new Set(odd.map((e) => e.id)).size).toBe(2);
  });

  it("resumes: a second read from the first one's coveredUntil yields only what happened since", async () => {
    const t = s.google.tenant;
    const since = new Date().toISOString();
    t.addUser({ givenName: "First", familyName: "Batch" });
    const first = (await read([request("admin", since)])).feeds.get(`${scope}/admin`)!;
    expect(first.events.map((e) => e.providerAction)).toEqual(["CREATE_USER"]);
    const later = t.addUser({ givenName: "Second", familyName: "Batch" });
    t.removeUser(later.primaryEmail);
    await clockPastThisMillisecond();
    const second = (await read([request("admin", first.coveredUntil!, first.cursors.at(-1) ?? null)])).feeds.get(`${scope}/admin`)!;
    expect(second.events.map((e) => e.action).sort()).toEqual(["account.create", "account.delete"]);
    expect(second.events.every((e) => e.target?.name === later.primaryEmail)).toBe(true);
    // An idle poll is one request.
    const before = s.google.stats.calls.get("activities") ?? 0;
    const idle = (await read([request("admin", second.coveredUntil!)])).feeds.get(`${scope}/admin`)!;
    expect(idle).toMatchObject({ status: "ok", events: [] });
    expect((s.google.stats.calls.get("activities") ?? 0) - before).toBe(1);
  });
});

describe("Google Workspace login feed", () => {
  it("reports failed and suspicious sign-ins with the address they came from", async () => {
    const r = (await read([request("login", ago(86_400_000))])).feeds.get(`${scope}/login`)!;
    expect(r.status).toBe("ok");
    const failures = r.events.filter((e) => e.action === "signin.failure");
    expect(failures).toHaveLength(5);
    expect(failures.every((e) => e.ip === ATTACKER_IP && e.outcome === "failure" && e.target?.name === `grace.hopper@${s.google.tenant.domain}`)).toBe(true);
    expect(failures.filter((e) => e.details?.suspicious === true).map((e) => e.providerAction)).toEqual(["suspicious_login"]);
    expect(r.events.filter((e) => e.action === "signin.success").map((e) => e.actor.name)).toEqual([`admin@${s.google.tenant.domain}`]);
  });

  it("a request for another scope or an unknown feed fails on its own", async () => {
    const { feeds } = await read([request("login", ago(60_000)), { scope: "C0other", feed: "admin", since: ago(1000), cursor: null }, request("drive", ago(1000))]);
    expect(feeds.get("C0other/admin")!.status).toBe("failed");
    expect(feeds.get(`${scope}/drive`)).toMatchObject({ status: "failed", error: expect.stringContaining("admin, login, token") });
    expect(feeds.get(`${scope}/login`)!.status).toBe("ok");
  });
});

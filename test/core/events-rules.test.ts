// The event rules over synthetic events and inventory: each fires on its case and stays quiet on the near miss.
import { describe, expect, it } from "vitest";
import { POLICY_DEFAULTS, policySchema, type Policy } from "../../src/config/schema.js";
import { eventRules, inChangeWindow, indexWants, InventoryIndex, isPrivilegedEvent, type EventFinding, type Offboarded } from "../../src/events/rules.js";
import type { StoredEvent } from "../../src/store/events.js";
import type { PrincipalView } from "../../src/store/reader.js";

function principal(id: string, over: Partial<PrincipalView> = {}): PrincipalView {
  return {
    source: "erp",
    sourceType: "file",
    scope: "erp",
    id,
    kind: "human",
    name: id,
    email: `${id}@example.com`,
    displayName: null,
    status: "active",
    mfa: "enabled",
    createdAt: null,
    accessLevel: "read",
    lastActive: { at: null, known: false },
    grants: [],
    credentials: [],
    attributes: null,
    ...over,
  };
}

let n = 0;
function event(over: Partial<StoredEvent> & { action: StoredEvent["action"] }): StoredEvent {
  return {
    source: "erp",
    sourceType: "file",
    scope: "erp",
    feed: "export",
    id: `e${++n}`,
    at: "2026-11-25T14:02:00.000Z", // a Wednesday
    providerAction: over.action,
    outcome: "success",
    actor: { id: "ann", name: "ann", kind: "person" },
    target: { principalId: "bob", name: "bob", privilege: null, credentialId: null },
    ip: "203.0.113.7",
    userAgent: null,
    details: null,
    ...over,
  };
}

const INVENTORY = [
  principal("ann", { accessLevel: "admin", grants: [{ privilege: "erp-admin", level: "admin", scope: "erp", via: "direct", attributes: null, since: null }] }),
  principal("bob"),
  principal("root-ops", { accessLevel: "admin" }),
  principal("vendor-x", { kind: "external" }),
  principal("leaver", { status: "disabled" }),
];

function run(events: StoredEvent[], policy: Partial<Policy> = {}, offboarded = new Map<string, Offboarded>()): EventFinding[] {
  const out: EventFinding[] = [];
  const p = policySchema.parse({ ...POLICY_DEFAULTS, ...policy });
  eventRules(events, { policyOf: () => p, aliases: {}, inventory: new InventoryIndex(INVENTORY, {}), offboarded }, (f) => out.push(f));
  // The index kept to what these events and leavers name judges every case alike.
  const narrow: EventFinding[] = [];
  eventRules(events, { policyOf: () => p, aliases: {}, inventory: new InventoryIndex(INVENTORY, {}, indexWants(events, {}, offboarded.keys())), offboarded }, (f) => narrow.push(f));
  expect(narrow).toEqual(out);
  return out;
}

describe("event rules", () => {
  it("signin-failure-burst: the threshold within the window on one account, high on a privileged account; spread-out failures are not a burst", () => {
    const at = (min: number) => new Date(Date.parse("2026-11-25T10:00:00Z") + min * 60_000).toISOString();
    const burst = [0, 1, 2, 3, 4].map((m) => event({ action: "signin.failure", outcome: "failure", at: at(m), target: { principalId: "root-ops", name: "root-ops", privilege: null, credentialId: null } }));
    const spread = [0, 20, 40, 60, 80].map((m) => event({ action: "signin.failure", outcome: "failure", at: at(m) }));
    const found = run([...burst, ...spread], { signin_failure_burst: 5, signin_failure_window_minutes: 10 });
    expect(found.filter((f) => f.rule === "signin-failure-burst")).toEqual([
      expect.objectContaining({ subject: "erp/erp/root-ops", severity: "high", detail: expect.stringMatching(/^5 failed sign-ins within 10 min .*holds admin access; from 203\.0\.113\.7/) }),
    ]);
  });

  it("self-escalation: an actor granting a privilege to their own account; granting it to someone else is not", () => {
    const self = event({ action: "grant.add", actor: { id: "bob", name: "bob", kind: "person" }, target: { principalId: "bob", name: "bob", privilege: "erp-admin", credentialId: null } });
    const other = event({ action: "grant.add", target: { principalId: "bob", name: "bob", privilege: "viewer", credentialId: null } });
    const found = run([self, other]).filter((f) => f.rule === "self-escalation");
    expect(found).toEqual([expect.objectContaining({ severity: "critical", detail: expect.stringContaining("bob granted erp-admin to themselves") })]);
  });

  it("privileged-change-by-outsider: an actor not in the inventory, or an external one, making a privileged change; a known admin is not", () => {
    const grant = { principalId: "bob", name: "bob", privilege: "erp-admin", credentialId: null };
    const stranger = event({ action: "grant.add", actor: { id: null, name: "mallory@evil.example", kind: "person" }, target: grant });
    const vendor = event({ action: "mfa.disable", actor: { id: "vendor-x", name: "vendor-x", kind: "person" } });
    const insider = event({ action: "grant.add", target: grant });
    const harmless = event({ action: "account.update", actor: { id: null, name: "mallory@evil.example", kind: "person" } });
    const found = run([stranger, vendor, insider, harmless]).filter((f) => f.rule === "privileged-change-by-outsider");
    expect(found.map((f) => f.detail)).toEqual([
      expect.stringMatching(/grant\.add erp-admin on bob .* by mallory@evil\.example, who is not in the inventory/),
      expect.stringMatching(/mfa\.disable on bob .* by vendor-x, who is an external collaborator/),
    ]);
  });

  it("privileged-change-outside-window: only with change windows configured, read in their time zone", () => {
    const grant = event({ action: "grant.add", at: "2026-11-28T03:00:00.000Z", target: { principalId: "bob", name: "bob", privilege: "erp-admin", credentialId: null } }); // Saturday
    expect(run([grant]).filter((f) => f.rule === "privileged-change-outside-window")).toEqual([]);
    expect(run([grant], { change_windows: ["Mon-Fri 08:00-18:00"] }).filter((f) => f.rule === "privileged-change-outside-window")).toHaveLength(1);
    expect(inChangeWindow("2026-11-25T14:02:00.000Z", ["Mon-Fri 08:00-18:00"], "UTC")).toBe(true);
    expect(inChangeWindow("2026-11-25T07:30:00.000Z", ["Mon-Fri 08:00-18:00"], "Europe/Berlin")).toBe(true);
    expect(inChangeWindow("2026-11-25T07:30:00.000Z", ["Mon-Fri 08:00-18:00"], "UTC")).toBe(false);
  });

  it("activity-after-offboarding: a sign-in or an action by a person after the identity provider disabled them; before it is not", () => {
    const off = new Map([["leaver@example.com", { person: "leaver@example.com", at: "2026-11-25T12:00:00.000Z", why: "disabled in hr/hr (leaver)" }]]);
    const before = event({ action: "signin.success", at: "2026-11-25T11:00:00.000Z", target: { principalId: "leaver", name: "leaver", privilege: null, credentialId: null } });
    const after = event({ action: "signin.success", at: "2026-11-25T13:00:00.000Z", target: { principalId: "leaver", name: "leaver", privilege: null, credentialId: null } });
    const acted = event({ action: "credential.create", at: "2026-11-25T13:30:00.000Z", actor: { id: "leaver", name: "leaver@example.com", kind: "person" }, target: { principalId: "root-ops", name: "root-ops", privilege: null, credentialId: "k1" } });
    const found = run([before, after, acted], {}, off).filter((f) => f.rule === "activity-after-offboarding");
    expect(found.map((f) => [f.severity, f.detail])).toEqual([
      [undefined, expect.stringMatching(/leaver@example\.com is disabled in hr\/hr \(leaver\) \(since 2026-11-25 12:00 UTC\) but signed in at 2026-11-25 13:00/)],
      ["critical", expect.stringMatching(/but did credential\.create on root-ops/)],
    ]);
  });

  it("privileged events: admin grants, account creation, MFA off, keys for privileged accounts; failures never", () => {
    const inv = new InventoryIndex(INVENTORY, {});
    expect(isPrivilegedEvent(event({ action: "grant.add", target: { principalId: "bob", name: "bob", privilege: "erp-admin", credentialId: null } }), inv)).toBe(true);
    expect(isPrivilegedEvent(event({ action: "grant.add", target: { principalId: "bob", name: "bob", privilege: "viewer", credentialId: null } }), inv)).toBe(false);
    expect(isPrivilegedEvent(event({ action: "credential.create", target: { principalId: "root-ops", name: "root-ops", privilege: null, credentialId: "k" } }), inv)).toBe(true);
    expect(isPrivilegedEvent(event({ action: "credential.create" }), inv)).toBe(false);
    expect(isPrivilegedEvent(event({ action: "account.create" }), inv)).toBe(true);
    expect(isPrivilegedEvent(event({ action: "mfa.disable", outcome: "failure" }), inv)).toBe(false);
  });

  it("the index holds only the accounts the events and leavers name, and answers for them as the whole inventory does", () => {
    const many = Array.from({ length: 5000 }, (_, i) => principal(`user${i}`));
    const inventory = [
      ...many,
      principal("Carol", { email: "Carol.Ops@Example.com", accessLevel: "admin" }),
      // Another source's account of the same person: reached by person only.
      principal("c-ops", { source: "hr", scope: "hr", email: "carol.ops@example.com", kind: "external" }),
      principal("gone", { source: "hr", scope: "hr", email: "gone@example.com", status: "disabled" }),
    ];
    const events = [
      event({ action: "grant.add", actor: { id: null, name: " carol.ops@example.com ", kind: "person" }, target: { principalId: "user7", name: "user7", privilege: "erp-admin", credentialId: null } }),
      event({ action: "signin.failure", outcome: "failure", actor: { id: null, name: null, kind: "unknown" }, target: { principalId: null, name: "USER42", privilege: null, credentialId: null } }),
      event({ action: "account.update", source: "crm", actor: { id: "user9", name: "user9", kind: "person" } }),
    ];
    const whole = new InventoryIndex(inventory, {});
    const narrow = new InventoryIndex(inventory, {}, indexWants(events, {}, ["gone@example.com"]));
    expect(whole.size).toBe(5003);
    // Carol by email, user7 by id, user42 by name, c-ops and gone by person; user9 is named in another source.
    expect(narrow.size).toBe(5);
    for (const e of events) {
      for (const [id, name] of [[e.actor.id, e.actor.name], [e.target.principalId, e.target.name]] as const) {
        expect(narrow.account(e.source, id, name)).toEqual(whole.account(e.source, id, name));
        const person = narrow.personOf(e.source, id, name, {});
        expect(person).toBe(whole.personOf(e.source, id, name, {}));
        if (person) expect(narrow.byPerson.get(person)).toEqual(whole.byPerson.get(person));
      }
    }
    expect(narrow.byPerson.get("carol.ops@example.com")?.map((k) => k.id)).toEqual(["Carol", "c-ops"]);
    expect(narrow.byPerson.get("gone@example.com")).toEqual(whole.byPerson.get("gone@example.com"));
  });
});

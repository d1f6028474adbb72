// A SCIM service without /Groups for this token (RFC 7644 lets it leave Groups out): membership comes from
// the users' own `groups` attribute, and when that is missing too, it is unknown rather than gone.
import { afterEach, describe, expect, it } from "vitest";
import { listRequest, scimErrorBody, type ScimSimulator } from "../../../connectors/scim/simulator.js";
import { drain, testContext } from "../../helpers/collect.js";
import { connectorFor, envFor, startSim } from "./setup.js";

let sim: ScimSimulator | undefined;
afterEach(async () => {
  await sim?.close();
});

const refuseGroups = (s: ScimSimulator, status: number) =>
  s.sim.injectFault({ fault: { kind: "status", status, headers: { "content-type": "application/scim+json" }, body: scimErrorBody(status, "Groups are not supported") }, match: listRequest("/scim/v2", "Groups") });

describe("scim groups", () => {
  it("takes membership from the users' groups attribute when /Groups is refused", async () => {
    sim = await startSim({ users: 30 });
    const full = (await drain(connectorFor(sim), testContext("t", envFor(sim)))).scopes.values().next().value!;
    refuseGroups(sim, 501);
    const { scopes, events } = await drain(connectorFor(sim), testContext("t", envFor(sim)));
    const scope = scopes.values().next().value!;
    expect(scope.status).toBe("ok");
    expect(scope.meta?.groups_status).toMatch(/^unavailable: GET \/Groups\?startIndex=1&count=100 → 501 Not Implemented: SCIM error: "Groups are not supported"$/);
    expect(scope.meta?.groups).toBeNull();
    const key = (g: { principalId: string; privilege: string; via: string; level: string }) => `${g.principalId}/${g.privilege}/${g.via}/${g.level}`;
    expect(scope.grants.map(key).sort()).toEqual(full.grants.map(key).sort());
    expect(events.find((e) => e.type === "scope-end")).not.toHaveProperty("preserve");
  });

  it("keeps stored group grants when neither /Groups nor a groups attribute says anything", async () => {
    sim = await startSim({ users: 30 });
    sim.tenant.userGroupsAttribute = false;
    refuseGroups(sim, 403);
    const { scopes, events } = await drain(connectorFor(sim), testContext("t", envFor(sim)));
    const scope = scopes.values().next().value!;
    expect(scope.status).toBe("ok");
    expect(scope.grants.filter((g) => g.privilege.startsWith("group:"))).toEqual([]);
    const end = events.find((e) => e.type === "scope-end");
    expect(end && "preserve" in end ? end.preserve : undefined).toEqual([{ table: "grants", privilegePrefix: "group:", reason: expect.stringMatching(/^group membership unknown: unavailable: GET \/Groups.* → 403 Forbidden/) }]);
  });

  it("fails the scope when /Groups breaks after its first page", async () => {
    sim = await startSim({ users: 10, groups: 150 }, { maxPageSize: 50 });
    refuseGroups(sim, 403);
    sim.sim.clearFaults();
    sim.sim.injectFault({ fault: { kind: "status", status: 403 }, match: listRequest("/scim/v2", "Groups", 51) });
    const scope = (await drain(connectorFor(sim), testContext("t", envFor(sim)))).scopes.values().next().value!;
    expect(scope.status).toBe("failed");
    expect(scope.error).toMatch(/GET \/Groups\?startIndex=51&count=50 → 403 Forbidden/);
  });
});

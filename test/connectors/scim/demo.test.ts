// `whohas demo` for SCIM: the definition's demo() drives the registered connector twice, with a user
// deactivated and another added to the admin group in between; grace.hopper stays active (orphaned access).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scimDescriptor } from "../../../connectors/scim/descriptor.js";
import { scimConnector } from "../../../connectors/scim/index.js";
import { maxAccessLevel } from "../../../src/model.js";
import { drain, testContext, type ScopeResult } from "../../helpers/collect.js";

describe("scim demo", () => {
  it("collects, deactivates one user and promotes another, collects again", async () => {
    const dir = await mkdtemp(join(tmpdir(), "whohas-scim-demo-"));
    const demo = await scimConnector.demo!(dir);
    try {
      const opts = scimDescriptor.options.parse(demo.options);
      expect(String(demo.options.token)).toMatch(/^env:/);
      const run = async () => [...(await drain(scimConnector.create("demo-scim", opts), testContext("demo-scim", demo.env ?? {}))).scopes.values()][0]!;
      const level = (s: ScopeResult, id: string) => maxAccessLevel([s.principals.find((p) => p.id === id)!.accessLevel ?? "none", ...s.grants.filter((g) => g.principalId === id).map((g) => g.level)]);
      const before = await run();
      expect(before.status).toBe("ok");
      await demo.mutate();
      const after = await run();
      expect(after.status).toBe("ok");

      const byId = (s: ScopeResult) => new Map(s.principals.map((p) => [p.id, p]));
      const deactivated = [...byId(after).values()].filter((p) => p.status === "disabled" && byId(before).get(p.id)!.status === "active");
      expect(deactivated).toHaveLength(1);
      const promoted = after.principals.filter((p) => level(after, p.id) === "admin" && level(before, p.id) !== "admin");
      expect(promoted).toHaveLength(1);
      expect(after.grants.filter((g) => g.principalId === promoted[0]!.id).map((g) => g.privilege)).toContain("group:Admins");

      for (const s of [before, after]) {
        expect(s.principals.find((p) => p.name === "grace.hopper@example.com")).toMatchObject({ email: "grace.hopper@example.com", status: "active", kind: "human" });
      }
    } finally {
      await demo.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// `whohas demo` for GitHub: the definition's demo() drives the registered connector twice, with the
// tenant changed in between the way the demo story needs.
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { githubConnector } from "../../../connectors/github/index.js";
import { drain, testContext } from "../../helpers/collect.js";
import { githubOptions } from "../../../connectors/github/options.js";

describe("github demo", () => {
  it("collects, mutates (new owner, removed member, new and rotated credentials, suspended app), collects again", async () => {
    const dir = await mkdtemp(join(tmpdir(), "whohas-demo-"));
    const demo = await githubConnector.demo!(dir);
    try {
      const opts = githubOptions.parse(demo.options);
      const keyFile = String(demo.options.private_key).replace(/^file:/, "");
      expect(keyFile.startsWith(dir)).toBe(true);
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);

      const run = async () => (await drain(githubConnector.create("demo-gh", opts), testContext("demo-gh", demo.env ?? {}))).scopes.get("acme")!;
      const before = await run();
      expect(before.status).toBe("ok");
      expect(before.principals.length).toBeGreaterThanOrEqual(20);
      expect(before.principals.length).toBeLessThanOrEqual(80);
      await demo.mutate();
      const after = await run();
      expect(after.status).toBe("ok");

      const ids = (s: typeof before) => new Set(s.principals.map((p) => p.id));
      const added = [...ids(after)].filter((id) => !ids(before).has(id));
      const removed = [...ids(before)].filter((id) => !ids(after).has(id));
      expect(added).toHaveLength(1);
      expect(removed).toHaveLength(1);
      const newcomer = after.principals.find((p) => p.id === added[0])!;
      expect(newcomer).toMatchObject({ name: "mallory.ops", mfa: "disabled" });
      expect(after.grants.find((g) => g.principalId === newcomer.id && g.privilege === "org:owner")?.level).toBe("admin");

      const credIds = (s: typeof before) => new Set(s.credentials.map((c) => c.id));
      const newCreds = after.credentials.filter((c) => !credIds(before).has(c.id));
      expect(newCreds.map((c) => c.kind).sort()).toEqual(["deploy_key", "pat"]);
      expect(newCreds.find((c) => c.kind === "pat")).toMatchObject({ name: "prod-hotfix", lastUsed: { at: null, known: true } });
      expect(before.credentials.filter((c) => c.kind === "deploy_key" && !credIds(after).has(c.id))).toHaveLength(1);

      const ci = (s: typeof before) => s.principals.find((p) => p.name === "ci-deployer")!;
      expect([ci(before).status, ci(after).status]).toEqual(["active", "suspended"]);

      for (const s of [before, after]) {
        const grace = s.principals.find((p) => p.name === "grace.hopper")!;
        expect(grace).toMatchObject({ email: "grace.hopper@example.com", status: "active", kind: "human" });
      }
    } finally {
      await demo.close();
    }
  });
});

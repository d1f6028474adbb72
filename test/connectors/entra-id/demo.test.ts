// The demo's two collects must show what the demo promises: a new admin, a removed account, a rotated
// secret, and Grace Hopper disabled (the cross-source leaver).
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { LEAVER_EMAIL } from "../../../connectors/entra-id/demo.js";
import { entraIdConnector } from "../../../connectors/entra-id/index.js";
import { grantId } from "../../../src/model.js";
import { drain, testContext, type ScopeResult } from "../../helpers/collect.js";
import { entraOptions } from "../../../connectors/entra-id/options.js";

it("demo: two collects differ by a new Global Administrator, a deleted user, a rotated secret and a disabled leaver", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whohas-entra-demo-"));
  const demo = await entraIdConnector.demo!(dir);
  try {
    const options = entraOptions.parse(demo.options);
    for (const key of ["client_secret", "ca_file"] as const) {
      const path = String(options[key]).replace(/^file:/, "");
      expect(((await stat(path)).mode & 0o777).toString(8)).toBe("600");
    }
    const run = async (): Promise<ScopeResult> => {
      const { scopes } = await drain(entraIdConnector.create("entra-demo", options), testContext("entra-demo", demo.env ?? {}));
      const s = [...scopes.values()][0]!;
      expect(s.status).toBe("ok");
      return s;
    };
    const before = await run();
    await demo.mutate();
    const after = await run();

    const users = before.principals.filter((p) => p.attributes?.objectType === "user");
    expect(users.length).toBeGreaterThanOrEqual(20);
    expect(users.length).toBeLessThanOrEqual(60);
    const grace = (s: ScopeResult) => s.principals.find((p) => p.email === LEAVER_EMAIL)!;
    expect(grace(before).status).toBe("active");
    expect(grace(after).status).toBe("disabled");
    expect(grace(after).id).toBe(grace(before).id);

    const ids = (s: ScopeResult) => new Set(s.principals.map((p) => p.id));
    expect([...ids(before)].filter((id) => !ids(after).has(id))).toHaveLength(1);

    const admins = (s: ScopeResult) => new Set(s.grants.filter((g) => g.privilege === "Global Administrator" && g.via === "direct").map(grantId));
    const newAdmins = [...admins(after)].filter((g) => !admins(before).has(g));
    expect(newAdmins).toHaveLength(1);

    const creds = (s: ScopeResult) => new Set(s.credentials.map((c) => c.id));
    expect([...creds(after)].filter((c) => !creds(before).has(c))).toHaveLength(1);
    expect([...creds(before)].filter((c) => !creds(after).has(c))).toHaveLength(1);
  } finally {
    await demo.close();
    await rm(dir, { recursive: true, force: true });
  }
});

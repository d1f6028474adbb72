// A listing refused in one run (here: fine-grained PATs, which only a GitHub App may list) must not make the
// PATs collected by the run before look revoked: the store keeps them and the diff reports nothing removed.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../../connectors/index.js";
import type { GithubSimulator } from "../../../connectors/github/simulator.js";
import { findOrg } from "../../../connectors/github/tenant.js";
import { collect } from "../../../src/collect.js";
import { parseConfig } from "../../../src/config/load.js";
import { diffRuns } from "../../../src/diff/differ.js";
import { openStore } from "../../../src/store/db.js";
import { scopeRuns } from "../../../src/store/reader.js";
import { testContext } from "../../helpers/collect.js";
import { APP_ID, appKeys, startSim, type AppKeys } from "./setup.js";

const SPEC = { seed: 21, orgs: [{ login: "acme", members: 60, owners: 3, outsideCollaborators: 4, repos: 6, teams: 2, invitations: 1, patGrants: 5 }] };

let keys: AppKeys;
let gh: GithubSimulator;
beforeAll(async () => {
  keys = await appKeys();
  gh = await startSim(SPEC, keys);
});
afterAll(async () => {
  await gh?.close();
});

describe("records a refused listing cannot see are preserved", () => {
  it("PATs listed by the App stay when the next run uses a token that may not list them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "whohas-preserve-"));
    const owner = gh.tenant.users.get([...findOrg(gh.tenant, "acme").members].find(([, r]) => r === "admin")![0])!.login;
    const token = gh.issuePat(owner, { scopes: ["read:org", "repo"] });
    const source = (auth: string) => parseConfig(`[store]\npath = "${join(dir, "w.db")}"\n[[sources]]\nid = "gh"\ntype = "github"\norgs = ["acme"]\nbase_url = "${gh.baseUrl}"\n${auth}\n`, join(dir, "w.toml"), CONNECTORS);
    const { log } = testContext();
    const env = { ...process.env, GH_TOKEN: token };

    const first = await collect(source(`app_id = ${APP_ID}\nprivate_key = "file:${keys.keyFile}"`), { log, env });
    expect(first.status).toBe("ok");
    const second = await collect(source(`token = "env:GH_TOKEN"`), { log, env });
    expect(second.status).toBe("ok");

    const db = openStore(join(dir, "w.db"), { readonly: true });
    try {
      const meta = scopeRuns(db, second.runId)[0]!.meta!;
      expect(String(meta.pats_status)).toMatch(/^unavailable/);
      expect(meta.preserved).toEqual(expect.arrayContaining([expect.stringMatching(/^credentials id=pat-grant:\*: pats unavailable/)]));
      const pats = db.prepare("SELECT COUNT(*) FROM credentials WHERE id LIKE 'pat-grant:%' AND to_run IS NULL").pluck().get() as number;
      expect(pats).toBe(5);
      const diff = diffRuns(db, first.runId, second.runId);
      expect(diff.credentials.removed.filter((c) => c.id.startsWith("pat-grant:"))).toEqual([]);
      expect(diff.principals.removed).toEqual([]);
    } finally {
      db.close();
    }
  });
});

// A SCIM app is not an identity provider: someone an identity provider (here an HR export) says has left
// but who is still active in the app is orphaned access on the app's account, matched by email.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CONNECTORS } from "../../../connectors/index.js";
import type { ScimSimulator } from "../../../connectors/scim/simulator.js";
import { parseConfig } from "../../../src/config/load.js";
import { evaluate } from "../../../src/rules/evaluate.js";
import { openStore } from "../../../src/store/db.js";
import { timedCollect } from "../../reliability/run.js";
import { startSim, TOKEN_ENV } from "./setup.js";

let dir: string;
let sim: ScimSimulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "whohas-scim-orphan-"));
  sim = await startSim({ seed: 3, users: 20, named: [{ userName: "grace.hopper@example.com", displayName: "Grace Hopper", email: "Grace.Hopper@Example.com", groups: ["Admins"] }] });
});

afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

it("reports an account still active in the SCIM app of someone the HR export disables, and not the other way round", async () => {
  const hr = join(dir, "hr.csv");
  const inactiveInApp = sim.tenant.users.find((u) => !u.active) ?? sim.tenant.users[0]!;
  inactiveInApp.active = false;
  writeFileSync(hr, `username,email,status\ngrace.hopper,grace.hopper@example.com,disabled\nsomeone,${inactiveInApp.email},active\n`, { mode: 0o600 });
  const path = join(dir, "whohas.toml");
  const text =
    `[store]\npath = ${JSON.stringify(join(dir, "whohas.db"))}\n\n` +
    `[[sources]]\nid = "hr"\ntype = "file"\npath = ${JSON.stringify(hr)}\nsystem = "hr"\n\n` +
    `[[sources]]\nid = "app"\ntype = "scim"\nbase_url = ${JSON.stringify(sim.baseUrl)}\ntoken = "env:${TOKEN_ENV}"\nadmin_groups = ["Admins"]\n`;
  writeFileSync(path, text, { mode: 0o600 });
  const config = parseConfig(text, path, CONNECTORS);
  const run = await timedCollect(config, { [TOKEN_ENV]: sim.tenant.token });
  expect(run.result.status).toBe("ok");
  const db = openStore(config.store.path, { readonly: true });
  try {
    const orphaned = evaluate(db, config, run.result.runId).findings.filter((f) => f.rule === "orphaned-access");
    expect(orphaned.map((f) => [f.source, f.subject.split("/").pop(), f.severity])).toEqual([["app", "grace.hopper@example.com", "critical"]]);
    expect(orphaned[0]!.detail).toMatch(/disabled in hr\/hr \(grace\.hopper\).*admin access/);
  } finally {
    db.close();
  }
});

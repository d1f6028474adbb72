// A file source (no API): the plan becomes a task list for the system's owner; the next import shows it done.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { collect } from "../../src/collect.js";
import { parseConfig } from "../../src/config/load.js";
import { applyPlan } from "../../src/remediate/apply.js";
import { computePlan } from "../../src/remediate/plan.js";
import { actionsOfPlan } from "../../src/store/actions.js";
import { openStore } from "../../src/store/db.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
const HEADER = "username,email,display_name,status,mfa,role,access_level,created_at,last_active";

describe("file source remediation", () => {
  it("writes a task list (CSV + Markdown, 0600); the next import without the account records it done", async () => {
    const dir = mkdtempSync(join(tmpdir(), "whohas-file-remediate-"));
    try {
      const exportPath = join(dir, "erp.csv");
      writeFileSync(exportPath, `${HEADER}\nalice,alice@example.com,Alice,active,enabled,user,read,${day(400)},${day(2)}\n=evil,bob@example.com,Bob,active,enabled,user,read,${day(400)},${day(200)}\n`);
      const config = parseConfig(
        `[store]\npath = "${dir}/w.db"\n[remediation]\ndir = "${dir}/plans"\n[[sources]]\nid = "erp"\ntype = "file"\npath = "${exportPath}"\n[sources.remediate]\ntasks_dir = "${dir}/tasks"\n[[remediate]]\nrule = "dormant-account"\naction = "task"\n`,
        join(dir, "whohas.toml"),
        CONNECTORS,
      );
      await collect(config, { log: quiet });
      const db = () => openStore(config.store.path);
      let h = db();
      const plan = computePlan(h, config);
      h.close();
      expect(plan.actions.map((a) => a.target.principal.name)).toEqual(["=evil"]);
      const out = await applyPlan(config, plan, { approver: "alice", log: quiet });
      expect(out.outcomes[0]).toMatchObject({ status: "applied" });
      const csv = readFileSync(join(dir, "tasks", "erp-tasks.csv"), "utf8");
      expect(csv).toContain("'=evil");
      expect(readFileSync(join(dir, "tasks", "erp-tasks.md"), "utf8")).toMatch(/- \[ \] disable account =evil in erp/);
      expect(statSync(join(dir, "tasks", "erp-tasks.csv")).mode & 0o777).toBe(0o600);

      writeFileSync(exportPath, `${HEADER}\nalice,alice@example.com,Alice,active,enabled,user,read,${day(400)},${day(2)}\n=evil,bob@example.com,Bob,disabled,enabled,user,read,${day(400)},${day(200)}\n`);
      await collect(config, { log: quiet });
      h = db();
      computePlan(h, config);
      expect(actionsOfPlan(h, plan.id)[0]).toMatchObject({ status: "done", answer: expect.stringMatching(/no longer shows the finding/) });
      h.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

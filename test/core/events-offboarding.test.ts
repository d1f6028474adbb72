// Activity after offboarding through the store: the report's event pass judges the window's events against
// an index kept to what they name plus the leavers, and a leaver's offboarding time comes from an account the
// window's events never name.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { collect } from "../../src/collect.js";
import { loadConfig } from "../../src/config/load.js";
import { diffRuns } from "../../src/diff/differ.js";
import { evaluate } from "../../src/rules/evaluate.js";
import { openStore } from "../../src/store/db.js";
import { comparableRuns } from "../../src/store/reader.js";

const log = { debug() {}, info() {}, warn() {}, error() {} };
const EVENTS = "id,time,actor,action,target,privilege,outcome,ip";
const PEOPLE = "username,email,status,role,access_level";

describe("activity after offboarding, evaluated from the store", () => {
  it("a person disabled in the identity provider (before the window) who acts in another source is reported, with the provider's time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "whohas-offboarding-"));
    const file = (name: string, text: string) => writeFileSync(join(dir, name), `${text}\n`);
    const disabledAt = new Date(Date.now() - 86_400_000).toISOString();
    const filler = Array.from({ length: 50 }, (_, i) => `user${i},user${i}@example.com,active,staff,read`);
    file("hr.csv", [PEOPLE, "c.jones,carol@example.com,active,staff,read", ...filler].join("\n"));
    // The provider's own record of the disable: before the first run, so outside the rules' window.
    file("hr-events.csv", [EVENTS, `d1,${disabledAt},it-admin,account.disable,c.jones,,success,`].join("\n"));
    file("erp.csv", [PEOPLE, "carol,carol@example.com,active,erp-admin,admin", "bob,bob@example.com,active,viewer,read", ...filler].join("\n"));
    file("erp-events.csv", EVENTS);
    const source = (id: string) =>
      `[[sources]]\nid = "${id}"\ntype = "file"\npath = "${join(dir, `${id}.csv`)}"\nsystem = "${id}"\nevents_path = "${join(dir, `${id}-events.csv`)}"\n[sources.events]\nlookback_days = 30\n`;
    const cfgPath = join(dir, "w.toml");
    writeFileSync(cfgPath, `[store]\npath = "${join(dir, "w.db")}"\n${source("hr")}${source("erp")}[identity]\nproviders = ["hr"]\n`);
    const config = loadConfig(cfgPath, CONNECTORS);
    await collect(config, { log });

    file("hr.csv", [PEOPLE, "c.jones,carol@example.com,disabled,staff,read", ...filler].join("\n"));
    file("erp-events.csv", [EVENTS, `x1,${new Date().toISOString()},carol,grant.add,bob,erp-admin,success,198.51.100.9`].join("\n"));
    await collect(config, { log });

    const db = openStore(config.store.path);
    const [to, from] = comparableRuns(db, 2);
    const found = evaluate(db, config, to!.id, diffRuns(db, from!.id, to!.id)).findings.filter((f) => f.rule === "activity-after-offboarding");
    expect(found).toEqual([
      expect.objectContaining({
        severity: "critical",
        subject: "erp/erp/carol@example.com",
        detail: expect.stringMatching(new RegExp(`^carol@example\\.com is disabled in hr/hr \\(c\\.jones\\) \\(since ${disabledAt.slice(0, 16).replace("T", " ")} UTC\\) but did grant\\.add erp-admin on bob`)),
      }),
    ]);
    db.close();
  });
});

// Attribution: the changes between two collects of a file source joined to the events of its export — who,
// when, from where — in the diff, the report formats and the findings; a change no event explains while the
// feed covered the window is an unattributed-change finding; where the feed was down the report says so.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { collect } from "../../src/collect.js";
import { parseConfig } from "../../src/config/load.js";
import { attributeDiff } from "../../src/events/attribute.js";
import { diffRuns } from "../../src/diff/differ.js";
import { evaluate } from "../../src/rules/evaluate.js";
import { buildReport } from "../../src/build-report.js";
import { renderReport } from "../../src/report/render.js";
import { openStore } from "../../src/store/db.js";

const log = { debug() {}, info() {}, warn() {}, error() {} };
const HEADER = "username,email,role,access_level";
const BEFORE = `${HEADER}\nann,ann@example.com,erp-admin,admin\nlinus,linus@example.com,ap-clerk,write\nken,ken@example.com,viewer,read\n`;
const AFTER = `${HEADER}\nann,ann@example.com,erp-admin,admin\nlinus,linus@example.com,ap-clerk:write;erp-admin:admin,admin\ntemp,temp@example.net,viewer,read\n`;

async function twoRuns(eventsAfter: (at: string) => string) {
  const dir = mkdtempSync(join(tmpdir(), "whohas-attr-"));
  const inventory = join(dir, "erp.csv");
  const events = join(dir, "erp-events.csv");
  writeFileSync(inventory, BEFORE);
  writeFileSync(events, "time,actor,action,target,privilege,ip\n");
  const config = parseConfig(
    `[store]\npath = "${join(dir, "w.db")}"\n[[sources]]\nid = "erp"\ntype = "file"\npath = "${inventory}"\nsystem = "erp"\nevents_path = "${events}"\n[sources.events]\n`,
    join(dir, "w.toml"),
    CONNECTORS,
  );
  const first = await collect(config, { log });
  await new Promise((r) => setTimeout(r, 20));
  writeFileSync(inventory, AFTER);
  writeFileSync(events, eventsAfter(new Date().toISOString()));
  const second = await collect(config, { log });
  return { config, first: first.runId, second: second.runId };
}

describe("change attribution", () => {
  it("joins each change to its event; the one without is an unattributed-change finding; every format shows who did it, escaped", async () => {
    const { config, first, second } = await twoRuns(
      (at) =>
        "time,actor,action,target,privilege,outcome,ip\n" +
        `${at},ann@example.com,grant.add,linus,erp-admin,success,203.0.113.7\n` +
        `${at},"evil\u001b[31m@example.com",account.create,temp,,success,198.51.100.9\n` +
        // A failed attempt explains nothing.
        `${at},mallory@example.com,grant.add,linus,erp-admin,failure,192.0.2.1\n`,
    );
    const db = openStore(config.store.path);
    const diff = attributeDiff(db, config, diffRuns(db, first, second));
    const grant = diff.grants.added.find((g) => g.name === "erp-admin")!;
    expect(grant.attribution).toMatchObject({ status: "attributed", events: [{ actor: { name: "ann@example.com" }, ip: "203.0.113.7" }] });
    expect(grant.attribution?.status === "attributed" && grant.attribution.events.length).toBe(1);
    const added = diff.principals.added.find((p) => p.name === "temp")!;
    expect(added.attribution).toMatchObject({ status: "attributed", events: [{ ip: "198.51.100.9" }] });
    const removed = diff.principals.removed.find((p) => p.name === "ken")!;
    expect(removed.attribution).toMatchObject({ status: "unexplained", feeds: ["export"] });

    const findings = evaluate(db, config, second, diff).findings;
    const unattributed = findings.filter((f) => f.rule === "unattributed-change");
    expect(unattributed.map((f) => f.subject)).toEqual(["erp/erp/ken"]);
    expect(unattributed[0]!.detail).toMatch(/account removed between .* no audit event explains it/);
    expect(findings.find((f) => f.rule === "new-admin")!.detail).toMatch(/by ann@example\.com at \d{4}-\d\d-\d\d \d\d:\d\d UTC from 203\.0\.113\.7/);

    const report = buildReport(db, config, { run: second });
    const text = renderReport(report, "text");
    expect(text).toMatch(/erp-admin \(admin, direct\) — by ann@example\.com at .* UTC from 203\.0\.113\.7/);
    expect(text).toContain("— no audit event explains it");
    expect(text).not.toContain("\u001b[31m");
    expect(renderReport(report, "md")).toMatch(/by ann@example\.com at .* from 203\.0\.113\.7/);
    const html = renderReport(report, "html");
    expect(html).toMatch(/by ann@example\.com at .* from 203\.0\.113\.7/);
    expect(html).not.toContain("\u001b");
    expect(renderReport(report, "csv")).toContain("unattributed-change");
    const json = JSON.parse(renderReport(report, "json"));
    expect(json.diff.principals.added[0].attribution.events[0].actor.name).toBe("evil\u001b[31m@example.com");
    expect(json.feeds).toMatchObject([{ source: "erp", scope: "erp", feed: "export", status: "ok" }]);
    db.close();
  });

  it("where the feed did not cover the window, the report says who did it cannot be told, and no unattributed-change is raised", async () => {
    const { config, first, second } = await twoRuns(() => "time,actor,action\nnot-a-time,ann,grant.add\n");
    const db = openStore(config.store.path);
    const diff = attributeDiff(db, config, diffRuns(db, first, second));
    const removed = diff.principals.removed.find((p) => p.name === "ken")!;
    expect(removed.attribution).toMatchObject({ status: "no-coverage", reason: expect.stringMatching(/feed export failed \(.*line 2: time/) });
    const findings = evaluate(db, config, second, diff).findings;
    expect(findings.filter((f) => f.rule === "unattributed-change")).toEqual([]);
    const text = renderReport(buildReport(db, config, { run: second }), "text");
    expect(text).toContain("who did it cannot be told: feed export failed");
    expect(text).toContain("Audit-event feeds not ok");
    db.close();
  });
});

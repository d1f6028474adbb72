// A hostile name from a provider rather than a file: an Entra application's display name is free text that
// anyone allowed to register an app chooses, and whohas names its service principal by it. Collected with the
// real SDKs against the simulator into the real store, then rendered as a person and Slack would see it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../../connectors/index.js";
import { GLOBAL_ADMINISTRATOR } from "../../../connectors/entra-id/roles.js";
import { collect } from "../../../src/collect.js";
import { loadConfig, type Config } from "../../../src/config/load.js";
import { alertBody } from "../../../src/daemon/alerts.js";
import { writeDiff } from "../../../src/report/diff.js";
import { writeInventory } from "../../../src/report/inventory.js";
import { renderMarkdown, renderReport } from "../../../src/report/render.js";
import { buildReport } from "../../../src/build-report.js";
import { openStore } from "../../../src/store/db.js";
import { getRun, inventoryAt } from "../../../src/store/reader.js";
import { recordingLog } from "../../daemon/helpers.js";
import { startFixture, type Fixture } from "./setup.js";

const HOSTILE = "Backup\u001b]0;pwned\u0007\r\n  forged line\u202e <!channel> [x](https://evil.example)";
const SHOWN = "Backup\\x1b]0;pwned\\x07\\r\\n  forged line\\u202e <!channel> [x](https://evil.example)";
// NUL and markup, and a field far larger than any line a person reads.
const HUGE = `<script>alert(1)</script>\u0000${"A".repeat(3_000_000)}`;
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("an Entra application with a hostile display name", () => {
  let f: Fixture;
  let config: Config;
  const log = recordingLog();

  beforeAll(async () => {
    f = await startFixture({ seed: 7, users: 5, applications: 0 });
    const dir = mkdtempSync(join(tmpdir(), "whohas-entra-hostile-"));
    const o = f.options();
    writeFileSync(
      join(dir, "w.toml"),
      `[store]\npath = "w.db"\n[[sources]]\nid = "aad"\ntype = "entra-id"\ntenant_id = "${o.tenant_id}"\nclient_id = "${o.client_id}"\nclient_secret = "env:WHOHAS_TEST_ENTRA_SECRET"\nauthority_host = "${f.sim.url}"\ngraph_base_url = "${f.sim.url}"\nca_file = "${o.ca_file}"\n`,
      { mode: 0o600 },
    );
    config = loadConfig(join(dir, "w.toml"), CONNECTORS);
    expect((await collect(config, { log, env: { ...process.env, ...f.env } })).status).toBe("ok");
    const { sp } = f.tenant.addApplication(HOSTILE, { withServicePrincipal: true });
    f.tenant.assignRole(sp!.id, GLOBAL_ADMINISTRATOR);
    const huge = f.tenant.addApplication(HUGE, { withServicePrincipal: true });
    f.tenant.assignRole(huge.sp!.id, GLOBAL_ADMINISTRATOR);
    expect((await collect(config, { log, env: { ...process.env, ...f.env } })).status).toBe("ok");
  });
  afterAll(() => f?.close());

  it("diff, inventory, Markdown and Slack show it escaped; JSON keeps it exact", () => {
    const db = openStore(config.store.path, { readonly: true });
    try {
      let diff = "";
      const report = buildReport(db, config, { run: 2 });
      writeDiff({ write: (t) => void (diff += t), close: () => {} }, report.diff!, "text");
      expect(ACTIVE.exec(diff)?.[0]).toBeUndefined();
      expect(diff).toContain(`+ ${SHOWN} (service, active)`);
      expect(diff.split("\n").some((l) => l.trimStart().startsWith("forged line"))).toBe(false);

      let inventory = "";
      writeInventory({ write: (t) => void (inventory += t), close: () => {} }, getRun(db, 2)!, inventoryAt(db, 2), "text");
      expect(ACTIVE.exec(inventory)?.[0]).toBeUndefined();
      expect(inventory).toContain(SHOWN.slice(0, 40));

      const md = renderMarkdown(report);
      expect(md).toContain("Backup\\\\x1b\\]0;pwned\\\\x07\\\\r\\\\n  forged line\\\\u202e \\<\\!channel\\> \\[x\\]\\(https\\://evil.example\\)");

      const findings = report.findings.filter((x) => x.subject.includes("Backup"));
      expect(findings.length).toBeGreaterThan(0);
      const slack = (JSON.parse(alertBody({ format: "slack" }, report, findings)) as { text: string }).text;
      expect(slack.split("\n")).toHaveLength(1 + findings.length);
      expect(slack).toContain("&lt;!channel&gt;");
      expect(ACTIVE.exec(slack)?.[0]).toBeUndefined();

      const json = alertBody({ format: "json" }, report, findings);
      expect((JSON.parse(json) as { findings: { subject: string }[] }).findings[0]!.subject).toContain(HOSTILE);
    } finally {
      db.close();
    }
  });

  it("a 3 MB name with NUL and <script>: every line a person reads stays short, HTML shows the markup as text, JSON keeps all of it", () => {
    const db = openStore(config.store.path, { readonly: true });
    try {
      const stored = [...inventoryAt(db, 2)].find((p) => p.name.startsWith("<script>"));
      expect(stored?.name).toBe(HUGE);
      const report = buildReport(db, config, { run: 2 });
      let inventory = "";
      writeInventory({ write: (t) => void (inventory += t), close: () => {} }, getRun(db, 2)!, inventoryAt(db, 2), "text");
      let diff = "";
      writeDiff({ write: (t) => void (diff += t), close: () => {} }, report.diff!, "text");
      for (const text of [inventory, diff]) {
        expect(text).not.toContain("\u0000");
        expect(text).toContain("<script>alert(1)</script>\\x00AAA");
        expect(Math.max(...text.split("\n").map((l) => l.length))).toBeLessThan(2_000);
      }
      const md = renderMarkdown(report);
      expect(md).not.toContain("\u0000");
      expect(md).not.toContain("<script>");
      expect(md).toContain("\\x00AAA");
      expect(Math.max(...md.split("\n").map((l) => l.length))).toBeLessThan(2_000);
      const html = renderReport(report, "html");
      expect(html).not.toContain("<script>");
      expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(html.length).toBeLessThan(1_000_000);
      const findings = report.findings.filter((x) => x.subject.includes("<script>alert(1)"));
      expect(findings.length).toBeGreaterThan(0);
      const json = JSON.parse(alertBody({ format: "json" }, report, findings)) as { findings: { subject: string }[] };
      expect(json.findings[0]!.subject).toContain(HUGE);
    } finally {
      db.close();
    }
  });
});

// Reports after a remediation: the access review shows what was remediated in its period (and failures), every
// format; the JSON still validates against the published schema.
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { afterEach, describe, expect, it } from "vitest";
import { renderReport } from "../../src/report/render.js";
import { buildReport } from "../../src/build-report.js";
import { PROD, remediationFixture, unusedKey, type RemediationFixture } from "./aws-fixture.js";

let f: RemediationFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

describe("remediation in reports", () => {
  it("lists actions taken and failed since the previous run, in text, Markdown, HTML and schema-valid JSON", async () => {
    f = await remediationFixture();
    unusedKey(f.org, PROD, "old-ci");
    unusedKey(f.org, PROD, "protected-ci");
    f.org.deniedTargets.add(`${PROD}:UpdateAccessKey:protected-ci`);
    await f.collect();
    await f.apply(f.plan());
    await f.collect();
    // The report reads its inventory from the store as it is written: it is rendered while the store is open.
    const { report, text, md, html, json } = f.db((db) => {
      const r = buildReport(db, f!.config, { type: "access-review" });
      return { report: r, text: renderReport(r, "text", false), md: renderReport(r, "md", false), html: renderReport(r, "html", false), json: renderReport(r, "json", false) };
    });
    const rem = report.remediation!;
    expect(rem.taken.some((a) => a.subject.includes("/old-ci/") && a.status === "done" && a.approver === "alice")).toBe(true);
    expect(rem.failed.some((a) => a.subject.includes("/protected-ci/") && /AccessDenied/.test(a.answer ?? ""))).toBe(true);
    expect(text).toMatch(/REMEDIATION: actions taken since .* \(\d+\)/);
    expect(md).toMatch(/## Remediation: actions failed since .* \(1\)/);
    expect(html).toMatch(/<h2>Remediation: actions taken/);
    const schema = JSON.parse(readFileSync(new URL("../../docs/schema/report.schema.json", import.meta.url), "utf8"));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    expect(validate(JSON.parse(json)), JSON.stringify(validate.errors)).toBe(true);
  });
});

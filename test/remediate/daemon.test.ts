// The daemon's remediation step: notices N days ahead (activity in between would cancel), then auto_apply
// entries applied after the notice period; entries without auto_apply are never applied by the daemon.
import { afterEach, describe, expect, it } from "vitest";
import { remediationCycle } from "../../src/daemon/remediation.js";
import { listPending } from "../../src/store/actions.js";
import { SMTP_PASSWORD, SMTP_USER, startSmtp, type SmtpServer } from "../daemon/helpers.js";
import { PROD, remediationFixture, unusedKey, type RemediationFixture } from "./aws-fixture.js";

let f: RemediationFixture | undefined;
let smtp: SmtpServer | undefined;
afterEach(async () => {
  await smtp?.close();
  await f?.close();
  f = smtp = undefined;
});

const DAY = 86_400_000;

describe("remediation in the daemon", () => {
  it("sends the notice first, applies an auto_apply entry only after the notice period", async () => {
    const dir = (await import("node:fs")).mkdtempSync((await import("node:path")).join((await import("node:os")).tmpdir(), "whohas-smtp-"));
    smtp = await startSmtp(dir);
    f = await remediationFixture({
      extraConfig: `[email]\nhost = "127.0.0.1"\nport = ${smtp.port}\nca = "${smtp.caFile}"\nfrom = "whohas@example.com"\nto = ["admins@example.com"]\nretries = 0\nuser = "${SMTP_USER}"\npassword = "env:SMTP_PASSWORD"`,
      entries: `[[remediate]]\nname = "keys"\nrule = "unused-credential"\naction = "deactivate-access-key"\nnotify_before_days = 2\nnotify_owner = "secops@example.com"\nauto_apply = true\nmax_actions_per_run = 100\n`,
    });
    f.env.SMTP_PASSWORD = SMTP_PASSWORD;
    const key = unusedKey(f.org, PROD, "old-ci");
    await f.collect();
    const first = await remediationCycle(f.config, { log: f.log, env: f.env });
    expect(first.notified).toBeGreaterThan(0);
    expect(first.applied).toEqual([]);
    expect(f.writes()).toBe(0);
    expect(smtp.mails.some((m) => m.envelopeTo.includes("secops@example.com") && /deactivate-access-key .*old-ci/.test(m.parsed.text ?? ""))).toBe(true);
    const notices = smtp.mails.length;

    // Still inside the notice period: nothing happens, nobody is told twice.
    const early = await remediationCycle(f.config, { log: f.log, env: f.env, now: () => new Date(Date.now() + DAY) });
    expect(early.applied).toEqual([]);
    expect(smtp.mails.length).toBe(notices);
    expect(f.writes()).toBe(0);

    const due = await remediationCycle(f.config, { log: f.log, env: f.env, now: () => new Date(Date.now() + 3 * DAY) });
    expect(due.applied.length).toBeGreaterThan(0);
    expect(due.applied.every((o) => o.status === "done")).toBe(true);
    expect(f.org.user(PROD, "old-ci").keys.find((k) => k.accessKeyId === key)!.status).toBe("Inactive");
    expect(f.db((db) => listPending(db, "acted").length)).toBe(due.applied.length);
  });

  it("never applies an entry without auto_apply", async () => {
    f = await remediationFixture();
    unusedKey(f.org, PROD, "old-ci");
    await f.collect();
    const r = await remediationCycle(f.config, { log: f.log, env: f.env });
    expect(r.planId).not.toBeNull();
    expect(r.applied).toEqual([]);
    expect(f.writes()).toBe(0);
  });
});

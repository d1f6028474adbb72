// Real-time alerts: the daemon's cycle posts the run's new findings to loopback webhook receivers that check
// the HMAC signature themselves; retries, permanent failures and timeouts are recorded and never fail the run.
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../../src/config/load.js";
import { runCycle } from "../../src/daemon/cycle.js";
import { alertBody } from "../../src/daemon/alerts.js";
import { Fixture, recordingLog, startWebhookReceiver, type WebhookReceiver } from "./helpers.js";

const KEY = "hmac-key-for-the-webhook-0123456789";

const alert = (name: string, url: string, extra = "", keyVar = "WHOHAS_TEST_HOOK_KEY") => `
[[alerts]]
name = "${name}"
url = "${url}"
secret = "env:${keyVar}"
retry_delay_seconds = 0.01
${extra}
`;

describe("webhook alerts", () => {
  const env = { ...process.env, WHOHAS_TEST_HOOK_KEY: KEY, WHOHAS_TEST_SLACK_KEY: KEY };
  const log = recordingLog();
  let json: WebhookReceiver;
  let slack: WebhookReceiver;
  let critical: WebhookReceiver;
  let fx: Fixture;
  const cycle = () => runCycle(loadConfig(fx.config, CONNECTORS), { log, env, signal: new AbortController().signal, email: false });

  beforeAll(async () => {
    [json, slack, critical] = await Promise.all([startWebhookReceiver(KEY), startWebhookReceiver(KEY), startWebhookReceiver(KEY)]);
    fx = new Fixture();
    fx.writeConfig(
      alert("soc-json", json.url) +
        // The URL comes from the environment, the way a Slack webhook URL (a credential) should.
        alert("team-slack", "env:WHOHAS_TEST_SLACK_URL", 'format = "slack"', "WHOHAS_TEST_SLACK_KEY") +
        alert("pager", critical.url, 'min_severity = "critical"'),
    );
    Object.assign(env, { WHOHAS_TEST_SLACK_URL: slack.url });
  });
  afterAll(async () => {
    await Promise.all([json?.close(), slack?.close(), critical?.close()]);
  });

  it("the first run alerts nothing: no finding is new without a previous run", async () => {
    const r = await cycle();
    // Recorded as handled, so the next run's alerts start from here.
    expect(r.deliveries.filter((d) => d.channel === "webhook").map((d) => `${d.target}:${d.status}`).sort()).toEqual(["pager:skipped", "soc-json:skipped", "team-slack:skipped"]);
    expect(json.requests).toHaveLength(0);
  });

  it("posts the new findings of the alerting rules, signed, in both formats", async () => {
    fx.mutate();
    const r = await cycle();
    expect(json.requests).toHaveLength(1);
    const req = json.requests[0]!;
    expect(req.verified).toBe(true);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(Math.abs(Number(req.headers["x-whohas-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    const doc = JSON.parse(req.body);
    expect(doc.schema).toBe("whohas.alert/v1");
    expect(doc.run.id).toBe(r.runId);
    // new-admin (bob, dave), mfa-disabled (ada), orphaned-access (carol); not admin-without-mfa (not an alert
    // rule by default) nor the low/info findings.
    expect(doc.findings.map((f: { rule: string; subject: string }) => `${f.rule} ${f.subject}`).sort()).toEqual([
      "mfa-disabled erp/erp/ada",
      "new-admin erp/erp/bob",
      "new-admin erp/erp/dave",
      "orphaned-access erp/erp/carol",
    ]);

    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]!.verified).toBe(true);
    const text = JSON.parse(slack.requests[0]!.body).text as string;
    expect(text.split("\n")[0]).toMatch(new RegExp(`^whohas: 4 new findings in run ${r.runId} \\(`));
    expect(text).toContain("• *high* orphaned-access: erp/erp/carol");

    // Nothing critical happened: the pager stays quiet.
    expect(critical.requests).toHaveLength(0);
    expect(r.deliveries.filter((d) => d.channel === "webhook").map((d) => `${d.target}:${d.status}:${d.attempts}`).sort()).toEqual(["pager:skipped:0", "soc-json:ok:1", "team-slack:ok:1"]);
    // The Slack URL is a credential: it is in no log line and no delivery row.
    expect(log.text()).not.toContain(slack.url);
    expect(readFileSync(loadConfig(fx.config, CONNECTORS).store.path).includes(slack.url)).toBe(false);
  });

  it("an unchanged next run alerts nothing again (carol is still orphaned, but not news)", async () => {
    const r = await cycle();
    expect(r.report!.findings.some((f) => f.rule === "orphaned-access" && !f.new)).toBe(true);
    expect(json.requests).toHaveLength(1);
    expect(slack.requests).toHaveLength(1);
  });

  it("retries 5xx, gives up at once on a refused signature, and the run is ok either way", async () => {
    json.respond.push(503, 502);
    writeFileSyncAdmin(fx, "frank");
    // whohas now signs Slack alerts with a key the receiver does not know: its check fails, it answers 401.
    Object.assign(env, { WHOHAS_TEST_SLACK_KEY: "a-different-key-the-receiver-does-not-know" });
    const r = await cycle();
    Object.assign(env, { WHOHAS_TEST_SLACK_KEY: KEY });
    expect(r.status).toBe("ok");
    const byName = Object.fromEntries(r.deliveries.filter((d) => d.channel === "webhook").map((d) => [d.target, d]));
    expect(byName["soc-json"]).toMatchObject({ status: "ok", attempts: 3 });
    expect(json.requests.slice(1).map((q) => q.verified)).toEqual([true, true, true]);
    expect(byName["team-slack"]).toMatchObject({ status: "failed", attempts: 1, error: "HTTP 401" });
    expect(slack.requests.at(-1)!.verified).toBe(false);
    expect(log.lines.filter((l) => l.msg === "alert failed; retrying" && l.alert === "soc-json")).toHaveLength(2);
  });

  it("a receiver that never answers costs the timeout per attempt, not the run", async () => {
    const hung = await startWebhookReceiver(KEY);
    hung.hang = true;
    try {
      // 1 s, not less: on a loaded machine a shorter timeout can fire before the request has even arrived.
      fx.writeConfig(alert("hung", hung.url, "timeout_seconds = 1\nretries = 1"));
      writeFileSyncAdmin(fx, "grace");
      const r = await cycle();
      expect(r.status).toBe("ok");
      expect(r.deliveries.find((d) => d.target === "hung")).toMatchObject({ status: "failed", attempts: 2, error: "timed out" });
      // Two attempts and no more: the run went on without waiting for an answer that never came.
      expect(hung.requests).toHaveLength(2);
    } finally {
      await hung.close();
    }
  });

  it("Slack text escapes &, < and > and lists at most 20 findings", () => {
    const finding = (i: number) => ({ rule: "new-admin", severity: "high", subject: `erp/erp/u${i}<x>`, detail: "a & b" });
    const report = { run: { id: 9 }, findings: [], counts: {}, tally: { top: null, rules: [] } } as unknown as Parameters<typeof alertBody>[1];
    const body = JSON.parse(alertBody({ format: "slack" }, report, Array.from({ length: 23 }, (_, i) => finding(i)) as never)).text as string;
    const lines = body.split("\n");
    expect(lines).toHaveLength(22);
    expect(lines[1]).toBe("• *high* new-admin: erp/erp/u0&lt;x&gt;: a &amp; b");
    expect(lines[21]).toBe("…and 3 more (see the report of run 9)");
  });
});

/** Appends a new ERP admin: a new-admin finding for the next run. */
function writeFileSyncAdmin(fx: Fixture, name: string): void {
  const today = new Date().toISOString().slice(0, 10);
  writeFileSync(fx.erp, `${readFileSync(fx.erp, "utf8")}${name},${name}@example.com,active,enabled,admin,admin,${today},,,\n`);
}


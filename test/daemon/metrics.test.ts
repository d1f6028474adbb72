// The Prometheus endpoint of a running daemon, scraped over loopback after real collects.
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Daemon } from "../../src/daemon/daemon.js";
import type { Job, Scheduler } from "../../src/daemon/scheduler.js";
import { Fixture, recordingLog } from "./helpers.js";

const noScheduler: Scheduler = { schedule: (): Job => ({ stop() {}, nextRun: () => null }) };

/** The value of one sample of the exposition text; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2] ? m[2].split(",") : [];
    if (want.length === have.length && want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

async function scrape(address: string, path = "/metrics"): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`http://${address}${path}`);
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

describe("metrics endpoint", () => {
  const fx = new Fixture('[schedule]\ncollect = "0 2 * * *"\n[metrics]\nlisten = "127.0.0.1:0"');
  const log = recordingLog();
  let daemon: Daemon;

  beforeAll(async () => {
    daemon = new Daemon({ configPath: fx.config, log, scheduler: noScheduler });
    await daemon.start();
  });
  afterAll(async () => {
    await daemon?.stop("test", 1000);
  });

  it("serves Prometheus text on /metrics only", async () => {
    const address = daemon.metricsAddress!;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(log.lines.find((l) => l.msg === "metrics listening")?.address).toBe(address);
    const r = await scrape(address);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toContain("# HELP whohas_source_last_run_ok");
    expect(r.text).toContain("whohas_process_resident_memory_bytes");
    expect((await scrape(address, "/")).status).toBe(404);
  });

  it("after collects: per-source status, time and entities, findings by severity, requests, duration, deliveries", async () => {
    const started = Date.now() / 1000;
    await daemon.runCollect("test");
    fx.mutate();
    await daemon.runCollect("test");
    const { text } = await scrape(daemon.metricsAddress!);
    expect(sample(text, "whohas_source_last_run_ok", { source: "erp" })).toBe(1);
    expect(sample(text, "whohas_source_last_run_ok", { source: "hr" })).toBe(1);
    expect(sample(text, "whohas_entities", { source: "erp", kind: "principals" })).toBe(4);
    expect(sample(text, "whohas_entities", { source: "erp", kind: "credentials" })).toBe(1);
    expect(sample(text, "whohas_entities", { source: "hr", kind: "principals" })).toBe(4);
    expect(sample(text, "whohas_findings", { severity: "high" })).toBe(6);
    expect(sample(text, "whohas_findings", { severity: "critical" })).toBe(0);
    expect(sample(text, "whohas_findings_new")).toBe(6);
    expect(sample(text, "whohas_requests_total", { source: "erp" })).toBe(2);
    expect(sample(text, "whohas_source_last_run_requests", { source: "hr" })).toBe(1);
    expect(sample(text, "whohas_runs_total", { status: "ok" })).toBe(2);
    expect(sample(text, "whohas_last_run_status", { status: "ok" })).toBe(1);
    expect(sample(text, "whohas_deliveries_total", { channel: "file", status: "ok" })).toBe(2);
    expect(sample(text, "whohas_collect_duration_seconds")).toBeGreaterThan(0);
    const lastRun = sample(text, "whohas_source_last_run_timestamp_seconds", { source: "erp" })!;
    expect(lastRun).toBeGreaterThanOrEqual(Math.floor(started));
    expect(lastRun).toBeLessThanOrEqual(Date.now() / 1000);
  });

  it("a failed source shows as 0 while its last success keeps its time", async () => {
    const before = sample((await scrape(daemon.metricsAddress!)).text, "whohas_source_last_success_timestamp_seconds", { source: "hr" })!;
    writeFileSync(fx.hr, "username,email,status\nbroken,,\"unterminated\n");
    await daemon.runCollect("test");
    const { text } = await scrape(daemon.metricsAddress!);
    expect(sample(text, "whohas_source_last_run_ok", { source: "hr" })).toBe(0);
    expect(sample(text, "whohas_source_last_run_ok", { source: "erp" })).toBe(1);
    expect(sample(text, "whohas_source_last_success_timestamp_seconds", { source: "hr" })).toBe(before);
    expect(sample(text, "whohas_last_run_status", { status: "partial" })).toBe(1);
    expect(sample(text, "whohas_runs_total", { status: "partial" })).toBe(1);
  });

  it("a restarted daemon reports the stored per-source state before its first run", async () => {
    const again = new Daemon({ configPath: fx.config, log: recordingLog(), scheduler: noScheduler });
    await again.start();
    try {
      const { text } = await scrape(again.metricsAddress!);
      expect(sample(text, "whohas_source_last_run_ok", { source: "hr" })).toBe(0);
      expect(sample(text, "whohas_entities", { source: "erp", kind: "principals" })).toBe(4);
      expect(sample(text, "whohas_runs_total", { status: "ok" })).toBeUndefined();
    } finally {
      await again.stop("test", 1000);
    }
  });

  it("a reload that moves the endpoint closes the old one", async () => {
    const old = daemon.metricsAddress!;
    // Another loopback address (all of 127/8 is loopback on Linux; IPv6 may be off in containers).
    fx.writeConfig('[schedule]\ncollect = "0 2 * * *"\n[metrics]\nlisten = "127.0.0.2:0"');
    expect(await daemon.reload()).toBe(true);
    expect(daemon.metricsAddress).toMatch(/^127\.0\.0\.2:\d+$/);
    expect((await scrape(daemon.metricsAddress!)).status).toBe(200);
    await expect(scrape(old)).rejects.toThrow();
  });
});

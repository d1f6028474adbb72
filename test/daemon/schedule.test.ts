// Scheduling without waiting: node-cron itself under vitest's fake clock (Date and timers), and the daemon
// driven through its Scheduler seam. Due runs fire once, at the right instant in the configured zone; a run
// still going when the next is due is not started twice, whoever holds the lock.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Config } from "../../src/config/load.js";
import type { CycleOptions } from "../../src/daemon/cycle.js";
import { Daemon } from "../../src/daemon/daemon.js";
import { cronScheduler, nextRuns, type Job, type Scheduler } from "../../src/daemon/scheduler.js";
import { openStore } from "../../src/store/db.js";
import { acquireLock } from "../../src/store/lock.js";
import { listRuns } from "../../src/store/reader.js";
import { Fixture, recordingLog, SMTP_PASSWORD, SMTP_USER, startSmtp } from "./helpers.js";

afterEach(() => {
  vi.useRealTimers();
});

const MIN = 60_000;

describe("node-cron on a fake clock", () => {
  it("fires a daily job once per day at 02:00 in its time zone, across a DST change", async () => {
    vi.useFakeTimers({ now: new Date("2026-03-27T00:58:00Z") });
    const fired: string[] = [];
    const job = cronScheduler(recordingLog()).schedule("t", "0 2 * * *", "Europe/Berlin", () => fired.push(new Date().toISOString()));
    try {
      // 01:58 CET: not yet.
      await vi.advanceTimersByTimeAsync(MIN);
      expect(fired).toEqual([]);
      await vi.advanceTimersByTimeAsync(MIN);
      expect(fired).toEqual(["2026-03-27T01:00:00.000Z"]);
      await vi.advanceTimersByTimeAsync(23 * 60 * MIN);
      expect(fired).toHaveLength(1);
      // Berlin moves to CEST on 29 March: 02:00 local is then 00:00 UTC.
      await vi.advanceTimersByTimeAsync(3 * 24 * 60 * MIN - 2 * MIN);
      // 29 March has no 02:00 in Berlin (clocks jump from 02:00 to 03:00): node-cron skips that day, which is
      // why config.example.toml and the README warn against local times in that hour.
      expect(fired).toEqual(["2026-03-27T01:00:00.000Z", "2026-03-28T01:00:00.000Z", "2026-03-30T00:00:00.000Z"]);
      expect(job.nextRun()?.toISOString()).toBe("2026-03-31T00:00:00.000Z");
    } finally {
      job.stop();
    }
  });

  it("a heartbeat that comes late (blocked event loop, suspended host) still runs the slot, up to 10 minutes", async () => {
    vi.useFakeTimers({ now: new Date("2026-06-01T01:59:00Z") });
    const log = recordingLog();
    const fired: string[] = [];
    const job = cronScheduler(log).schedule("t", "0 2 * * *", "UTC", () => fired.push(new Date().toISOString()));
    try {
      // The wall clock jumps 6 minutes while the timer is pending: it fires at 02:06 for the 02:00 slot.
      vi.setSystemTime(new Date("2026-06-01T02:05:00Z"));
      await vi.advanceTimersByTimeAsync(61_000);
      expect(fired).toEqual(["2026-06-01T02:06:00.000Z"]);
      // Next night, 11 minutes late: too stale to run; logged instead.
      vi.setSystemTime(new Date("2026-06-02T02:10:00Z"));
      await vi.advanceTimersByTimeAsync(24 * 60 * MIN);
      expect(fired.filter((d) => d.startsWith("2026-06-02"))).toEqual([]);
      expect(log.lines.find((l) => l.msg === "scheduled run missed: it was due too long ago")).toMatchObject({ job: "t", due: "2026-06-02T02:00:00.000Z" });
    } finally {
      job.stop();
    }
  });

  it("a stopped job fires no more", async () => {
    vi.useFakeTimers({ now: new Date("2026-06-01T10:00:30Z") });
    let n = 0;
    const job = cronScheduler(recordingLog()).schedule("t", "* * * * *", "UTC", () => n++);
    await vi.advanceTimersByTimeAsync(MIN);
    expect(n).toBe(1);
    job.stop();
    await vi.advanceTimersByTimeAsync(10 * MIN);
    expect(n).toBe(1);
  });

  it("status computes the next due times without scheduling anything", () => {
    const [a, b] = nextRuns("30 6 * * 1-5", "America/New_York", 2);
    expect(a!.getTime()).toBeGreaterThan(Date.now());
    expect(b!.getTime()).toBeGreaterThan(a!.getTime());
    // 06:30 in New York is 10:30 or 11:30 UTC.
    expect(["10:30", "11:30"]).toContain(a!.toISOString().slice(11, 16));
  });
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("the daemon's schedule", () => {
  it("a collect still going when the next is due is not started twice (fake clock, real node-cron)", async () => {
    vi.useFakeTimers({ now: new Date("2026-06-01T10:04:30Z") });
    const fx = new Fixture('[schedule]\ncollect = "*/5 * * * *"\ntimezone = "UTC"');
    const log = recordingLog();
    const calls: string[] = [];
    let hold = deferred();
    const daemon = new Daemon({
      configPath: fx.config,
      log,
      cycle: async (_c: Config, _o: CycleOptions) => {
        calls.push(new Date().toISOString());
        await hold.promise;
      },
    });
    await daemon.start();
    try {
      await vi.advanceTimersByTimeAsync(31_000);
      expect(calls).toEqual(["2026-06-01T10:05:00.000Z"]);
      // 10:10 and 10:15 come while the 10:05 run is held open.
      await vi.advanceTimersByTimeAsync(10 * MIN);
      expect(calls).toHaveLength(1);
      const skipped = log.lines.filter((l) => l.msg === "collect due while the previous one is still running: skipped");
      expect(skipped).toHaveLength(2);
      expect((await daemon.metrics.runs.get()).values.find((v) => v.labels.status === "skipped")?.value).toBe(2);
      hold.resolve();
      hold = deferred();
      await vi.advanceTimersByTimeAsync(5 * MIN);
      expect(calls).toEqual(["2026-06-01T10:05:00.000Z", "2026-06-01T10:20:00.000Z"]);
      hold.resolve();
    } finally {
      await daemon.stop("test", 1000);
    }
  });
});

class ManualScheduler implements Scheduler {
  readonly jobs: { name: string; expression: string; timezone?: string; fire: () => void; stopped: boolean }[] = [];
  schedule(name: string, expression: string, timezone: string | undefined, fire: () => void): Job {
    const job = { name, expression, timezone, fire, stopped: false };
    this.jobs.push(job);
    return { stop: () => void (job.stopped = true), nextRun: () => null };
  }
  active(name: string) {
    return this.jobs.filter((j) => j.name === name && !j.stopped);
  }
  fire(name: string): void {
    for (const j of this.active(name)) j.fire();
  }
}

describe("the daemon with the real cycle", () => {
  it("a collect due while another process holds the store's lock is skipped, not queued", async () => {
    const fx = new Fixture('[schedule]\ncollect = "0 2 * * *"');
    const scheduler = new ManualScheduler();
    const log = recordingLog();
    const daemon = new Daemon({ configPath: fx.config, log, scheduler });
    await daemon.start();
    try {
      await daemon.runCollect("first");
      const lock = acquireLock(fx.db); // as `whohas collect` from a shell would
      try {
        scheduler.fire("whohas-collect");
        await daemon.runCollect("again");
      } finally {
        lock.release();
      }
      expect(log.lines.filter((l) => l.msg === "collect due while another collect holds the lock: skipped")).toHaveLength(1);
      expect(log.lines.find((l) => l.msg === "collect due while another collect holds the lock: skipped")?.error).toMatch(/collect already running \(pid \d+\)/);
      const db = openStore(fx.db, { readonly: true });
      try {
        expect(listRuns(db).map((r) => `${r.id}:${r.status}`)).toEqual(["1:ok"]);
      } finally {
        db.close();
      }
      await daemon.runCollect("after the lock is gone");
      expect(log.lines.filter((l) => l.msg === "collect finished").map((l) => l.run)).toEqual([1, 2]);
    } finally {
      await daemon.stop("test", 1000);
    }
  });

  it("[schedule] report: the email goes out on its own time, after a collect in progress has finished", async () => {
    const fx = new Fixture();
    const smtp = await startSmtp(fx.dir);
    const env = { ...process.env, WHOHAS_TEST_SMTP_PASSWORD: SMTP_PASSWORD };
    fx.writeConfig(`[schedule]
collect = "0 * * * *"
report = "0 7 * * *"
[email]
host = "127.0.0.1"
port = ${smtp.port}
user = "${SMTP_USER}"
password = "env:WHOHAS_TEST_SMTP_PASSWORD"
ca = "${smtp.caFile}"
from = "whohas@example.com"
to = ["secops@example.com"]
`);
    const scheduler = new ManualScheduler();
    const log = recordingLog();
    const daemon = new Daemon({ configPath: fx.config, log, scheduler, env });
    await daemon.start();
    try {
      expect(scheduler.jobs.map((j) => `${j.name} ${j.expression}`)).toEqual(["whohas-collect 0 * * * *", "whohas-report 0 7 * * *"]);
      // Collects alone send nothing when the email has its own schedule.
      await daemon.runCollect("hourly");
      fx.mutate();
      await daemon.runCollect("hourly");
      expect(smtp.mails).toHaveLength(0);

      const collecting = daemon.runCollect("hourly");
      scheduler.fire("whohas-report");
      expect(log.lines.some((l) => l.msg === "report due while a collect is running: sending after it")).toBe(true);
      await collecting;
      await daemon.runReport();
      expect(smtp.mails).toHaveLength(1);
      // The email reports the newest run, the one the running collect produced (run 3), against run 2.
      expect(smtp.mails[0]!.parsed.text).toMatch(/whohas report: run 3 .* compared with run 2/);

      // The next morning, after more hourly runs: everything since run 3, the last one emailed.
      await daemon.runCollect("hourly");
      await daemon.runCollect("hourly");
      await daemon.runReport();
      // Runs 4 and 5 changed nothing: send = "changes" sends nothing.
      expect(smtp.mails).toHaveLength(1);
      expect(log.lines.filter((l) => l.msg === "email not sent: nothing changed").at(-1)).toMatchObject({ run: 5, since: 3 });
    } finally {
      await daemon.stop("test", 1000);
      await smtp.close();
    }
  });

  it("reload: an invalid config is logged and the old one kept; a valid one replaces the schedule", async () => {
    const fx = new Fixture('[schedule]\ncollect = "0 2 * * *"');
    const scheduler = new ManualScheduler();
    const log = recordingLog();
    const daemon = new Daemon({ configPath: fx.config, log, scheduler });
    await daemon.start();
    try {
      const before = daemon.currentConfig;
      fx.writeConfig('[schedule]\ncollect = "0 25 * * *"');
      expect(await daemon.reload()).toBe(false);
      const err = log.lines.find((l) => l.msg === "config reload failed: keeping the previous config");
      expect(err?.error).toContain(`${fx.config}: schedule.collect: expected a cron expression`);
      expect(err?.error).toContain("hour");
      expect(daemon.currentConfig).toBe(before);
      expect(scheduler.active("whohas-collect").map((j) => j.expression)).toEqual(["0 2 * * *"]);

      fx.writeConfig('[schedule]\ncollect = "30 3 * * *"\ntimezone = "Asia/Tokyo"');
      expect(await daemon.reload()).toBe(true);
      expect(scheduler.active("whohas-collect").map((j) => `${j.expression} ${j.timezone}`)).toEqual(["30 3 * * * Asia/Tokyo"]);
      expect(daemon.currentConfig.schedule?.collect).toBe("30 3 * * *");
    } finally {
      await daemon.stop("test", 1000);
    }
  });
});

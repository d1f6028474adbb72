// `whohas daemon`: schedules collects (and optionally the email on its own time), never runs two collects at
// once, reloads its config on SIGHUP (keeping the old one when the new one is invalid) and stops within a
// bounded time on SIGTERM/SIGINT, leaving any interrupted run marked failed.
import { readFileSync, unlinkSync } from "node:fs";
import { CONNECTORS } from "../../connectors/index.js";
import type { Logger } from "../connector.js";
import { ConfigError, loadConfig, type Config } from "../config/load.js";
import { checkSecretRefs, deliverySecretRefs } from "../config/secret-refs.js";
import { openStore } from "../store/db.js";
import { LockError } from "../store/lock.js";
import { recoverInterruptedRuns } from "../store/writer.js";
import { runCycle, type CycleOptions } from "./cycle.js";
import { deliverEmail, type DeliverOptions } from "./deliver.js";
import { DaemonMetrics, startMetricsServer, type MetricsServer } from "./metrics.js";
import { cronScheduler, type Job, type Scheduler } from "./scheduler.js";

/** Loads the config and checks what the daemon needs before it is relied on at 2 a.m.: a schedule and resolvable delivery secrets. */
export async function loadDaemonConfig(path: string | undefined, env: NodeJS.ProcessEnv, needSchedule = true): Promise<Config> {
  const config = loadConfig(path, CONNECTORS);
  const problems: string[] = [];
  if (needSchedule && !config.schedule) problems.push(`${config.file}: schedule.collect: expected a cron expression, e.g. [schedule] collect = "0 2 * * *"; the daemon has nothing to do without it`);
  for (const check of await checkSecretRefs(deliverySecretRefs(config), env)) {
    if (check.problem !== undefined) problems.push(`${config.file}: ${check.problem}`);
  }
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return config;
}

/**
 * Marks a run this process left unfinished as failed and undoes its open scopes, when the collect did not stop
 * in time. Only while this process holds the store's lock: then every "running" run is ours or a dead one's.
 */
export function abandonRun(storePath: string, log: Logger): number[] {
  const lockPath = `${storePath}.lock`;
  let owner = "";
  try {
    owner = readFileSync(lockPath, "utf8");
  } catch {
    return [];
  }
  if (owner !== String(process.pid)) return [];
  const db = openStore(storePath);
  try {
    const runs = recoverInterruptedRuns(db);
    for (const run of runs) log.warn({ run }, "run did not stop in time: marked failed");
    return runs;
  } finally {
    db.close();
    unlinkSync(lockPath);
  }
}

const REPORT_MARGIN_MS = 30_000;
const MIN_CYCLE_MS = 30_000;

export interface DaemonOptions {
  configPath?: string;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  scheduler?: Scheduler;
  /** The per-run work; tests substitute one they can hold open. */
  cycle?: (config: Config, opts: CycleOptions) => Promise<unknown>;
  sleep?: DeliverOptions["sleep"];
  /** The least time a cycle's sources get however close the next scheduled collect is (default 30 s); tests lower it. */
  minCycleMs?: number;
}

export class Daemon {
  readonly metrics = new DaemonMetrics();
  private config!: Config;
  private jobs: Job[] = [];
  private metricsServer: MetricsServer | null = null;
  private readonly controller = new AbortController();
  private collecting: Promise<void> | null = null;
  private reporting: Promise<void> | null = null;
  private polling: Promise<void> | null = null;
  private stopping = false;
  private readonly log: Logger;
  private readonly env: NodeJS.ProcessEnv;
  private readonly scheduler: Scheduler;

  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.log;
    this.env = opts.env ?? process.env;
    this.scheduler = opts.scheduler ?? cronScheduler(opts.log);
  }

  get currentConfig(): Config {
    return this.config;
  }

  get metricsAddress(): string | null {
    return this.metricsServer?.address ?? null;
  }

  /** Throws ConfigError when the config is unusable; nothing is scheduled then. */
  async start(): Promise<void> {
    this.config = await loadDaemonConfig(this.opts.configPath, this.env);
    try {
      const db = openStore(this.config.store.path);
      try {
        this.metrics.observeStore(db);
      } finally {
        db.close();
      }
    } catch (err) {
      this.log.warn({ store: this.config.store.path, error: (err as Error).message }, "store not readable yet; metrics start empty");
    }
    await this.applyMetrics(null);
    this.scheduleJobs();
  }

  private scheduleJobs(): void {
    const s = this.config.schedule!;
    this.jobs = [this.scheduler.schedule("whohas-collect", s.collect, s.timezone, () => void this.runCollect("schedule"))];
    if (s.report) this.jobs.push(this.scheduler.schedule("whohas-report", s.report, s.timezone, () => void this.runReport()));
    // Pushed last: jobs[0] is the collect and jobs[1] the report where there is one.
    if (s.events) this.jobs.push(this.scheduler.schedule("whohas-events", s.events, s.timezone, () => void this.runEvents()));
    this.log.info(
      {
        config: this.config.file,
        store: this.config.store.path,
        collect: s.collect,
        report: s.report ?? "after each collect",
        timezone: s.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
        nextCollect: this.jobs[0]!.nextRun()?.toISOString() ?? null,
        nextReport: s.report ? (this.jobs[1]?.nextRun()?.toISOString() ?? null) : null,
        events: s.events ?? null,
        email: this.config.email ? this.config.email.to : null,
        alerts: this.config.alerts.map((a) => a.name),
      },
      "schedule set",
    );
  }

  private async applyMetrics(previous: Config["metrics"]): Promise<void> {
    const next = this.config.metrics;
    if (previous?.host === next?.host && previous?.port === next?.port && (next === null || this.metricsServer)) return;
    await this.metricsServer?.close();
    this.metricsServer = null;
    if (!next) return;
    try {
      this.metricsServer = await startMetricsServer(this.metrics, next.host, next.port);
      this.log.info({ address: this.metricsServer.address }, "metrics listening");
    } catch (err) {
      // Metrics are for watching the daemon; failing to serve them must not stop the collects.
      this.log.error({ listen: `${next.host}:${next.port}`, error: (err as Error).message }, "metrics endpoint could not start");
    }
  }

  private deliverOptions(): DeliverOptions {
    return { log: this.log, env: this.env, signal: this.controller.signal, metrics: this.metrics, sleep: this.opts.sleep };
  }

  /** One collect cycle, unless one is still going (then this one is skipped, not queued). */
  runCollect(reason: string): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.collecting) {
      this.log.warn({ reason }, "collect due while the previous one is still running: skipped");
      this.metrics.runs.inc({ status: "skipped" });
      return this.collecting;
    }
    // A reload while this runs applies from the next run on.
    const config = this.config;
    const cycle = this.opts.cycle ?? runCycle;
    this.collecting = (async () => {
      try {
        const deadlineAt = this.cycleDeadline();
        await cycle(config, { ...this.deliverOptions(), signal: this.controller.signal, trigger: "daemon", email: !config.schedule?.report, ...(deadlineAt !== undefined ? { deadlineAt } : {}) });
      } catch (err) {
        if (err instanceof LockError) {
          this.log.warn({ reason, error: err.message }, "collect due while another collect holds the lock: skipped");
          this.metrics.runs.inc({ status: "skipped" });
        } else {
          this.log.error({ reason, error: (err as Error).message }, "collect cycle failed");
          this.metrics.runs.inc({ status: "error" });
        }
      } finally {
        this.collecting = null;
      }
    })();
    return this.collecting;
  }

  /**
   * Every source must end before the next scheduled collect (less a fifth of the interval, at most 30 s, to
   * report), but is given at least 30 s: a hung provider then costs its own scopes, never the others' cycle.
   */
  private cycleDeadline(): number | undefined {
    const next = this.jobs[0]?.nextRun()?.getTime();
    if (next === undefined) return undefined;
    const interval = next - Date.now();
    // A schedule faster than a collect can be (every few seconds) skips ticks rather than timing every source out.
    return Math.max(Date.now() + (this.opts.minCycleMs ?? MIN_CYCLE_MS), next - Math.min(REPORT_MARGIN_MS, interval / 5));
  }

  /** The scheduled email: waits for a collect in progress, so it reports the run that collect produces. */
  runReport(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.reporting) return this.reporting;
    const config = this.config;
    if (!config.email) {
      this.log.warn({}, "report due but there is no [email] section: nothing to send");
      return Promise.resolve();
    }
    this.reporting = (async () => {
      try {
        if (this.collecting) {
          this.log.info({}, "report due while a collect is running: sending after it");
          await this.collecting;
        }
        if (this.stopping) return;
        const db = openStore(config.store.path);
        try {
          await deliverEmail(db, config, {}, this.deliverOptions());
        } finally {
          db.close();
        }
      } catch (err) {
        this.log.error({ error: (err as Error).message }, "report failed");
      } finally {
        this.reporting = null;
      }
    })();
    return this.reporting;
  }

  /** The audit-log feeds only (whohas watch): skipped while the previous poll is still going. */
  runEvents(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.polling) {
      this.log.warn({}, "event poll due while the previous one is still running: skipped");
      return this.polling;
    }
    const config = this.config;
    this.polling = (async () => {
      try {
        const { watchOnce } = await import("./watch.js");
        const r = await watchOnce(config, { log: this.log, env: this.env, signal: this.controller.signal, sleep: this.opts.sleep });
        this.log.info({ events: r.events, alerts: r.findings.length }, "event feeds polled");
      } catch (err) {
        this.log.error({ error: (err as Error).message }, "event poll failed");
      } finally {
        this.polling = null;
      }
    })();
    return this.polling;
  }

  /** SIGHUP: the new config replaces the old only when it is valid. */
  async reload(): Promise<boolean> {
    let next: Config;
    try {
      next = await loadDaemonConfig(this.opts.configPath, this.env);
    } catch (err) {
      this.log.error({ error: (err as Error).message }, "config reload failed: keeping the previous config");
      return false;
    }
    const previous = this.config;
    this.config = next;
    if (JSON.stringify(previous.schedule) !== JSON.stringify(next.schedule)) {
      for (const j of this.jobs) j.stop();
      this.scheduleJobs();
    }
    await this.applyMetrics(previous.metrics);
    this.log.info({ config: next.file, sources: next.sources.map((s) => s.id) }, "config reloaded");
    return true;
  }

  /**
   * Stops scheduling, aborts what is in flight and waits up to `timeoutMs` for it to wind down (the collect
   * marks its run failed). Past that, the run is marked failed here; the caller exits either way.
   */
  async stop(reason: string, timeoutMs: number): Promise<"clean" | "forced"> {
    if (!this.stopping) {
      this.stopping = true;
      for (const j of this.jobs) j.stop();
      this.log.info({ signal: reason, inFlight: Boolean(this.collecting || this.reporting) }, "stopping");
      this.controller.abort(new Error(`stopped by ${reason}`));
    }
    const inFlight = [this.collecting, this.reporting, this.polling].filter((p): p is Promise<void> => p !== null);
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all(inFlight).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    await this.metricsServer?.close();
    this.metricsServer = null;
    // Last, and synchronously: nothing of the abandoned collect runs between this and the caller's exit.
    if (!finished && this.config) abandonRun(this.config.store.path, this.log);
    return finished ? "clean" : "forced";
  }
}

/**
 * Runs the daemon until SIGTERM/SIGINT; SIGHUP reloads. Resolves with the exit code: 0 after a clean stop,
 * 1 when the in-flight run had to be abandoned. A second stop signal does not wait any more.
 */
export async function runDaemon(opts: DaemonOptions & { stopTimeoutMs: number; runNow?: boolean }): Promise<number> {
  const daemon = new Daemon(opts);
  await daemon.start();
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onStop = (signal: NodeJS.Signals) => {
      const timeout = stopping ? 0 : opts.stopTimeoutMs;
      stopping = true;
      void daemon.stop(signal, timeout).then((how) => {
        process.off("SIGHUP", onHup);
        opts.log.info({ signal, how }, "stopped");
        resolve(how === "clean" ? 0 : 1);
      });
    };
    const onHup = () => void daemon.reload();
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
    process.on("SIGHUP", onHup);
    if (opts.runNow) void daemon.runCollect("started with --now");
  });
}

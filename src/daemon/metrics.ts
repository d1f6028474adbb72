// Prometheus metrics of the daemon (prom-client, own registry): per-source freshness and outcome read back
// from the store, so a restarted daemon reports the truth at once; findings by severity, requests, collect
// duration and delivery outcomes as runs happen.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { CollectResult } from "../collect.js";
import { SEVERITIES } from "../vocabulary.js";
import type { Report } from "../report/report.js";
import type { Db } from "../store/db.js";
import { isComplete } from "../store/reader.js";
import { latestScopeRuns, servingBySource } from "../store/source-health.js";

const seconds = (iso: string | null) => (iso ? Date.parse(iso) / 1000 : 0);

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly g = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [this.registry] });
  private readonly c = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers: [this.registry] });

  readonly sourceLastRun = this.g("whohas_source_last_run_timestamp_seconds", "When the last run that included the source finished", ["source"]);
  readonly sourceOk = this.g("whohas_source_last_run_ok", "1 when every scope of the source was collected in its last run, else 0", ["source"]);
  readonly sourceLastSuccess = this.g("whohas_source_last_success_timestamp_seconds", "When a scope of the source was last collected successfully", ["source"]);
  readonly entities = this.g("whohas_entities", "Records of the source's scopes as of their last successful collect", ["source", "kind"]);
  readonly sourceRequests = this.g("whohas_source_last_run_requests", "Provider requests of the source in its last run", ["source"]);
  readonly requests = this.c("whohas_requests_total", "Provider requests made by collects of this daemon", ["source"]);
  readonly runs = this.c("whohas_runs_total", "Collect runs of this daemon by outcome (skipped: the previous one was still going)", ["status"]);
  readonly lastRun = this.g("whohas_last_run_timestamp_seconds", "When the daemon's last collect finished");
  readonly lastRunStatus = this.g("whohas_last_run_status", "1 for the status of the last run", ["status"]);
  readonly duration = this.g("whohas_collect_duration_seconds", "Duration of the last collect");
  readonly findings = this.g("whohas_findings", "Open findings of the last report by severity", ["severity"]);
  readonly newFindings = this.g("whohas_findings_new", "Findings of the last report not present in the run it was compared with");
  readonly deliveries = this.c("whohas_deliveries_total", "Report files, emails and webhook alerts by outcome", ["channel", "status"]);

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "whohas_" });
  }

  /** Per-source state from the store: what `whohas runs` would say. */
  observeStore(db: Db): void {
    const rows = latestScopeRuns(db);
    const bySource = new Map<string, typeof rows>();
    for (const r of rows) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
    for (const [source, scopes] of bySource) {
      this.sourceOk.set({ source }, scopes.every((s) => isComplete(s.status)) ? 1 : 0);
      this.sourceLastRun.set({ source }, Math.max(...scopes.map((s) => seconds(s.finishedAt))));
      this.sourceRequests.set({ source }, scopes.reduce((n, s) => n + s.requests, 0));
    }
    // Each scope's last ok collect: the data the store serves for it now.
    const ok = servingBySource(db);
    for (const r of ok) {
      this.sourceLastSuccess.set({ source: r.source }, seconds(r.at));
      for (const kind of ["principals", "credentials", "grants"] as const) this.entities.set({ source: r.source, kind }, r[kind]);
    }
  }

  observeRun(result: CollectResult, durationMs: number): void {
    this.runs.inc({ status: result.status });
    this.lastRun.set(Date.now() / 1000);
    for (const s of ["ok", "partial", "failed"]) this.lastRunStatus.set({ status: s }, s === result.status ? 1 : 0);
    this.duration.set(durationMs / 1000);
    const perSource = new Map<string, number>();
    for (const s of result.scopes) perSource.set(s.source, (perSource.get(s.source) ?? 0) + s.requests);
    for (const [source, n] of perSource) this.requests.inc({ source }, n);
  }

  observeReport(report: Report): void {
    for (const s of SEVERITIES) this.findings.set({ severity: s }, report.counts.findings[s]);
    this.newFindings.set(report.counts.newFindings);
  }
}

export interface MetricsServer {
  readonly address: string;
  close(): Promise<void>;
}

export async function startMetricsServer(metrics: DaemonMetrics, host: string, port: number): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "/").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("GET /metrics\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    address: a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

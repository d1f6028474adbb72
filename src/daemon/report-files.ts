// Every run's report also lands on disk (0600 in a 0700 directory), so nothing is lost when mail is down;
// files of runs the store has pruned go with them.
import { mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/load.js";
import { openSink } from "../report/output.js";
import { renderReport, type ReportFormat } from "../report/render.js";
import type { Report } from "../report/report.js";

const EXTENSION: Record<ReportFormat, string> = { text: "txt", md: "md", json: "json", csv: "csv", html: "html" };
const FILE_NAME = /^run-(\d+)(?:-vs-\d+)?\.(?:txt|md|json|csv|html)$/;

/** "run-42-vs-41.html": the run and the run it was compared with, so a since-last-email report does not overwrite the nightly one. */
export function reportFileName(report: Report, format: ReportFormat): string {
  return `run-${report.run.id}${report.previousRun ? `-vs-${report.previousRun.id}` : ""}.${EXTENSION[format]}`;
}

export function writeReportFiles(settings: Config["report"], report: Report): string[] {
  mkdirSync(settings.dir, { recursive: true, mode: 0o700 });
  return settings.formats.map((format) => {
    const path = join(settings.dir, reportFileName(report, format));
    const sink = openSink(path);
    try {
      sink.write(renderReport(report, format));
    } finally {
      sink.close();
    }
    return path;
  });
}

/** Removes report files of runs older than `oldestRun` (the oldest run the store still holds). */
export function pruneReportFiles(dir: string, oldestRun: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = FILE_NAME.exec(name);
    if (m && Number(m[1]) < oldestRun) {
      unlinkSync(join(dir, name));
      removed.push(name);
    }
  }
  return removed;
}

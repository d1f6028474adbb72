// Every run's report also lands on disk (0600 in a directory only whohas can write), so nothing is lost when mail is down;
// files of runs the store has pruned go with them.
import { readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/load.js";
import { ensurePrivateDir } from "../private-files.js";
import { writeAtomic, writeChunksAtomic } from "../report/output.js";
import { csvChunks, reportJsonChunks, writeReportTo, type ReportFormat } from "../report/render.js";
import type { Report } from "../report/report.js";
import { openRowSpill } from "../store/spill.js";
import { companionPath } from "../report/top.js";

const EXTENSION: Record<ReportFormat, string> = { text: "txt", md: "md", json: "json", csv: "csv", html: "html" };
const FILE_NAME = /^run-(\d+)(?:-vs-\d+)?\.(?:txt|md|json|csv|html|findings\.csv)$/;
/** Formats that list the top of each rule and name the companion file with every finding. */
const LISTS_TOP = new Set<ReportFormat>(["text", "md", "html"]);

/** "run-42-vs-41.html": the run and the run it was compared with, so a since-last-email report does not overwrite the nightly one. */
export function reportFileName(report: Report, format: ReportFormat): string {
  return `run-${report.run.id}${report.previousRun ? `-vs-${report.previousRun.id}` : ""}.${EXTENSION[format]}`;
}

/**
 * Every configured format, each written under a temporary name and renamed when complete, so a format that
 * cannot be rendered leaves no empty file and does not keep the others from being written. JSON and CSV
 * stream every finding from the store; text, Markdown and HTML list the top of each rule and name the
 * companion run-N[-vs-M].findings.csv written beside them with every finding. Throws when any failed,
 * naming each. Call it while the report's store is open.
 */
export function writeReportFiles(settings: Config["report"], report: Report): string[] {
  ensurePrivateDir(settings.dir, "report directory");
  const written: string[] = [];
  const failed: string[] = [];
  let companion: string | undefined;
  if (settings.formats.some((f) => LISTS_TOP.has(f))) {
    const path = companionPath(join(settings.dir, reportFileName(report, "csv")));
    try {
      writeChunksAtomic(path, csvChunks(report));
      written.push(path);
      companion = path;
    } catch (err) {
      failed.push(`findings csv: ${(err as Error).message}`);
    }
  }
  for (const format of settings.formats) {
    const path = join(settings.dir, reportFileName(report, format));
    try {
      if (format === "json" || format === "csv") writeChunksAtomic(path, format === "json" ? reportJsonChunks(report) : csvChunks(report));
      else writeAtomic(path, (write) => writeReportTo(write, report, format, false, { ...(companion ? { companion } : {}), spill: { open: openRowSpill } }));
      written.push(path);
    } catch (err) {
      failed.push(`${format}: ${(err as Error).message}`);
    }
  }
  // A companion no written report names is left out: nothing of a failed report stays behind.
  if (companion && !settings.formats.some((f) => LISTS_TOP.has(f) && written.includes(join(settings.dir, reportFileName(report, f))))) {
    unlinkSync(companion);
    written.splice(written.indexOf(companion), 1);
  }
  if (failed.length > 0) throw new Error(`report files of run ${report.run.id} not written: ${failed.join("; ")}${written.length > 0 ? ` (written: ${written.join(", ")})` : ""}`);
  return written;
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

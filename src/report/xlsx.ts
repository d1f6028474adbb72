// `report --format xlsx`: the workbook a reviewer works in. Summary (the evidence block and sources), Access
// (one row per grant, a Keep/Revoke/Modify drop-down in Decision, frozen header, autofilter), Findings (every
// open one). Written through exceljs's streaming writer, a row committed at a time as the inventory and the
// findings are read from the store, so memory stays bounded however large they are. Loaded only by this format (exceljs is not small).
//
// Every value is written as a string cell: exceljs makes a formula only from a { formula } object, so a
// provider name starting with = + - @ stays text (the test reads it back). Values are exact except control
// characters, which XML cannot carry (exceljs would drop them silently): they are shown as \x1b, \u202e, as
// in every human sink, so a reviewer sees that a name holds one.
import type { EventEmitter } from "node:events";
import type { Writable } from "node:stream";
import ExcelJS from "exceljs";
import { clip, escapeControls } from "../safe-text.js";
import { SEVERITIES } from "../vocabulary.js";
import { scopeText } from "../query/principals.js";
import { evidenceLines } from "./render.js";
import { scopeNamer, type Report } from "./report.js";
import { DECISIONS, GRANT_TITLES, grantCells, grantReviewRows } from "./review.js";

export const XLSX_SHEETS = ["Summary", "Access", "Findings"] as const;

/** Rows a worksheet holds (Excel's limit, the header included): a longer listing goes on in "Access 2", "Access 3", ... */
export const EXCEL_MAX_ROWS = 1_048_576;

/** Longest text a cell holds (Excel's own limit); longer provider values are cut with an ellipsis. */
const CELL_MAX = 32_767;

const cell = (v: unknown): string => clip(escapeControls(v === null || v === undefined ? "" : String(v)), CELL_MAX);

const ACCESS_WIDTHS = [10, 24, 16, 28, 24, 10, 26, 10, 14, 12, 36, 10, 20, 40, 16, 12, 30];
const FINDING_HEADER = ["Severity", "Rule", "Source", "Scope", "Subject", "Detail", "Controls", "New"];
const FINDING_WIDTHS = [10, 22, 10, 24, 40, 60, 30, 6];

/**
 * Committed rows go into the zip stream, which compresses and writes them only when the event loop runs, and
 * exceljs writes a sheet's XML into it without waiting: a writer that never waits would buffer the whole
 * sheet (1.3 GB at a million principals). Every this many rows it waits until the compressor has taken what
 * it was given; the compressor in turn waits for the file (ordinary stream backpressure).
 */
const ROWS_BETWEEN_WAITS = 500;

/**
 * What the sheet's stream into the zip (exceljs's StreamBuf) writes into: archiver's entry stream, a
 * readable-stream 2 PassThrough, which predates `writableNeedDrain`, so its writable state is read instead.
 */
type EntryStream = EventEmitter & { writableNeedDrain?: boolean; _writableState?: { needDrain?: boolean } };

async function caughtUp(sheet: ExcelJS.Worksheet): Promise<void> {
  const pipes = (sheet as unknown as { stream?: { pipes?: EntryStream[] } }).stream?.pipes ?? [];
  const full = pipes.filter((p) => p.writableNeedDrain ?? p._writableState?.needDrain);
  if (full.length === 0) return new Promise<void>((resolve) => setImmediate(resolve));
  await Promise.all(full.map(drainOrEnd));
}

/** Resolves when `p` drains, or closes or fails (then it never drains: the workbook's own error handling reports it). */
function drainOrEnd(p: EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      for (const e of ["drain", "close", "error"]) p.off(e, done);
      resolve();
    };
    for (const e of ["drain", "close", "error"]) p.on(e, done);
  });
}

/** Writes the workbook to `stream` and resolves when it is complete (the stream is ended by exceljs). */
export async function writeXlsx(report: Report, stream: Writable, opts: { maxRows?: number } = {}): Promise<{ grants: number; findings: number }> {
  const maxRows = opts.maxRows ?? EXCEL_MAX_ROWS;
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: true, useSharedStrings: false });
  wb.creator = "whohas";
  const bold = { bold: true };

  const summary = wb.addWorksheet("Summary");
  summary.columns = [{ width: 18 }, { width: 90 }, { width: 12 }, { width: 26 }];
  const line = (values: unknown[], header = false) => {
    const row = summary.addRow(values.map(cell));
    if (header) row.font = bold;
    row.commit();
  };
  line([`whohas ${report.type === "access-review" ? "access review" : "report"}: run ${report.run.id}`], true);
  for (const [k, v] of evidenceLines(report)) line([k, v]);
  line(["Findings", SEVERITIES.map((s) => `${report.counts.findings[s]} ${s}`).join(", ")]);
  line([]);
  line(["Source", "Scope", "Status", "Data as of"], true);
  for (const c of report.coverage) line([c.source, scopeText(c), c.status, c.dataFromAt ?? "never"]);
  await summary.commit();

  const access = sheetSeries(wb, "Access", GRANT_TITLES, ACCESS_WIDTHS, maxRows, GRANT_TITLES.indexOf("Decision") + 1);
  for (const g of grantReviewRows(report)) await access.add(grantCells(g).map(cell));
  const grants = await access.close();

  const findings = sheetSeries(wb, "Findings", FINDING_HEADER, FINDING_WIDTHS, maxRows);
  const scopeName = scopeNamer(report);
  // Every open finding, read from the store as it is written (report.findings may hold only the top of each rule).
  for (const f of report.eachFinding()) {
    await findings.add([f.severity, f.rule, f.source, scopeName(f), f.subject, f.detail, f.controls.join(", "), f.new ? "yes" : ""].map(cell));
  }
  const n = await findings.close();
  await wb.commit();
  return { grants, findings: n };
}

/**
 * A listing over as many worksheets as Excel's row limit needs ("Access", "Access 2", ...), each with the
 * header frozen and filtered and, when `decisionColumn` is given, one Keep/Revoke/Modify drop-down over its rows.
 */
function sheetSeries(wb: ExcelJS.stream.xlsx.WorkbookWriter, name: string, header: readonly string[], widths: readonly number[], maxRows: number, decisionColumn?: number) {
  let sheet: ExcelJS.Worksheet | null = null;
  let sheets = 0;
  let rows = 0;
  let written = 0;
  const open = () => {
    sheets++;
    sheet = wb.addWorksheet(sheets === 1 ? name : `${name} ${sheets}`, { views: [{ state: "frozen", ySplit: 1 }] });
    sheet.columns = header.map((h, i) => ({ header: h, width: widths[i] ?? 14 }));
    sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: header.length } };
    sheet.getRow(1).font = { bold: true };
    sheet.getRow(1).commit();
    rows = 0;
    return sheet;
  };
  const finish = async (s: ExcelJS.Worksheet) => {
    // One drop-down over the column's rows, not one per cell: exceljs keeps a sheet's validations until the
    // sheet is committed, so a validation per row would hold an object per grant.
    if (decisionColumn !== undefined && rows > 0) {
      const column = s.getColumn(decisionColumn).letter;
      // The streaming sheet's validations (a range address is written as one sqref); exceljs's types omit them.
      const validations = (s as unknown as { dataValidations: { add(address: string, v: ExcelJS.DataValidation): void } }).dataValidations;
      validations.add(`${column}2:${column}${rows + 1}`, {
        type: "list",
        allowBlank: true,
        formulae: [`"${DECISIONS.join(",")}"`],
        showErrorMessage: true,
        errorTitle: "Decision",
        error: `One of ${DECISIONS.join(", ")}`,
      });
    }
    await s.commit();
  };
  return {
    async add(cells: string[]): Promise<void> {
      let s = sheet ?? open();
      if (rows + 1 >= maxRows) {
        await finish(s);
        s = open();
      }
      s.addRow(cells).commit();
      rows++;
      if (++written % ROWS_BETWEEN_WAITS === 0) await caughtUp(s);
    },
    /** Commits the last sheet; resolves to the rows added over all the sheets. */
    async close(): Promise<number> {
      await finish(sheet ?? open());
      return written;
    },
  };
}

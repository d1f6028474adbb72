// Pure parsing of the IAM credential report (CSV). Columns are read by header name, so a column
// AWS adds later does not shift anything; sentinels stay sentinels until the mapper decides.
import { CsvError, parseCsv } from "../../src/csv.js";

/** A report cell that holds a time: either a timestamp or the sentinel AWS wrote instead. */
export type ReportTime = { at: string } | { sentinel: string };

export interface ReportKey {
  slot: 1 | 2;
  active: boolean;
  /** Creation (or last rotation) time; null when AWS wrote N/A. */
  lastRotated: string | null;
  lastUsed: ReportTime;
  lastUsedRegion: string | null;
  lastUsedService: string | null;
}

export interface ReportCert {
  slot: 1 | 2;
  active: boolean;
  lastRotated: string | null;
}

export interface ReportRow {
  user: string;
  arn: string;
  isRoot: boolean;
  userCreationTime: string | null;
  /** null for the root row, where AWS writes not_supported. */
  passwordEnabled: boolean | null;
  passwordLastUsed: ReportTime;
  passwordLastChanged: string | null;
  passwordNextRotation: string | null;
  mfaActive: boolean;
  /** Only slots that hold a key (active, or inactive with a creation time). */
  keys: ReportKey[];
  certs: ReportCert[];
}

export const ROOT_USER = "<root_account>";

/** Timestamps in the report look like 2019-04-09T15:46:33+00:00; the model wants ISO-8601 UTC with Z. */
export function reportTimestamp(value: string | undefined): string | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function reportTime(value: string | undefined): ReportTime {
  const at = reportTimestamp(value);
  return at !== null ? { at } : { sentinel: (value ?? "").trim() || "N/A" };
}

function bool(value: string | undefined): boolean | null {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "true") return true;
  if (v === "false") return false;
  return null;
}

function text(value: string | undefined): string | null {
  const v = (value ?? "").trim();
  return v === "" || v === "N/A" || v === "no_information" || v === "not_supported" ? null : v;
}

export class CredentialReportFormatError extends Error {
  override name = "CredentialReportFormatError";
}

const REQUIRED = ["user", "arn", "password_enabled", "mfa_active", "access_key_1_active", "access_key_2_active"];

export function parseCredentialReport(csv: string): ReportRow[] {
  // IAM user names may contain commas: the report quotes them (RFC 4180).
  let rows: string[][];
  try {
    rows = parseCsv(csv).map((r) => r.fields);
  } catch (err) {
    if (err instanceof CsvError) throw new CredentialReportFormatError(`credential report is not valid CSV: ${err.message}`);
    throw err;
  }
  const header = rows[0];
  if (!header) throw new CredentialReportFormatError("credential report is empty");
  const col = new Map(header.map((h, i) => [h.trim(), i]));
  const missing = REQUIRED.filter((c) => !col.has(c));
  if (missing.length > 0) throw new CredentialReportFormatError(`credential report lacks columns: ${missing.join(", ")}`);
  const out: ReportRow[] = [];
  for (const cells of rows.slice(1)) {
    const get = (name: string) => {
      const i = col.get(name);
      return i === undefined ? undefined : cells[i];
    };
    const keys: ReportKey[] = [];
    for (const slot of [1, 2] as const) {
      const active = bool(get(`access_key_${slot}_active`)) === true;
      const lastRotated = reportTimestamp(get(`access_key_${slot}_last_rotated`));
      if (!active && lastRotated === null) continue;
      keys.push({
        slot,
        active,
        lastRotated,
        lastUsed: reportTime(get(`access_key_${slot}_last_used_date`)),
        lastUsedRegion: text(get(`access_key_${slot}_last_used_region`)),
        lastUsedService: text(get(`access_key_${slot}_last_used_service`)),
      });
    }
    const certs: ReportCert[] = [];
    for (const slot of [1, 2] as const) {
      const active = bool(get(`cert_${slot}_active`)) === true;
      const lastRotated = reportTimestamp(get(`cert_${slot}_last_rotated`));
      if (!active && lastRotated === null) continue;
      certs.push({ slot, active, lastRotated });
    }
    const user = get("user") ?? "";
    out.push({
      user,
      arn: get("arn") ?? "",
      isRoot: user === ROOT_USER,
      userCreationTime: reportTimestamp(get("user_creation_time")),
      passwordEnabled: bool(get("password_enabled")),
      passwordLastUsed: reportTime(get("password_last_used")),
      passwordLastChanged: reportTimestamp(get("password_last_changed")),
      passwordNextRotation: reportTimestamp(get("password_next_rotation")),
      mfaActive: bool(get("mfa_active")) === true,
      keys,
      certs,
    });
  }
  return out;
}

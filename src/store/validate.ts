// What the store accepts, checked at the boundary between a connector and the writer: a record that does not
// fit the model is quarantined with the field named, instead of failing its scope or being stored half-wrong.
import {
  ACCESS_LEVELS,
  CREDENTIAL_KINDS,
  CREDENTIAL_STATUSES,
  GRANTED_LEVELS,
  GRANT_VIAS,
  MFA_STATES,
  PRINCIPAL_KINDS,
  PRINCIPAL_STATUSES,
  grantId,
  type Credential,
  type Grant,
  type Principal,
  type RoleDefinition,
} from "../model.js";

export type RecordTable = "principals" | "credentials" | "grants" | "roles";

/** What is known of a record that could not be stored: never the record itself, which could hold a secret. */
export interface QuarantineNote {
  table: RecordTable;
  /** Principal or credential kind, when it is one the model knows. */
  kind?: string | null;
  /** The id the record is stored under (a grant's composite id), when it could be determined. */
  id?: string | null;
  /** The holder of a credential or grant, when it could be determined. */
  principalId?: string | null;
  reason: string;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * Why `value` is not an ISO-8601 date or date-time that exists on the calendar, or null when it is one.
 * Every record's dates pass here: the calendar is checked by arithmetic, not by building a Date and an array per value.
 */
export function isoProblem(value: string): string | null {
  const m = ISO.exec(value);
  if (!m) return "is not an ISO-8601 date";
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && leapYear(y) ? 29 : DAYS_IN_MONTH[mo - 1]!)) return "is not a date on the calendar";
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 60)) return "is not a time of day";
  return null;
}

type Obj = Record<string, unknown>;
const describe = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : `a ${typeof v}`);
const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : describe(v));

class Check {
  problem: string | null = null;
  constructor(private readonly r: Obj) {}

  private fail(field: string, what: string): void {
    this.problem ??= `${field} ${what}`;
  }

  id(field: string, value: unknown = this.r[field]): void {
    if (typeof value !== "string") this.fail(field, value === undefined ? "is missing" : `is ${describe(value)}, expected a non-empty string`);
    else if (value.length === 0) this.fail(field, "is empty");
  }

  text(field: string, optional: boolean): void {
    const v = this.r[field];
    if (optional && (v === undefined || v === null)) return;
    if (typeof v !== "string") this.fail(field, v === undefined ? "is missing" : `is ${describe(v)}, expected a string`);
  }

  oneOf(field: string, allowed: readonly string[], optional = false): void {
    const v = this.r[field];
    if (optional && v === undefined) return;
    if (typeof v !== "string" || !allowed.includes(v)) this.fail(field, `is ${show(v)}, expected one of ${allowed.join(", ")}`);
  }

  date(field: string, value: unknown = this.r[field]): void {
    if (value === undefined || value === null) return;
    if (typeof value !== "string") return this.fail(field, `is ${describe(value)}, expected an ISO-8601 date`);
    const p = isoProblem(value);
    if (p) this.fail(field, `${show(value)} ${p}`);
  }

  activity(field: string): void {
    const a = this.r[field];
    if (a === undefined) return;
    if (typeof a !== "object" || a === null || Array.isArray(a)) return this.fail(field, `is ${describe(a)}, expected { at, known }`);
    const { at, known } = a as Obj;
    if (typeof known !== "boolean") this.fail(`${field}.known`, `is ${describe(known)}, expected a boolean`);
    this.date(`${field}.at`, at);
  }

  attributes(): void {
    const a = this.r.attributes;
    if (a === undefined || a === null) return;
    if (typeof a !== "object" || Array.isArray(a)) return this.fail("attributes", `is ${describe(a)}, expected an object`);
    for (const [k, v] of Object.entries(a as Obj)) {
      if (v === undefined || v === null || typeof v === "string" || typeof v === "boolean") continue;
      if (typeof v === "number" && Number.isFinite(v)) continue;
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) continue;
      this.fail(`attributes.${k}`, `is ${typeof v === "number" ? String(v) : describe(v)}, expected a string, finite number, boolean, null or list of strings`);
    }
  }
}

function asObject(r: unknown): Obj | null {
  return typeof r === "object" && r !== null && !Array.isArray(r) ? (r as Obj) : null;
}

const known = (v: unknown, allowed: readonly string[]) => (typeof v === "string" && allowed.includes(v) ? v : null);
const nonEmpty = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : null);

/** Null when the principal can be stored; otherwise what is known of it and the first field at fault. */
export function checkPrincipal(record: unknown): QuarantineNote | null {
  const r = asObject(record);
  if (!r) return { table: "principals", reason: `the record is ${describe(record)}, expected an object` };
  const c = new Check(r);
  c.id("id");
  c.oneOf("kind", PRINCIPAL_KINDS);
  c.text("name", false);
  c.text("email", true);
  c.text("displayName", true);
  c.oneOf("status", PRINCIPAL_STATUSES);
  c.oneOf("mfa", MFA_STATES);
  c.date("createdAt");
  c.oneOf("accessLevel", ACCESS_LEVELS, true);
  c.activity("lastActive");
  c.attributes();
  return c.problem ? { table: "principals", kind: known(r.kind, PRINCIPAL_KINDS), id: nonEmpty(r.id), reason: c.problem } : null;
}

export function checkCredential(record: unknown): QuarantineNote | null {
  const r = asObject(record);
  if (!r) return { table: "credentials", reason: `the record is ${describe(record)}, expected an object` };
  const c = new Check(r);
  c.id("id");
  c.id("principalId");
  c.oneOf("kind", CREDENTIAL_KINDS);
  c.text("name", true);
  c.oneOf("status", CREDENTIAL_STATUSES);
  c.date("createdAt");
  c.date("expiresAt");
  c.activity("lastUsed");
  c.attributes();
  return c.problem
    ? { table: "credentials", kind: known(r.kind, CREDENTIAL_KINDS), id: nonEmpty(r.id), principalId: nonEmpty(r.principalId), reason: c.problem }
    : null;
}

export function checkGrant(record: unknown): QuarantineNote | null {
  const r = asObject(record);
  if (!r) return { table: "grants", reason: `the record is ${describe(record)}, expected an object` };
  const c = new Check(r);
  c.id("principalId");
  c.id("privilege");
  c.oneOf("level", GRANTED_LEVELS);
  c.text("scope", false);
  c.oneOf("via", GRANT_VIAS);
  if (r.instance !== undefined) c.id("instance");
  c.attributes();
  if (!c.problem) return null;
  // The stored id needs every part of it; without them only the holder is known.
  const whole = nonEmpty(r.principalId) && nonEmpty(r.privilege) && typeof r.scope === "string" && known(r.via, GRANT_VIAS) && (r.instance === undefined || nonEmpty(r.instance));
  return { table: "grants", id: whole ? grantId(r as unknown as Grant) : null, principalId: nonEmpty(r.principalId), reason: c.problem };
}

export function checkRole(record: unknown): QuarantineNote | null {
  const r = asObject(record);
  if (!r) return { table: "roles", reason: `the record is ${describe(record)}, expected an object` };
  const c = new Check(r);
  c.id("id");
  c.id("privilege");
  c.text("name", false);
  c.id("kind");
  c.oneOf("level", GRANTED_LEVELS);
  c.text("reason", false);
  const perms = r.permissions;
  if (!Array.isArray(perms) || !perms.every((x) => typeof x === "string")) c.problem ??= `permissions is ${describe(perms)}, expected a list of strings`;
  c.text("holderId", true);
  c.attributes();
  return c.problem ? { table: "roles", kind: typeof r.kind === "string" ? r.kind : null, id: nonEmpty(r.id), principalId: nonEmpty(r.holderId), reason: c.problem } : null;
}

export interface CheckedBatch {
  principals: Principal[];
  credentials: Credential[];
  grants: Grant[];
  roles: RoleDefinition[];
  quarantined: QuarantineNote[];
}

/** Splits a connector's batch into what the store can take and what it cannot. */
export function checkBatch(batch: { principals?: unknown[]; credentials?: unknown[]; grants?: unknown[]; roles?: unknown[] }): CheckedBatch {
  const out: CheckedBatch = { principals: [], credentials: [], grants: [], roles: [], quarantined: [] };
  const split = <T>(items: unknown[] | undefined, check: (r: unknown) => QuarantineNote | null, into: T[]) => {
    for (const r of items ?? []) {
      const note = check(r);
      if (note) out.quarantined.push(note);
      else into.push(r as T);
    }
  };
  split(batch.principals, checkPrincipal, out.principals);
  split(batch.credentials, checkCredential, out.credentials);
  split(batch.grants, checkGrant, out.grants);
  split(batch.roles, checkRole, out.roles);
  return out;
}

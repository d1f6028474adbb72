// Inventory export rows (CSV or JSON) → the normalized model. Pure functions; every error names
// the record (line number for CSV, array index for JSON) and the field.
import { z } from "zod";
import {
  ACCESS_LEVELS,
  GRANTED_LEVELS,
  CREDENTIAL_KINDS,
  CREDENTIAL_STATUSES,
  MFA_STATES,
  PRINCIPAL_KINDS,
  PRINCIPAL_STATUSES,
  grantId,
  type Activity,
  type Credential,
  type Grant,
  type Principal,
} from "../../src/model.js";
import { parseCsv } from "../../src/csv.js";
import { shown } from "../../src/safe-text.js";

export interface FileInventory {
  principals: Principal[];
  credentials: Credential[];
  grants: Grant[];
}

export class InventoryError extends Error {
  override name = "InventoryError";
}

const DATE_HINT = "expected an ISO-8601 date such as 2026-01-31 or 2026-01-31T12:00:00Z";
const isIsoDate = (v: string) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v));

/** Empty or null = not given; otherwise an ISO date. */
const optionalDate = z
  .string()
  .nullable()
  .optional()
  .refine((v) => !v || isIsoDate(v), { message: DATE_HINT })
  .transform((v) => (v ? new Date(v).toISOString() : null));

/** "never" = the system says never used; empty = the system cannot tell. */
const activity = z
  .string()
  .nullable()
  .optional()
  .refine((v) => !v || v === "never" || isIsoDate(v), { message: `${DATE_HINT}, "never", or empty for unknown` })
  .transform((v): Activity => {
    if (v === "never") return { at: null, known: true, signal: "export" };
    if (!v) return { at: null, known: false, signal: "export" };
    return { at: new Date(v).toISOString(), known: true, signal: "export" };
  });

const level = z.enum(GRANTED_LEVELS);

const roleSchema = z.strictObject({ name: z.string().min(1), level: level.optional(), scope: z.string().optional() });

const credentialSchema = z.strictObject({
  id: z.string().min(1),
  kind: z.enum(CREDENTIAL_KINDS),
  name: z.string().optional(),
  status: z.enum(CREDENTIAL_STATUSES).default("active"),
  created_at: optionalDate,
  expires_at: optionalDate,
  last_used: activity,
});

const accountSchema = z.strictObject({
  id: z.string().min(1).optional(),
  username: z.string().min(1),
  email: z.union([z.literal(""), z.null(), z.email()]).optional(),
  display_name: z.string().optional().nullable(),
  kind: z.enum(PRINCIPAL_KINDS).default("human"),
  status: z.enum(PRINCIPAL_STATUSES).default("active"),
  mfa: z.enum(MFA_STATES).default("unknown"),
  access_level: z.enum(ACCESS_LEVELS).default("none"),
  roles: z.array(roleSchema).default([]),
  created_at: optionalDate,
  last_active: activity,
  credentials: z.array(credentialSchema).default([]),
});

type Account = z.infer<typeof accountSchema>;

/** CSV columns; roles are `;`-separated, each `name` or `name:level`; one optional credential per row. */
const CSV_COLUMNS = [
  "id",
  "username",
  "email",
  "display_name",
  "kind",
  "status",
  "mfa",
  "role",
  "access_level",
  "created_at",
  "last_active",
  "credential_id",
  "credential_kind",
  "credential_created_at",
  "credential_last_used",
  "credential_expires_at",
] as const;

export function parseInventory(text: string, format: "csv" | "json", scope: string): FileInventory {
  const accounts = format === "csv" ? csvAccounts(text) : jsonAccounts(text);
  return toModel(accounts, scope);
}

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

function csvAccounts(text: string): Account[] {
  const rows = parseCsv(text);
  const header = rows.shift();
  if (!header) throw new InventoryError("the file is empty: expected a header row");
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  const unknown = columns.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  if (unknown.length > 0) {
    throw new InventoryError(
      `line ${header.line}: unknown column(s) ${unknown.map((c) => shown(c, 64)).join(", ")}; expected some of ${CSV_COLUMNS.join(", ")}`,
    );
  }
  if (!columns.includes("username")) throw new InventoryError(`line ${header.line}: the header has no "username" column`);
  const accounts: Account[] = [];
  const lineOf = new Map<Account, number>();
  for (const row of rows) {
    if (row.fields.length !== columns.length) {
      throw new InventoryError(`line ${row.line}: expected ${columns.length} fields, found ${row.fields.length}`);
    }
    const cell = (name: string) => {
      const i = columns.indexOf(name);
      return i < 0 ? undefined : row.fields[i]!.trim();
    };
    const present = (name: string) => {
      const v = cell(name);
      return v === undefined || v === "" ? undefined : v;
    };
    const level = present("access_level");
    const credentialId = present("credential_id");
    const raw = {
      id: present("id"),
      username: cell("username"),
      email: present("email"),
      display_name: present("display_name"),
      kind: present("kind"),
      status: present("status"),
      mfa: present("mfa"),
      access_level: level,
      roles: (present("role") ?? "")
        .split(";")
        .map((r) => r.trim())
        .filter((r) => r !== "")
        .map((entry) => {
          // "name" takes the row's access_level; "name:level" states its own.
          const [name, own] = entry.split(":").map((p) => p.trim());
          const lvl = own || (level && level !== "none" ? level : undefined);
          return { name, ...(lvl ? { level: lvl } : {}) };
        }),
      created_at: present("created_at"),
      last_active: cell("last_active"),
      credentials: credentialId
        ? [
            {
              id: credentialId,
              kind: present("credential_kind") ?? "password",
              created_at: present("credential_created_at"),
              last_used: cell("credential_last_used"),
              expires_at: present("credential_expires_at"),
            },
          ]
        : [],
    };
    const parsed = accountSchema.safeParse(raw);
    if (!parsed.success) throw new InventoryError(`line ${row.line}: ${describe(parsed.error.issues[0]!)}`);
    accounts.push(parsed.data);
    lineOf.set(parsed.data, row.line);
  }
  checkUnique(accounts, (a) => `line ${lineOf.get(a)}`);
  return accounts;
}

function jsonAccounts(text: string): Account[] {
  let data: unknown;
  // Windows tools write UTF-8 with a byte order mark; the CSV reader accepts it too.
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    data = JSON.parse(json);
  } catch (err) {
    // The parser quotes a snippet of the file: it is shown escaped, like any text from the export.
    throw new InventoryError(`not valid JSON: ${shown((err as Error).message, 200)}`);
  }
  if (!Array.isArray(data)) throw new InventoryError("expected a JSON array of accounts at the top level");
  const accounts: Account[] = [];
  const indexOf = new Map<Account, number>();
  // Lines are found only when something is refused: the common case pays nothing for them.
  let lines: number[] | undefined;
  const where = (i: number) => `line ${(lines ??= elementLines(json))[i] ?? "?"} [${i}]`;
  data.forEach((item, i) => {
    const parsed = accountSchema.safeParse(item);
    if (!parsed.success) throw new InventoryError(`${where(i)} ${describe(parsed.error.issues[0]!)}`);
    accounts.push(parsed.data);
    indexOf.set(parsed.data, i);
  });
  checkUnique(accounts, (a) => where(indexOf.get(a)!));
  return accounts;
}

/** The line on which each element of the top-level JSON array starts (the text is known to parse). */
function elementLines(json: string): number[] {
  const out: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (c === "\n") line++;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\n") continue;
    if (depth === 1 && expectElement) {
      out.push(line);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === "]" || c === "}") depth--;
    else if (c === "," && depth === 1) expectElement = true;
  }
  return out;
}

function checkUnique(accounts: Account[], where: (a: Account) => string): void {
  const seen = new Map<string, Account>();
  for (const a of accounts) {
    const id = a.id ?? a.username;
    const earlier = seen.get(id);
    if (earlier) throw new InventoryError(`${where(a)}: account "${shown(id, 64)}" already appears at ${where(earlier)}`);
    seen.set(id, a);
  }
}

function toModel(accounts: Account[], scope: string): FileInventory {
  const out: FileInventory = { principals: [], credentials: [], grants: [] };
  for (const a of accounts) {
    const id = a.id ?? a.username;
    out.principals.push({
      id,
      kind: a.kind,
      name: a.username,
      email: a.email ? a.email.toLowerCase() : null,
      displayName: a.display_name ?? null,
      status: a.status,
      mfa: a.mfa,
      createdAt: a.created_at,
      accessLevel: a.access_level,
      lastActive: a.last_active,
    });
    for (const r of a.roles) {
      const grant: Grant = {
        principalId: id,
        privilege: r.name,
        level: r.level ?? "read",
        scope: r.scope ?? scope,
        via: "direct",
      };
      out.grants.push(grant);
    }
    for (const c of a.credentials) {
      out.credentials.push({
        id: c.id,
        principalId: id,
        kind: c.kind,
        name: c.name ?? null,
        status: c.status,
        createdAt: c.created_at,
        expiresAt: c.expires_at,
        lastUsed: c.last_used,
      });
    }
  }
  const grantIds = new Set<string>();
  out.grants = out.grants.filter((g) => {
    const k = grantId(g);
    if (grantIds.has(k)) return false;
    grantIds.add(k);
    return true;
  });
  return out;
}

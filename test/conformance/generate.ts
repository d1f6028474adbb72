// Answers generated from a provider's published description (OpenAPI / JSON Schema), in three shapes:
//  random  — seeded: optional members present half the time, nullable ones null a fifth of the time;
//  sparse  — every optional member dropped;
//  minimal — required members only, and every nullable one null.
// Where the wire format has no null (Google's Discovery documents, AWS's models: absence is how a value is
// missing), `minimal` sends zero values instead — "" / 0 / false / the epoch, the defaults a proto3 or Query
// backend writes — and, where the description requires nothing (Discovery), every member zero-valued.
// Whatever it makes is schema-valid: a connector must store it, or quarantine it with a reason, never fail.

import { type Random } from "../../src/simulator/random.js";

export type Shape = "random" | "sparse" | "minimal";
export const SHAPES: readonly Shape[] = ["random", "sparse", "minimal"];

export interface JsonSchema {
  type?: string | string[];
  nullable?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  format?: string;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  minLength?: number;
  pattern?: string;
}

export interface GeneratorOptions {
  /** false: the wire format has no null; `minimal` sends zero values (see above). */
  nulls?: boolean;
  /**
   * `minimal` sends every member (not only the required ones): zero-valued without nulls (Discovery requires
   * nothing), null where nullable with them (Graph returns every $select-ed member, null when unset).
   */
  minimalSendsAll?: boolean;
  /**
   * Records that refer to each other: a string field named in `defines` (a user's id) adds its value to the
   * named pool; one named in `refers` (a role assignment's assignedTo) mostly takes a value from it in random
   * answers, so joins are exercised as well as misses. The pools outlive one generator (one page).
   */
  pools?: Map<string, string[]>;
  defines?: Readonly<Record<string, string>>;
  refers?: Readonly<Record<string, string>>;
  /**
   * The counter that keeps ids, logins and names unique. A test that makes one generator per page (each page
   * its own seed) passes one counter for the whole run: with a counter per generator, page 2's first id
   * repeats page 1's, and two records served under one id leave one stored — an exact count of what was
   * served against what was stored could not hold, and a record could hide behind another.
   */
  serial?: Serial;
}

/** A counter shared by the generators of one run (see GeneratorOptions.serial). */
export interface Serial {
  n: number;
}

export class Generator {
  /** Every id, login, name and formatted value is unique within the counter: the generator's, or the run's. */
  private readonly counter: Serial;

  constructor(
    private readonly random: Random,
    readonly shape: Shape,
    private readonly options: GeneratorOptions = {},
  ) {
    this.counter = options.serial ?? { n: 0 };
  }

  private next(): number {
    return ++this.counter.n;
  }

  /** Zero values instead of random ones: `minimal` on a wire format without null. */
  private get zero(): boolean {
    return this.shape === "minimal" && this.options.nulls === false;
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  private isNullable(s: JsonSchema): boolean {
    return s.nullable === true || (Array.isArray(s.type) && s.type.includes("null"));
  }

  value(s: JsonSchema, name = "", depth = 0): unknown {
    if (s.allOf) return this.value(merge(s.allOf), name, depth);
    if (this.isNullable(s) && this.options.nulls !== false && (this.shape === "minimal" || (this.shape === "random" && this.chance(0.2)))) return null;
    const variants = s.oneOf ?? s.anyOf;
    if (variants) {
      const nonNull = variants.filter((v) => v.type !== "null");
      if (nonNull.length === 0) return null;
      return this.value(this.shape === "random" ? this.pick(nonNull) : nonNull[0]!, name, depth);
    }
    if (s.enum && this.zero) return s.enum.find((v) => v !== null) ?? null;
    if (s.enum) return this.pick(s.enum.filter((v) => v !== null).length > 0 ? s.enum.filter((v) => v !== null) : s.enum);
    const type = (Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type) ?? (s.properties ? "object" : "string");
    switch (type) {
      case "object":
        return this.object(s, depth);
      case "array": {
        if (depth > 6) return [];
        const n = this.shape === "random" ? Math.floor(this.random() * 4) : Math.max(1, s.minItems ?? 0);
        return Array.from({ length: n }, () => this.value(s.items ?? {}, name, depth + 1));
      }
      case "integer":
        return this.zero ? (s.minimum ?? 0) : this.integer(s, name);
      case "number":
        return this.zero ? (s.minimum ?? 0) : Math.round(this.random() * 1e6) / 100;
      case "boolean":
        return this.zero ? false : this.chance(0.5);
      default:
        return this.string(s, name);
    }
  }

  private object(s: JsonSchema, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const required = new Set(s.required ?? []);
    const all = this.shape === "minimal" && this.options.minimalSendsAll === true;
    for (const [key, prop] of Object.entries(s.properties ?? {})) {
      const keep = all || required.has(key) || (this.shape === "random" && this.chance(0.5));
      if (!keep || depth > 8) continue;
      out[key] = this.value(prop, key, depth + 1);
    }
    // A map (Discovery's customSchemas): a few keys in random answers.
    if (typeof s.additionalProperties === "object" && this.shape === "random" && depth <= 8) {
      for (let i = Math.floor(this.random() * 3); i > 0; i--) out[`key${this.next()}`] = this.value(s.additionalProperties, "", depth + 1);
    }
    return out;
  }

  private integer(s: JsonSchema, name: string): number {
    if (name === "id" || name.endsWith("_id")) return 1000 + this.next();
    const lo = s.minimum ?? 0;
    const hi = s.maximum ?? lo + 10_000;
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  private string(s: JsonSchema, name: string): string {
    if (this.zero) return zeroString(s);
    const pools = this.options.pools;
    const referred = pools?.get(this.options.refers?.[name] ?? "");
    if (referred?.length && this.shape === "random" && this.chance(0.8)) return this.pick(referred);
    const value = this.fresh(s, name);
    const defined = this.options.defines?.[name];
    if (pools && defined !== undefined) pools.set(defined, [...(pools.get(defined) ?? []), value]);
    return value;
  }

  private fresh(s: JsonSchema, name: string): string {
    switch (s.format) {
      case "int64":
      case "uint64":
        // Discovery's int64 travels as a decimal string; some are epoch milliseconds, so keep them plausible.
        return String(Date.UTC(1990, 0, 1) + Math.floor(this.random() * 45 * 365.25 * 86_400_000) + this.next());
      case "byte":
        return Buffer.from(`${name}-${this.next()}`).toString("base64");
      case "uuid": {
        const hex = Array.from({ length: 32 }, () => Math.floor(this.random() * 16).toString(16)).join("");
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
      }
      case "google-datetime":
      case "date-time": {
        // Anywhere from 1990 to 2035: real past dates too, which are dates, not sentinels.
        const t = Date.UTC(1990, 0, 1) + Math.floor(this.random() * 45 * 365.25 * 86_400_000);
        return new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
      }
      case "date":
        return new Date(Date.UTC(1990 + Math.floor(this.random() * 45), Math.floor(this.random() * 12), 1 + Math.floor(this.random() * 28))).toISOString().slice(0, 10);
      case "uri":
        return `https://example.invalid/${name || "x"}/${this.next()}`;
      case "email":
        return `user${this.next()}@example.invalid`;
    }
    // A fixed run of digits (an AWS account id, `^\d{12}$`): made to fit, unique like the rest.
    const digits = /^\^\\d\{(\d+)\}\$$/.exec(s.pattern ?? "");
    if (digits) return String(this.next()).padStart(Number(digits[1]), String(1 + Math.floor(this.random() * 9)));
    const n = this.next();
    if (name === "node_id") return `N_gen${n}`;
    if (name === "login" || name === "slug" || name === "name") return `${name}-${n}`;
    return this.shape === "random" ? `${name || "s"}-${n}-${Math.floor(this.random() * 1e6).toString(36)}` : `${name || "s"}-${n}`;
  }
}

/** The zero value of a string member: what a backend writes for "unset" when it writes something. */
function zeroString(s: JsonSchema): string {
  switch (s.format) {
    case "date-time":
    case "google-datetime":
      return "1970-01-01T00:00:00Z";
    case "date":
      return "1970-01-01";
    case "int64":
    case "uint64":
      return "0";
  }
  return "x".repeat(s.minLength ?? 0);
}

function merge(parts: JsonSchema[]): JsonSchema {
  const out: JsonSchema = { type: "object", properties: {}, required: [] };
  for (const p of parts) {
    const r = p.allOf ? merge(p.allOf) : p;
    Object.assign(out.properties!, r.properties ?? {});
    out.required!.push(...(r.required ?? []));
    if (r.nullable) out.nullable = true;
  }
  return out;
}

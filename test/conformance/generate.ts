// Answers generated from a provider's published description (OpenAPI / JSON Schema), in three shapes:
//  random  — seeded: optional members present half the time, nullable ones null a fifth of the time;
//  sparse  — every optional member dropped;
//  minimal — required members only, and every nullable one null.
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
}

export class Generator {
  /** Every value of a string field with this name is unique within the generator (ids, logins). */
  private serial = 0;

  constructor(
    private readonly random: Random,
    readonly shape: Shape,
  ) {}

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
    if (this.isNullable(s) && (this.shape === "minimal" || (this.shape === "random" && this.chance(0.2)))) return null;
    const variants = s.oneOf ?? s.anyOf;
    if (variants) {
      const nonNull = variants.filter((v) => v.type !== "null");
      if (nonNull.length === 0) return null;
      return this.value(this.shape === "random" ? this.pick(nonNull) : nonNull[0]!, name, depth);
    }
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
        return this.integer(s, name);
      case "number":
        return Math.round(this.random() * 1e6) / 100;
      case "boolean":
        return this.chance(0.5);
      default:
        return this.string(s, name);
    }
  }

  private object(s: JsonSchema, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const required = new Set(s.required ?? []);
    for (const [key, prop] of Object.entries(s.properties ?? {})) {
      const keep = required.has(key) || (this.shape === "random" && this.chance(0.5));
      if (!keep || depth > 8) continue;
      out[key] = this.value(prop, key, depth + 1);
    }
    return out;
  }

  private integer(s: JsonSchema, name: string): number {
    if (name === "id" || name.endsWith("_id")) return 1000 + ++this.serial;
    const lo = s.minimum ?? 0;
    const hi = s.maximum ?? lo + 10_000;
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  private string(s: JsonSchema, name: string): string {
    switch (s.format) {
      case "date-time": {
        // Anywhere from 1990 to 2035: real past dates too, which are dates, not sentinels.
        const t = Date.UTC(1990, 0, 1) + Math.floor(this.random() * 45 * 365.25 * 86_400_000);
        return new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
      }
      case "date":
        return new Date(Date.UTC(1990 + Math.floor(this.random() * 45), Math.floor(this.random() * 12), 1 + Math.floor(this.random() * 28))).toISOString().slice(0, 10);
      case "uri":
        return `https://example.invalid/${name || "x"}/${++this.serial}`;
      case "email":
        return `user${++this.serial}@example.invalid`;
    }
    const n = ++this.serial;
    if (name === "node_id") return `N_gen${n}`;
    if (name === "login" || name === "slug" || name === "name") return `${name}-${n}`;
    return this.shape === "random" ? `${name || "s"}-${n}-${Math.floor(this.random() * 1e6).toString(36)}` : `${name || "s"}-${n}`;
  }
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

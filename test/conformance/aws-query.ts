// AWS service-model shapes (botocore JSON, cut in descriptions/aws-iam.json) for the conformance sweep: as the
// generator's JSON Schema, and a generated value rendered in the Query protocol's XML (what IAM answers).
import type { JsonSchema } from "./generate.js";

export interface ShapeRef {
  shape: string;
  locationName?: string;
}

export interface ModelShape {
  type: "structure" | "list" | "map" | "string" | "timestamp" | "blob" | "boolean" | "integer" | "long" | "double" | "float";
  members?: Record<string, ShapeRef>;
  required?: string[];
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  flattened?: boolean;
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
}

export type Shapes = Record<string, ModelShape>;

/** A shape as JSON Schema; a shape met again on its own path is cut to {}. */
export function schemaOf(shapes: Shapes, name: string, trail: string[] = []): JsonSchema {
  if (trail.includes(name)) return {};
  const s = shapes[name]!;
  const next = [...trail, name];
  switch (s.type) {
    case "structure":
      return {
        type: "object",
        required: s.required ?? [],
        properties: Object.fromEntries(Object.entries(s.members ?? {}).map(([k, m]) => [k, schemaOf(shapes, m.shape, next)])),
      };
    case "list":
      return { type: "array", items: schemaOf(shapes, s.member!.shape, next), ...(s.min ? { minItems: s.min } : {}) };
    case "map":
      return { type: "object", additionalProperties: schemaOf(shapes, s.value!.shape, next) };
    case "timestamp":
      return { type: "string", format: "date-time" };
    case "blob":
      return { type: "string", format: "byte" };
    case "boolean":
      return { type: "boolean" };
    case "integer":
    case "long":
      return { type: "integer", ...(s.min !== undefined ? { minimum: s.min } : {}), ...(s.max !== undefined ? { maximum: s.max } : {}) };
    case "double":
    case "float":
      return { type: "number" };
    default:
      return { type: "string", ...(s.enum ? { enum: s.enum } : {}), ...(s.min ? { minLength: s.min } : {}), ...(s.pattern ? { pattern: s.pattern } : {}) };
  }
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The members of a structure value as Query XML elements (the inside of `<ActionResult>`). */
export function renderQuery(shapes: Shapes, name: string, value: unknown): string {
  const s = shapes[name]!;
  switch (s.type) {
    case "structure": {
      const v = value as Record<string, unknown>;
      let out = "";
      for (const [k, m] of Object.entries(s.members ?? {})) {
        if (v[k] === undefined || v[k] === null) continue;
        out += element(shapes, m.locationName ?? k, m.shape, v[k]);
      }
      return out;
    }
    case "list": {
      const item = s.member!;
      return (value as unknown[]).map((x) => element(shapes, item.locationName ?? "member", item.shape, x)).join("");
    }
    case "map":
      return Object.entries(value as Record<string, unknown>)
        .map(([k, x]) => `<entry>${element(shapes, "key", s.key!.shape, k)}${element(shapes, "value", s.value!.shape, x)}</entry>`)
        .join("");
    default:
      return esc(String(value));
  }
}

function element(shapes: Shapes, tag: string, shape: string, value: unknown): string {
  const s = shapes[shape]!;
  // A flattened list repeats its element without a wrapper; IAM's are not, but the model says which.
  if (s.type === "list" && s.flattened) return (value as unknown[]).map((x) => element(shapes, tag, s.member!.shape, x)).join("");
  return `<${tag}>${renderQuery(shapes, shape, value)}</${tag}>`;
}

/** A generated value as the SDK hands it to the connector: timestamps as Date (the rest is as generated). */
export function sdkValue(shapes: Shapes, name: string, value: unknown): unknown {
  const s = shapes[name]!;
  if (value === undefined || value === null) return value;
  switch (s.type) {
    case "structure":
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, s.members?.[k] ? sdkValue(shapes, s.members[k]!.shape, v) : v]));
    case "list":
      return (value as unknown[]).map((x) => sdkValue(shapes, s.member!.shape, x));
    case "timestamp":
      return new Date(String(value));
    default:
      return value;
  }
}

// Google's partial-response `fields` selector (https://developers.google.com/workspace/admin/directory/v1/guides/performance#partial-response),
// as the simulator applies it: `a,b/c,d(e,f/g),*`. Sub-selections apply to every element of an array.
// Unknown names are refused the way Google refuses them, so a typo in the connector's mask fails a test
// instead of silently returning nothing.

/** name → true (the whole value) or a nested selection. */
export type FieldSelection = Map<string, true | FieldSelection>;

/** What names exist below a node; `"any"` accepts any name (free-form maps such as customSchemas). */
export type FieldSchema = { readonly [name: string]: true | FieldSchema } | "any";

export class FieldSelectionError extends Error {
  override name = "FieldSelectionError";
}

export function parseFields(text: string): FieldSelection {
  let pos = 0;
  const fail = (why: string): never => {
    throw new FieldSelectionError(`Invalid field selection ${text}: ${why} at position ${pos}`);
  };

  const name = (): string => {
    const m = /^(\*|[A-Za-z_$][A-Za-z0-9_$.@-]*)/.exec(text.slice(pos));
    if (!m) fail("expected a field name");
    pos += m![0].length;
    return m![0];
  };

  // One comma-separated list, until `)` (nested) or the end.
  const list = (nested: boolean): FieldSelection => {
    const out: FieldSelection = new Map();
    for (;;) {
      path(out);
      if (pos >= text.length) {
        if (nested) fail("missing )");
        return out;
      }
      const c = text[pos];
      if (c === ",") {
        pos++;
        continue;
      }
      if (c === ")") {
        if (!nested) fail("unbalanced )");
        pos++;
        return out;
      }
      fail(`unexpected ${JSON.stringify(c)}`);
    }
  };

  // `a/b/c(d,e)` merged into `into`.
  const path = (into: FieldSelection): void => {
    const key = name();
    if (text[pos] === "/") {
      pos++;
      const child = subSelection(into, key);
      if (child) path(child);
      return;
    }
    if (text[pos] === "(") {
      pos++;
      const inner = list(true);
      const child = subSelection(into, key);
      if (child) for (const [k, v] of inner) merge(child, k, v);
      return;
    }
    into.set(key, true);
  };

  return list(false);
}

/** The nested selection for `key`, creating it; undefined when `key` is already selected whole. */
function subSelection(into: FieldSelection, key: string): FieldSelection | undefined {
  const existing = into.get(key);
  if (existing === true) return undefined;
  if (existing) return existing;
  const created: FieldSelection = new Map();
  into.set(key, created);
  return created;
}

function merge(into: FieldSelection, key: string, value: true | FieldSelection): void {
  if (value === true) {
    into.set(key, true);
    return;
  }
  const child = subSelection(into, key);
  if (child) for (const [k, v] of value) merge(child, k, v);
}

/** Throws FieldSelectionError for a name the schema does not know. */
export function validateFields(selection: FieldSelection, schema: FieldSchema, prefix = ""): void {
  if (schema === "any") return;
  for (const [key, sub] of selection) {
    if (key === "*") continue;
    const node = schema[key];
    if (node === undefined) throw new FieldSelectionError(`Invalid field selection ${prefix}${key}`);
    if (sub !== true && node !== true) validateFields(sub, node, `${prefix}${key}/`);
  }
}

/** A copy of `value` holding only the selected fields. */
export function applyFields(value: unknown, selection: FieldSelection): unknown {
  if (Array.isArray(value)) return value.map((v) => applyFields(v, selection));
  if (value === null || typeof value !== "object") return value;
  const src = value as Record<string, unknown>;
  const star = selection.get("*");
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(src)) {
    const sel = selection.get(key) ?? star;
    if (sel === undefined) continue;
    out[key] = sel === true ? v : applyFields(v, sel);
  }
  return out;
}

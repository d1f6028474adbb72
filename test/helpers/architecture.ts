// Static checks of the code's shape (test/core/architecture.test.ts): where SQL may live and which folders may
// import which. Parsed with TypeScript's parser only (no type checker), so a check of the whole tree takes a
// second, not a compile.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

export const ROOT = path.resolve(import.meta.dirname, "../..");

/** Every .ts file under the given folders (relative to the repository, "/"-separated), simulators included. */
export function tsFiles(...dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== "node_modules") walk(child);
      } else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(child);
    }
  };
  for (const d of dirs) walk(d);
  return out.sort();
}

export function parse(file: string, text = readFileSync(path.join(ROOT, file), "utf8")): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

const cache = new Map<string, ts.SourceFile>();
/** A repository file parsed once per test process: several checks walk the same tree. */
export function parsed(file: string): ts.SourceFile {
  let source = cache.get(file);
  if (!source) cache.set(file, (source = parse(file)));
  return source;
}

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((c) => walk(c, visit));
}

/**
 * SQL as it is written in this code base: upper-case statements. Upper case only, so prose ("select the
 * rows from …") and provider constants (GROUPS_UPDATE) are not SQL; an SQL string written in lower case
 * would slip through, which no module here does.
 */
const SQL = [
  /\bSELECT\b[\s\S]*\bFROM\b/,
  /\bINSERT\s+(OR\s+\w+\s+)?INTO\b/,
  /\bUPDATE\s+\w+\s+SET\b/,
  /\bDELETE\s+FROM\b/,
  /\b(CREATE|DROP|ALTER)\s+(TABLE|INDEX|VIEW|TRIGGER)\b/,
  /\bPRAGMA\s+\w+/,
  /\bsqlite_master\b/,
];

export const looksLikeSql = (text: string): boolean => SQL.some((re) => re.test(text));

/** Receivers that are a database or a transaction handle by the names this code gives them. */
const DB_RECEIVER = /(^|\.)(db|database|sqlite|tx|store)$/i;

export interface SqlUse {
  file: string;
  line: number;
  what: string;
}

/**
 * Where a file runs or writes SQL: a call of `.prepare(` / `.exec(` on a database handle or with a string
 * argument (RegExp#exec on a pattern is not SQL), and any string or template literal that reads as SQL.
 */
export function sqlUses(source: ts.SourceFile): SqlUse[] {
  const out: SqlUse[] = [];
  const at = (n: ts.Node, what: string) => out.push({ file: source.fileName, line: source.getLineAndCharacterOfPosition(n.getStart(source)).line + 1, what });
  walk(source, (n) => {
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression)) {
      const method = n.expression.name.text;
      const receiver = n.expression.expression;
      if ((method === "prepare" || method === "exec") && !ts.isRegularExpressionLiteral(receiver)) {
        const arg = n.arguments[0];
        const literalArg = arg !== undefined && (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg) || ts.isTemplateExpression(arg));
        if (literalArg || DB_RECEIVER.test(receiver.getText(source))) at(n, `${receiver.getText(source)}.${method}(…)`);
      }
    }
    let text: string | undefined;
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) text = n.text;
    else if (ts.isTemplateExpression(n)) text = [n.head.text, ...n.templateSpans.map((s) => s.literal.text)].join(" ? ");
    if (text !== undefined && looksLikeSql(text)) at(n, `SQL in a string: ${JSON.stringify(text.replace(/\s+/g, " ").slice(0, 60))}`);
  });
  return out;
}

/** An import or re-export that TypeScript erases: it names types only and loads nothing at run time. */
function typeOnly(n: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(n)) return n.isTypeOnly || (n.exportClause !== undefined && ts.isNamedExports(n.exportClause) && n.exportClause.elements.every((e) => e.isTypeOnly));
  const clause = n.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return clause.name === undefined && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

/**
 * Module specifiers a file imports: static imports, re-exports and dynamic import() with a literal; with
 * `runtime`, only those that load the module when the file runs (type-only imports left out).
 */
export function moduleSpecifiers(source: ts.SourceFile, opts: { runtime?: boolean } = {}): string[] {
  const out: string[] = [];
  walk(source, (n) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      if (!(opts.runtime && typeOnly(n))) out.push(n.moduleSpecifier.text);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) out.push(n.arguments[0].text);
  });
  return out;
}

/** The relative ones: the modules of this repository a file imports. */
export const importSpecifiers = (source: ts.SourceFile, opts: { runtime?: boolean } = {}): string[] => moduleSpecifiers(source, opts).filter((s) => s.startsWith("."));

/** "src/a/b.js" imported from "src/c/d.ts" → the repository path of the .ts module it names. */
export function resolveImport(from: string, specifier: string): string {
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier)).replace(/\.js$/, ".ts");
}

/**
 * The unit a module belongs to for the folder graph: its folder under src/ or connectors/ ("src/store",
 * "connectors/github"), or, for a module directly in src/ or connectors/, the module itself ("src/collect").
 * The declared contract modules (what connectors may import, spread over a few folders) are one unit,
 * "contract", whatever folder they sit in.
 */
export function unitOf(file: string, contracts: ReadonlySet<string> = new Set()): string {
  if (contracts.has(file)) return "contract";
  const parts = file.split("/");
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : file.replace(/\.ts$/, "");
}

export type Graph = Map<string, Map<string, string[]>>;

/**
 * unit → unit it imports → the import lines that make the edge ("src/a/x.ts → src/b/y.ts"), self-edges left
 * out, and the import lines in `skip` too.
 */
export function unitGraph(files: string[], opts: { contracts?: ReadonlySet<string>; runtime?: boolean; skip?: ReadonlySet<string> } = {}): Graph {
  const g: Graph = new Map();
  for (const file of files) {
    const from = unitOf(file, opts.contracts);
    if (!g.has(from)) g.set(from, new Map());
    for (const spec of importSpecifiers(parsed(file), opts)) {
      const target = resolveImport(file, spec);
      const to = unitOf(target, opts.contracts);
      if (to === from || opts.skip?.has(`${file} → ${target}`)) continue;
      const edges = g.get(from)!;
      edges.set(to, [...(edges.get(to) ?? []), `${file} → ${target}`]);
    }
  }
  return g;
}

/** Strongly connected components of more than one unit (Tarjan): each is a cycle between folders. */
export function cycles(g: Graph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const connect = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v)?.keys() ?? []) {
      if (!idx.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) connect(v);
  return out;
}

/** The import lines inside one cycle: what to cut. */
export function cycleEdges(g: Graph, scc: string[]): string[] {
  const members = new Set(scc);
  return scc.flatMap((u) => [...(g.get(u) ?? [])].filter(([v]) => members.has(v)).flatMap(([, lines]) => lines));
}

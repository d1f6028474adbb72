#!/usr/bin/env node
// Refreshes the cut provider descriptions the conformance tests generate answers from (data, not code): keeps
// the answer schemas of the calls each connector makes, every $ref inlined so each schema stands alone.
//   node test/conformance/refresh-descriptions.mjs github [version]   @octokit/openapi through npm
//   node test/conformance/refresh-descriptions.mjs google [dir]       Discovery documents admin:directory_v1 and iam:v1,
//        from the Discovery service, or from dir/admin-directory_v1.json and dir/iam-v1.json (a saved copy)
//   node test/conformance/refresh-descriptions.mjs aws [dir]          the service models (botocore JSON) of IAM, STS and Organizations, from dir or
//        the botocore data directory of the local Python (pip install botocore)
//   node test/conformance/refresh-descriptions.mjs entra FILE [REV]    Graph's CSDL (msgraph-metadata's
//        clean_v10_metadata/cleanMetadata.xml, REV: that repository's commit)
import { execFileSync } from "node:child_process";
import { gunzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const GITHUB_ROUTES = [
  "/orgs/{org}",
  "/orgs/{org}/members",
  "/orgs/{org}/outside_collaborators",
  "/orgs/{org}/invitations",
  "/orgs/{org}/failed_invitations",
  "/orgs/{org}/teams",
  "/orgs/{org}/teams/{team_slug}/members",
  "/orgs/{org}/teams/{team_slug}/repos",
  "/orgs/{org}/repos",
  "/repos/{owner}/{repo}/collaborators",
  "/repos/{owner}/{repo}/keys",
  "/orgs/{org}/installations",
  "/orgs/{org}/personal-access-tokens",
  "/orgs/{org}/personal-access-token-requests",
  "/orgs/{org}/credential-authorizations",
];

/** Inlines $ref; a schema met again on its own path (a recursive type) is cut to {} there. */
function inline(doc, node, trail = []) {
  if (Array.isArray(node)) return node.map((n) => inline(doc, n, trail));
  if (!node || typeof node !== "object") return node;
  if (typeof node.$ref === "string") {
    if (trail.includes(node.$ref)) return {};
    const target = node.$ref.replace(/^#\//, "").split("/").reduce((o, k) => o[k], doc);
    return inline(doc, target, [...trail, node.$ref]);
  }
  const out = {};
  for (const [k, v] of Object.entries(node)) if (k !== "examples" && k !== "example") out[k] = inline(doc, v, trail);
  return out;
}

function refreshGithub(version = "23.0.2") {
  const dir = mkdtempSync(join(tmpdir(), "whohas-descriptions-"));
  try {
    execFileSync("npm", ["pack", `@octokit/openapi@${version}`, "--silent"], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
    execFileSync("tar", ["xzf", `octokit-openapi-${version}.tgz`, "package/generated/ghec.json"], { cwd: dir });
    const doc = JSON.parse(readFileSync(join(dir, "package/generated/ghec.json"), "utf8"));
    const routes = {};
    for (const route of GITHUB_ROUTES) {
      const schema = doc.paths[route]?.get?.responses?.["200"]?.content?.["application/json"]?.schema;
      if (!schema) throw new Error(`${route}: no 200 JSON answer in the description`);
      routes[route] = inline(doc, schema);
    }
    const out = { source: `npm @octokit/openapi@${version} generated/ghec.json`, revision: doc.info.version, routes };
    writeFileSync(new URL("./descriptions/github-ghec.json", import.meta.url), JSON.stringify(out) + "\n");
    console.log(`github-ghec.json: ${Object.keys(routes).length} routes from @octokit/openapi ${version} (${doc.info.version})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- Google: Discovery documents -----------------------------------------------------------------

/** The list methods the google-workspace connector calls (gcp_projects included). */
const GOOGLE_METHODS = {
  directory: ["users", "roles", "roleAssignments", "tokens", "asps"].map((r) => ["resources", r, "methods", "list"]),
  iam: [
    ["resources", "projects", "resources", "serviceAccounts", "methods", "list"],
    ["resources", "projects", "resources", "serviceAccounts", "resources", "keys", "methods", "list"],
  ],
};
const DISCOVERY = {
  directory: { file: "admin-directory_v1.json", url: "https://admin.googleapis.com/$discovery/rest?version=directory_v1" },
  iam: { file: "iam-v1.json", url: "https://iam.googleapis.com/$discovery/rest?version=v1" },
};

/** A Discovery schema as the generator's JSON Schema: $ref (a schema id) inlined, prose dropped; a type met again on its own path is cut to {}. */
function discoverySchema(doc, node, trail = []) {
  if (Array.isArray(node)) return node.map((n) => discoverySchema(doc, n, trail));
  if (!node || typeof node !== "object") return node;
  if (typeof node.$ref === "string") {
    if (trail.includes(node.$ref)) return {};
    return discoverySchema(doc, doc.schemas[node.$ref], [...trail, node.$ref]);
  }
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (["description", "enumDescriptions", "annotations", "id", "default", "deprecated"].includes(k)) continue;
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, discoverySchema(doc, s, trail)])) : discoverySchema(doc, v, trail);
  }
  return out;
}

async function refreshGoogle(from) {
  const methods = {};
  const revisions = {};
  for (const [api, where] of Object.entries(DISCOVERY)) {
    const doc = from ? JSON.parse(readFileSync(join(from, where.file), "utf8")) : await (await fetch(where.url)).json();
    revisions[doc.id] = doc.revision;
    for (const trail of GOOGLE_METHODS[api]) {
      const m = trail.reduce((o, k) => o?.[k], doc);
      if (!m?.response) throw new Error(`${doc.id}: ${trail.join(".")} has no response in the description`);
      methods[m.id] = { path: m.flatPath ?? m.path, scopes: m.scopes ?? [], response: discoverySchema(doc, m.response) };
    }
  }
  const out = { source: from ? `Discovery documents (saved copy: ${Object.values(DISCOVERY).map((d) => d.file).join(", ")})` : "Google Discovery service", revisions, methods };
  writeFileSync(new URL("./descriptions/google-discovery.json", import.meta.url), JSON.stringify(out) + "\n");
  console.log(`google-discovery.json: ${Object.keys(methods).length} methods (${Object.entries(revisions).map(([k, v]) => `${k} ${v}`).join(", ")})`);
}

// ---- AWS: the IAM service model (botocore JSON) -------------------------------------------------------

/** The IAM actions the aws-iam connector reads records from. */
/** Per AWS service: where botocore keeps its model, the calls the aws-iam connector makes, and the file cut. */
const AWS_SERVICES = [
  { service: "iam", version: "2010-05-08", operations: ["GetAccountAuthorizationDetails", "ListAccessKeys", "GetAccessKeyLastUsed", "GetCredentialReport"], file: "aws-iam.json" },
  { service: "sts", version: "2011-06-15", operations: ["GetCallerIdentity", "AssumeRole"], file: "aws-sts.json" },
  { service: "organizations", version: "2016-11-28", operations: ["ListAccounts", "DescribeOrganization"], file: "aws-organizations.json" },
];

/** Shapes reachable from `name`, prose dropped (the Query serializer needs locationName / flattened, so they stay botocore's). */
function reachable(shapes, name, out = {}) {
  if (out[name]) return out;
  const { documentation: _d, ...shape } = shapes[name];
  const strip = (m) => Object.fromEntries(Object.entries(m).filter(([k]) => k !== "documentation"));
  if (shape.members) shape.members = Object.fromEntries(Object.entries(shape.members).map(([k, m]) => [k, strip(m)]));
  out[name] = shape;
  for (const ref of [...Object.values(shape.members ?? {}), shape.member, shape.key, shape.value].filter(Boolean)) reachable(shapes, ref.shape, out);
  return out;
}

function refreshAws(dir) {
  const data = dir ?? join(execFileSync("python3", ["-c", "import botocore, os; print(os.path.dirname(botocore.__file__))"], { encoding: "utf8" }).trim(), "data");
  const version = dir ? "(saved copy)" : execFileSync("python3", ["-c", "import botocore; print(botocore.__version__)"], { encoding: "utf8" }).trim();
  for (const svc of AWS_SERVICES) {
    const file = join(data, svc.service, svc.version, "service-2.json");
    let text;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      text = gunzipSync(readFileSync(`${file}.gz`)).toString("utf8");
    }
    const model = JSON.parse(text);
    const operations = {};
    const shapes = {};
    for (const op of svc.operations) {
      const o = model.operations[op];
      if (!o?.output) throw new Error(`${svc.service} ${op}: no output in the model`);
      operations[op] = { output: o.output.shape, resultWrapper: o.output.resultWrapper };
      reachable(model.shapes, o.output.shape, shapes);
    }
    const out = { source: `botocore ${version} data/${svc.service}/${svc.version}/service-2.json`, revision: `${model.metadata.uid} (${model.metadata.protocol})`, operations, shapes };
    writeFileSync(new URL(`./descriptions/${svc.file}`, import.meta.url), JSON.stringify(out) + "\n");
    console.log(`${svc.file}: ${Object.keys(operations).length} operations, ${Object.keys(shapes).length} shapes (${out.source})`);
  }
}

// ---- Entra: Microsoft Graph's CSDL (v1.0) -----------------------------------------------------------

/** The entity types the entra-id connector lists. */
const GRAPH_ENTITIES = ["user", "servicePrincipal", "application", "unifiedRoleDefinition", "unifiedRoleAssignment"];

/** Types of the microsoft.graph schema, by a regular reading of CSDL (no other namespace is needed). */
function csdlTypes(xml) {
  const start = xml.indexOf('<Schema Namespace="microsoft.graph"');
  const schema = xml.slice(start, xml.indexOf("</Schema>", start));
  const types = new Map();
  const re = /<(EntityType|ComplexType|EnumType) Name="([^"]+)"([^>]*?)(\/?)>([\s\S]*?)(?:<\/\1>|(?=<(?:EntityType|ComplexType|EnumType) ))/g;
  for (const m of schema.matchAll(re)) {
    const [, kind, name, attrs, selfClosing, body] = m;
    const base = /BaseType="graph\.([^"]+)"/.exec(attrs)?.[1];
    const text = selfClosing ? "" : body;
    const properties = [...text.matchAll(/<Property Name="([^"]+)" Type="([^"]+)"([^>]*)\/>/g)].map(([, n, t, rest]) => ({ name: n, type: t, nullable: !/Nullable="false"/.test(rest) }));
    const members = [...text.matchAll(/<Member Name="([^"]+)"/g)].map((x) => x[1]);
    const key = /<PropertyRef Name="([^"]+)"/.exec(text)?.[1];
    types.set(name, { kind, base, properties, members, key });
  }
  return types;
}

/**
 * A CSDL type as the generator's JSON Schema: Nullable="false" (and the key) required and not null, every other
 * member optional and nullable; a collection's elements nullable unless Nullable="false".
 */
function csdlSchema(types, typeName, trail = []) {
  const collection = /^Collection\((.+)\)$/.exec(typeName);
  if (collection) return { type: "array", items: csdlSchema(types, collection[1], trail) };
  const edm = {
    "Edm.String": { type: "string" },
    "Edm.Guid": { type: "string", format: "uuid" },
    "Edm.DateTimeOffset": { type: "string", format: "date-time" },
    "Edm.Date": { type: "string", format: "date" },
    "Edm.Boolean": { type: "boolean" },
    "Edm.Int32": { type: "integer" },
    "Edm.Int64": { type: "integer" },
    "Edm.Binary": { type: "string", format: "byte" },
    "Edm.Duration": { type: "string" },
  }[typeName];
  if (edm) return edm;
  const name = typeName.replace(/^graph\./, "").replace(/^microsoft\.graph\./, "");
  const t = types.get(name);
  if (!t || trail.includes(name)) return {};
  if (t.kind === "EnumType") return { type: "string", enum: t.members };
  const chain = [];
  for (let c = t; c; c = c.base ? types.get(c.base) : undefined) chain.unshift(c);
  const properties = {};
  const required = [];
  for (const c of chain) {
    for (const p of c.properties) {
      const s = csdlSchema(types, p.type, [...trail, name]);
      // On a collection, Nullable speaks of its elements (OData CSDL 4.0, 7.2.1): the collection itself is never null.
      if (s.type === "array") {
        properties[p.name] = p.nullable ? { ...s, items: { ...s.items, nullable: true } } : s;
        continue;
      }
      const notNull = !p.nullable || p.name === c.key;
      properties[p.name] = notNull ? s : { ...s, nullable: true };
      if (notNull) required.push(p.name);
    }
  }
  return { type: "object", properties, required };
}

function refreshEntra(file, revision) {
  if (!file) throw new Error("entra: give the path of clean_v10_metadata/cleanMetadata.xml");
  const xml = readFileSync(file, "utf8");
  const types = csdlTypes(xml);
  const entities = {};
  for (const e of GRAPH_ENTITIES) {
    if (!types.has(e)) throw new Error(`entra: no EntityType ${e} in the CSDL`);
    entities[e] = csdlSchema(types, e);
  }
  const sha = createHash("sha256").update(xml).digest("hex").slice(0, 12);
  const out = { source: "microsoftgraph/msgraph-metadata clean_v10_metadata/cleanMetadata.xml", revision: `${revision ?? "unknown commit"} (sha256 ${sha})`, entities };
  writeFileSync(new URL("./descriptions/graph-v1.0.json", import.meta.url), JSON.stringify(out) + "\n");
  console.log(`graph-v1.0.json: ${GRAPH_ENTITIES.length} entity types (${out.revision})`);
}

const [provider, arg, arg2] = process.argv.slice(2);
if (provider === "github") refreshGithub(arg);
else if (provider === "google") await refreshGoogle(arg);
else if (provider === "aws") refreshAws(arg);
else if (provider === "entra") refreshEntra(arg, arg2);
else {
  console.error("usage: refresh-descriptions.mjs github [version] | google [dir] | aws [botocore data dir] | entra cleanMetadata.xml [commit]");
  process.exit(2);
}

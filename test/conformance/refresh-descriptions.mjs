#!/usr/bin/env node
// Refreshes the cut provider descriptions the conformance tests generate answers from (data, not code): keeps
// the answer schemas of the calls each connector makes, every $ref inlined so each schema stands alone.
//   node test/conformance/refresh-descriptions.mjs github [version]   @octokit/openapi through npm
//   node test/conformance/refresh-descriptions.mjs google [dir]       Discovery documents admin:directory_v1 and iam:v1,
//        from the Discovery service, or from dir/admin-directory_v1.json and dir/iam-v1.json (a saved copy)
//   node test/conformance/refresh-descriptions.mjs aws [dir]          IAM's service model (botocore JSON), from dir or
//        the botocore data directory of the local Python (pip install botocore)
import { execFileSync } from "node:child_process";
import { gunzipSync } from "node:zlib";
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
const AWS_OPERATIONS = ["GetAccountAuthorizationDetails", "ListAccessKeys", "GetAccessKeyLastUsed", "GetCredentialReport"];

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
  const file = join(data, "iam", "2010-05-08", "service-2.json");
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    text = gunzipSync(readFileSync(`${file}.gz`)).toString("utf8");
  }
  const model = JSON.parse(text);
  const operations = {};
  const shapes = {};
  for (const op of AWS_OPERATIONS) {
    const o = model.operations[op];
    if (!o?.output) throw new Error(`iam ${op}: no output in the model`);
    operations[op] = { output: o.output.shape, resultWrapper: o.output.resultWrapper };
    reachable(model.shapes, o.output.shape, shapes);
  }
  const out = { source: `botocore ${version} data/iam/2010-05-08/service-2.json`, revision: `${model.metadata.uid} (${model.metadata.protocol})`, operations, shapes };
  writeFileSync(new URL("./descriptions/aws-iam.json", import.meta.url), JSON.stringify(out) + "\n");
  console.log(`aws-iam.json: ${Object.keys(operations).length} operations, ${Object.keys(shapes).length} shapes (${out.source})`);
}

const [provider, arg] = process.argv.slice(2);
if (provider === "github") refreshGithub(arg);
else if (provider === "google") await refreshGoogle(arg);
else if (provider === "aws") refreshAws(arg);
else {
  console.error("usage: refresh-descriptions.mjs github [version] | google [dir] | aws [botocore data dir]");
  process.exit(2);
}

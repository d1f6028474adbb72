#!/usr/bin/env node
// Refreshes the cut provider descriptions the conformance tests generate answers from (data, not code):
// fetches the published description through npm, keeps the 200-answer schemas of the routes the connector
// reads, and inlines every $ref so each schema stands alone. Usage: node test/conformance/refresh-descriptions.mjs [version]
import { execFileSync } from "node:child_process";
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

const version = process.argv[2] ?? "23.0.2";
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

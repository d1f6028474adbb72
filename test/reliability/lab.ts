// The reliability lab: every connector's simulator on loopback, each source with an "affected" scope
// (where faults go) and at least one "unaffected" scope, secrets seeded with canary values, one config
// file. The fault matrix, the canary scan and the permission checks all run against this one setup.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONNECTORS } from "../../connectors/index.js";
import { generateOrganization } from "../../connectors/aws-iam/sim-tenant.js";
import { startAwsSimulator, type AwsSimulator } from "../../connectors/aws-iam/simulator.js";
import { generateTenant as generateEntraTenant, startEntraSimulator, type EntraSimulator, type SimTenant as EntraTenant } from "../../connectors/entra-id/simulator.js";
import { startGithubSimulator, type GithubSimulator } from "../../connectors/github/simulator.js";
import { findOrg, generateTenant as generateGithubTenant } from "../../connectors/github/tenant.js";
import { startGoogleSimulator, type GoogleSimulator } from "../../connectors/google-workspace/simulator.js";
import { scopeOf } from "../../connectors/scim/options.js";
import { generateTenant as generateScimTenant } from "../../connectors/scim/sim-tenant.js";
import { startScimSimulator, type ScimSimulator } from "../../connectors/scim/simulator.js";
import { loadConfig, type Config } from "../../src/config/load.js";

export const MGMT = "111111111111";
export const PROD = "222222222222";
export const SANDBOX = "333333333333";
export const GITHUB_APP_ID = 29110;

export interface EntraSide {
  sim: EntraSimulator;
  tenant: EntraTenant;
  clientId: string;
  secret: string;
}

export interface Lab {
  dir: string;
  configPath: string;
  config: Config;
  /** Environment the sources' env: references need. */
  env: Record<string, string>;
  aws: AwsSimulator;
  entraA: EntraSide;
  entraB: EntraSide;
  googleA: GoogleSimulator;
  googleB: GoogleSimulator;
  github: GithubSimulator;
  /** Two SCIM apps on two simulators: faults go to A. */
  scimA: ScimSimulator;
  scimB: ScimSimulator;
  fileA: string;
  fileB: string;
  /** Every secret value the sources were given: none of them may appear in anything whohas writes. */
  canaries: string[];
  /** Source id → the scope faults are injected into. */
  affected: Record<string, string>;
  /** The files the sources' file: references point at. */
  secretFiles: { aws: string; entraA: string; entraB: string; googleA: string; googleB: string; github: string; githubPat: string; scimA: string; scimB: string };
  /** The GitHub App's private key (PEM), as written to secretFiles.github. */
  githubAppPem: string;
  /** Rewrites the config file (same sources) with extra top-level TOML and optionally another store. */
  writeConfig(extraToml?: string, storePath?: string): void;
  close(): Promise<void>;
}

export function canary(label: string): string {
  return `CANARY-${label}-${randomBytes(12).toString("hex")}`;
}

function fileCsv(system: string, n: number): string {
  const rows = ["username,email,display_name,status,mfa,role,access_level,created_at,last_active,credential_id,credential_kind,credential_created_at,credential_last_used"];
  for (let i = 0; i < n; i++) {
    const role = i === 0 ? `${system}-admin` : "viewer";
    const level = i === 0 ? "admin" : "read";
    rows.push(`user${i},user${i}@example.com,User ${i},active,enabled,${role},${level},2024-01-0${(i % 9) + 1},2025-05-01,${i % 3 === 0 ? `key-${system}-${i},pat,2024-02-01,never` : ",,,"}`);
  }
  return rows.join("\n") + "\n";
}

export interface LabOptions {
  /** Entra page cap and Google page size: small, so that every list has several pages to fault. */
  pageCap?: number;
}

export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), "whohas-reliability-"));
  const secretFile = (name: string, value: string) => {
    const path = join(dir, name);
    writeFileSync(path, value + "\n", { mode: 0o600 });
    return path;
  };
  const canaries: string[] = [];
  const pageCap = opts.pageCap ?? 40;

  // --- AWS: an organization of three accounts; the caller's secret key is a canary.
  const { org, caller } = generateOrganization({
    seed: 91,
    managementAccountId: MGMT,
    memberRoleName: "WhohasAudit",
    accounts: [
      { id: MGMT, name: "management", users: 4, roles: 5 },
      { id: PROD, name: "prod", users: 12, roles: 8, rootKeys: true },
      { id: SANDBOX, name: "sandbox", users: 5, roles: 5 },
    ],
  });
  const awsSecret = canary("aws-secret-access-key");
  org.identities.get(caller.accessKeyId)!.secretAccessKey = awsSecret;
  canaries.push(awsSecret);
  // Small pages: every account's authorization details come in several pages, so a cursor can loop.
  const aws = await startAwsSimulator({ org, maxAuthorizationDetailsItems: 6 });

  // --- Entra ID: two tenants on two simulators (a fault on one must not touch the other).
  const entraSide = async (seed: number, label: string): Promise<EntraSide> => {
    const tenant = generateEntraTenant({ seed, users: 130, applications: 6, thirdPartyApps: 1 });
    const clientId = tenant.newId();
    tenant.registerClient(clientId);
    const secret = canary(`entra-client-secret-${label}`);
    tenant.addClientSecret(clientId, secret);
    canaries.push(secret);
    const sim = await startEntraSimulator({ tenants: [tenant], maxPageSize: pageCap });
    return { sim, tenant, clientId, secret };
  };
  const entraA = await entraSide(501, "a");
  const entraB = await entraSide(502, "b");
  const entraCa = secretFile("entra-ca.pem", entraA.sim.ca);

  // --- Google Workspace: two customers on two simulators; the service-account keys are canaries.
  const googleA = await startGoogleSimulator({ seed: 601, users: 60 });
  const googleB = await startGoogleSimulator({ seed: 602, users: 45 });
  for (const g of [googleA, googleB]) {
    const key = g.tenant.serviceAccount.privateKeyPem;
    // A line from the middle of the PEM: unique to this key, and what a leak of the key would contain.
    const lines = key.split("\n").filter((l) => l.length >= 60);
    canaries.push(lines[Math.floor(lines.length / 2)]!);
  }

  // --- GitHub: two orgs, GitHub App auth; the App's private key is a canary.
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const appPem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const pemLines = appPem.split("\n").filter((l) => l.length >= 60);
  canaries.push(pemLines[Math.floor(pemLines.length / 2)]!);
  const ghTenant = generateGithubTenant({
    seed: 701,
    orgs: [
      { login: "acme", members: 150, owners: 3, outsideCollaborators: 4, repos: 6, teams: 2, patGrants: 3, invitations: 2 },
      { login: "beta", members: 40, owners: 2, outsideCollaborators: 2, repos: 3, teams: 1, patGrants: 2 },
    ],
  });
  const github = await startGithubSimulator({ tenant: ghTenant, app: { id: GITHUB_APP_ID, publicKey: publicKey.export({ type: "spki", format: "pem" }).toString() } });
  // A second source reads beta with a personal access token: the token is a canary too.
  const betaOwner = [...findOrg(ghTenant, "beta").members].find(([, role]) => role === "admin")![0];
  const pat = github.issuePat(ghTenant.users.get(betaOwner)!.login);
  canaries.push(pat);

  // --- SCIM: two apps, each one scope; their bearer tokens are canaries.
  const scimA = await startScimSimulator({ tenant: generateScimTenant({ seed: 801, users: 130, groups: 3 }), maxPageSize: pageCap });
  const scimB = await startScimSimulator({ tenant: generateScimTenant({ seed: 802, users: 45, groups: 2 }), maxPageSize: pageCap });
  scimA.tenant.token = canary("scim-token-a");
  scimB.tenant.token = canary("scim-token-b");
  canaries.push(scimA.tenant.token, scimB.tenant.token);

  // --- File exports.
  const fileA = join(dir, "erp-users.csv");
  const fileB = join(dir, "hr-users.csv");
  writeFileSync(fileA, fileCsv("erp", 25), { mode: 0o600 });
  writeFileSync(fileB, fileCsv("hr", 15), { mode: 0o600 });

  const env = { WHOHAS_LAB_AWS_KEY_ID: caller.accessKeyId };
  const paths = {
    aws: secretFile("aws-secret", awsSecret),
    entraA: secretFile("entra-a-secret", entraA.secret),
    entraB: secretFile("entra-b-secret", entraB.secret),
    googleA: secretFile("google-a-key.json", googleA.tenant.keyFile()),
    googleB: secretFile("google-b-key.json", googleB.tenant.keyFile()),
    github: secretFile("github-app.pem", appPem),
    githubPat: secretFile("github-pat", pat),
    scimA: secretFile("scim-a-token", scimA.tenant.token),
    scimB: secretFile("scim-b-token", scimB.tenant.token),
  };
  const toml = (s: string) => JSON.stringify(s);
  const sources = `
[[sources]]
id = "aws"
type = "aws-iam"
organization = true
member_role_name = "WhohasAudit"
access_key_id = "env:WHOHAS_LAB_AWS_KEY_ID"
secret_access_key = ${toml(`file:${paths.aws}`)}
region = "us-east-1"
endpoints = { iam = ${toml(aws.url)}, sts = ${toml(aws.url)}, organizations = ${toml(aws.url)} }
max_attempts = 3
request_timeout_ms = 1000

${(["a", "b"] as const)
  .map((k) => {
    const side = k === "a" ? entraA : entraB;
    return `[[sources]]
id = "entra-${k}"
type = "entra-id"
tenant_id = ${toml(side.tenant.id)}
client_id = ${toml(side.clientId)}
client_secret = ${toml(`file:${k === "a" ? paths.entraA : paths.entraB}`)}
authority_host = ${toml(side.sim.url)}
graph_base_url = ${toml(side.sim.url)}
ca_file = ${toml(entraCa)}
max_retries = 2
request_timeout_ms = 1000
`;
  })
  .join("\n")}
${(["a", "b"] as const)
  .map((k) => {
    const g = k === "a" ? googleA : googleB;
    return `[[sources]]
id = "google-${k}"
type = "google-workspace"
subject = ${toml(`admin@${g.tenant.domain}`)}
credentials = ${toml(`file:${k === "a" ? paths.googleA : paths.googleB}`)}
root_url = ${toml(g.rootUrl)}
token_url = ${toml(g.tokenUrl)}
page_size = 20
request_timeout_ms = 1000
`;
  })
  .join("\n")}
[[sources]]
id = "github"
type = "github"
orgs = ["acme", "beta"]
base_url = ${toml(github.baseUrl)}
app_id = ${GITHUB_APP_ID}
private_key = ${toml(`file:${paths.github}`)}
request_timeout_seconds = 1

[[sources]]
id = "github-pat"
type = "github"
orgs = ["beta"]
base_url = ${toml(github.baseUrl)}
token = ${toml(`file:${paths.githubPat}`)}
request_timeout_seconds = 1

[[sources]]
id = "scim-a"
type = "scim"
base_url = ${toml(scimA.baseUrl)}
token = ${toml(`file:${paths.scimA}`)}
label = "SCIM app A"
admin_groups = ["Admins"]
request_timeout_seconds = 1

[[sources]]
id = "scim-b"
type = "scim"
base_url = ${toml(scimB.baseUrl)}
token = ${toml(`file:${paths.scimB}`)}
admin_groups = ["Admins"]
request_timeout_seconds = 1

[[sources]]
id = "file-a"
type = "file"
path = ${toml(fileA)}
system = "erp"

[[sources]]
id = "file-b"
type = "file"
path = ${toml(fileB)}
system = "hr"
`;
  const configPath = join(dir, "whohas.toml");
  const writeConfig = (extraToml = "", storePath = join(dir, "whohas.db")) => {
    writeFileSync(configPath, `[store]\npath = ${toml(storePath)}\n\n[collect]\nconcurrency = 8\n${extraToml}\n${sources}`, { mode: 0o600 });
  };
  writeConfig();
  const lab: Lab = {
    dir,
    configPath,
    config: loadConfig(configPath, CONNECTORS),
    env,
    aws,
    entraA,
    entraB,
    googleA,
    googleB,
    github,
    scimA,
    scimB,
    fileA,
    fileB,
    canaries,
    affected: { aws: PROD, "entra-a": entraA.tenant.id.toLowerCase(), "google-a": "my_customer", github: "acme", "scim-a": scopeOf({ base_url: scimA.baseUrl }), "file-a": "erp" },
    secretFiles: paths,
    githubAppPem: appPem,
    writeConfig(extra, storePath) {
      writeConfig(extra, storePath);
      lab.config = loadConfig(configPath, CONNECTORS);
    },
    async close() {
      for (const s of [aws, entraA.sim, entraB.sim, googleA, googleB, github, scimA, scimB]) await s.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Sanity: the orgs exist as specified (a typo here would make every GitHub cell meaningless).
  findOrg(ghTenant, "acme");
  findOrg(ghTenant, "beta");
  return lab;
}

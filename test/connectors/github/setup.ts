// Shared wiring for the GitHub connector tests: an App key pair, a seeded simulator, and a connector
// whose rate-limit waits go to a test clock instead of real minutes.
import { generateKeyPairSync } from "node:crypto";
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGithubConnector } from "../../../connectors/github/index.js";
import { startGithubSimulator, type GithubSimulator, type GithubSimulatorOptions } from "../../../connectors/github/simulator.js";
import { generateTenant, type TenantSpec } from "../../../connectors/github/tenant.js";
import type { Connector } from "../../../src/connector.js";
import { type GithubOptions, githubOptions } from "../../../connectors/github/options.js";

export const APP_ID = 29110;

export interface AppKeys {
  privateKeyPem: string;
  publicKeyPem: string;
  keyFile: string;
}

export async function appKeys(): Promise<AppKeys> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const dir = await mkdtemp(join(tmpdir(), "whohas-gh-"));
  const keyFile = join(dir, "app.pem");
  const privateKeyPem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  await writeFile(keyFile, privateKeyPem, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  return { privateKeyPem, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), keyFile };
}

/** Records every rate-limit wait the connector asks for; `onSleep` lets a test advance the simulator. */
export class TestClock {
  readonly waits: number[] = [];
  onSleep?: (ms: number) => void;
  readonly sleep = async (ms: number, signal: AbortSignal): Promise<void> => {
    if (signal.aborted) throw signal.reason;
    this.waits.push(ms);
    this.onSleep?.(ms);
  };
}

export const SMALL: TenantSpec = {
  seed: 11,
  orgs: [{ login: "acme", members: 250, owners: 6, outsideCollaborators: 14, repos: 130, teams: 9, teamSize: 12, invitations: 4, failedInvitations: 2, patGrants: 9, patRequests: 2, deployKeyRepos: 0.2, auditEvents: 400 }],
};

export async function startSim(spec: TenantSpec, keys: AppKeys | undefined, extra: Partial<GithubSimulatorOptions> = {}): Promise<GithubSimulator> {
  return startGithubSimulator({ tenant: generateTenant(spec), app: keys ? { id: APP_ID, publicKey: keys.publicKeyPem } : undefined, ...extra });
}

/** Options through the real zod schema, so defaults are the shipped ones. */
export function parseOptions(raw: Record<string, unknown>): GithubOptions {
  return githubOptions.parse(raw) as GithubOptions;
}

export function appConnector(gh: GithubSimulator, keys: AppKeys, clock = new TestClock(), raw: Record<string, unknown> = {}): Connector {
  const opts = parseOptions({ orgs: ["acme"], base_url: gh.baseUrl, app_id: APP_ID, private_key: `file:${keys.keyFile}`, ...raw });
  return createGithubConnector("gh-test", opts, { sleep: clock.sleep, retryBaseMs: 5 });
}

export function tokenConnector(gh: GithubSimulator, clock = new TestClock(), raw: Record<string, unknown> = {}): Connector {
  const opts = parseOptions({ orgs: ["acme"], base_url: gh.baseUrl, token: "env:GH_TOKEN", ...raw });
  return createGithubConnector("gh-test", opts, { sleep: clock.sleep, retryBaseMs: 5 });
}

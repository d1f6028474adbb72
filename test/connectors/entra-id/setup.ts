// Shared set-up: a seeded tenant on the Entra simulator, and source options pointing the real SDKs at it.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { entraOptions, type EntraOptions } from "../../../connectors/entra-id/options.js";
import { generateTenant, startEntraSimulator, type EntraSimulator, type EntraSimulatorOptions, type SimTenant, type TenantSpec } from "../../../connectors/entra-id/simulator.js";

export interface Fixture {
  sim: EntraSimulator;
  tenant: SimTenant;
  clientId: string;
  secret: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Parsed options (defaults applied) for a client-secret source; `extra` overrides keys. */
  options(extra?: Record<string, unknown>): EntraOptions;
  close(): Promise<void>;
}

export const SECRET_ENV = "WHOHAS_TEST_ENTRA_SECRET";

export async function startFixture(spec: TenantSpec, simOpts: Omit<EntraSimulatorOptions, "tenants"> = {}): Promise<Fixture> {
  const tenant = generateTenant(spec);
  const clientId = tenant.newId();
  tenant.registerClient(clientId);
  const secret = `s3cr3t~${randomBytes(18).toString("base64url")}`;
  tenant.addClientSecret(clientId, secret);
  const sim = await startEntraSimulator({ tenants: [tenant], ...simOpts });
  const dir = await mkdtemp(join(tmpdir(), "whohas-entra-"));
  const caFile = join(dir, "ca.pem");
  await writeFile(caFile, sim.ca, { mode: 0o600 });
  return {
    sim,
    tenant,
    clientId,
    secret,
    dir,
    env: { [SECRET_ENV]: secret },
    options(extra = {}) {
      return entraOptions.parse({
        tenant_id: tenant.id,
        client_id: clientId,
        client_secret: `env:${SECRET_ENV}`,
        authority_host: sim.url,
        graph_base_url: sim.url,
        ca_file: caFile,
        max_retries: 3,
        ...extra,
      });
    },
    async close() {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

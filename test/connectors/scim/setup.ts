// Shared wiring for the SCIM connector tests: a seeded simulator and a connector whose waits are
// recorded instead of slept (no test depends on wall time).
import { scimDescriptor } from "../../../connectors/scim/descriptor.js";
import { createScimConnector, type ScimOptions } from "../../../connectors/scim/index.js";
import { generateTenant, type TenantSpec } from "../../../connectors/scim/sim-tenant.js";
import { startScimSimulator, type ScimSimulator, type ScimSimulatorOptions } from "../../../connectors/scim/simulator.js";
import type { Connector } from "../../../src/connector.js";
import { DEFAULT_RETRY_POLICY } from "../../../src/http-policy.js";

export const TOKEN_ENV = "WHOHAS_TEST_SCIM_TOKEN";

export class TestClock {
  readonly waits: number[] = [];
  readonly sleep = async (ms: number, signal: AbortSignal): Promise<void> => {
    if (signal.aborted) throw signal.reason;
    this.waits.push(ms);
  };
}

export async function startSim(spec: Partial<TenantSpec> = {}, extra: Partial<ScimSimulatorOptions> = {}): Promise<ScimSimulator> {
  return startScimSimulator({ tenant: generateTenant({ seed: 7, users: 40, ...spec }), ...extra });
}

/** Options through the real zod schema, so defaults are the shipped ones. */
export function parseOptions(raw: Record<string, unknown>): ScimOptions {
  return scimDescriptor.options.parse(raw) as ScimOptions;
}

export function connectorFor(sim: ScimSimulator, clock = new TestClock(), raw: Record<string, unknown> = {}): Connector {
  const opts = parseOptions({ base_url: sim.baseUrl, token: `env:${TOKEN_ENV}`, admin_groups: ["Admins"], ...raw });
  return createScimConnector("scim-test", opts, { sleep: clock.sleep, policy: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1 } });
}

export function envFor(sim: ScimSimulator): NodeJS.ProcessEnv {
  return { [TOKEN_ENV]: sim.tenant.token };
}

// Shared set-up for the google-workspace tests: a seeded simulator, the service account key written the way
// an operator stores it (a 0600 file referenced as file:), and a connector built from parsed options.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { googleWorkspaceConnector } from "../../../connectors/google-workspace/index.js";
import { googleWorkspaceOptions, type GoogleWorkspaceOptions } from "../../../connectors/google-workspace/options.js";
import { startGoogleSimulator, type GoogleSimulator, type GoogleSimulatorOptions } from "../../../connectors/google-workspace/simulator.js";
import { drain, testContext, type TestContext } from "../../helpers/collect.js";

export const NOW = new Date("2025-06-01T12:00:00.000Z");

export interface Setup {
  google: GoogleSimulator;
  dir: string;
  keyPath: string;
  options(extra?: Record<string, unknown>): GoogleWorkspaceOptions;
  run(extra?: Record<string, unknown>, ctx?: TestContext): ReturnType<typeof drain>;
  close(): Promise<void>;
}

export async function setup(sim: GoogleSimulatorOptions = {}): Promise<Setup> {
  const google = await startGoogleSimulator({ seed: 42, users: 60, now: NOW, ...sim });
  const dir = await mkdtemp(join(tmpdir(), "whohas-gws-"));
  const keyPath = join(dir, "key.json");
  await writeFile(keyPath, google.tenant.keyFile(), { mode: 0o600 });
  const options = (extra: Record<string, unknown> = {}) =>
    googleWorkspaceOptions.parse({
      subject: `admin@${google.tenant.domain}`,
      credentials: `file:${keyPath}`,
      root_url: google.rootUrl,
      token_url: google.tokenUrl,
      ...extra,
    });
  return {
    google,
    dir,
    keyPath,
    options,
    run: (extra, ctx) => drain(googleWorkspaceConnector.create("gws", options(extra)), ctx ?? testContext("gws")),
    async close() {
      await google.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// whohas verify
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { verifyChain } from "../store/integrity.js";
import { withStore } from "./common.js";
import { EXIT_RUNTIME } from "./exit.js";

export const action = (opts: { config?: string }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  const result = withStore(config, (db) => verifyChain(db));
  if (result.ok) {
    process.stdout.write(`ok: ${result.checked} run(s) verified\n`);
  } else {
    process.stdout.write(`FAILED at run ${result.firstBad!.runId}: ${result.firstBad!.reason} (${result.checked} earlier run(s) verified)\n`);
    process.exitCode = EXIT_RUNTIME;
  }
};

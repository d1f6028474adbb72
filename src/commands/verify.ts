// whohas verify
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { verifyActionLog } from "../store/actions.js";
import { verifyChain } from "../store/integrity.js";
import { withStore } from "./common.js";
import { EXIT_RUNTIME } from "./exit.js";

export const action = (opts: { config?: string }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  const [result, actions] = withStore(config, (db) => [verifyChain(db), verifyActionLog(db)] as const);
  if (result.ok) {
    const pending = result.unsealedEvents ? `; ${result.unsealedEvents} audit event(s) stored since the newest run are sealed by the next run` : "";
    process.stdout.write(`ok: ${result.checked} run(s) verified${pending}\n`);
  } else {
    process.stdout.write(`FAILED at run ${result.firstBad!.runId}: ${result.firstBad!.reason} (${result.checked} earlier run(s) verified)\n`);
    process.exitCode = EXIT_RUNTIME;
  }
  // Remediation's log: every state an action went through, chained like the runs.
  if (actions.ok) {
    if (actions.checked > 0) process.stdout.write(`ok: ${actions.checked} remediation log line(s) verified\n`);
  } else {
    process.stdout.write(`FAILED at remediation log line ${actions.firstBad!.seq} (action ${actions.firstBad!.actionId}): ${actions.firstBad!.reason}\n`);
    process.exitCode = EXIT_RUNTIME;
  }
};

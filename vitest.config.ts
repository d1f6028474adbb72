// `npm test`, what CI gates on for every Node version: unit, connector, core and daemon tests, and a slice of
// each reliability suite (a few crash kills on a small tenant, one connector's feed crashed between pages,
// three rows of the fault matrix, every fifth bad-input case, the parser properties at 300 runs, inventory at
// 100,000). The load suite, the apply crash suites (minutes of CLI children) and Google's retry
// exhaustion run only in `npm run test:reliability` (vitest.reliability.config.ts), which runs every suite whole.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "connectors/**/*.test.ts"],
    // Google's retry exhaustion (13 s of timeouts and backoff) runs there too; the fault matrix's timeout row is its slice here.
    exclude: ["**/node_modules/**", "test/reliability/load.test.ts", "test/reliability/apply-crash.test.ts", "test/reliability/apply-crash-removals.test.ts", "test/reliability/google-timeout.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Simulators bind loopback ports and children spawn the CLI; two cores do not like wide fan-out.
    maxWorkers: 2,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      WHOHAS_CRASH_KILLS: "4",
      WHOHAS_CRASH_IDENTITIES: "2000",
      WHOHAS_FEED_CRASH_LABS: "google-workspace",
      WHOHAS_FAULTS: "timeout,malformed,expired-token",
      WHOHAS_BAD_INPUT_EVERY: "5",
      WHOHAS_INVENTORY_PRINCIPALS: "100000",
    },
  },
});

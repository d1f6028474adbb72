// `npm run test:reliability`: the reliability suites whole and at full weight (crash safety of collect and apply, the fault matrix,
// load, bad input, hostile names, inventory scale, the parser properties, conformance with each provider's
// published API description at 20 seeds), one file at a time: each one loads the machine. The sizes are read by the tests themselves;
// `npm test` runs a slice of each (vitest.config.ts). CI runs this once, on the newest Node.
import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts", "test/conformance/**/*.test.ts"],
    exclude: [...configDefaults.exclude],
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      WHOHAS_CRASH_KILLS: "40",
      WHOHAS_CRASH_IDENTITIES: "100000",
      WHOHAS_APPLY_KILLS: "3",
      WHOHAS_APPLY_KEYS: "30",
      WHOHAS_LOAD_SCOPES: "50",
      WHOHAS_PROPERTY_RUNS: "5000",
      WHOHAS_CONFORMANCE_SEEDS: "20",
    },
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "connectors/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Simulators bind loopback ports and children spawn the CLI; two cores do not like wide fan-out.
    maxWorkers: 2,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});

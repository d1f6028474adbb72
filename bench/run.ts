// `npm run bench [-- NAME...]`: each benchmark runs in its own process so its peak RSS is its own.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const BENCHES: Record<string, string> = {
  startup: "./startup.js",
  store: "./store.js",
  "google-workspace": "./google-workspace.js",
  github: "./github.js",
  "aws-iam": "./aws-iam.js",
  "entra-id": "./entra-id.js",
  scim: "./scim.js",
  remediate: "./remediate.js",
  events: "./events.js",
};

const [, , ...args] = process.argv;
if (args[0] === "--child") {
  const mod = (await import(BENCHES[args[1]!]!)) as { run(): Promise<void> };
  await mod.run();
} else {
  const names = args.length > 0 ? args : Object.keys(BENCHES);
  for (const name of names) {
    if (!BENCHES[name]) {
      console.error(`unknown benchmark ${name}; known: ${Object.keys(BENCHES).join(", ")}`);
      process.exit(2);
    }
    console.log(`\n== ${name}`);
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", name], {
      stdio: "inherit",
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    if (r.status !== 0) process.exitCode = 1;
  }
}

// `node --import dist/bench/module-probe.js …`: records every module the process loads, one URL or path a
// line, in the file named by WHOHAS_MODULE_LOG: ES modules as they are resolved (a hook on the loader
// thread) and CommonJS ones from the require cache at exit. The start-up benchmark and the lazy-registry
// test read it to tell which packages a command loaded.
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";

const file = process.env.WHOHAS_MODULE_LOG;
if (file) {
  register("./module-probe-hooks.js", import.meta.url, { data: { file } });
  const cache = createRequire(import.meta.url).cache;
  process.on("exit", () => appendFileSync(file, Object.keys(cache).join("\n") + "\n"));
}

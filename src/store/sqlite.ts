// Which better-sqlite3 to load. Version 12 (node::ObjectWrap) aborts on Node 24 when a Statement is
// garbage-collected ("Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook); version 13 is
// built on Node-API and fixed, but needs Node 22 and crashes on 20. package.json carries 12 as the
// dependency and 13 as an optional one (npm skips it on Node 20 by its engines field); this picks 13
// wherever it is installed and the runtime can use it.
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";

const require = createRequire(import.meta.url);

function load(): { Database: typeof BetterSqlite3; driver: string } {
  if (Number(process.versions.node.split(".")[0]) >= 22) {
    try {
      return { Database: require("better-sqlite3-napi") as typeof BetterSqlite3, driver: "better-sqlite3-napi" };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw err;
    }
  }
  return { Database: require("better-sqlite3") as typeof BetterSqlite3, driver: "better-sqlite3" };
}

const loaded = load();
export const Database = loaded.Database;
/** Which package was loaded, for CI logs and bug reports. */
export const sqliteDriver = loaded.driver;

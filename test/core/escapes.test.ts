// An error that escapes a connector's promises — here an 'error' event on a stream no one listens to, the way
// an SDK's response body can fail — fails that source, not the process: the other source is stored and the
// run is partial. An error from outside any source still ends the process, loudly. Each case runs in a
// child process, where an uncaught error really would end it (in this process the test runner would catch it).
import { describe, expect, it } from "vitest";
import { dist, runScript } from "../helpers/child-script.js";

/** A collect of a file source and a `thrower` source whose scope throws `how` from a stream. */
function collectWithThrower(how: string): string {
  return `
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
const { collect } = await import(${JSON.stringify(dist("src/collect.js"))});
const { parseConfig } = await import(${JSON.stringify(dist("src/config/load.js"))});
const { describeConnector } = await import(${JSON.stringify(dist("src/connector.js"))});
const { fileDescriptor } = await import(${JSON.stringify(dist("connectors/file/descriptor.js"))});
const { openStore } = await import(${JSON.stringify(dist("src/store/db.js"))});
const { inventoryAt } = await import(${JSON.stringify(dist("src/store/reader.js"))});
const dir = process.env.WHOHAS_SCRIPT_DIR;
writeFileSync(join(dir, "erp.csv"), "username,email,status,mfa,role,access_level\\nada,ada@example.com,active,enabled,erp-admin,admin\\nbob,bob@example.com,active,enabled,clerk,write\\n");
const thrower = describeConnector({
  type: "thrower",
  description: "a scope that throws from a stream",
  options: fileDescriptor.options,
  load: async () => ({
    create: () => ({
      type: "thrower",
      async *collect() {
        yield { type: "scope-start", scope: "s1" };
        yield { type: "records", scope: "s1", principals: [{ id: "p1", kind: "human", name: "p1", status: "active", mfa: "enabled" }] };
        ${how}
        // Waiting for an answer that will not come; the engine must not wait for it either.
        await new Promise((r) => setTimeout(r, 60_000));
        yield { type: "scope-end", scope: "s1" };
      },
    }),
  }),
});
const config = parseConfig(
  '[store]\\npath = "w.db"\\n[[sources]]\\nid = "thrower"\\ntype = "thrower"\\npath = "unused"\\n[[sources]]\\nid = "erp"\\ntype = "file"\\npath = "erp.csv"\\n',
  join(dir, "w.toml"),
  [fileDescriptor, thrower],
);
const logged = [];
const log = { debug() {}, info() {}, warn() {}, error: (o, m) => logged.push(m) };
const r = await collect(config, { log });
const db = openStore(config.store.path, { readonly: true });
const stored = [...inventoryAt(db, r.runId)].map((p) => p.source + "/" + p.name);
db.close();
console.log(JSON.stringify({ status: r.status, scopes: r.scopes.map((s) => ({ source: s.source, status: s.status, error: s.error })), stored, logged }));
// The stopped connector's own timer would hold the process; the CLI exits the same way when a command is done.
process.exit(0);
`;
}

describe("an error escaping a connector fails its source, not the process", () => {
  it.each([
    ["a stream destroyed with an error no one listens to", `const body = new PassThrough(); setTimeout(() => body.destroy(new Error("socket hang up")), 10);`, "socket hang up"],
    ["a rejected promise no one awaits", `setTimeout(() => void Promise.reject(new Error("late rejection")), 10);`, "late rejection"],
  ])("%s", (_, how, message) => {
    const r = runScript(collectWithThrower(how));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { status: string; scopes: { source: string; status: string; error: string | null }[]; stored: string[]; logged: string[] };
    expect(out.status).toBe("partial");
    expect(out.scopes).toEqual([
      { source: "erp", status: "ok", error: null },
      { source: "thrower", status: "failed", error: `source thrower: an error escaped the connector (${message})` },
    ]);
    expect(out.stored.sort()).toEqual(["erp/ada", "erp/bob"]);
    expect(out.logged).toContain("error escaped the connector");
  });

  it("an error from outside any source still ends the process with its stack", () => {
    const script = collectWithThrower("").replace("const r = await collect(", `setTimeout(() => { throw new Error("a bug outside any source"); }, 20);\nconst r = await collect(`);
    const r = runScript(script.replace("await new Promise((r) => setTimeout(r, 60_000));", "await new Promise((r) => setTimeout(r, 1_000));"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Error: a bug outside any source\n\s+at /);
    expect(r.stdout).toBe("");
  });
});

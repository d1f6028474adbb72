// The lazy connector registry, seen from outside: which packages each command loads (bench/module-probe.ts
// records them in the spawned CLI). Counts of provider SDKs, not times; the times are in `npm run bench -- startup`.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadedPackages, providerSdks } from "../../bench/loaded-packages.js";
import { whohas } from "../helpers/cli.js";

const PROBE = fileURLToPath(new URL("../../dist/bench/module-probe.js", import.meta.url));

describe("commands load no provider SDK unless a source of that type runs", () => {
  const dir = mkdtempSync(join(tmpdir(), "whohas-startup-"));
  const config = join(dir, "whohas.toml");

  /** The packages `whohas ARGS` loaded, and its exit code. */
  function packagesOf(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; packages: string[] } {
    const log = join(dir, "modules.log");
    rmSync(log, { force: true });
    const r = whohas(args, { cwd: dir, nodeArgs: ["--import", PROBE], env: { WHOHAS_MODULE_LOG: log, ...env } });
    return { code: r.code, packages: loadedPackages(log) };
  }

  beforeAll(() => {
    writeFileSync(join(dir, "erp.csv"), "username,email,status,mfa,role,access_level\nada,ada@example.com,active,enabled,erp-admin,admin\n");
    // A GitHub and an AWS source are configured but not collected: config loading validates their options
    // from the cheap descriptors alone.
    writeFileSync(
      config,
      `[store]\npath = "w.db"\n[[sources]]\nid = "erp"\ntype = "file"\npath = "erp.csv"\n` +
        `[[sources]]\nid = "gh"\ntype = "github"\norgs = ["acme"]\nbase_url = "http://127.0.0.1:9"\ntoken = "env:WHOHAS_STARTUP_UNSET"\n` +
        `[[sources]]\nid = "aws"\ntype = "aws-iam"\nenabled = false\n`,
      { mode: 0o600 },
    );
    for (let i = 0; i < 2; i++) expect(whohas(["collect", "--config", config, "--source", "erp"], { cwd: dir }).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([[["--version"]], [["--help"]], [["runs"]], [["diff"]], [["report"]], [["inventory"]], [["collect", "--source", "erp"]]])("whohas %j", (args) => {
    const { code, packages } = packagesOf([...args, ...(args[0]!.startsWith("-") ? [] : ["--config", config])]);
    expect(code).toBe(0);
    expect(packages.length).toBeGreaterThan(0);
    expect(providerSdks(packages)).toEqual([]);
  });

  it("collecting a GitHub source loads Octokit (the probe sees what a command loads)", () => {
    const { code, packages } = packagesOf(["collect", "--config", config, "--source", "gh"]);
    expect(code).toBe(1);
    expect(providerSdks(packages)).toContain("@octokit/rest");
    expect(providerSdks(packages).some((p) => p.startsWith("@aws-sdk/"))).toBe(false);
  });
});

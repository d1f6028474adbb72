// The systemd units carry the hardening the issue asks for, nothing that breaks V8, and command lines the
// CLI accepts. (`systemd-analyze verify` of the same files runs in .ci/verify-units.)
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { whohasAsync } from "./helpers.js";

function directives(name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(new URL(`../../systemd/${name}`, import.meta.url), "utf8").split("\n")) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

const HARDENING: Record<string, string> = {
  NoNewPrivileges: "yes",
  ProtectSystem: "strict",
  ProtectHome: "yes",
  PrivateTmp: "yes",
  PrivateDevices: "yes",
  RestrictAddressFamilies: "AF_UNIX AF_INET AF_INET6",
  CapabilityBoundingSet: "",
  SystemCallFilter: "@system-service",
  LockPersonality: "yes",
  UMask: "0077",
  StateDirectory: "whohas",
  ConfigurationDirectory: "whohas",
  User: "whohas",
};

describe("systemd units", () => {
  for (const unit of ["whohas.service", "whohas-collect.service"]) {
    it(`${unit}: hardened, as a dedicated user, without MemoryDenyWriteExecute`, () => {
      const d = directives(unit);
      for (const [key, value] of Object.entries(HARDENING)) expect(d.get(key), key).toEqual([value]);
      expect(d.has("MemoryDenyWriteExecute")).toBe(false);
      expect(d.has("DynamicUser")).toBe(false);
    });
  }

  it("whohas.service restarts on failure, reloads with SIGHUP, and waits longer than the daemon's stop timeout", () => {
    const d = directives("whohas.service");
    expect(d.get("Restart")).toEqual(["on-failure"]);
    expect(d.get("ExecReload")).toEqual(["/bin/kill -HUP $MAINPID"]);
    const stopTimeout = Number(/--stop-timeout (\d+)/.exec(d.get("ExecStart")![0]!)![1]);
    expect(Number(/^(\d+)s$/.exec(d.get("TimeoutStopSec")![0]!)![1])).toBeGreaterThan(stopTimeout);
  });

  it("the timer starts the one-shot service nightly", () => {
    const t = directives("whohas-collect.timer");
    expect(t.get("OnCalendar")).toEqual(["*-*-* 02:00:00"]);
    expect(t.get("Persistent")).toEqual(["yes"]);
    expect(directives("whohas-collect.service").get("Type")).toEqual(["oneshot"]);
  });

  for (const unit of ["whohas.service", "whohas-collect.service"]) {
    it(`${unit}: the CLI accepts its ExecStart arguments (it gets as far as looking for the config)`, async () => {
      const exec = directives(unit).get("ExecStart")![0]!.split(" ");
      expect(exec.slice(0, 2)).toEqual(["/usr/bin/env", "whohas"]);
      const args = exec.slice(2).map((a) => (a === "/etc/whohas/config.toml" ? "/nonexistent/whohas/config.toml" : a));
      const r = await whohasAsync(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe("whohas: /nonexistent/whohas/config.toml: config file not found\n");
    });
  }
});

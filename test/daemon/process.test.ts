// `whohas daemon` as a child process, the way systemd runs it: JSON log lines on stdout, SIGTERM in the middle
// of a collect against a slow simulator, SIGHUP with a broken and then a good config.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGoogleSimulator, type GoogleSimulator } from "../../connectors/google-workspace/simulator.js";
import { diffRuns } from "../../src/diff/differ.js";
import { openStore } from "../../src/store/db.js";
import { inventoryAt, listRuns, scopeRuns } from "../../src/store/reader.js";
import { DaemonProcess, Fixture, until, whohasAsync } from "./helpers.js";

describe("SIGTERM in the middle of a collect", () => {
  let google: GoogleSimulator;
  const dir = mkdtempSync(join(tmpdir(), "whohas-daemon-sigterm-"));
  const config = join(dir, "whohas.toml");
  const db = join(dir, "whohas.db");

  beforeAll(async () => {
    google = await startGoogleSimulator({ seed: 8, users: 60, domain: "example.com" });
    const key = join(dir, "google-key.json");
    writeFileSync(key, google.tenant.keyFile(), { mode: 0o600 });
    writeFileSync(
      config,
      `[store]\npath = "whohas.db"\n[schedule]\ncollect = "0 2 * * *"\n\n[[sources]]\nid = "google"\ntype = "google-workspace"\ncustomer = "my_customer"\nsubject = "admin@example.com"\ncredentials = "file:${key}"\nroot_url = "${google.rootUrl}"\ntoken_url = "${google.tokenUrl}"\ncollect_oauth_tokens = true\n`,
      { mode: 0o600 },
    );
  });
  afterAll(async () => {
    await google?.close();
  });

  it("stops within its bound, marks the run failed, keeps the earlier run whole; the next collect is fine", async () => {
    const first = await whohasAsync(["collect", "--config", config]);
    expect(first.code).toBe(0);
    const principalsOfRun1 = countPrincipals(db, 1);
    expect(principalsOfRun1).toBeGreaterThan(50);

    // Every answer now takes 2 s: the daemon's collect (one request per user for OAuth grants) takes minutes.
    google.latencyMs = 2000;
    const before = google.sim.requestCount;
    const daemon = new DaemonProcess(["--config", config, "--now", "--stop-timeout", "15"]);
    await daemon.waitFor("collect started");
    await until("the collect to be talking to the provider", () => google.sim.requestCount > before + 1);
    await until("a running run in the store", () => runs(db).some((r) => r.status === "running"));

    const sent = Date.now();
    daemon.kill("SIGTERM");
    const exit = await daemon.exited;
    const took = exit.at - sent;
    expect(exit.code).toBe(0);
    // In-flight requests are aborted, not waited for: with minutes of queued 2 s requests left, a daemon that
    // waited would have been stopped by force at --stop-timeout (15 s), and "how" would say so.
    console.info(`SIGTERM mid-collect → exit: ${took} ms (provider answering in 2 s per request)`);
    expect(daemon.lines.find((l) => l.msg === "stopping")).toMatchObject({ signal: "SIGTERM", inFlight: true });
    expect(daemon.lines.find((l) => l.msg === "stopped")).toMatchObject({ signal: "SIGTERM", how: "clean" });
    expect(daemon.stderr).toBe("");

    const after = runs(db);
    expect(after.map((r) => `${r.id}:${r.status}`)).toEqual(["2:failed", "1:ok"]);
    expect(after[0]!.error).toMatch(/collect stopped/);
    expect(scopeStatuses(db, 2)).toEqual(["failed"]);
    expect(existsSync(`${db}.lock`)).toBe(false);
    // Run 1 reads exactly as before, and its evidence chain still verifies.
    expect(countPrincipals(db, 1)).toBe(principalsOfRun1);
    expect((await whohasAsync(["verify", "--config", config])).code).toBe(0);

    google.latencyMs = 0;
    const next = await whohasAsync(["collect", "--config", config]);
    expect(next.code).toBe(0);
    const store = openStore(db, { readonly: true });
    try {
      // Nothing of the interrupted run leaks into the next comparison: no account removed or added.
      const d = diffRuns(store, 1, 3);
      expect(d.principals.added).toHaveLength(0);
      expect(d.principals.removed).toHaveLength(0);
    } finally {
      store.close();
    }
  });
});

describe("SIGHUP", () => {
  it("keeps the old config when the new one is broken, takes a good one, and logs JSON lines only", async () => {
    const fx = new Fixture();
    const good = (sources: string) => `[store]\npath = "store/whohas.db"\n[schedule]\ncollect = "*/2 * * * * *"\n${sources}`;
    const erp = `[[sources]]\nid = "erp"\ntype = "file"\npath = "${fx.erp}"\nsystem = "erp"\n`;
    const hr = `[[sources]]\nid = "hr"\ntype = "file"\npath = "${fx.hr}"\nsystem = "hr"\n`;
    writeFileSync(fx.config, good(erp));
    const daemon = new DaemonProcess(["--config", fx.config]);
    try {
      await daemon.waitFor("collect finished");

      writeFileSync(fx.config, good(erp).replace('collect = "*/2 * * * * *"', 'collect = "*/2 * * * * *"\ncolect = "typo"'));
      let mark = daemon.lines.length;
      daemon.kill("SIGHUP");
      const failed = await daemon.waitFor("config reload failed: keeping the previous config", mark);
      expect(failed.level).toBe("error");
      expect(failed.error).toBe(`${fx.config}: schedule.colect: unknown key`);
      // Still alive, still collecting with the old config (erp only).
      mark = daemon.lines.length;
      const started = await daemon.waitFor("collect started", mark);
      expect(started.sources).toEqual(["erp"]);
      await daemon.waitFor("collect finished", mark);

      writeFileSync(fx.config, good(erp + hr));
      mark = daemon.lines.length;
      daemon.kill("SIGHUP");
      expect((await daemon.waitFor("config reloaded", mark)).sources).toEqual(["erp", "hr"]);
      const next = await daemon.waitFor("collect started", daemon.lines.length);
      expect(next.sources).toEqual(["erp", "hr"]);
      await daemon.waitFor("collect finished", daemon.lines.indexOf(next));
    } finally {
      daemon.kill("SIGTERM");
    }
    const exit = await daemon.exited;
    expect(exit.code).toBe(0);
    expect(daemon.stderr).toBe("");
    // journald gets one JSON object per line, each with a time and a level.
    for (const line of daemon.raw) {
      const o = JSON.parse(line);
      expect(typeof o.time).toBe("string");
      expect(typeof o.level).toBe("number");
    }
    expect(daemon.lines.some((l) => l.msg === "scope" && l.source === "hr" && typeof l.run === "number" && typeof l.requests === "number" && typeof l.ms === "number")).toBe(true);
  });
});

describe("starting", () => {
  it("refuses a config without [schedule], naming file and key (exit 2)", async () => {
    const fx = new Fixture();
    const r = await whohasAsync(["daemon", "--config", fx.config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`whohas: ${fx.config}: schedule.collect: expected a cron expression, e.g. [schedule] collect = "0 2 * * *"; the daemon has nothing to do without it\n`);
  });

  it("refuses an email password reference that does not resolve, without starting", async () => {
    const fx = new Fixture('[schedule]\ncollect = "0 2 * * *"\n[email]\nhost = "127.0.0.1"\nuser = "u"\npassword = "env:WHOHAS_TEST_UNSET_SMTP"\nfrom = "a@example.com"\nto = ["b@example.com"]');
    const r = await whohasAsync(["daemon", "--config", fx.config], { WHOHAS_TEST_UNSET_SMTP: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("email.password: environment variable WHOHAS_TEST_UNSET_SMTP");
  });

  it("--once runs one cycle and exits (the systemd timer's mode): 0 when all went well, 1 when a source failed", async () => {
    const fx = new Fixture();
    const ok = await whohasAsync(["daemon", "--once", "--config", fx.config]);
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trim().split("\n").map((l) => JSON.parse(l) as { msg: string; run?: number });
    expect(lines.find((l) => l.msg === "collect finished")).toMatchObject({ run: 1, status: "ok" });
    expect(runs(fx.db)[0]).toMatchObject({ id: 1, trigger: "once", status: "ok" });
    expect(readFileSync(join(fx.dir, "store", "reports", "run-1.html"), "utf8")).toContain("<!doctype html>");

    writeFileSync(fx.hr, "not,a\n\"valid");
    const partial = await whohasAsync(["daemon", "--once", "--config", fx.config]);
    expect(partial.code).toBe(1);
  });
});

function runs(path: string) {
  const d = openStore(path, { readonly: true });
  try {
    return listRuns(d);
  } finally {
    d.close();
  }
}

function scopeStatuses(path: string, run: number): string[] {
  const d = openStore(path, { readonly: true });
  try {
    return scopeRuns(d, run).map((s) => s.status);
  } finally {
    d.close();
  }
}

function countPrincipals(path: string, run: number): number {
  const d = openStore(path, { readonly: true });
  try {
    return [...inventoryAt(d, run)].length;
  } finally {
    d.close();
  }
}

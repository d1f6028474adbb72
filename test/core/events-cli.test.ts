// `whohas events` (filters, formats, bad values → exit 2 naming the valid ones), `whohas history`, and the
// watch: a poll of the feeds alone that posts privileged changes to a loopback webhook, once per event.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { collect } from "../../src/collect.js";
import { loadConfig } from "../../src/config/load.js";
import { watchOnce } from "../../src/daemon/watch.js";
import { action as eventsAction, type EventsOptions } from "../../src/commands/events.js";
import { CliUsageError } from "../../src/commands/exit.js";
import { whohas } from "../helpers/cli.js";

const log = { debug() {}, info() {}, warn() {}, error() {} };
const HEADER = "id,time,actor,action,target,privilege,outcome,ip";
// Days before today (UTC), so the events fall in the feed's look-back.
const BASE = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - 10 * 86_400_000;
const day = (n: number, hour = 0) => new Date(BASE + n * 86_400_000 + hour * 3_600_000).toISOString();
const EVENTS = [
  HEADER,
  `e1,${day(0, 9)},ann,signin.success,ann,,success,203.0.113.7`,
  `e2,${day(1, 10)},ann,grant.add,bob,viewer,success,203.0.113.7`,
  `e3,${day(2, 11)},bob,signin.failure,bob,,failure,198.51.100.2`,
  `e4,${day(3, 12)},"=cmd|' /C calc'!A0",account.update,bob,,success,198.51.100.3`,
];

let dir: string;
let cfg: string;
let posts: { body: string; headers: IncomingMessage["headers"] }[] = [];
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    posts.push({ body, headers: req.headers });
    res.writeHead(204).end();
  });
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  dir = mkdtempSync(join(tmpdir(), "whohas-events-cli-"));
  writeFileSync(join(dir, "erp.csv"), "username,email,role,access_level\nann,ann@example.com,erp-admin,admin\nbob,bob@example.com,viewer,read\n");
  writeFileSync(join(dir, "erp-events.csv"), EVENTS.join("\n") + "\n");
  cfg = join(dir, "w.toml");
  writeFileSync(
    cfg,
    `[store]\npath = "${join(dir, "w.db")}"\n[[sources]]\nid = "erp"\ntype = "file"\npath = "${join(dir, "erp.csv")}"\nsystem = "erp"\nevents_path = "${join(dir, "erp-events.csv")}"\n[sources.events]\nlookback_days = 30\n` +
      `[[alerts]]\nname = "hook"\nurl = "http://127.0.0.1:${port}/hook"\nretries = 0\n`,
  );
  await collect(loadConfig(cfg, CONNECTORS), { log });
});

afterAll(() => server.close());

/** The command in this process, its output in a file: the filters without a process per call. */
function events(args: Partial<EventsOptions>): string {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  eventsAction({ config: cfg, format: "text", out, ...args });
  return readFileSync(out, "utf8");
}
const ids = (args: Partial<EventsOptions>) => JSON.parse(events({ ...args, format: "json" })).events.map((e: { id: string }) => e.id);

describe("whohas events", () => {
  it("lists every event oldest first; filters by actor, action, outcome, time and target", () => {
    expect(ids({})).toEqual(["e1", "e2", "e3", "e4"]);
    expect(ids({ actor: "ANN" })).toEqual(["e1", "e2"]);
    expect(ids({ action: ["grant.add", "signin.failure"] })).toEqual(["e2", "e3"]);
    expect(ids({ outcome: ["failure"] })).toEqual(["e3"]);
    expect(ids({ since: day(1).slice(0, 10), until: day(3).slice(0, 16) + "Z" })).toEqual(["e2", "e3"]);
    expect(ids({ target: "bob", source: ["erp"], limit: "2" })).toEqual(["e2", "e3"]);
  });

  it("text escapes provider text; CSV guards formulas; --feeds shows the feed's health", () => {
    expect(events({})).toMatch(/\d{4}-\d\d-\d\d 10:00:00\s+erp\/erp\s+grant\.add\s+success\s+ann\s+bob \/ viewer\s+203\.0\.113\.7/);
    const csv = events({ format: "csv" });
    expect(csv.split("\r\n")[0]).toMatch(/^time,source,scope,feed,id,action/);
    expect(csv).toContain(`'=cmd|`);
    expect(events({ feeds: true })).toMatch(/erp\/erp\s+export\s+ok/);
  });

  it.each([
    [{ since: "yesterday" }, /--since: expected an ISO date or date-time .* or a time ago \(30m, 24h, 7d\), got "yesterday"/],
    [{ source: ["nope"] }, /--source: unknown source nope; configured: erp/],
    [{ limit: "0" }, /--limit: expected a positive integer/],
    [{ since: "1d", until: "2d" }, /--since .* must be before --until/],
  ])("bad value %j is a usage error naming what is valid", (args, message) => {
    expect(() => events(args as Partial<EventsOptions>)).toThrow(CliUsageError);
    expect(() => events(args as Partial<EventsOptions>)).toThrow(message);
  });

  it("on the command line, bad values exit 2 naming the valid ones", () => {
    const action = whohas(["events", "--config", cfg, "--action", "grant.give"]);
    expect(action.code).toBe(2);
    expect(action.stderr).toMatch(/--action <action\.\.\.>' argument 'grant\.give' is invalid\. Allowed choices are account\.create, .*grant\.add/);
    const since = whohas(["events", "--config", cfg, "--since", "yesterday"]);
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since: expected an ISO date/);
  });
});

describe("whohas history", () => {
  it("one timeline of a person: the snapshot's changes and the events that name them", () => {
    const r = whohas(["history", "bob@example.com", "--config", cfg, "--format", "json"]);
    expect(r.code).toBe(0);
    const timeline = JSON.parse(r.stdout).timeline as { kind: string; text: string; at: string }[];
    expect(timeline.filter((t) => t.kind === "event").map((t) => t.text)).toEqual([expect.stringMatching(/grant\.add viewer on bob by ann/), expect.stringMatching(/signin\.failure/), expect.stringMatching(/account\.update/)]);
    expect(timeline.some((t) => t.kind === "snapshot" && /first collected/.test(t.text))).toBe(true);
    const sorted = [...timeline].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    expect(timeline.map((t) => t.at)).toEqual(sorted.map((t) => t.at));
    expect(whohas(["history", "nobody@example.com", "--config", cfg]).code).toBe(2);
  });
});

describe("whohas watch", () => {
  it("a poll that brings a privileged change posts it to the webhook within that poll; a poll with nothing new posts nothing", async () => {
    const config = loadConfig(cfg, CONNECTORS);
    posts = [];
    const idle = await watchOnce(config, { log });
    expect(idle.events).toBe(0);
    expect(posts).toHaveLength(0);

    const now = new Date().toISOString();
    writeFileSync(join(dir, "erp-events.csv"), [...EVENTS, `e5,${now},ann,grant.add,bob,erp-admin,success,203.0.113.7`, `e6,${now},ann,signin.success,ann,,success,203.0.113.7`].join("\n") + "\n");
    const r = await watchOnce(config, { log });
    expect(r.events).toBe(2);
    expect(r.alerts).toEqual([{ name: "hook", findings: 1, ok: true }]);
    expect(posts).toHaveLength(1);
    const body = JSON.parse(posts[0]!.body);
    expect(body).toMatchObject({ schema: "whohas.alert/v1", trigger: "watch", findings: [{ rule: "privileged-change", subject: "erp/erp/bob", detail: expect.stringMatching(/grant\.add erp-admin on bob .* by ann at .* from 203\.0\.113\.7/) }] });

    const again = await watchOnce(config, { log });
    expect(again.events).toBe(0);
    expect(posts).toHaveLength(1);
  });
});

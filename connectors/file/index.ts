// `type = "file"`: an inventory export (CSV or JSON) for systems without an API.
// The whole file is validated before anything is yielded, so a bad row stores nothing.
import { createFileRemediator } from "./remediate.js";
import { readFile, writeFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { defineConnector, type CollectEvent, type Connector, type DemoSetup } from "../../src/connector.js";
import { fileEventReader } from "./events.js";
import { parseInventory } from "./map.js";
import type { FileOptions } from "./options.js";

const BATCH = 1000;

function formatOf(opts: FileOptions): "csv" | "json" | undefined {
  if (opts.format) return opts.format;
  const ext = extname(opts.path).toLowerCase();
  return ext === ".csv" ? "csv" : ext === ".json" ? "json" : undefined;
}

/** The scope of every record and event of a file source. */
const scopeOf = (opts: FileOptions) => opts.system ?? basename(opts.path);

export const fileConnector = defineConnector<FileOptions>({
  events: (sourceId, opts) => fileEventReader(sourceId, opts, scopeOf),
  remediator(sourceId, opts) {
    return createFileRemediator(sourceId, opts);
  },
  create(sourceId, opts): Connector {
    return {
      type: "file",
      async *collect(ctx): AsyncIterable<CollectEvent> {
        const scope = scopeOf(opts);
        yield { type: "scope-start", scope, label: opts.path };
        const format = formatOf(opts);
        if (!format) {
          yield { type: "scope-failed", scope, error: `${opts.path}: cannot tell the format from the extension; set format = "csv" or "json"` };
          return;
        }
        let inventory;
        try {
          ctx.countRequest(scope);
          inventory = parseInventory(await readFile(opts.path, "utf8"), format, scope);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          const reason = e.code ? `cannot read the file (${e.code})` : e.message;
          yield { type: "scope-failed", scope, error: `source ${sourceId}: ${opts.path}: ${reason}` };
          return;
        }
        for (let i = 0; i < inventory.principals.length; i += BATCH) {
          yield { type: "records", scope, principals: inventory.principals.slice(i, i + BATCH) };
        }
        for (let i = 0; i < inventory.credentials.length; i += BATCH) {
          yield { type: "records", scope, credentials: inventory.credentials.slice(i, i + BATCH) };
        }
        for (let i = 0; i < inventory.grants.length; i += BATCH) {
          yield { type: "records", scope, grants: inventory.grants.slice(i, i + BATCH) };
        }
        yield { type: "scope-end", scope, meta: { format, rows: inventory.principals.length } };
      },
    };
  },
  async demo(dir): Promise<DemoSetup> {
    const path = join(dir, "erp-users.csv");
    const eventsPath = join(dir, "erp-events.csv");
    await writeFile(path, demoCsv(false), { mode: 0o600 });
    await writeFile(eventsPath, demoEvents(false), { mode: 0o600 });
    return {
      options: { path, system: "erp", events_path: eventsPath },
      mutate: async () => {
        await writeFile(path, demoCsv(true), { mode: 0o600 });
        await writeFile(eventsPath, demoEvents(true), { mode: 0o600 });
      },
      close: async () => {},
    };
  },
});

/**
 * The ERP's audit export: after the change, ada promoted linus and created the contractor's account; ken's
 * removal has no event (the demo's unattributed change).
 */
function demoEvents(after: boolean): string {
  const now = new Date().toISOString();
  const rows = ["time,actor,action,target,privilege,outcome,ip"];
  if (after) {
    rows.push(`${now},ada.lovelace,grant.add,linus.torvalds,erp-admin,success,203.0.113.7`);
    rows.push(`${now},ada.lovelace,account.create,temp.contractor,,success,203.0.113.7`);
    rows.push(`${now},svc-integration,credential.create,svc-integration,svc-key-2,success,198.51.100.20`);
    rows.push(`${now},svc-integration,credential.delete,svc-integration,svc-key-1,success,198.51.100.20`);
    rows.push(`${now},ada.lovelace,account.disable,barbara.liskov,,success,203.0.113.7`);
  }
  return rows.join("\n") + "\n";
}

/** A small ERP export; `after` is the same system a day later with the changes the demo shows. */
function demoCsv(after: boolean): string {
  const now = Date.now();
  const day = (n: number) => new Date(now - n * 86_400_000).toISOString().slice(0, 10);
  const rows = [
    "username,email,display_name,status,mfa,role,access_level,created_at,last_active,credential_id,credential_kind,credential_created_at,credential_last_used",
    `ada.lovelace,ada.lovelace@example.com,Ada Lovelace,active,enabled,erp-admin,admin,${day(900)},${day(1)},,,,`,
    `grace.hopper,grace.hopper@example.com,Grace Hopper,active,enabled,finance-approver,privileged,${day(800)},${day(3)},api-grace-1,pat,${day(200)},${day(5)}`,
    `linus.torvalds,linus.torvalds@example.com,Linus Torvalds,active,disabled,ap-clerk,write,${day(400)},${day(2)},,,,`,
    `ken.thompson,ken.thompson@example.com,Ken Thompson,active,enabled,viewer,read,${day(700)},${day(150)},,,,`,
    `barbara.liskov,barbara.liskov@example.com,Barbara Liskov,${after ? "suspended" : "active"},enabled,auditor,read,${day(300)},${day(10)},,,,`,
    `svc-integration,,Integration bot,active,not_applicable,integration,write,${day(500)},${day(1)},${after ? "svc-key-2" : "svc-key-1"},access_key,${after ? day(0) : day(400)},${after ? "never" : day(1)}`,
  ];
  if (after) {
    // linus is promoted to admin; ken has left and was removed; a contractor appears.
    rows[3] = `linus.torvalds,linus.torvalds@example.com,Linus Torvalds,active,disabled,ap-clerk:write;erp-admin:admin,admin,${day(400)},${day(2)},,,,`;
    rows.splice(4, 1);
    rows.push(`temp.contractor,temp.contractor@example.net,Temp Contractor,active,unknown,viewer,read,${day(0)},never,,,,`);
  }
  return rows.join("\n") + "\n";
}

// The collect engine's handling of what connectors hand over: a record that cannot be mapped or stored is
// quarantined (the scope ends "partial", the record keeps its earlier version), everything else is stored.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { fileConnector } from "../../connectors/file/index.js";
import { collect } from "../../src/collect.js";
import { parseConfig } from "../../src/config/load.js";
import { mapEach, type CollectEvent } from "../../src/connector.js";
import type { Principal } from "../../src/model.js";
import { openStore } from "../../src/store/db.js";
import { inventoryAt, quarantineOf, scopeRuns } from "../../src/store/reader.js";
import { testContext } from "../helpers/collect.js";

const person = (id: string): Principal => ({ id, kind: "human", name: id, status: "active", mfa: "enabled" });

afterEach(() => vi.restoreAllMocks());

describe("collect", () => {
  it("quarantines a record the store cannot take and a record the connector cannot map; the scope ends partial with the rest stored", async () => {
    const dir = mkdtempSync(join(tmpdir(), "whohas-collect-"));
    process.env.WHOHAS_TEST_QUARANTINE_SECRET = "s3cr3t-value-123";
    const config = parseConfig(`[store]\npath = "${join(dir, "w.db")}"\n[[sources]]\nid = "src"\ntype = "file"\npath = "x.csv"\n`, join(dir, "w.toml"), CONNECTORS);
    let broken = false;
    // The file connector stands in for a provider whose second page of scope "a" holds odd records.
    vi.spyOn(fileConnector, "create").mockImplementation(() => ({
      type: "file",
      async *collect(ctx): AsyncIterable<CollectEvent> {
        const secret = await ctx.resolveSecret("env:WHOHAS_TEST_QUARANTINE_SECRET", "token");
        for (const scope of ["a", "b"]) {
          yield { type: "scope-start", scope };
          yield { type: "records", scope, principals: [person(`${scope}1`)] };
          const bad = broken && scope === "a" ? ({ ...person("a2"), name: null } as unknown as Principal) : person(`${scope}2`);
          yield { type: "records", scope, principals: [bad] };
          const raw = [{ id: `${scope}3`, roleDefinitionId: broken && scope === "a" ? null : "r" }];
          const mapped = mapEach(ctx, scope, "principals", raw, (r) => {
            if (r.roleDefinitionId === null) throw new TypeError(`Cannot read properties of null (token ${secret})`);
            return person(r.id);
          }, (r) => ({ id: r.id }));
          yield { type: "records", scope, principals: mapped };
          yield { type: "scope-end", scope };
        }
      },
    }));
    const { log } = testContext();
    const first = await collect(config, { log });
    expect(first.status).toBe("ok");
    broken = true;
    const second = await collect(config, { log });
    expect(second.status).toBe("partial");
    expect(second.scopes.map((s) => `${s.scope}:${s.status}:${s.quarantined}`)).toEqual(["a:partial:2", "b:ok:0"]);
    const db = openStore(join(dir, "w.db"), { readonly: true });
    expect(scopeRuns(db, second.runId)[0]!.meta).toMatchObject({ quarantined: 2 });
    expect(quarantineOf(db, second.runId).map((q) => `${q.scope}/${q.table}/${q.recordId}: ${q.reason}`)).toEqual([
      "a/principals/a2: name is null, expected a string",
      "a/principals/a3: could not be mapped: Cannot read properties of null (token [redacted])",
    ]);
    // The quarantined records keep the version of the run before.
    expect([...inventoryAt(db, second.runId)].map((p) => `${p.scope}/${p.id}`)).toEqual(["a/a1", "a/a2", "a/a3", "b/b1", "b/b2", "b/b3"]);
    db.close();
    delete process.env.WHOHAS_TEST_QUARANTINE_SECRET;
  });
});

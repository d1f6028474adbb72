// The collect engine's handling of what connectors hand over: a record the store refuses fails only its
// scope (with the reason), the source's other scopes are stored, and nothing of the bad scope changes.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { fileConnector } from "../../connectors/file/index.js";
import { collect } from "../../src/collect.js";
import { parseConfig } from "../../src/config/load.js";
import type { CollectEvent } from "../../src/connector.js";
import type { Principal } from "../../src/model.js";
import { openStore } from "../../src/store/db.js";
import { inventoryAt, scopeRuns } from "../../src/store/reader.js";
import { testContext } from "../helpers/collect.js";

const person = (id: string): Principal => ({ id, kind: "human", name: id, status: "active", mfa: "enabled" });

afterEach(() => vi.restoreAllMocks());

describe("collect", () => {
  it("fails only the scope whose records the store refuses", async () => {
    const dir = mkdtempSync(join(tmpdir(), "whohas-collect-"));
    const config = parseConfig(`[store]\npath = "${join(dir, "w.db")}"\n[[sources]]\nid = "src"\ntype = "file"\npath = "x.csv"\n`, join(dir, "w.toml"), CONNECTORS);
    let broken = false;
    // The file connector stands in for a provider whose second page of scope "a" is malformed.
    vi.spyOn(fileConnector, "create").mockImplementation(() => ({
      type: "file",
      async *collect(): AsyncIterable<CollectEvent> {
        for (const scope of ["a", "b"]) {
          yield { type: "scope-start", scope };
          yield { type: "records", scope, principals: [person(`${scope}1`)] };
          const bad = broken && scope === "a" ? ({ ...person("a2"), name: null } as unknown as Principal) : person(`${scope}2`);
          yield { type: "records", scope, principals: [bad] };
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
    const db = openStore(join(dir, "w.db"), { readonly: true });
    const scopes = scopeRuns(db, second.runId);
    expect(scopes.map((s) => `${s.scope}:${s.status}`)).toEqual(["a:failed", "b:ok"]);
    expect(scopes[0]!.error).toMatch(/^source src, scope a: the connector produced a record the store refuses \(NOT NULL constraint failed: principals\.name\)/);
    expect([...inventoryAt(db, second.runId)].map((p) => `${p.scope}/${p.id}`)).toEqual(["a/a1", "a/a2", "b/b1", "b/b2"]);
    db.close();
  });
});

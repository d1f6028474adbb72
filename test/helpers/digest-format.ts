// Stores as a build before digest format 3 left them: every run sealed in format 2, every version row
// carrying format 2's content hash. Built from what this build writes, since that build is gone.
import type { Db } from "../../src/store/db.js";
import { legacyContentHash, sealFromStore, TABLE_COLUMNS, type VersionTable } from "../../src/store/integrity.js";

export function asDigestFormat2(db: Db): void {
  db.transaction(() => {
    for (const t of Object.keys(TABLE_COLUMNS) as VersionTable[]) {
      const rehash = db.prepare(`UPDATE ${t} SET hash = ? WHERE vid = ?`);
      for (const r of db.prepare(`SELECT vid, ${TABLE_COLUMNS[t].join(", ")} FROM ${t}`).raw().all() as unknown[][]) {
        rehash.run(legacyContentHash(r.slice(1)), r[0]);
      }
    }
    db.prepare("UPDATE runs SET digest_format = 2").run();
    const runs = db.prepare("SELECT id FROM runs WHERE digest IS NOT NULL ORDER BY id").pluck().all() as number[];
    for (const id of runs) sealFromStore(db, id);
  })();
}

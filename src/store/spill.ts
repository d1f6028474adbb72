// Rows of a large text table held on disk until they are written (issue #17: `inventory --format text` at a
// million principals must not hold every row in memory to sort it). The rows go to a private temporary
// database: SQLite opens one for the empty file name, keeps it in its page cache until the cache is full, then
// in a file it creates 0600 and unlinks at once, so nothing is left behind whatever happens to the process.
// Its page cache, and so the sort's memory, is capped below.
import type BetterSqlite3 from "better-sqlite3";
import type { RowSpill } from "../views.js";
import { Database } from "./sqlite.js";

/** Memory SQLite may use for the spill's pages and for each run of its sort (KiB). */
const CACHE_KIB = 8 * 1024;
/** Rows inserted per transaction: one transaction per row would cost a commit each. */
const BATCH_ROWS = 5_000;

/**
 * A sort key as bytes whose memcmp order (SQLite's order of BLOBs, shorter first on a tie) is JS string order:
 * every UTF-16 code unit, big-endian. UTF-8 text would not do: it orders characters beyond the BMP after
 * U+E000–U+FFFF, where JS puts their surrogates before them.
 */
export function orderedKey(key: string): Buffer {
  return Buffer.from(key, "utf16le").swap16();
}

/**
 * Rows added with a key, read back by key (ties in the order added) or in the order added. Rows are stored as
 * UTF-16 bytes, not text, so a lone surrogate in a provider's name comes back exactly as it went in.
 */
export function openRowSpill(): RowSpill {
  const db: BetterSqlite3.Database = new Database("");
  try {
    // A scratch database: nothing to roll back to and nothing to make durable.
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    db.pragma("temp_store = FILE");
    db.pragma(`cache_size = -${CACHE_KIB}`);
    db.exec("CREATE TABLE rows (seq INTEGER PRIMARY KEY, key BLOB NOT NULL, row BLOB NOT NULL)");
  } catch (err) {
    db.close();
    throw err;
  }
  const insert = db.prepare("INSERT INTO rows (key, row) VALUES (?, ?)");
  const byKey = db.prepare("SELECT row FROM rows ORDER BY key, seq").pluck();
  const added = db.prepare("SELECT row FROM rows ORDER BY seq").pluck();
  let pending: [Buffer, Buffer][] = [];
  const flush = db.transaction((batch: [Buffer, Buffer][]) => {
    for (const [k, r] of batch) insert.run(k, r);
  });
  const flushPending = () => {
    if (pending.length > 0) flush(pending);
    pending = [];
  };
  return {
    add(key, row) {
      pending.push([orderedKey(key), Buffer.from(row, "utf16le")]);
      if (pending.length >= BATCH_ROWS) flushPending();
    },
    *rows(order) {
      flushPending();
      for (const row of (order === "key" ? byKey : added).iterate() as Iterable<Buffer>) yield row.toString("utf16le");
    },
    close() {
      pending = [];
      if (db.open) db.close();
    },
  };
}

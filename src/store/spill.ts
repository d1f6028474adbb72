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

const SURROGATE = /[\ud800-\udfff]/;

/**
 * A sort key as bytes whose memcmp order (SQLite's order of BLOBs, shorter first on a tie) is JS string order:
 * every UTF-16 code unit encoded on its own the way UTF-8 encodes a character up to U+FFFF (CESU-8), an encoding
 * that keeps the order of the numbers it encodes. Plain UTF-8 would not do: it writes a character beyond the BMP
 * as one 4-byte sequence that sorts after U+E000–U+FFFF, where JS puts its surrogates before them. A key
 * without surrogates (almost every one) is the same bytes as its UTF-8.
 */
export function orderedKey(key: string): Buffer {
  if (!SURROGATE.test(key)) return Buffer.from(key, "utf8");
  const out = Buffer.allocUnsafe(key.length * 3);
  let n = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x80) out[n++] = c;
    else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return out.subarray(0, n);
}

/**
 * Rows added with a key, read back by key (ties in the order added) or in the order added. A row is stored as
 * text, or, when it holds a surrogate, as its UTF-16 bytes: UTF-8 text would turn a lone surrogate in a
 * provider's name into U+FFFD, and the row must come back exactly as it went in.
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
  let pending: [Buffer, string | Buffer][] = [];
  const flush = db.transaction((batch: [Buffer, string | Buffer][]) => {
    for (const [k, r] of batch) insert.run(k, r);
  });
  const flushPending = () => {
    if (pending.length > 0) flush(pending);
    pending = [];
  };
  return {
    add(key, row) {
      pending.push([orderedKey(key), SURROGATE.test(row) ? Buffer.from(row, "utf16le") : row]);
      if (pending.length >= BATCH_ROWS) flushPending();
    },
    *rows(order) {
      flushPending();
      for (const row of (order === "key" ? byKey : added).iterate() as Iterable<string | Buffer>) yield typeof row === "string" ? row : row.toString("utf16le");
    },
    close() {
      pending = [];
      if (db.open) db.close();
    },
  };
}

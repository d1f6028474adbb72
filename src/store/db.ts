// Opening the store: file created 0600, WAL, migrations, and recovery of runs a crash left "running".
import { closeSync, existsSync, openSync, chmodSync } from "node:fs";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { ensurePrivateDir, PrivateDirError } from "../private-files.js";
import { Database } from "./sqlite.js";
import { MIGRATIONS } from "./migrations.js";

export type Db = BetterSqlite3.Database;

export class StoreError extends Error {
  override name = "StoreError";
}

/** Whether the store has this table: a store opened read-only at an older schema lacks the later ones. */
export function hasTable(db: Db, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

export interface OpenOptions {
  readonly?: boolean;
}

export function openStore(path: string, opts: OpenOptions = {}): Db {
  if (opts.readonly) {
    if (!existsSync(path)) throw new StoreError(`store ${path} does not exist yet: run "whohas collect" first`);
    const db = new Database(path, { readonly: true, fileMustExist: true });
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      db.close();
      throw new StoreError(`store ${path} has schema version ${version}, newer than this whohas (${MIGRATIONS.length}); upgrade whohas`);
    }
    return db;
  }
  createPrivateFile(path);
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  // Sorts and temporary results of large reads go to disk: a 1M-identity diff must not grow RSS.
  db.pragma("temp_store = FILE");
  migrate(db, path);
  // WAL and SHM files are created by SQLite with the process umask; tighten them like the DB.
  for (const suffix of ["-wal", "-shm"]) {
    if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);
  }
  return db;
}

function createPrivateFile(path: string): void {
  if (path === ":memory:") return;
  // The store, its WAL and its lock sit in a directory no one else can write (or swap files in).
  try {
    ensurePrivateDir(dirname(path), "store directory");
  } catch (err) {
    throw err instanceof PrivateDirError ? new StoreError(err.message) : err;
  }
  if (existsSync(path)) return;
  closeSync(openSync(path, "a", 0o600));
  chmodSync(path, 0o600);
}

function migrate(db: Db, path: string): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new StoreError(`store ${path} has schema version ${version}, newer than this whohas (${MIGRATIONS.length}); upgrade whohas`);
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

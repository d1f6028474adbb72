// Files that say who has access to what (reports, the store) live in a directory only their owner can write,
// and are replaced, never written through: a symlink or hard link planted in the directory is never followed,
// and a reader never sees half a file.
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, constants, fchmodSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export class PrivateDirError extends Error {
  override name = "PrivateDirError";
}

/**
 * Creates `dir` 0700 when it is missing. An existing one must be a directory owned by this user and writable
 * by no one else: in a group- or world-writable directory anyone could plant `run-1.html -> /etc/victim`
 * or swap a file between our write and our read. `what` names it in the error ("report directory").
 */
export function ensurePrivateDir(dir: string, what: string): void {
  let created: string | undefined;
  try {
    created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new PrivateDirError(`${what} ${dir}: cannot create it (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  // mkdir's mode passes through the umask; what whohas created it makes exactly 0700.
  if (created !== undefined) chmodSync(dir, 0o700);
  const st = statSync(dir);
  if (!st.isDirectory()) throw new PrivateDirError(`${what} ${dir}: not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new PrivateDirError(`${what} ${dir} is owned by uid ${st.uid}, not by this user (uid ${uid}); whohas writes only into a directory of its own`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new PrivateDirError(
      `${what} ${dir} is group- or world-writable (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")}): anyone who can write there could plant a link that whohas would write through; run "chmod go-w ${dir}" or choose another directory`,
    );
  }
}

/**
 * Writes `path` as a new file: created exclusively (O_EXCL, O_NOFOLLOW) as 0600 under a temporary name in the
 * same directory, synced, then renamed over `path`. A symlink at `path` is replaced, its target untouched.
 */
export function writeFileAtomic(path: string, content: string | Buffer): void {
  const file = openAtomicFile(path);
  try {
    file.write(content);
  } catch (err) {
    file.abort();
    throw err;
  }
  file.commit();
}

/**
 * The same file written a chunk at a time, for content too large to hold at once: created exclusively
 * (O_EXCL, O_NOFOLLOW) 0600 under a temporary name beside `path`, synced and renamed over it by `commit`,
 * removed by `abort`. Throws the system's error when the temporary file cannot be created.
 */
export function openAtomicFile(path: string): { write(content: string | Buffer): void; commit(): void; abort(): void } {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  const remove = () => {
    close();
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  };
  try {
    fchmodSync(fd, 0o600); // exactly 0600, whatever the umask
  } catch (err) {
    remove();
    throw err;
  }
  return {
    write: (content) => {
      const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    },
    commit: () => {
      try {
        fsyncSync(fd);
        close();
        renameSync(tmp, path);
      } catch (err) {
        remove();
        throw err;
      }
    },
    abort: remove,
  };
}

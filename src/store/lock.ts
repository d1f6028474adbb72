// One collect at a time per store: a lock file next to the database holding the owner's pid.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export class LockError extends Error {
  override name = "LockError";
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface Lock {
  readonly path: string;
  release(): void;
}

export function acquireLock(dbPath: string): Lock {
  const path = `${dbPath}.lock`;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          try {
            if (readFileSync(path, "utf8") === String(process.pid)) unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let pid = NaN;
      try {
        pid = Number.parseInt(readFileSync(path, "utf8"), 10);
      } catch {
        // vanished between open and read: try again
      }
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new LockError(`collect already running (pid ${pid}); lock file ${path}`);
      }
      // The owner died without releasing: the lock is stale.
      try {
        unlinkSync(path);
      } catch {
        // someone else removed it first
      }
    }
  }
  throw new LockError(`could not take the lock ${path}`);
}

// Where a command's output goes: stdout, or a file created 0600 (reports describe who has access to what).
import { randomBytes } from "node:crypto";
import { closeSync, constants, createWriteStream, fchmodSync, fstatSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, type WriteStream } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface Sink {
  write(text: string): void;
  close(): void;
}

export class OutputError extends Error {
  override name = "OutputError";
  constructor(
    message: string,
    /** The system's error code (ENOENT, EACCES, ...) when a file could not be written. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export function openSink(path?: string): Sink {
  if (!path || path === "-") {
    return { write: (t) => void process.stdout.write(t), close: () => {} };
  }
  const fd = openPrivate(path);
  return {
    write: (t) => void writeSync(fd, t),
    close: () => closeSync(fd),
  };
}

/** A file created 0600 as a stream, for writers that need one (the XLSX workbook); the stream closes the file. */
export function openFileStream(path: string): WriteStream {
  return createWriteStream(path, { fd: openPrivate(path) });
}

function openPrivate(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, "w", 0o600);
    // By descriptor, not by path: the path may have changed since the open. A device or pipe
    // (--out /dev/stdout) keeps its mode.
    if (fstatSync(fd).isFile()) fchmodSync(fd, 0o600);
  } catch (err) {
    throw new OutputError(`--out ${path}: cannot write (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return fd;
}

/** Collects small writes into chunks of about `size` characters: one system call per chunk, not per row. */
export function bufferedSink(sink: Sink, size = 1 << 16): { write(text: string): void; flush(): void } {
  let parts: string[] = [];
  let length = 0;
  const flush = () => {
    if (length === 0) return;
    sink.write(parts.join(""));
    parts = [];
    length = 0;
  };
  return {
    write(text) {
      parts.push(text);
      length += text.length;
      if (length >= size) flush();
    },
    flush,
  };
}

/**
 * A file written a chunk at a time and replaced atomically: created exclusively (O_EXCL, O_NOFOLLOW) 0600
 * under a temporary name beside `path`, synced and renamed over it by `commit`, removed by `abort`. As
 * private-files.ts writeFileAtomic, for content too large to hold as one string (every finding of a run).
 */
export function atomicFileSink(path: string): { write(text: string): void; commit(): void; abort(): void } {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    fchmodSync(fd, 0o600); // exactly 0600, whatever the umask
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OutputError(`${path}: cannot write (${code ?? "error"})`, code);
  }
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    write: (t) => {
      const bytes = Buffer.from(t, "utf8");
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    },
    commit: () => {
      try {
        fsyncSync(fd);
        close();
        renameSync(tmp, path);
      } catch (err) {
        close();
        unlinkSync(tmp);
        throw err;
      }
    },
    abort: () => {
      close();
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    },
  };
}

/** Writes `chunks` to `path` atomically (0600) through a buffer: nothing of a failed write is left behind. */
export function writeChunksAtomic(path: string, chunks: Iterable<string>): void {
  const file = atomicFileSink(path);
  try {
    const out = bufferedSink({ write: file.write, close: () => {} });
    for (const chunk of chunks) out.write(chunk);
    out.flush();
  } catch (err) {
    file.abort();
    throw err;
  }
  file.commit();
}

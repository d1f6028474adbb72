// Where a command's output goes: stdout, or a file created 0600 (reports describe who has access to what).
import { closeSync, constants, fstatSync, lstatSync, openSync, writeSync, type Stats } from "node:fs";
import { resolve } from "node:path";
import { Writable } from "node:stream";
import { openAtomicFile } from "../private-files.js";

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

/** Output to stdout or an --out file: `close` completes it; `abort` (the writer failed) leaves the destination as it was. */
export interface OutputSink extends Sink {
  abort(): void;
}

/**
 * An --out file is written like every private file (private-files.ts openAtomicFile): a new 0600 file beside it,
 * renamed over it when complete, so a symlink planted at the path is replaced, its target untouched. A device,
 * pipe or socket (--out /dev/stdout, a process substitution) is written as it is: it holds no file to replace.
 */
export function openSink(path?: string): OutputSink {
  if (!path || path === "-") {
    return { write: (t) => void process.stdout.write(t), close: () => {}, abort: () => {} };
  }
  const fd = openStreamTarget(path);
  if (fd !== undefined) {
    return { write: (t) => void writeSync(fd, t), close: () => closeSync(fd), abort: () => closeSync(fd) };
  }
  const file = openOutFile(path);
  return {
    write: (t) => file.write(t),
    close: () => {
      try {
        file.commit();
      } catch (err) {
        throw outError(path, err);
      }
    },
    abort: () => file.abort(),
  };
}

/** Runs `fill` on stdout or the --out file: the file is replaced only when `fill` returns, and left as it was when it throws. */
export function writeOutput<T>(path: string | undefined, fill: (sink: Sink) => T): T {
  const sink = openSink(path);
  let result: T;
  try {
    result = fill(sink);
  } catch (err) {
    sink.abort();
    throw err;
  }
  sink.close();
  return result;
}

/**
 * The --out file as a stream, for writers that need one (the XLSX workbook): written and replaced as openSink's
 * files are, once the stream finishes; destroyed with an error, it leaves the destination as it was.
 */
export function openFileStream(path: string): Writable {
  const file = openOutFile(path);
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      try {
        file.write(chunk);
        done();
      } catch (err) {
        done(outError(path, err));
      }
    },
    final(done) {
      try {
        file.commit();
        done();
      } catch (err) {
        done(outError(path, err));
      }
    },
    destroy(err, done) {
      if (err) file.abort();
      done(err);
    },
  });
}

const outError = (path: string, err: unknown) => cannotWrite(`--out ${path}`, err);

function openOutFile(path: string): ReturnType<typeof openAtomicFile> {
  // Said now, not after the whole output has been written and the rename fails.
  if (lstatOrNull(path)?.isDirectory()) throw outError(path, { code: "EISDIR" });
  return atomicFileSink(path, `--out ${path}`);
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/**
 * A descriptor for a path that names something other than a file or directory, else undefined. The system's own
 * links (/dev/stdout, /dev/fd/N, /proc/self/fd/N) are followed as the user asked; a link anywhere else is not (it
 * is replaced like a file). Opened without creating or following anything that appears in between.
 */
function openStreamTarget(path: string): number | undefined {
  const own = lstatOrNull(path);
  if (!own) return undefined;
  const systemLink = own.isSymbolicLink() && /^\/(dev|proc)\//.test(resolve(path));
  if (!systemLink && (own.isSymbolicLink() || own.isFile() || own.isDirectory())) return undefined;
  let fd: number;
  try {
    // Appending through a system link: what the shell opened (">" empties it, ">>" keeps it) decides what stays.
    fd = openSync(path, constants.O_WRONLY | (systemLink ? constants.O_APPEND : constants.O_NOFOLLOW));
  } catch (err) {
    throw outError(path, err);
  }
  // A regular file behind a system link (stdout redirected to a file) is written as the shell opened it; a file
  // swapped in for a pipe in between is not written at all: it is replaced instead.
  if (!systemLink && fstatSync(fd).isFile()) {
    closeSync(fd);
    return undefined;
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

/** A file that could not be written, said as an output error naming it (`label`: the path, or "--out PATH") and the system's reason. */
function cannotWrite(label: string, err: unknown): OutputError {
  const code = (err as NodeJS.ErrnoException).code;
  return new OutputError(`${label}: cannot write (${code ?? "error"})`, code);
}

/** private-files.ts openAtomicFile, its failure to create the file said as an output error naming `label`. */
export function atomicFileSink(path: string, label = path): ReturnType<typeof openAtomicFile> {
  try {
    return openAtomicFile(path);
  } catch (err) {
    throw cannotWrite(label, err);
  }
}

/**
 * Writes `chunks` to `path` atomically (0600) through a buffer: nothing of a failed write is left behind.
 * Returns the bytes written.
 */
export function writeChunksAtomic(path: string, chunks: Iterable<string>): number {
  return writeAtomic(path, (write) => {
    for (const chunk of chunks) write(chunk);
  });
}

/** The same for a writer that is handed `write` (the text, Markdown and HTML reports). Returns the bytes written. */
export function writeAtomic(path: string, fill: (write: (text: string) => void) => void): number {
  const file = atomicFileSink(path);
  // Counted a chunk at a time as it goes out: the mail decides on gzip by this, without reading the file back.
  let bytes = 0;
  try {
    const out = bufferedSink({
      write: (text) => {
        bytes += Buffer.byteLength(text);
        file.write(text);
      },
      close: () => {},
    });
    fill(out.write);
    out.flush();
  } catch (err) {
    file.abort();
    throw err;
  }
  file.commit();
  return bytes;
}

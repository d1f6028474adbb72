// Where a command's output goes: stdout, or a file created 0600 (reports describe who has access to what).
import { closeSync, createWriteStream, fchmodSync, fstatSync, openSync, writeSync, type WriteStream } from "node:fs";
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

/** private-files.ts openAtomicFile, its failure to create the file said as an output error naming the path. */
export function atomicFileSink(path: string): ReturnType<typeof openAtomicFile> {
  try {
    return openAtomicFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OutputError(`${path}: cannot write (${code ?? "error"})`, code);
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

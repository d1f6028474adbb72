// The CLI's main() in this process, with stdout and stderr captured: the same argument parsing, config
// loading and exit-code mapping as the binary without ~0.4 s of module loading per call, for corpora of
// hundreds of calls. A sample of each corpus still goes through the built binary (cli-process.ts).
import { main } from "../../src/cli.js";

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

let queue: Promise<unknown> = Promise.resolve();

/** Calls are serialized: the capture replaces process.stdout/stderr.write for the duration of one call. */
export function cliInProcess(args: string[]): Promise<InProcessResult> {
  const run = async (): Promise<InProcessResult> => {
    const out: string[] = [];
    const err: string[] = [];
    const stdoutWrite = process.stdout.write;
    const stderrWrite = process.stderr.write;
    const capture = (into: string[]) =>
      ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        into.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
        const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
        cb?.();
        return true;
      }) as typeof process.stdout.write;
    process.stdout.write = capture(out);
    process.stderr.write = capture(err);
    const exitCode = process.exitCode;
    process.exitCode = undefined;
    try {
      const code = await main(["node", "whohas", ...args]);
      return { code, stdout: out.join(""), stderr: err.join("") };
    } finally {
      process.stdout.write = stdoutWrite;
      process.stderr.write = stderrWrite;
      process.exitCode = exitCode;
    }
  };
  const p = queue.then(run, run);
  queue = p.catch(() => undefined);
  return p;
}

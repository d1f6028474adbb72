// whohas demo
import type { DiffFormat } from "../report/diff.js";

export const action = async (opts: { format: DiffFormat; dir?: string; clean?: boolean }) => {
  const { runDemo } = await import("./demo-run.js");
  await runDemo({ format: opts.format, dir: opts.dir, clean: Boolean(opts.clean), out: process.stdout, progress: process.stderr });
};

// whohas demo
import type { DiffFormat } from "../report/diff.js";

export const action = async (opts: { format: DiffFormat; keep?: boolean }) => {
  const { runDemo } = await import("../demo.js");
  await runDemo({ format: opts.format, keep: Boolean(opts.keep), out: process.stdout, progress: process.stderr });
};

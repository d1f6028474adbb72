// How a command's error reaches the user: a known error (bad config, bad argument, store, lock, secret,
// delivery) as its message and its exit code; anything else is a bug, shown with its stack. Imported only
// when a command failed, so a command that succeeds never loads the modules these errors live in.
import { UsageError } from "../collect.js";
import { ConfigError } from "../config/load.js";
import { DeliveryError } from "../daemon/retry.js";
import { DiffError } from "../diff/differ.js";
import { OutputError } from "../report/output.js";
import { ReportError } from "../report/report.js";
import { ApplyRefused, PlanError, PlanFileError } from "../remediate/errors.js";
import { shownLines } from "../safe-text.js";
import { SecretError } from "../secrets.js";
import { StoreError } from "../store/db.js";
import { LockError } from "../store/lock.js";
import { CliUsageError, EXIT_RUNTIME, EXIT_USAGE } from "./exit.js";

export function describeFailure(err: unknown): { text: string; exitCode: number } {
  const usage = err instanceof ConfigError || err instanceof UsageError || err instanceof CliUsageError || err instanceof DiffError || err instanceof OutputError || err instanceof ReportError;
  const known = usage || err instanceof StoreError || err instanceof LockError || err instanceof SecretError || err instanceof DeliveryError || err instanceof PlanError || err instanceof PlanFileError || err instanceof ApplyRefused;
  return { text: `whohas: ${shownLines(known ? (err as Error).message : ((err as Error).stack ?? String(err)))}\n`, exitCode: usage ? EXIT_USAGE : EXIT_RUNTIME };
}

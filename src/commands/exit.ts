// The documented exit codes, and the error for a bad argument. Imports nothing: the CLI reads it at start-up.

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
export const EXIT_FINDINGS = 3;

/** A command-line argument that is wrong: exit 2 with the message. */
export class CliUsageError extends Error {
  override name = "CliUsageError";
}

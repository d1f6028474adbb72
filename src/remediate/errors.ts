// Remediation's known errors: their message is the whole story (exit 1), no stack. Imports nothing.

/** `whohas plan` cannot plan: no entries, no collected run, an unknown entry. */
export class PlanError extends Error {
  override name = "PlanError";
}

/** A plan file that cannot be read, is not a plan, or was edited after whohas wrote it. */
export class PlanFileError extends Error {
  override name = "PlanFileError";
}

/** A plan apply refuses whole: stale, blocked, or not computed by this store. */
export class ApplyRefused extends Error {
  override name = "ApplyRefused";
}

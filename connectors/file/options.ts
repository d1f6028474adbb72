// The `[[sources]]` keys of a file source.
import { z } from "zod";

export const fileOptions = z.strictObject({
  /** Path of the export; relative paths are taken from the working directory. */
  path: z.string().min(1),
  /** Defaults to the file extension (.csv / .json). */
  format: z.enum(["csv", "json"]).optional(),
  /** Name of the system the export describes; defaults to the file name. It is the scope of every record. */
  system: z.string().min(1).optional(),
  /** An audit-event export (CSV or JSON) of the same system: read by `[sources.events]` (feed "export"). */
  events_path: z.string().min(1).optional(),
  /** Defaults to the events_path extension (.csv / .json). */
  events_format: z.enum(["csv", "json"]).optional(),
  /** Events stored per transaction (each page and its cursor are stored together). */
  /** Default 500. */
  events_page_size: z.number().int().min(1).max(10_000).optional(),
  /** Remediation: where the task lists for the system's owner go (CSV + Markdown); default next to the export. */
  tasks_dir: z.string().min(1).optional(),
});

export type FileOptions = z.infer<typeof fileOptions>;

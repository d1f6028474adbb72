// The `[[sources]]` keys of a file source.
import { z } from "zod";

export const fileOptions = z.strictObject({
  /** Path of the export; relative paths are taken from the working directory. */
  path: z.string().min(1),
  /** Defaults to the file extension (.csv / .json). */
  format: z.enum(["csv", "json"]).optional(),
  /** Name of the system the export describes; defaults to the file name. It is the scope of every record. */
  system: z.string().min(1).optional(),
});

export type FileOptions = z.infer<typeof fileOptions>;

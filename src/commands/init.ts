// whohas init
import { chmodSync, constants, copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "./common.js";
import { CliUsageError } from "./exit.js";

export const action = (path: string) => {
  if (existsSync(path)) throw new CliUsageError(`${path} already exists; not overwriting it`);
  copyFileSync(join(packageRoot(), "config.example.toml"), path, constants.COPYFILE_EXCL);
  // copyFile keeps the source's mode; a config names secret locations and belongs to its owner.
  chmodSync(path, 0o600);
  process.stdout.write(`wrote ${path}: fill in the sources, then run "whohas check-config"\n`);
};

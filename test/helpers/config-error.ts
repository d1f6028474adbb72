import { expect } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { ConfigError, parseConfig } from "../../src/config/load.js";

/** The message of the ConfigError that parsing `text` (as if read from `file`) raises; fails the test if it is accepted. */
export function configErrorOf(text: string, file: string): string {
  try {
    parseConfig(text, file, CONNECTORS);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("config was accepted");
}

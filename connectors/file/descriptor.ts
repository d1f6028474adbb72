// What whohas knows about file sources before reading one.
import { describeConnector } from "../../src/connector.js";
import { fileOptions } from "./options.js";

export const fileDescriptor = describeConnector({
  type: "file",
  description: "Inventory export (CSV or JSON) of a system without an API",
  // HR and IdP exports are the usual reason to import a file; identity.providers narrows this per source.
  identityProvider: true,
  options: fileOptions,
  load: async () => (await import("./index.js")).fileConnector,
});

// What whohas knows about file sources before reading one.
import { describeConnector } from "../../src/connector.js";
import { fileOptions } from "./options.js";

export const fileDescriptor = describeConnector({
  type: "file",
  description: "Inventory export (CSV or JSON) of a system without an API",
  // HR and IdP exports are the usual reason to import a file; identity.providers narrows this per source.
  identityProvider: true,
  options: fileOptions,
  feeds: [
    {
      feed: "export",
      description: "Audit-event export (CSV or JSON: time, actor, action, target, outcome, ip) at events_path",
      permissions: "Read access to the export file",
      retention: "Whatever the export holds",
    },
  ],
  actions: [
    {
      type: "task",
      description: "A task for the system's owner in <tasks_dir>/<source>-tasks.csv and .md (the system has no API); the next import shows whether it was done",
      permissions: [],
      reversible: true,
      undo: "a task to restore the access",
    },
  ],
  load: async () => (await import("./index.js")).fileConnector,
});

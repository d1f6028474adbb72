// The entra-id connector: one Microsoft Entra tenant per source, read through MSAL + Microsoft Graph.
import { defineConnector } from "../../src/connector.js";
import { collectTenant } from "./collect.js";
import { entraFeedReader } from "./feed.js";
import type { EntraOptions } from "./options.js";
import { createEntraRemediator } from "./remediate.js";

export const entraIdConnector = defineConnector<EntraOptions>({
  create(sourceId, options) {
    return {
      type: "entra-id",
      collect: (ctx) => collectTenant(sourceId, options, ctx),
    };
  },
  remediator(sourceId, options) {
    return createEntraRemediator(sourceId, options);
  },
  events: (sourceId, options) => entraFeedReader(sourceId, options),
  async demo(dir) {
    const { startDemo } = await import("./demo.js");
    return startDemo(dir);
  },
});

// What whohas knows about scim sources without loading the connector.
import { describeConnector } from "../../src/connector.js";
import { scimOptions } from "./options.js";

export const scimDescriptor = describeConnector({
  type: "scim",
  description: "Any SCIM 2.0 service (Slack, Zoom, Atlassian, ...): users with active state, emails, manager and department; groups, roles and entitlements as grants",
  // A SaaS app provisioned over SCIM follows the identity provider; it does not say who has left.
  identityProvider: false,
  options: scimOptions,
  load: async () => (await import("./index.js")).scimConnector,
});

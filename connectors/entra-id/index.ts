// The entra-id connector: one Microsoft Entra tenant per source, read through MSAL + Microsoft Graph.
import { defineConnector } from "../../src/connector.js";
import { collectTenant } from "./collect.js";
import { startDemo } from "./demo.js";
import { entraOptions, type EntraOptions } from "./options.js";

export type { EntraOptions } from "./options.js";

export const entraIdConnector = defineConnector<EntraOptions>({
  type: "entra-id",
  description:
    "Microsoft Entra ID tenant via Microsoft Graph: users with sign-in activity and MFA registration, service principals, app secrets and certificates, directory roles (PIM eligible included)",
  // The tenant is the system of record for employees: a disabled user there is a leaver everywhere.
  identityProvider: true,
  options: entraOptions,
  create(sourceId, options) {
    return {
      type: "entra-id",
      collect: (ctx) => collectTenant(sourceId, options, ctx),
    };
  },
  demo: startDemo,
});

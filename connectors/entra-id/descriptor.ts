// What whohas knows about entra-id without loading MSAL or the Graph client.
import { describeConnector } from "../../src/connector.js";
import { entraOptions } from "./options.js";
import { ENTRA_ACTIONS } from "./remediate-actions.js";

export const entraIdDescriptor = describeConnector({
  type: "entra-id",
  description:
    "Microsoft Entra ID tenant via Microsoft Graph: users with sign-in activity and MFA registration, service principals, app secrets and certificates, directory roles (PIM eligible included)",
  // The tenant is the system of record for employees: a disabled user there is a leaver everywhere.
  identityProvider: true,
  options: entraOptions,
  actions: ENTRA_ACTIONS,
  // The app registration is the credential: a remediate block names its own (never the collector's).
  credentialKeys: ["client_id", "certificate_thumbprint", "certificate_file"],
  load: async () => (await import("./index.js")).entraIdConnector,
});

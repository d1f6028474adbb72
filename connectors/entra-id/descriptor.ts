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
  feeds: [
    {
      feed: "directory",
      description:
        "Directory audit log (/auditLogs/directoryAudits): user, role, group and application management, with who did it (user or app), from which IP, and the modified properties",
      permissions: "AuditLog.Read.All (Microsoft's reference lists Directory.Read.All beside it); any Entra ID edition",
      retention: "7 days (Entra ID Free), 30 days (P1/P2)",
    },
    {
      feed: "signin",
      description: "Interactive user sign-ins (/auditLogs/signIns): failures by status.errorCode, risk level and state, IP, client app",
      permissions: "AuditLog.Read.All and Microsoft Entra ID P1 or P2; without a licence the feed is unavailable (cannot assess), never empty",
      retention: "30 days (P1/P2)",
      signInsOnly: true,
    },
  ],
  load: async () => (await import("./index.js")).entraIdConnector,
});

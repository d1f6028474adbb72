// What whohas knows about google-workspace without loading the Google client libraries.
import { describeConnector } from "../../src/connector.js";
import { googleWorkspaceOptions } from "./options.js";
import { GOOGLE_ACTIONS } from "./remediate-actions.js";

export const googleWorkspaceDescriptor = describeConnector({
  type: "google-workspace",
  description: "Google Workspace users, admin roles, 2SV, last login, OAuth grants (Admin SDK, domain-wide delegation)",
  // The directory of record for people: suspended or deleted here means the person left.
  identityProvider: true,
  options: googleWorkspaceOptions,
  actions: GOOGLE_ACTIONS,
  // Keyless delegation signs as this service account: a remediate block names its own.
  credentialKeys: ["service_account"],
  feeds: [
    {
      feed: "admin",
      description: "Admin console activity (Reports API, application admin): users created, suspended, deleted, admin privilege granted, roles assigned, passwords changed, 2SV settings",
      permissions: "OAuth scope https://www.googleapis.com/auth/admin.reports.audit.readonly in domain-wide delegation; subject a super admin (or a role with Reports)",
      retention: "6 months",
    },
    {
      feed: "login",
      description: "Sign-ins (Reports API, application login): login_success, login_failure, suspicious_login, with IP and challenge method",
      permissions: "OAuth scope https://www.googleapis.com/auth/admin.reports.audit.readonly in domain-wide delegation",
      retention: "6 months",
      signInsOnly: true,
    },
    {
      feed: "token",
      description: "Third-party OAuth grants (Reports API, application token): authorize and revoke per user and client, with scopes",
      permissions: "OAuth scope https://www.googleapis.com/auth/admin.reports.audit.readonly in domain-wide delegation",
      retention: "6 months",
    },
  ],
  load: async () => (await import("./index.js")).googleWorkspaceConnector,
});

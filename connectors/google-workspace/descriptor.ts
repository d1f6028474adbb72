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
  load: async () => (await import("./index.js")).googleWorkspaceConnector,
});

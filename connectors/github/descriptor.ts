// What whohas knows about github sources without loading Octokit.
import { describeConnector } from "../../src/connector.js";
import { githubOptions } from "./options.js";
import { GITHUB_ACTIONS } from "./remediate-actions.js";

export const githubDescriptor = describeConnector({
  type: "github",
  description: "GitHub organizations (GitHub.com, Enterprise Cloud, Enterprise Server): members, 2FA, collaborators, teams, PATs, apps, deploy keys",
  options: githubOptions,
  actions: GITHUB_ACTIONS,
  // The App is the credential: a remediate block names its own App (or token), never the collector's.
  credentialKeys: ["app_id", "installation_ids"],
  load: async () => (await import("./index.js")).githubConnector,
});

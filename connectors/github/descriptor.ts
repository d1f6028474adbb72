// What whohas knows about github sources without loading Octokit.
import { describeConnector } from "../../src/connector.js";
import { githubOptions } from "./options.js";

export const githubDescriptor = describeConnector({
  type: "github",
  description: "GitHub organizations (GitHub.com, Enterprise Cloud, Enterprise Server): members, 2FA, collaborators, teams, PATs, apps, deploy keys",
  options: githubOptions,
  load: async () => (await import("./index.js")).githubConnector,
});

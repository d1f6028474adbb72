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
  feeds: [
    {
      feed: "audit-log",
      description:
        "The organization audit log (GET /orgs/{org}/audit-log, include=all): members added, removed and role changes, team and repository access, OAuth / PAT / SSO credential events, deploy keys, app installations, with the actor (and IP where the org discloses it)",
      permissions:
        "An organization owner's token with read:audit_log (classic PAT), or a GitHub App with the organization permission \"Administration: read\"; GitHub Enterprise Cloud or Enterprise Server only (elsewhere the feed is unavailable)",
      retention: "180 days (git events 7 days) on Enterprise Cloud; Enterprise Server per the instance's audit-log retention setting",
    },
  ],
  load: async () => (await import("./index.js")).githubConnector,
});

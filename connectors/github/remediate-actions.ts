// The remediation actions of github and what each needs: cheap, for the descriptor and docs.
import type { ActionDoc } from "../../src/remediate/contract.js";

export const GITHUB_ACTIONS: readonly ActionDoc[] = [
  {
    type: "remove-org-member",
    description:
      "Removes an org member or owner (DELETE /orgs/{org}/members/{username}), after reading their role and direct team memberships for the undo. Outside collaborators are refused.",
    permissions: [
      "GitHub App organization permission Members: read and write",
      "or a token of an org owner with the admin:org scope",
    ],
    reversible: true,
    undo: "Re-invites with the same role (PUT /orgs/{org}/memberships/{username}) and team roles (PUT /orgs/{org}/teams/{slug}/memberships/{username}); GitHub reinstates a former member who accepts within three months.",
  },
  {
    type: "revoke-token",
    description: "Revokes a fine-grained personal access token's access to the org (POST /orgs/{org}/personal-access-tokens/{pat_id} action=revoke).",
    permissions: ["GitHub App organization permission Personal access tokens: read and write (GitHub App auth only)"],
    reversible: false,
    undo: "None: the token's owner must request access again. Needs allow_irreversible = [\"revoke-token\"] in the source's remediate block and allow_irreversible = true on the [[remediate]] entry.",
  },
];

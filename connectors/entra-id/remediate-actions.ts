// The remediation actions of entra-id and the Graph permissions each needs: cheap, for the descriptor and docs.
import type { ActionDoc } from "../../src/remediate/contract.js";

export const ENTRA_ACTIONS: readonly ActionDoc[] = [
  {
    type: "disable-account",
    description: "Sets the user's accountEnabled to false, then revokes its refresh tokens and session cookies (revokeSignInSessions).",
    permissions: [
      "User.EnableDisableAccount.All (or User.ReadWrite.All)",
      "User.RevokeSessions.All (or User.ReadWrite.All)",
      "User.Read.All (the re-check read)",
      "Privileged Authentication Administrator role for the app to disable an account that holds an admin role",
    ],
    reversible: true,
    undo: "Sets accountEnabled back to true. Revoked sessions stay revoked: the user signs in again.",
  },
  {
    type: "remove-role-assignment",
    description: "Deletes a directly assigned (active) directory role assignment.",
    permissions: ["RoleManagement.ReadWrite.Directory"],
    reversible: true,
    undo: "Creates a new assignment with the same principalId, roleDefinitionId and directoryScopeId (it gets a new id).",
  },
];

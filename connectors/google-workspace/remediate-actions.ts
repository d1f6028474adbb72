// The remediation actions of google-workspace and what each needs: cheap, for the descriptor and docs.
import type { ActionDoc } from "../../src/remediate/contract.js";

export const GOOGLE_ACTIONS: readonly ActionDoc[] = [
  {
    type: "disable-account",
    description: "Suspends the user (users.update suspended=true). A super admin is refused unless the remediate block sets suspend_super_admins = true.",
    permissions: [
      "OAuth scope https://www.googleapis.com/auth/admin.directory.user (domain-wide delegation of the remediate service account)",
      "the impersonated subject: super admin, or an admin role with Users → Update",
    ],
    reversible: true,
    undo: "Unsuspends the user (users.update suspended=false).",
  },
  {
    type: "remove-role-assignment",
    description: "Deletes an admin role assignment (roleAssignments.delete).",
    permissions: [
      "OAuth scope https://www.googleapis.com/auth/admin.directory.rolemanagement (domain-wide delegation of the remediate service account)",
      "the impersonated subject: super admin",
    ],
    reversible: true,
    undo: "Assigns the same role again (roleAssignments.insert with the stored roleId, assignedTo, scopeType, orgUnitId); the assignment gets a new id.",
  },
];

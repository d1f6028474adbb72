// What the aws-iam remediator can do, with the exact IAM permissions each action needs (beyond
// sts:AssumeRole into the member role of the remediate credentials). Cheap: the descriptor imports it.
import type { ActionDoc } from "../../src/remediate/contract.js";

export const AWS_DENY_ALL_POLICY = "arn:aws:iam::aws:policy/AWSDenyAll";

export const AWS_IAM_ACTIONS: readonly ActionDoc[] = [
  {
    type: "deactivate-access-key",
    description: "Sets the user's access key to Inactive (UpdateAccessKey Status=Inactive); the key still exists.",
    permissions: ["iam:ListAccessKeys", "iam:UpdateAccessKey"],
    reversible: true,
    undo: "UpdateAccessKey Status=Active",
  },
  {
    type: "quarantine-principal",
    description: "Attaches the AWS-managed AWSDenyAll policy to the user or role, which denies every action it could take.",
    permissions: ["iam:ListAttachedUserPolicies", "iam:ListAttachedRolePolicies", "iam:AttachUserPolicy", "iam:AttachRolePolicy", "iam:DetachUserPolicy", "iam:DetachRolePolicy"],
    reversible: true,
    undo: "DetachUserPolicy / DetachRolePolicy of AWSDenyAll",
  },
  {
    type: "remove-group-member",
    description: "Removes the user from the IAM group that gives the access in the finding.",
    permissions: ["iam:ListGroupsForUser", "iam:RemoveUserFromGroup", "iam:AddUserToGroup"],
    reversible: true,
    undo: "AddUserToGroup",
  },
];

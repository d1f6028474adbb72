// Role catalogue entries for IAM: what a managed or inline policy permits (its document summarized by
// service, see summarizeDocument) and why it has its privilege class. Pure; the collector emits one per
// privilege somebody holds.
import type { Grant, RoleDefinition } from "../../src/model.js";
import { classifyManagedPolicy, isAwsManagedArn, summarizeDocument, type GrantLevel, type PolicyDocument } from "./policy.js";
import type { ManagedPolicyInfo } from "./map.js";

/** A managed policy (AWS's or the account's own); its id and privilege are its ARN. */
export function managedPolicyDefinition(info: ManagedPolicyInfo): RoleDefinition | undefined {
  if (info.level.level === null) return undefined;
  const aws = isAwsManagedArn(info.arn);
  return {
    id: info.arn,
    privilege: info.arn,
    name: info.name,
    kind: aws ? "aws_managed_policy" : "aws_customer_policy",
    level: info.level.level,
    reason: info.level.reason,
    permissions: info.doc ? summarizeDocument(info.doc) : [`document not returned by IAM; classified ${info.level.basis === "aws_managed_name" ? "as the AWS managed policy it names" : "by its name"}`],
    attributes: {
      arn: info.arn,
      level_basis: info.level.basis,
      ...(info.level.conditional ? { conditional: true } : {}),
      ...(info.level.hasDeny ? { has_deny: true } : {}),
    },
  };
}

export function isManagedPolicyGrant(g: Grant): boolean {
  const type = g.attributes?.policy_type;
  return type === "aws_managed" || type === "customer_managed";
}

/** A policy attached to someone but absent from the account's policy listing: described by its name, as its grants were. */
export function unlistedPolicy(g: Grant): ManagedPolicyInfo {
  const name = typeof g.attributes?.policy_name === "string" ? g.attributes.policy_name : (g.privilege.split("/").pop() ?? g.privilege);
  return { arn: g.privilege, name, level: classifyManagedPolicy(g.privilege, name, undefined) };
}

/** An inline policy; map.ts gives a user's or role's its holder (a group's is shared by the members). */
export function inlinePolicyDefinition(privilege: string, policyName: string, doc: PolicyDocument | undefined, level: GrantLevel, reason: string): RoleDefinition {
  return {
    id: privilege,
    privilege,
    name: policyName,
    kind: "aws_inline_policy",
    level,
    reason,
    permissions: doc ? summarizeDocument(doc) : ["document could not be parsed"],
  };
}

/** A role a third party may assume: it permits what its own policies permit. */
export function assumableRoleDefinition(privilege: string, roleName: string, roleGrants: readonly Grant[], level: GrantLevel): RoleDefinition {
  const policies = [...roleGrants].sort((a, b) => a.privilege.localeCompare(b.privilege));
  const strongest = policies.find((g) => g.level === level);
  return {
    id: privilege,
    privilege,
    name: roleName,
    kind: "aws_assumable_role",
    level,
    reason: strongest ? `its policy ${strongest.privilege} is ${level}` : `its policies are ${level}`,
    permissions: policies.map((g) => `assume the role and use ${g.privilege} (${g.level})`),
  };
}

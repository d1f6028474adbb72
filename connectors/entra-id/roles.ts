// How powerful an Entra directory role is. Built-in roles are recognised by templateId, which is
// the same GUID in every tenant (their display names are localisable and have been renamed before);
// custom roles are judged by the actions they allow.
import type { AccessLevel, RoleDefinition } from "../../src/model.js";

export type RoleLevel = Exclude<AccessLevel, "none">;

interface KnownRole {
  name: string;
  level: RoleLevel;
}

/**
 * Control-plane roles. "admin": can take over the whole tenant directly (assign any role, reset any
 * admin's credentials). "privileged": can take over other principals or apps (reset passwords or MFA,
 * add credentials to apps holding high permissions, change sign-in policy or sync). The README lists
 * this table; keep them in step.
 */
export const KNOWN_ROLES: Readonly<Record<string, KnownRole>> = {
  "62e90394-69f5-4237-9190-012177145e10": { name: "Global Administrator", level: "admin" },
  "e8611ab8-c189-46e8-94e1-60213ab1f814": { name: "Privileged Role Administrator", level: "admin" },
  "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": { name: "Privileged Authentication Administrator", level: "admin" },
  "e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8": { name: "Partner Tier2 Support", level: "admin" },
  "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": { name: "Application Administrator", level: "privileged" },
  "158c047a-c907-4556-b7ef-446551a6b5f7": { name: "Cloud Application Administrator", level: "privileged" },
  "c4e39bd9-1100-46d3-8c65-fb160da0071f": { name: "Authentication Administrator", level: "privileged" },
  "0526716b-113d-4c15-b2c8-68e3c22b9f80": { name: "Authentication Policy Administrator", level: "privileged" },
  "fe930be7-5e62-47db-91af-98c3a49a38b1": { name: "User Administrator", level: "privileged" },
  "729827e3-9c14-49f7-bb1b-9608f156bbb8": { name: "Helpdesk Administrator", level: "privileged" },
  "966707d0-3269-4727-9be2-8c3a10f19b9d": { name: "Password Administrator", level: "privileged" },
  "fdd7a751-b60b-444a-984c-02652fe8fa1c": { name: "Groups Administrator", level: "privileged" },
  "9360feb5-f418-4baa-8175-e2a00bac4301": { name: "Directory Writers", level: "privileged" },
  "d29b2b05-8046-44ba-8758-1e26182fcf32": { name: "Directory Synchronization Accounts", level: "privileged" },
  "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2": { name: "Hybrid Identity Administrator", level: "privileged" },
  "be2f45a1-457d-42af-a067-6ec1fa63bc45": { name: "External Identity Provider Administrator", level: "privileged" },
  "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": { name: "Conditional Access Administrator", level: "privileged" },
  "194ae4cb-b126-40b2-bd5b-6091b380977d": { name: "Security Administrator", level: "privileged" },
  "29232cdf-9323-42fd-ade2-1d097af3e4de": { name: "Exchange Administrator", level: "privileged" },
  "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": { name: "SharePoint Administrator", level: "privileged" },
  "3a2c62db-5318-420d-8d74-23affee5d9d5": { name: "Intune Administrator", level: "privileged" },
  "7698a772-787b-4ac8-901f-60d6b08affd2": { name: "Cloud Device Administrator", level: "privileged" },
  "f2ef992c-3afb-46b9-b7cf-a126ee74c451": { name: "Global Reader", level: "read" },
  "5d6b6bb7-de71-4623-b4af-96380a352509": { name: "Security Reader", level: "read" },
  "88d8e3e3-8f55-4a1e-953a-9b9898b8876b": { name: "Directory Readers", level: "read" },
  "4a5d8f65-41da-4de4-8968-e035b65339cf": { name: "Reports Reader", level: "read" },
};

export const GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10";

/**
 * Actions that let the holder act as someone else or grant privilege: a custom role allowing any of
 * them is as dangerous as the built-in "privileged" roles.
 */
const PRIVILEGED_ACTION =
  /(\/credentials\/update|\/password\/update|\/authenticationMethods\/|microsoft\.directory\/roleAssignments\/|microsoft\.directory\/roleDefinitions\/|\/appRoleAssignedTo\/update|oAuth2PermissionGrants\/(create|allProperties)|conditionalAccessPolicies\/|\/owners\/update|\/allProperties\/allTasks$)/;

export interface RoleDefinitionLike {
  id: string;
  displayName?: string | null;
  templateId?: string | null;
  isBuiltIn?: boolean | null;
  rolePermissions?: ({ allowedResourceActions?: (string | null)[] | null } | null)[] | null;
}

/** Own keys only: a tenant's role id "constructor" or "__proto__" must not find Object.prototype's members. */
function knownRole(id: string): KnownRole | undefined {
  const key = id.toLowerCase();
  return Object.hasOwn(KNOWN_ROLES, key) ? KNOWN_ROLES[key] : undefined;
}

export function roleLevel(def: RoleDefinitionLike): RoleLevel {
  const known = knownRole(def.templateId ?? def.id ?? "");
  if (known) return known.level;
  // Graph's description allows null permissions and null actions: a null allows nothing.
  const actions = (def.rolePermissions ?? []).flatMap((p) => p?.allowedResourceActions ?? []).filter((a): a is string => typeof a === "string");
  if (actions.some((a) => PRIVILEGED_ACTION.test(a))) return "privileged";
  // Entra action names end in /read for every read-only permission; anything else changes something.
  if (actions.length > 0 && actions.every((a) => a.toLowerCase().endsWith("/read"))) return "read";
  return "write";
}

/** The display name to record: the tenant's own, else the built-in's, else the id (never empty). */
export function roleName(def: RoleDefinitionLike | undefined, roleDefinitionId: string): string {
  if (def?.displayName) return def.displayName;
  return knownRole(roleDefinitionId)?.name ?? `role ${roleDefinitionId}`;
}

/** Allowed resource actions listed per definition: a reviewer reads a summary, the portal has the rest. */
export const ACTIONS_MAX_LINES = 60;

function allowedActions(def: RoleDefinitionLike): string[] {
  return [...new Set((def.rolePermissions ?? []).flatMap((p) => p?.allowedResourceActions ?? []).filter((a): a is string => typeof a === "string"))].sort();
}

/** Why roleLevel gave its class, in words a reviewer can check against the definition. */
export function roleLevelReason(def: RoleDefinitionLike): string {
  const known = knownRole(def.templateId ?? def.id ?? "");
  if (known) return `built-in role ${known.name}: classed ${known.level} in whohas's table of Entra roles`;
  const actions = allowedActions(def);
  const privileged = actions.find((a) => PRIVILEGED_ACTION.test(a));
  if (privileged) return `allows ${privileged}, which lets the holder act as others or grant privilege`;
  if (actions.length > 0 && actions.every((a) => a.toLowerCase().endsWith("/read"))) return "every allowed action is a read";
  const change = actions.find((a) => !a.toLowerCase().endsWith("/read"));
  return change ? `allows ${change}, which changes the directory` : "no allowed actions listed; assumed write";
}

/** The catalogue entry of a directory role: its allowed resource actions, in Graph's own names. */
export function directoryRoleDefinition(def: RoleDefinitionLike): RoleDefinition {
  const name = roleName(def, def.id);
  const actions = allowedActions(def);
  const permissions = actions.length > ACTIONS_MAX_LINES ? [...actions.slice(0, ACTIONS_MAX_LINES), `… and ${actions.length - ACTIONS_MAX_LINES} more actions`] : actions;
  return {
    id: def.id,
    privilege: name,
    name,
    kind: "entra_directory_role",
    level: roleLevel(def),
    reason: roleLevelReason(def),
    permissions: permissions.length > 0 ? permissions : ["no allowed resource actions returned"],
    attributes: { templateId: def.templateId ?? null, builtIn: def.isBuiltIn ?? null, allowed_actions: actions.length },
  };
}

// Role catalogue entries for Workspace admin roles: the role's privileges (roles.list's rolePrivileges, in
// Google's own names, grouped by the service they belong to) and why roleLevel classes it as it does.
import type { admin_directory_v1 } from "@googleapis/admin";
import type { RoleDefinition } from "../../src/model.js";
import { isPrivilegedPrivilege, roleLevel } from "./map.js";

type Role = admin_directory_v1.Schema$Role;

/** Where the privilege string of a role's grants comes from: mapRoleAssignment names grants so. */
export function rolePrivilege(role: Role, roleId: string): string {
  return role.roleName ?? `role:${roleId}`;
}

function reasonFor(role: Role, names: string[], level: RoleDefinition["level"]): string {
  if (role.isSuperAdminRole) return "the super admin role (isSuperAdminRole)";
  if (names.includes("SUPER_ADMIN")) return "holds the SUPER_ADMIN privilege";
  const privileged = names.find(isPrivilegedPrivilege);
  if (privileged) return `holds ${privileged}, which changes who has access`;
  if (level === "read") return "every privilege only reads";
  return names.length > 0 ? `holds privileges that change settings or data (${names.find((n) => !/_RETRIEVE$|_READ/.test(n)) ?? names[0]})` : "no privileges listed; assumed write";
}

export function adminRoleDefinition(role: Role): RoleDefinition {
  const roleId = String(role.roleId ?? "");
  if (!roleId) throw new Error(`role ${JSON.stringify(role.roleName ?? null)} has no roleId`);
  const byService = new Map<string, Set<string>>();
  for (const p of role.rolePrivileges ?? []) {
    if (!p?.privilegeName) continue;
    const service = p.serviceId ?? "(no service id)";
    const set = byService.get(service) ?? new Set<string>();
    set.add(p.privilegeName);
    byService.set(service, set);
  }
  const names = [...byService.values()].flatMap((s) => [...s]);
  const level = roleLevel(role);
  return {
    id: roleId,
    privilege: rolePrivilege(role, roleId),
    name: rolePrivilege(role, roleId),
    kind: "google_admin_role",
    level,
    reason: reasonFor(role, names, level),
    permissions: byService.size > 0
      ? [...byService].sort(([a], [b]) => a.localeCompare(b)).map(([service, set]) => `service ${service}: ${[...set].sort().join(", ")}`)
      : [role.isSuperAdminRole ? "every privilege (super admin)" : "no privileges listed"],
    attributes: { systemRole: role.isSystemRole ?? false, superAdmin: role.isSuperAdminRole ?? false, ...(role.roleDescription ? { description: role.roleDescription } : {}) },
  };
}

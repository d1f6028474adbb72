// @googleapis/admin wiring: the Directory client on an instrumented auth client, and the list calls with
// the largest pages the API allows and partial-response masks of exactly the fields map.ts reads.
import { admin, type admin_directory_v1 } from "@googleapis/admin";
import type { OAuth2Client } from "google-auth-library";
import { USERS_PAGE_MAX } from "./options.js";

export type Directory = admin_directory_v1.Admin;

/** Largest pages the Directory API accepts (discovery document maxima). */
export const PAGE = { users: USERS_PAGE_MAX, roles: 100, roleAssignments: 200 } as const;

const USER_FIELDS = [
  "id",
  "primaryEmail",
  "name/fullName",
  "isAdmin",
  "isDelegatedAdmin",
  "isEnrolledIn2Sv",
  "isEnforcedIn2Sv",
  "suspended",
  "suspensionReason",
  "archived",
  "creationTime",
  "lastLoginTime",
  "orgUnitPath",
  "aliases",
  "isGuestUser",
  "customerId",
];

export function userFieldsMask(customSchemas: boolean): string {
  return `nextPageToken,users(${[...USER_FIELDS, ...(customSchemas ? ["customSchemas"] : [])].join(",")})`;
}
export const ROLE_FIELDS = "nextPageToken,items(roleId,roleName,roleDescription,isSuperAdminRole,isSystemRole,rolePrivileges(privilegeName,serviceId))";
export const ASSIGNMENT_FIELDS = "nextPageToken,items(roleAssignmentId,roleId,assignedTo,assigneeType,scopeType,orgUnitId,condition)";
export const TOKEN_FIELDS = "items(clientId,displayText,scopes,nativeApp,anonymous,userKey)";
export const ASP_FIELDS = "items(codeId,name,creationTime,lastTimeUsed,userKey)";

export function directoryClient(auth: OAuth2Client, rootUrl?: string): Directory {
  // googleapis-common pins its own google-auth-library copy; the client is the same at runtime.
  const options: admin_directory_v1.Options = { version: "directory_v1", auth: auth as unknown as admin_directory_v1.Options["auth"] };
  if (rootUrl) options.rootUrl = rootUrl;
  return admin(options);
}

export interface UsersQuery {
  customer: string;
  pageSize: number;
  /** Custom schema names to fetch; none → projection=basic. */
  customSchemas: readonly string[];
}

/** Remembers page tokens followed: one seen again would read the same pages forever. */
export function loopGuard(): (token: string | null | undefined) => string | undefined {
  const followed = new Set<string>();
  return (token) => {
    if (!token) return undefined;
    if (followed.has(token)) throw new Error(`the nextPageToken of page ${followed.size + 2} repeats one already followed (pagination loop)`);
    followed.add(token);
    return token;
  };
}

export async function* userPages(dir: Directory, q: UsersQuery): AsyncGenerator<admin_directory_v1.Schema$User[]> {
  const custom = q.customSchemas.length > 0;
  let pageToken: string | undefined;
  const next = loopGuard();
  do {
    const res = await dir.users.list({
      customer: q.customer,
      maxResults: q.pageSize,
      pageToken,
      projection: custom ? "custom" : "basic",
      ...(custom ? { customFieldMask: q.customSchemas.join(",") } : {}),
      fields: userFieldsMask(custom),
    });
    yield res.data.users ?? [];
    pageToken = next(res.data.nextPageToken);
  } while (pageToken);
}

export async function allRoles(dir: Directory, customer: string): Promise<Map<string, admin_directory_v1.Schema$Role>> {
  const roles = new Map<string, admin_directory_v1.Schema$Role>();
  let pageToken: string | undefined;
  const next = loopGuard();
  do {
    const res = await dir.roles.list({ customer, maxResults: PAGE.roles, pageToken, fields: ROLE_FIELDS });
    for (const r of res.data.items ?? []) if (r.roleId) roles.set(r.roleId, r);
    pageToken = next(res.data.nextPageToken);
  } while (pageToken);
  return roles;
}

export async function* roleAssignmentPages(dir: Directory, customer: string): AsyncGenerator<admin_directory_v1.Schema$RoleAssignment[]> {
  let pageToken: string | undefined;
  const next = loopGuard();
  do {
    const res = await dir.roleAssignments.list({ customer, maxResults: PAGE.roleAssignments, pageToken, fields: ASSIGNMENT_FIELDS });
    // Google may return an empty page that still has a token; keep following it.
    yield res.data.items ?? [];
    pageToken = next(res.data.nextPageToken);
  } while (pageToken);
}

function isNotFound(err: unknown): boolean {
  return (err as { response?: { status?: number } })?.response?.status === 404;
}

/** Not paginated. `undefined` when the user was deleted after users.list saw it. */
export async function userTokens(dir: Directory, userKey: string): Promise<admin_directory_v1.Schema$Token[] | undefined> {
  try {
    return (await dir.tokens.list({ userKey, fields: TOKEN_FIELDS })).data.items ?? [];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function userAsps(dir: Directory, userKey: string): Promise<admin_directory_v1.Schema$Asp[] | undefined> {
  try {
    return (await dir.asps.list({ userKey, fields: ASP_FIELDS })).data.items ?? [];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

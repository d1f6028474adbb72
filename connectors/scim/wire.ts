// SCIM 2.0 on the wire (RFC 7643 resources, RFC 7644 protocol messages): what the connector reads and the
// simulator writes. Servers omit most attributes; every member is optional except where RFC 7644 says not.

export const SCHEMA = {
  user: "urn:ietf:params:scim:schemas:core:2.0:User",
  group: "urn:ietf:params:scim:schemas:core:2.0:Group",
  enterpriseUser: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
  listResponse: "urn:ietf:params:scim:api:messages:2.0:ListResponse",
  error: "urn:ietf:params:scim:api:messages:2.0:Error",
} as const;

/** RFC 7644 §3.1: the media type of SCIM messages; servers also answer plain application/json. */
export const SCIM_MEDIA_TYPE = "application/scim+json";

export interface ScimMeta {
  resourceType?: string;
  created?: string;
  lastModified?: string;
  location?: string;
  version?: string;
}

/** A multi-valued attribute's value (emails, groups, roles, entitlements, members). */
export interface ScimMultiValue {
  value?: string;
  display?: string;
  type?: string;
  primary?: boolean;
  $ref?: string;
}

export interface ScimName {
  formatted?: string;
  familyName?: string;
  givenName?: string;
}

export interface ScimEnterpriseUser {
  employeeNumber?: string;
  costCenter?: string;
  organization?: string;
  division?: string;
  department?: string;
  manager?: { value?: string; $ref?: string; displayName?: string };
}

export interface ScimUser {
  schemas?: string[];
  id?: string;
  externalId?: string;
  userName?: string;
  name?: ScimName;
  displayName?: string;
  userType?: string;
  title?: string;
  active?: boolean;
  emails?: ScimMultiValue[];
  /** Read-only: the groups the user belongs to, `type` "direct" or "indirect". */
  groups?: ScimMultiValue[];
  roles?: ScimMultiValue[];
  entitlements?: ScimMultiValue[];
  meta?: ScimMeta;
  [SCHEMA.enterpriseUser]?: ScimEnterpriseUser;
}

export interface ScimGroup {
  schemas?: string[];
  id?: string;
  externalId?: string;
  displayName?: string;
  /** `type` "User" or "Group" (nested groups). */
  members?: ScimMultiValue[];
  meta?: ScimMeta;
}

export interface ScimListResponse<T> {
  schemas?: string[];
  totalResults: number;
  startIndex?: number;
  itemsPerPage?: number;
  /** May be absent when totalResults is 0. */
  Resources?: T[];
}

export interface ScimError {
  schemas?: string[];
  /** The HTTP status as a string (RFC 7644 §3.12); some servers send a number. */
  status?: string | number;
  scimType?: string;
  detail?: string;
}

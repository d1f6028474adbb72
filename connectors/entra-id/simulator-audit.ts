// The simulated tenant's audit logs: directoryAudit and signIn records exactly as Graph v1.0 returns them,
// written by the tenant's mutation API while recording is on (after generation), each with the actor
// the change is made as. The wire layer (simulator.ts) filters, orders and pages them.
import { hexId, seededRandom, type Random } from "../../src/simulator/random.js";

export interface SimModifiedProperty {
  displayName: string;
  oldValue: string | null;
  newValue: string | null;
}

export interface SimTargetResource {
  id: string;
  displayName: string | null;
  type: "User" | "ServicePrincipal" | "Group" | "Application" | "Role" | "Other";
  userPrincipalName: string | null;
  groupType: string | null;
  modifiedProperties: SimModifiedProperty[];
}

export interface SimDirectoryAudit {
  id: string;
  category: string;
  correlationId: string;
  result: "success" | "failure";
  resultReason: string;
  activityDisplayName: string;
  activityDateTime: string;
  loggedByService: string;
  operationType: string;
  initiatedBy: {
    app: { appId: string | null; displayName: string | null; servicePrincipalId: string | null; servicePrincipalName: string | null } | null;
    user: { id: string; displayName: string | null; userPrincipalName: string; ipAddress: string; userType: null; homeTenantId: null; homeTenantName: null } | null;
  };
  targetResources: SimTargetResource[];
  additionalDetails: { key: string; value: string }[];
}

export interface SimSignIn {
  id: string;
  createdDateTime: string;
  userDisplayName: string;
  userPrincipalName: string;
  userId: string;
  appId: string;
  appDisplayName: string;
  ipAddress: string;
  clientAppUsed: string;
  correlationId: string;
  conditionalAccessStatus: "success" | "failure" | "notApplied";
  isInteractive: boolean;
  riskDetail: string;
  riskLevelAggregated: string;
  riskLevelDuringSignIn: string;
  riskState: string;
  riskEventTypes_v2: string[];
  resourceDisplayName: string;
  resourceId: string;
  status: { errorCode: number; failureReason: string | null; additionalDetails: string | null };
  deviceDetail: { deviceId: string; displayName: string; operatingSystem: string; browser: string; isCompliant: boolean; isManaged: boolean; trustType: string };
  location: { city: string; state: string; countryOrRegion: string; geoCoordinates: { altitude: null; latitude: number; longitude: number } };
  appliedConditionalAccessPolicies: unknown[];
}

/** Who a change is made as: an administrator signed in from an address, or an app. */
export type SimActor =
  | { kind: "user"; id: string; userPrincipalName: string; displayName?: string; ipAddress: string }
  | { kind: "app"; appId: string; displayName: string; servicePrincipalId: string | null };

export const PORTAL_USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";

/** Entra's wording for a bad password, the most common sign-in failure. */
export const SIGNIN_ERRORS: Readonly<Record<number, string>> = {
  50126: "Error validating credentials due to invalid username or password.",
  50053: "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
  50057: "User account is disabled. The account has been disabled by an administrator.",
  50074: "Strong Authentication is required.",
  53003: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
};

const AZURE_PORTAL = { appId: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", appDisplayName: "Azure Portal" };

/** A guid from the log's own random source, so recording never shifts the tenant generator's sequence. */
function guid(rand: Random): string {
  const h = hexId(rand, 32).split("");
  h[12] = "4";
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** Graph's JSON-encoded property values: strings quoted, lists as JSON arrays. */
export const encoded = (v: unknown): string => JSON.stringify(v);

export class SimAuditLog {
  readonly directoryAudits: SimDirectoryAudit[] = [];
  readonly signIns: SimSignIn[] = [];
  /** Off while a tenant is generated: its history is older than any retention window. */
  recording = false;
  actor: SimActor;
  private readonly rand: Random;

  constructor(seed: number, actor: SimActor) {
    this.rand = seededRandom(seed);
    this.actor = actor;
  }

  newId(): string {
    return guid(this.rand);
  }

  /** Runs `fn` with changes made as `actor`. */
  as<T>(actor: SimActor, fn: () => T): T {
    const before = this.actor;
    this.actor = actor;
    try {
      return fn();
    } finally {
      this.actor = before;
    }
  }

  directory(entry: {
    activity: string;
    category: string;
    operationType: string;
    targets: SimTargetResource[];
    service?: string;
    at?: Date;
    result?: "success" | "failure";
  }): SimDirectoryAudit | undefined {
    if (!this.recording) return undefined;
    const correlationId = this.newId();
    const a = this.actor;
    const record: SimDirectoryAudit = {
      id: `Directory_${correlationId}_${hexId(this.rand, 5).toUpperCase()}_${Math.floor(this.rand() * 1e9)}`,
      category: entry.category,
      correlationId,
      result: entry.result ?? "success",
      resultReason: "",
      activityDisplayName: entry.activity,
      // Graph writes seven fractional digits.
      activityDateTime: (entry.at ?? new Date()).toISOString().replace(/Z$/, () => "0000Z"),
      loggedByService: entry.service ?? "Core Directory",
      operationType: entry.operationType,
      initiatedBy:
        a.kind === "user"
          ? { app: null, user: { id: a.id, displayName: a.displayName ?? null, userPrincipalName: a.userPrincipalName, ipAddress: a.ipAddress, userType: null, homeTenantId: null, homeTenantName: null } }
          : { user: null, app: { appId: a.appId, displayName: a.displayName, servicePrincipalId: a.servicePrincipalId, servicePrincipalName: null } },
      targetResources: entry.targets,
      additionalDetails: a.kind === "user" ? [{ key: "User-Agent", value: PORTAL_USER_AGENT }] : [],
    };
    this.directoryAudits.push(record);
    return record;
  }

  signIn(user: { id: string; userPrincipalName: string; displayName: string }, opts: { at: Date; errorCode?: number; ipAddress?: string; risk?: "none" | "low" | "medium" | "high"; clientAppUsed?: string }): SimSignIn {
    const code = opts.errorCode ?? 0;
    const risk = opts.risk ?? "none";
    const record: SimSignIn = {
      id: this.newId(),
      createdDateTime: opts.at.toISOString().replace(/Z$/, () => "0000Z"),
      userDisplayName: user.displayName,
      userPrincipalName: user.userPrincipalName,
      userId: user.id,
      ...AZURE_PORTAL,
      ipAddress: opts.ipAddress ?? "192.0.2.10",
      clientAppUsed: opts.clientAppUsed ?? "Browser",
      correlationId: this.newId(),
      conditionalAccessStatus: code === 53003 ? "failure" : "notApplied",
      isInteractive: true,
      riskDetail: "none",
      riskLevelAggregated: risk,
      riskLevelDuringSignIn: risk,
      riskState: risk === "none" ? "none" : "atRisk",
      riskEventTypes_v2: risk === "none" ? [] : ["unfamiliarFeatures"],
      resourceDisplayName: "Windows Azure Service Management API",
      resourceId: "797f4846-ba00-4fd7-ba43-dac1f8f63013",
      status: { errorCode: code, failureReason: code === 0 ? null : (SIGNIN_ERRORS[code] ?? "Other."), additionalDetails: null },
      deviceDetail: { deviceId: "", displayName: "", operatingSystem: "Windows10", browser: "Edge 131.0.0", isCompliant: false, isManaged: false, trustType: "" },
      location: { city: "Redmond", state: "Washington", countryOrRegion: "US", geoCoordinates: { altitude: null, latitude: 47.68, longitude: -122.12 } },
      appliedConditionalAccessPolicies: [],
    };
    this.signIns.push(record);
    return record;
  }
}

/** One `<prop> ge|le|gt|lt|eq <time>` clause of a $filter; several are joined with `and`. */
export interface TimeClause {
  op: "ge" | "le" | "gt" | "lt" | "eq";
  at: number;
}

/** Parses the subset of $filter the audit logs get from whohas: time comparisons on `field`. Null: not understood. */
export function parseTimeFilter(filter: string, field: string): TimeClause[] | null {
  const clauses: TimeClause[] = [];
  for (const part of filter.trim().split(/\s+and\s+/i)) {
    const m = /^(\w+)\s+(ge|le|gt|lt|eq)\s+(\d{4}-\d{2}-\d{2}T[\d:.]+Z)$/i.exec(part.trim());
    if (!m || m[1] !== field) return null;
    const at = Date.parse(m[3]!);
    if (Number.isNaN(at)) return null;
    clauses.push({ op: m[2]!.toLowerCase() as TimeClause["op"], at });
  }
  return clauses;
}

export function matchesTime(t: number, clauses: readonly TimeClause[]): boolean {
  return clauses.every((c) => (c.op === "ge" ? t >= c.at : c.op === "le" ? t <= c.at : c.op === "gt" ? t > c.at : c.op === "lt" ? t < c.at : t === c.at));
}

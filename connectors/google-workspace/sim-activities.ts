// The simulated customer's Reports API activity log: activities exactly as activities.list returns them
// (kind admin#reports#activity, id{time,uniqueQualifier,applicationName,customerId}, actor, ipAddress,
// events[{type,name,parameters}]), written by the tenant's mutation API as `actor`.
import { hexId, seededRandom, type Random } from "../../src/simulator/random.js";

export interface SimActivityParameter {
  name: string;
  value?: string;
  boolValue?: boolean;
  intValue?: string;
  multiValue?: string[];
}

export interface SimActivity {
  kind: "admin#reports#activity";
  id: { time: string; uniqueQualifier: string; applicationName: string; customerId: string };
  etag: string;
  actor: { callerType?: string; email?: string; profileId?: string; key?: string };
  ipAddress?: string;
  ownerDomain: string;
  events: { type: string; name: string; parameters?: SimActivityParameter[] }[];
}

/** Who an activity is made as: a person (admin or user) signed in from an address. */
export interface SimActivityActor {
  email: string;
  profileId: string;
  ipAddress: string;
}

export const REPORT_APPLICATIONS = ["admin", "login", "token", "user_accounts", "drive", "saml", "groups"] as const;

/** How long the Reports API keeps admin, login and token activities. */
export const ACTIVITY_RETENTION_DAYS = 180;

export class SimActivityLog {
  readonly activities: SimActivity[] = [];
  recording = true;
  /** Who admin changes are made as; set by the tenant to its first super admin. */
  actor: SimActivityActor;
  private readonly rand: Random;

  constructor(
    seed: number,
    private readonly customerId: string,
    private readonly domain: string,
    actor: SimActivityActor,
  ) {
    this.rand = seededRandom(seed);
    this.actor = actor;
  }

  /** Runs `fn` with changes made as `actor`. */
  as<T>(actor: SimActivityActor, fn: () => T): T {
    const before = this.actor;
    this.actor = actor;
    try {
      return fn();
    } finally {
      this.actor = before;
    }
  }

  record(
    applicationName: string,
    type: string,
    name: string,
    parameters: SimActivityParameter[],
    opts: { actor?: SimActivityActor; at?: Date } = {},
  ): SimActivity | undefined {
    if (!this.recording) return undefined;
    const actor = opts.actor ?? this.actor;
    // uniqueQualifier is a signed int64 in a string; only with time is it unique.
    const q = `${this.rand() < 0.5 ? "-" : ""}${1 + Math.floor(this.rand() * 9)}${Array.from({ length: 18 }, () => Math.floor(this.rand() * 10)).join("")}`;
    const activity: SimActivity = {
      kind: "admin#reports#activity",
      id: { time: (opts.at ?? new Date()).toISOString(), uniqueQualifier: q, applicationName, customerId: this.customerId },
      etag: `"${hexId(this.rand, 43)}/${hexId(this.rand, 27)}"`,
      actor: { callerType: "USER", email: actor.email, profileId: actor.profileId },
      ipAddress: actor.ipAddress,
      ownerDomain: this.domain,
      events: [{ type, name, ...(parameters.length > 0 ? { parameters } : {}) }],
    };
    this.activities.push(activity);
    return activity;
  }
}

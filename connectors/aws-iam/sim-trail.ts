// The simulated CloudTrail behind simulator.ts: every change the simulated organization makes (tests,
// the demo's mutate()) is recorded as the CloudTrail record AWS writes for it — userIdentity of the actor,
// requestParameters, responseElements, source IP and user agent — and console sign-ins as ConsoleLogin
// records in the Region of the sign-in endpoint.
import { randomUUID } from "node:crypto";

export type SimActorType = "IAMUser" | "AssumedRole" | "Root" | "AWSService";

export interface SimActor {
  type: SimActorType;
  /** IAMUser: the user name; AssumedRole: the role name (or its prefix, e.g. "AWSReservedSSO_AdministratorAccess"); AWSService: the service principal. */
  name: string;
  /** AssumedRole: the session name (Identity Center uses the person's login). */
  session?: string;
  ip: string;
  userAgent: string;
  mfa?: boolean;
}

export interface SimTrailEvent {
  accountId: string;
  region: string;
  eventId: string;
  /** Epoch ms, whole seconds (CloudTrail's precision). */
  eventTime: number;
  eventName: string;
  eventSource: string;
  username?: string;
  accessKeyId?: string;
  readOnly: boolean;
  resources: { ResourceType: string; ResourceName: string }[];
  /** The CloudTrail record as AWS serializes it: LookupEvents returns it as a JSON string. */
  record: string;
}

/** What the trail needs to know of the organization (kept narrow: no import cycle with sim-tenant). */
export interface TrailHost {
  now(): Date;
  nextId(prefix: string, length?: number): string;
  userIdOf(accountId: string, userName: string): { userId: string; arn: string } | undefined;
  roleOf(accountId: string, namePrefix: string): { roleId: string; roleName: string; arn: string } | undefined;
}

export const CONSOLE_USER_AGENT = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
export const CLI_USER_AGENT = "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 command/iam";
export const TERRAFORM_USER_AGENT = "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.62.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/iam#1.34.3";

/** The organization's administrators act through Identity Center unless a test or the demo says otherwise. */
export const DEFAULT_ACTOR: SimActor = { type: "AssumedRole", name: "AWSReservedSSO_AdministratorAccess", session: "ann.admin@example.com", ip: "203.0.113.7", userAgent: CONSOLE_USER_AGENT, mfa: true };

const PARTITION = "aws";
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

export class SimTrail {
  /** Every account's events, oldest first. */
  readonly events: SimTrailEvent[] = [];
  /** False: changes happen without a record (a log gap, an out-of-band change). */
  recording = true;
  private readonly actors = new Map<string, SimActor>();

  constructor(private readonly host: TrailHost) {}

  /** Who the next changes in this account are made by (undefined: the default administrator). */
  actAs(accountId: string, actor: SimActor | undefined): void {
    if (actor) this.actors.set(accountId, actor);
    else this.actors.delete(accountId);
  }

  actorIn(accountId: string): SimActor {
    return this.actors.get(accountId) ?? DEFAULT_ACTOR;
  }

  /** Runs `change` as `actor`, then restores the previous actor. */
  as<T>(accountId: string, actor: SimActor, change: () => T): T {
    const before = this.actors.get(accountId);
    this.actAs(accountId, actor);
    try {
      return change();
    } finally {
      this.actAs(accountId, before);
    }
  }

  private identity(accountId: string, actor: SimActor, atMs: number): Record<string, unknown> {
    switch (actor.type) {
      case "IAMUser": {
        const u = this.host.userIdOf(accountId, actor.name);
        return { type: "IAMUser", principalId: u?.userId ?? this.host.nextId("AIDA"), arn: u?.arn ?? `arn:${PARTITION}:iam::${accountId}:user/${actor.name}`, accountId, accessKeyId: this.host.nextId("ASIA", 16), userName: actor.name };
      }
      case "Root":
        return { type: "Root", principalId: accountId, arn: `arn:${PARTITION}:iam::${accountId}:root`, accountId, accessKeyId: this.host.nextId("ASIA", 16) };
      case "AWSService":
        return { type: "AWSService", invokedBy: actor.name };
      case "AssumedRole": {
        const role = this.host.roleOf(accountId, actor.name) ?? { roleId: this.host.nextId("AROA"), roleName: actor.name, arn: `arn:${PARTITION}:iam::${accountId}:role/${actor.name}` };
        const session = actor.session ?? "session";
        return {
          type: "AssumedRole",
          principalId: `${role.roleId}:${session}`,
          arn: `arn:${PARTITION}:sts::${accountId}:assumed-role/${role.roleName}/${session}`,
          accountId,
          accessKeyId: this.host.nextId("ASIA", 16),
          sessionContext: {
            sessionIssuer: { type: "Role", principalId: role.roleId, arn: role.arn, accountId, userName: role.roleName },
            attributes: { creationDate: isoSeconds(atMs - 600_000), mfaAuthenticated: String(actor.mfa ?? false) },
          },
        };
      }
    }
  }

  private push(e: Omit<SimTrailEvent, "record">, record: Record<string, unknown>): SimTrailEvent {
    const event: SimTrailEvent = { ...e, record: JSON.stringify(record) };
    this.events.push(event);
    return event;
  }

  /** An IAM API call in this account (IAM records in us-east-1). */
  iam(
    accountId: string,
    eventName: string,
    requestParameters: Record<string, unknown> | null,
    responseElements: Record<string, unknown> | null = null,
    resources: SimTrailEvent["resources"] = [],
    at: Date = this.host.now(),
  ): SimTrailEvent | undefined {
    if (!this.recording) return undefined;
    const actor = this.actorIn(accountId);
    const atMs = Math.floor(at.getTime() / 1000) * 1000;
    const eventId = randomUUID();
    const identity = this.identity(accountId, actor, atMs);
    const record = {
      eventVersion: "1.09",
      userIdentity: identity,
      eventTime: isoSeconds(atMs),
      eventSource: "iam.amazonaws.com",
      eventName,
      awsRegion: "us-east-1",
      sourceIPAddress: actor.type === "AWSService" ? actor.name : actor.ip,
      userAgent: actor.type === "AWSService" ? actor.name : actor.userAgent,
      requestParameters,
      responseElements,
      requestID: randomUUID(),
      eventID: eventId,
      readOnly: false,
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: accountId,
      eventCategory: "Management",
      tlsDetails: { tlsVersion: "TLSv1.3", cipherSuite: "TLS_AES_128_GCM_SHA256", clientProvidedHostHeader: "iam.amazonaws.com" },
    };
    return this.push(
      {
        accountId,
        region: "us-east-1",
        eventId,
        eventTime: atMs,
        eventName,
        eventSource: "iam.amazonaws.com",
        username: actor.type === "AssumedRole" ? actor.session : actor.type === "Root" ? "root" : actor.type === "IAMUser" ? actor.name : undefined,
        accessKeyId: typeof identity.accessKeyId === "string" ? identity.accessKeyId : undefined,
        readOnly: false,
        resources,
      },
      record,
    );
  }

  /** A console sign-in by an IAM user (or root), recorded in the Region of the sign-in endpoint. */
  consoleLogin(accountId: string, who: { userName: string } | { root: true }, opts: { success: boolean; mfaUsed: boolean; ip: string; region?: string; userAgent?: string; at?: Date }): SimTrailEvent | undefined {
    if (!this.recording) return undefined;
    const region = opts.region ?? "us-east-1";
    const atMs = Math.floor((opts.at ?? this.host.now()).getTime() / 1000) * 1000;
    const eventId = randomUUID();
    let identity: Record<string, unknown>;
    let username: string;
    if ("root" in who) {
      identity = { type: "Root", principalId: accountId, arn: `arn:${PARTITION}:iam::${accountId}:root`, accountId, accessKeyId: "" };
      username = "root";
    } else {
      const u = this.host.userIdOf(accountId, who.userName);
      // A failed sign-in with an unknown user name carries no principal (AWS writes HIDDEN_DUE_TO_SECURITY_REASONS).
      identity = u
        ? { type: "IAMUser", principalId: u.userId, arn: u.arn, accountId, accessKeyId: "", userName: who.userName }
        : { type: "IAMUser", accountId, accessKeyId: "", userName: "HIDDEN_DUE_TO_SECURITY_REASONS" };
      username = u ? who.userName : "HIDDEN_DUE_TO_SECURITY_REASONS";
    }
    const record: Record<string, unknown> = {
      eventVersion: "1.09",
      userIdentity: identity,
      eventTime: isoSeconds(atMs),
      eventSource: "signin.amazonaws.com",
      eventName: "ConsoleLogin",
      awsRegion: region,
      sourceIPAddress: opts.ip,
      userAgent: opts.userAgent ?? CONSOLE_USER_AGENT,
      requestParameters: null,
      responseElements: { ConsoleLogin: opts.success ? "Success" : "Failure" },
      additionalEventData: { LoginTo: "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true", MobileVersion: "No", MFAUsed: opts.mfaUsed ? "Yes" : "No" },
      eventID: eventId,
      readOnly: false,
      eventType: "AwsConsoleSignIn",
      managementEvent: true,
      recipientAccountId: accountId,
      eventCategory: "Management",
      tlsDetails: { tlsVersion: "TLSv1.3", cipherSuite: "TLS_AES_128_GCM_SHA256", clientProvidedHostHeader: "signin.aws.amazon.com" },
    };
    if (!opts.success) record.errorMessage = "Failed authentication";
    return this.push({ accountId, region, eventId, eventTime: atMs, eventName: "ConsoleLogin", eventSource: "signin.amazonaws.com", username, readOnly: false, resources: [] }, record);
  }

  /**
   * `n` IAM changes to the given users, one per second going back from `untilMs` (benchmarks: a busy account's
   * history without making the changes one by one).
   */
  synthesizeIam(accountId: string, n: number, users: readonly string[], untilMs = this.host.now().getTime()): void {
    const names = ["AttachUserPolicy", "CreateAccessKey", "UpdateAccessKey", "AddUserToGroup", "DeactivateMFADevice", "PutUserPolicy"];
    const start = Math.floor(untilMs / 1000) * 1000 - n * 1000;
    for (let i = 0; i < n; i++) {
      const userName = users[i % users.length]!;
      const eventName = names[i % names.length]!;
      const params: Record<string, unknown> = { userName };
      if (eventName === "AttachUserPolicy") params.policyArn = "arn:aws:iam::aws:policy/ReadOnlyAccess";
      if (eventName === "UpdateAccessKey") Object.assign(params, { accessKeyId: this.host.nextId("AKIA", 16), status: "Inactive" });
      if (eventName === "AddUserToGroup") params.groupName = "Developers";
      if (eventName === "PutUserPolicy") Object.assign(params, { policyName: `inline-${i}`, policyDocument: "{}" });
      this.iam(accountId, eventName, params, null, [{ ResourceType: "AWS::IAM::User", ResourceName: userName }], new Date(start + i * 1000));
    }
  }
}

// The fault matrix's cells: how each fault is injected into the affected scope of each connector, and
// what a correct collector does about it. "recovered": retried or refreshed, the scope is stored whole;
// "failed": the scope fails with an error naming source, scope and the provider's error, keeping its
// previous state; "degraded": the scope is stored, with one field unknown instead of wrong.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REQUIRED_PERMISSIONS } from "../../connectors/entra-id/simulator-tenant.js";
import { graphErrorBody, graphThrottleFault } from "../../connectors/entra-id/simulator.js";
import { parseAuthorization } from "../../connectors/aws-iam/sigv4.js";
import { queryErrorBody } from "../../connectors/aws-iam/simulator.js";
import { findOrg } from "../../connectors/github/tenant.js";
import { googleErrorBody } from "../../connectors/google-workspace/simulator.js";
import { listRequest, scimErrorBody, scimServerErrorFault, scimThrottleFault } from "../../connectors/scim/simulator.js";
import { SCHEMA } from "../../connectors/scim/wire.js";
import type { Fault, SimRequest, Simulator } from "../../src/simulator/harness.js";
import type { Attributes } from "../../src/model.js";
import type { PrincipalView } from "../../src/store/reader.js";
import { PROD, type Lab } from "./lab.js";

export const CONNECTORS = ["aws-iam", "entra-id", "google-workspace", "github", "scim", "file"] as const;
export type ConnectorName = (typeof CONNECTORS)[number];

/** Source whose scope `Lab.affected[source]` receives the faults, per connector. */
export const AFFECTED_SOURCE: Record<ConnectorName, string> = { "aws-iam": "aws", "entra-id": "entra-a", "google-workspace": "google-a", github: "github", scim: "scim-a", file: "file-a" };

/** "quarantined": the odd record is quarantined with the reason, the scope ends partial, the rest is stored. */
export type Expected = "recovered" | "failed" | "degraded" | "quarantined";

/** Times at which a throttled request and the request after it arrived: Retry-After must separate them. */
export interface Gaps {
  throttledAt: number[];
  nextAt: number[];
}

export interface Cell {
  how: string;
  expect: Expected;
  inject(lab: Lab, gaps: Gaps): void;
  /** For "failed": what the scope's error must contain besides source and scope (the provider's error); for "quarantined": the reason. */
  error?: RegExp;
  /** For "degraded": returns what is unknown, or undefined when the stored scope does not show it. */
  degraded?(stored: { principals: PrincipalView[]; meta: Attributes | null }): string | undefined;
  /** Undo state changes beyond injected faults (permissions, clocks, files). */
  heal?(lab: Lab): void;
  /** Retry-After the fault sent, in seconds: the gap to the retry must be at least this long. */
  retryAfterSeconds?: number;
}

export interface FaultSpec {
  id: string;
  title: string;
  cells: Partial<Record<ConnectorName, Cell>>;
  /** Why a connector has no cell. */
  na: Partial<Record<ConnectorName, string>>;
}

// ---- request matchers -------------------------------------------------------------------------------

type Match = (r: SimRequest) => boolean;

function awsAction(r: SimRequest): string | undefined {
  return new URLSearchParams(r.body.toString("utf8")).get("Action") ?? undefined;
}

/** IAM GetAccountAuthorizationDetails for the users-and-roles pass in `account`, optionally only pages after the first. */
function awsGaad(lab: Lab, account: string, pagesAfterFirst = false): Match {
  return (r) => {
    if (awsAction(r) !== "GetAccountAuthorizationDetails") return false;
    const key = parseAuthorization(r.headers.authorization)?.accessKeyId;
    if (!key || lab.aws.org.identities.get(key)?.accountId !== account) return false;
    const params = new URLSearchParams(r.body.toString("utf8"));
    if (params.get("Filter.member.1") !== "User") return false;
    return !pagesAfterFirst || params.has("Marker");
  };
}

const entraUsersPage2: Match = (r) => r.url.pathname === "/v1.0/users" && r.url.searchParams.has("$skiptoken");
const googleUsersPage2: Match = (r) => r.url.pathname.endsWith("/users") && r.url.searchParams.has("pageToken");

/** The SCIM app's /Users page at startIndex 41: its second page under the lab's page cap of 40. */
const scimUsersPage2: Match = listRequest("/scim/v2", "Users", 41);

function githubMembersPage2(lab: Lab): Match {
  const id = findOrg(lab.github.tenant, "acme").id;
  return (r) => r.url.pathname === `/organizations/${id}/members` && r.url.searchParams.get("role") === "member" && r.url.searchParams.get("page") === "2";
}

/** Every other matching request, `n` times in all: a storm that each retry gets through. */
function alternate(match: Match, n: number, gaps?: Gaps): Match {
  let seen = 0;
  let hits = 0;
  let waiting = false;
  return (r) => {
    if (!match(r)) return false;
    if (waiting) {
      waiting = false;
      gaps?.nextAt.push(Date.now());
    }
    const hit = seen++ % 2 === 0 && hits < n;
    if (hit) {
      hits++;
      waiting = true;
      gaps?.throttledAt.push(Date.now());
    }
    return hit;
  };
}

function inject(sim: Simulator, fault: Fault, match: Match, times?: number): void {
  sim.injectFault({ fault, match, ...(times === undefined ? {} : { times }) });
}

/**
 * Runs `effect` when a matching request arrives, before the simulator answers it: a rule that never
 * matches, so the request is answered normally, by a provider whose state just changed (tokens expired).
 */
function onRequest(sim: Simulator, effect: (r: SimRequest) => void): void {
  sim.injectFault({ fault: { kind: "reset" }, match: (r) => (effect(r), false) });
}

// ---- provider-shaped answers ------------------------------------------------------------------------

const IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/";
const xml = { "content-type": "text/xml" };
const awsStatus = (status: number, code: string, message: string, headers: Record<string, string> = {}): Fault => ({
  kind: "status",
  status,
  headers: { ...xml, ...headers },
  body: queryErrorBody(IAM_NS, code, message, status >= 500 ? "Receiver" : "Sender"),
});
const graphStatus = (status: number, code: string, message: string): Fault => ({ kind: "status", status, body: graphErrorBody(code, message) });
const googleStatus = (status: number, reason: string, message: string, headers: Record<string, string> = {}): Fault => ({
  kind: "status",
  status,
  headers,
  body: JSON.stringify(googleErrorBody(status, reason, message)),
});
const scimStatus = (status: number, detail: string, scimType?: string): Fault => ({ kind: "status", status, headers: { "content-type": "application/scim+json" }, body: scimErrorBody(status, detail, scimType) });
/** A SCIM ListResponse at startIndex 41 holding `resources`, with the lab tenant's real total. */
const scimPage = (lab: Lab, resources: unknown[]): Fault => ({
  kind: "status",
  status: 200,
  headers: { "content-type": "application/scim+json" },
  body: JSON.stringify({ schemas: [SCHEMA.listResponse], totalResults: lab.scimA.tenant.users.length, startIndex: 41, itemsPerPage: resources.length, Resources: resources }),
});
const githubStatus = (status: number, message: string): Fault => ({ kind: "status", status, body: JSON.stringify({ message, documentation_url: "https://docs.github.com/rest", status: String(status) }) });

function gaadMarker(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset, k: "gaad:Role,User" })).toString("base64url");
}

function googleToken(pos: number): string {
  return Buffer.from(JSON.stringify({ k: "users", p: pos, r: "000000" })).toString("base64url");
}

function googleTokenPos(r: SimRequest): number {
  try {
    return (JSON.parse(Buffer.from(r.url.searchParams.get("pageToken") ?? "", "base64url").toString("utf8")) as { p?: number }).p ?? -1;
  } catch {
    return -1;
  }
}

/** The file connector has no network: its faults are what an export can suffer. */
function replaceFile(path: string, change: (text: string) => string): { restore(): void } {
  const original = readFileSync(path, "utf8");
  writeFileSync(path, change(original), { mode: 0o600 });
  return { restore: () => writeFileSync(path, original, { mode: 0o600 }) };
}

let scimHeal: () => void = () => undefined;

let fileRestore: { restore(): void } | undefined;
const restoreFile = () => {
  fileRestore?.restore();
  fileRestore = undefined;
};

const failedWith = (error: RegExp, how: string, injectFn: Cell["inject"], heal?: Cell["heal"]): Cell => ({ how, expect: "failed", error, inject: injectFn, heal });
const quarantinedWith = (reason: RegExp, how: string, injectFn: Cell["inject"]): Cell => ({ how, expect: "quarantined", error: reason, inject: injectFn });
const recovered = (how: string, injectFn: Cell["inject"], retryAfterSeconds?: number): Cell => ({ how, expect: "recovered", inject: injectFn, retryAfterSeconds });

// ---- the matrix ---------------------------------------------------------------------------------------

/** What a TLS-inspecting proxy or captive portal answers instead of the API. */
const PROXY_PAGE: Fault = { kind: "status", status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: "<!DOCTYPE html><html><head><title>Access gateway</title></head><body><h1>Please sign in to continue</h1></body></html>" };

const NO_NETWORK = "reads a local file: no network, no tokens, no pages";

export const FAULTS: FaultSpec[] = [
  {
    id: "5xx-burst",
    title: "500/503 burst",
    cells: {
      "aws-iam": recovered("2 × 503 ServiceUnavailable on GetAccountAuthorizationDetails", (lab) => inject(lab.aws.sim, awsStatus(503, "ServiceUnavailable", "Service is unavailable"), awsGaad(lab, PROD), 2)),
      "entra-id": recovered("2 × 503 on /users page 2", (lab) => inject(lab.entraA.sim.server, graphStatus(503, "ServiceUnavailable", "Service is temporarily unavailable"), entraUsersPage2, 2)),
      "google-workspace": recovered("2 × 503 backendError on users.list page 2", (lab) => inject(lab.googleA.sim, googleStatus(503, "backendError", "The service is currently unavailable."), googleUsersPage2, 2)),
      github: recovered("2 × 502 on members page 2", (lab) => inject(lab.github.sim, githubStatus(502, "Bad Gateway"), githubMembersPage2(lab), 2)),
      scim: recovered("2 × 503 on /Users page 2", (lab) => inject(lab.scimA.sim, scimStatus(503, "Service unavailable"), scimUsersPage2, 2)),
    },
    na: { file: NO_NETWORK },
  },
  {
    id: "5xx-persistent",
    title: "500 persistent",
    cells: {
      "aws-iam": failedWith(/InternalFailure: .*HTTP 500, after 3 attempts/, "500 InternalFailure on every GetAccountAuthorizationDetails", (lab) =>
        inject(lab.aws.sim, awsStatus(500, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure."), awsGaad(lab, PROD)),
      ),
      "entra-id": failedWith(/GET \/users: HTTP 500 InternalServerError/, "500 on /users page 2", (lab) => inject(lab.entraA.sim.server, graphStatus(500, "InternalServerError", "Internal server error"), entraUsersPage2)),
      "google-workspace": failedWith(/users\.list: HTTP 500 internalError: Internal error encountered/, "500 internalError on users.list page 2", (lab) =>
        inject(lab.googleA.sim, googleStatus(500, "internalError", "Internal error encountered."), googleUsersPage2),
      ),
      github: failedWith(/→ 500: Server Error/, "500 on members page 2", (lab) => inject(lab.github.sim, githubStatus(500, "Server Error"), githubMembersPage2(lab))),
      scim: failedWith(/GET \/Users\?startIndex=41&count=\d+ → 500 Internal Server Error: SCIM error: "Internal server error"/, "500 on /Users page 2", (lab) => inject(lab.scimA.sim, scimServerErrorFault(), scimUsersPage2)),
    },
    na: { file: NO_NETWORK },
  },
  {
    id: "429-storm",
    title: "429 storm + Retry-After",
    cells: {
      "aws-iam": recovered(
        "429 Throttling with Retry-After: 1 on every other request (4 in all)",
        (lab, gaps) => inject(lab.aws.sim, awsStatus(429, "Throttling", "Rate exceeded", { "retry-after": "1" }), alternate(awsGaad(lab, PROD), 4, gaps)),
        1,
      ),
      "entra-id": recovered("429 TooManyRequests with Retry-After: 1 on every other page request (up to 4)", (lab, gaps) => inject(lab.entraA.sim.server, graphThrottleFault(1, 429), alternate(entraUsersPage2, 4, gaps)), 1),
      "google-workspace": recovered(
        "429 rateLimitExceeded with Retry-After: 1 on every other page request (up to 4)",
        (lab, gaps) => inject(lab.googleA.sim, googleStatus(429, "rateLimitExceeded", "Quota exceeded for quota metric 'Queries'", { "retry-after": "1" }), alternate(googleUsersPage2, 4, gaps)),
        1,
      ),
      github: recovered(
        "3 × 429 secondary rate limit, retry-after: 1",
        (lab) => {
          const id = findOrg(lab.github.tenant, "acme").id;
          lab.github.secondaryLimit({ times: 3, status: 429, retryAfter: 1, match: (_m, path) => path === `/organizations/${id}/members` });
        },
        1,
      ),
      scim: recovered("429 with a SCIM error and Retry-After: 1 on every other page request (up to 4)", (lab, gaps) => inject(lab.scimA.sim, scimThrottleFault(1), alternate(scimUsersPage2, 4, gaps)), 1),
    },
    na: { file: NO_NETWORK },
  },
  {
    id: "reset",
    title: "connection reset",
    cells: {
      "aws-iam": recovered("2 resets on GetAccountAuthorizationDetails", (lab) => inject(lab.aws.sim, { kind: "reset" }, awsGaad(lab, PROD), 2)),
      "entra-id": recovered("2 resets on /users page 2", (lab) => inject(lab.entraA.sim.server, { kind: "reset" }, entraUsersPage2, 2)),
      "google-workspace": recovered("2 resets on users.list page 2", (lab) => inject(lab.googleA.sim, { kind: "reset" }, googleUsersPage2, 2)),
      github: recovered("2 resets on members page 2", (lab) => inject(lab.github.sim, { kind: "reset" }, githubMembersPage2(lab), 2)),
      scim: recovered("2 resets on /Users page 2", (lab) => inject(lab.scimA.sim, { kind: "reset" }, scimUsersPage2, 2)),
    },
    na: { file: NO_NETWORK },
  },
  {
    id: "timeout",
    title: "timeout",
    cells: {
      "aws-iam": recovered("no answer once (request_timeout_ms 1000)", (lab) => inject(lab.aws.sim, { kind: "hang" }, awsGaad(lab, PROD, true), 1)),
      "entra-id": recovered("no answer once (request_timeout_ms 1000)", (lab) => inject(lab.entraA.sim.server, { kind: "hang" }, entraUsersPage2, 1)),
      "google-workspace": recovered("no answer once (request_timeout_ms 1000)", (lab) => inject(lab.googleA.sim, { kind: "hang" }, googleUsersPage2, 1)),
      github: recovered("no answer once (request_timeout_seconds 1)", (lab) => inject(lab.github.sim, { kind: "hang" }, githubMembersPage2(lab), 1)),
      scim: recovered("no answer once (request_timeout_seconds 1)", (lab) => inject(lab.scimA.sim, { kind: "hang" }, scimUsersPage2, 1)),
    },
    na: { file: NO_NETWORK },
  },
  {
    id: "truncated",
    title: "truncated body",
    cells: {
      "aws-iam": recovered("2 bodies cut mid-XML", (lab) => inject(lab.aws.sim, { kind: "truncate" }, awsGaad(lab, PROD, true), 2)),
      "entra-id": recovered("2 bodies cut mid-JSON", (lab) => inject(lab.entraA.sim.server, { kind: "truncate" }, entraUsersPage2, 2)),
      "google-workspace": recovered("2 bodies cut mid-JSON", (lab) => inject(lab.googleA.sim, { kind: "truncate" }, googleUsersPage2, 2)),
      github: recovered("2 bodies cut mid-JSON", (lab) => inject(lab.github.sim, { kind: "truncate" }, githubMembersPage2(lab), 2)),
      scim: recovered("2 bodies cut mid-JSON", (lab) => inject(lab.scimA.sim, { kind: "truncate" }, scimUsersPage2, 2)),
      file: failedWith(
        /line \d+/,
        "export cut in the middle of a row",
        (lab) => {
          fileRestore = replaceFile(lab.fileA, (t) => t.slice(0, t.lastIndexOf("\n", t.length - 2) + 12));
        },
        restoreFile,
      ),
    },
    na: {},
  },
  {
    id: "malformed",
    title: "malformed JSON/XML",
    cells: {
      "aws-iam": failedWith(/iam:GetAccountAuthorizationDetails \(User,Role\) failed/, "HTTP 200 with unclosed XML on users/roles page 2", (lab) =>
        inject(
          lab.aws.sim,
          { kind: "status", status: 200, headers: xml, body: `<GetAccountAuthorizationDetailsResponse xmlns="${IAM_NS}"><GetAccountAuthorizationDetailsResult><UserDetailList><member><UserName>alice</UserName><UserId>AIDA` },
          awsGaad(lab, PROD, true),
        ),
      ),
      "entra-id": failedWith(/GET \/users: /, "HTTP 200 with cut JSON on /users page 2", (lab) =>
        inject(lab.entraA.sim.server, { kind: "status", status: 200, body: '{"@odata.context":"x","value":[{"id":"' }, entraUsersPage2),
      ),
      "google-workspace": failedWith(/users\.list: .*not JSON/, "HTTP 200 with cut JSON on users.list page 2", (lab) =>
        inject(lab.googleA.sim, { kind: "status", status: 200, body: '{"users":[{"id":"1' }, googleUsersPage2),
      ),
      github: failedWith(/members.*not JSON/, "HTTP 200 with cut JSON on members page 2", (lab) => inject(lab.github.sim, { kind: "status", status: 200, body: '[{"login":"' }, githubMembersPage2(lab))),
      scim: failedWith(/GET \/Users\?startIndex=41&count=\d+ → 200 answer is not JSON/, "HTTP 200 with cut JSON on /Users page 2", (lab) =>
        inject(lab.scimA.sim, { kind: "status", status: 200, headers: { "content-type": "application/scim+json" }, body: '{"totalResults":130,"Resources":[{"id":"' }, scimUsersPage2),
      ),
      file: failedWith(
        /line \d+/,
        "unterminated quoted field",
        (lab) => {
          fileRestore = replaceFile(lab.fileA, (t) => t.replace("user3,", '"user3,'));
        },
        restoreFile,
      ),
    },
    na: {},
  },
  {
    id: "html-200",
    title: "HTML page with 200 (proxy)",
    cells: {
      "aws-iam": failedWith(/iam:GetAccountAuthorizationDetails \(User,Role\) failed/, "HTTP 200 text/html on users/roles page 2", (lab) => inject(lab.aws.sim, PROXY_PAGE, awsGaad(lab, PROD, true))),
      "entra-id": failedWith(/GET \/users: /, "HTTP 200 text/html on /users page 2", (lab) => inject(lab.entraA.sim.server, PROXY_PAGE, entraUsersPage2)),
      "google-workspace": failedWith(/users\.list: .*not JSON/, "HTTP 200 text/html on users.list page 2", (lab) => inject(lab.googleA.sim, PROXY_PAGE, googleUsersPage2)),
      github: failedWith(/members.*not JSON/, "HTTP 200 text/html on members page 2", (lab) => inject(lab.github.sim, PROXY_PAGE, githubMembersPage2(lab))),
      scim: failedWith(/GET \/Users\?startIndex=41&count=\d+ → 200 answer is not JSON \(\d+ bytes of text\/html/, "HTTP 200 text/html on /Users page 2", (lab) => inject(lab.scimA.sim, PROXY_PAGE, scimUsersPage2)),
    },
    na: { file: NO_NETWORK },
  },
  {
    id: "illegal-record",
    title: "record without an id",
    cells: {
      "aws-iam": quarantinedWith(/without UserId/, "users/roles page 2 holds a user without UserId", (lab) =>
        inject(
          lab.aws.sim,
          { kind: "status", status: 200, headers: xml, body: `<GetAccountAuthorizationDetailsResponse xmlns="${IAM_NS}"><GetAccountAuthorizationDetailsResult><UserDetailList><member><Path>/</Path><UserName>ghost</UserName><Arn>arn:aws:iam::${PROD}:user/ghost</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate></member></UserDetailList><GroupDetailList/><RoleDetailList/><Policies/><IsTruncated>false</IsTruncated></GetAccountAuthorizationDetailsResult><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>` },
          awsGaad(lab, PROD, true),
        ),
      ),
      "entra-id": quarantinedWith(/could not be mapped: Graph returned a user without an id \("ghost@contoso\.example"\)/, "/users page 2 holds a user without id", (lab) =>
        inject(lab.entraA.sim.server, { kind: "status", status: 200, body: JSON.stringify({ value: [{ userPrincipalName: "ghost@contoso.example", displayName: "Ghost", accountEnabled: true }] }) }, entraUsersPage2),
      ),
      "google-workspace": quarantinedWith(/could not be mapped: users\.list returned a user without id/, "users.list page 2 holds a user without id", (lab) =>
        inject(lab.googleA.sim, { kind: "status", status: 200, body: JSON.stringify({ users: [{ primaryEmail: "ghost@example.com", name: { fullName: "Ghost" } }] }) }, googleUsersPage2),
      ),
      github: quarantinedWith(/could not be mapped: GitHub listed a user without id or node_id \(login "ghost"\)/, "members page 2 holds a member without id / node_id", (lab) =>
        inject(lab.github.sim, { kind: "status", status: 200, body: JSON.stringify([{ login: "ghost", type: "User", site_admin: false }]) }, githubMembersPage2(lab)),
      ),
      scim: quarantinedWith(/could not be mapped: \/Users returned a user without id \(userName "ghost@example\.com"\)/, "/Users page 2 holds a user without id", (lab) => inject(lab.scimA.sim, scimPage(lab, [{ schemas: [SCHEMA.user], userName: "ghost@example.com", active: true }]), scimUsersPage2)),
      file: failedWith(
        /line \d+: username/,
        "a row without a username",
        (lab) => {
          fileRestore = replaceFile(lab.fileA, (t) => t.replace("\nuser4,", "\n,"));
        },
        restoreFile,
      ),
    },
    na: {},
  },
  {
    id: "pagination-loop",
    title: "pagination loop",
    cells: {
      "aws-iam": failedWith(/Marker/, "users/roles page 3 hands back page 2's Marker", (lab) =>
        inject(
          lab.aws.sim,
          { kind: "status", status: 200, headers: xml, body: `<GetAccountAuthorizationDetailsResponse xmlns="${IAM_NS}"><GetAccountAuthorizationDetailsResult><UserDetailList/><GroupDetailList/><RoleDetailList/><Policies/><IsTruncated>true</IsTruncated><Marker>${gaadMarker(6)}</Marker></GetAccountAuthorizationDetailsResult><ResponseMetadata><RequestId>loop</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>` },
          (r) => awsGaad(lab, PROD, true)(r) && new URLSearchParams(r.body.toString("utf8")).get("Marker") !== gaadMarker(6),
        ),
      ),
      "entra-id": failedWith(/GET \/users: .*(loop|again|repeat)/i, "/users page 2's nextLink points back at page 1", (lab) => {
        const first = lab.entraA.sim.server.requestLog.find((l) => l.startsWith("GET /v1.0/users?"))!.slice(4);
        inject(lab.entraA.sim.server, { kind: "status", status: 200, body: JSON.stringify({ value: [], "@odata.nextLink": `${lab.entraA.sim.url}${first}` }) }, entraUsersPage2);
      }),
      "google-workspace": failedWith(/users\.list: .*(loop|again|repeat)/i, "users.list page 2's nextPageToken points back at page 1", (lab) =>
        inject(lab.googleA.sim, { kind: "status", status: 200, body: JSON.stringify({ users: [], nextPageToken: googleToken(0) }) }, (r) => googleUsersPage2(r) && googleTokenPos(r) > 0),
      ),
      github: failedWith(/(loop|again|repeat)/i, "members page 2's Link rel=next points back at page 1", (lab) => {
        const first = lab.github.sim.requestLog.find((l) => l.startsWith("GET /orgs/acme/members?") && l.includes("role=member"))!.slice(4);
        inject(lab.github.sim, { kind: "status", status: 200, headers: { link: `<${lab.github.url}${first}>; rel="next"` }, body: "[]" }, githubMembersPage2(lab));
      }),
      scim: failedWith(/Users startIndex=41: the server returned no resources although totalResults is 130 \(a page that does not advance\)/, "/Users page 2 is empty while totalResults says more remain (index paging's loop)", (lab) =>
        inject(lab.scimA.sim, scimPage(lab, []), scimUsersPage2),
      ),
    },
    na: { file: NO_NETWORK },
  },
  {
    id: "expired-token",
    title: "expired token mid-run",
    cells: {
      "aws-iam": failedWith(
        /ExpiredToken: The security token included in the request is expired/,
        "the account's role session expires after the first page (server clock)",
        (lab) => {
          let n = 0;
          onRequest(lab.aws.sim, (r) => {
            if (awsGaad(lab, PROD)(r) && ++n === 2) {
              for (const id of lab.aws.org.identities.values()) if (id.accountId === PROD && id.sessionToken) id.expiration = new Date(0);
            }
          });
        },
      ),
      "entra-id": recovered("every issued token revoked after page 1 (Graph answers 401)", (lab) => {
        let done = false;
        onRequest(lab.entraA.sim.server, (r) => {
          if (!done && entraUsersPage2(r)) {
            done = true;
            lab.entraA.sim.revokeTokens();
          }
        });
      }),
      "google-workspace": failedWith(/HTTP 401 authError/, "401 authError (token no longer valid) on users.list page 2", (lab) =>
        inject(lab.googleA.sim, googleStatus(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."), googleUsersPage2),
      ),
      github: failedWith(/401: Bad credentials/, "401 Bad credentials on members page 2", (lab) => inject(lab.github.sim, githubStatus(401, "Bad credentials"), githubMembersPage2(lab))),
      scim: failedWith(
        /GET \/Users\?startIndex=\d+&count=\d+ → 401 Unauthorized: SCIM error invalidToken/,
        "the app revokes the token after page 1 (401 invalidToken)",
        (lab) => {
          const token = lab.scimA.tenant.token;
          onRequest(lab.scimA.sim, (r) => {
            if (scimUsersPage2(r)) lab.scimA.tenant.token = `revoked-${token}`;
          });
          scimHeal = () => void (lab.scimA.tenant.token = token);
        },
        () => scimHeal(),
      ),
    },
    na: { file: NO_NETWORK },
  },
  {
    id: "permission",
    title: "permission denied on one endpoint",
    cells: {
      "aws-iam": failedWith(
        /iam:GetCredentialReport failed: AccessDenied/,
        "iam:GetCredentialReport denied",
        (lab) => void lab.aws.org.deniedActions.add(`${PROD}:GetCredentialReport`),
        (lab) => void lab.aws.org.deniedActions.delete(`${PROD}:GetCredentialReport`),
      ),
      "entra-id": {
        how: "AuditLog.Read.All withdrawn (sign-in activity and MFA report refused)",
        expect: "degraded",
        inject: (lab) => lab.entraA.tenant.setClientPermissions(lab.entraA.clientId, REQUIRED_PERMISSIONS.filter((p) => p !== "AuditLog.Read.All")),
        heal: (lab) => lab.entraA.tenant.setClientPermissions(lab.entraA.clientId, REQUIRED_PERMISSIONS),
        degraded: ({ principals }) => {
          const users = principals.filter((p) => p.attributes?.objectType === "user");
          return users.length > 0 && users.every((u) => !u.lastActive.known && u.mfa === "unknown") ? `last sign-in and MFA unknown for ${users.length} users` : undefined;
        },
      },
      "google-workspace": failedWith(/roles\.list: HTTP 403 forbidden: Not Authorized to access this resource\/api/, "403 on roles.list", (lab) =>
        inject(lab.googleA.sim, googleStatus(403, "forbidden", "Not Authorized to access this resource/api"), (r) => r.url.pathname.endsWith("/roles")),
      ),
      github: {
        how: "403 on outside collaborators (an optional listing)",
        expect: "degraded",
        inject: (lab) => inject(lab.github.sim, githubStatus(403, "Resource not accessible by integration"), (r) => r.url.pathname === "/orgs/acme/outside_collaborators"),
        degraded: ({ meta }) =>
          String(meta?.outside_collaborators_status ?? "").startsWith("unavailable: ") ? `outside collaborators unknown (${String(meta!.outside_collaborators_status)})` : undefined,
      },
      scim: {
        how: "403 on /Groups (the token may list users only)",
        expect: "degraded",
        inject: (lab) => inject(lab.scimA.sim, scimStatus(403, "Insufficient scope to read groups", "insufficientScope"), listRequest("/scim/v2", "Groups")),
        degraded: ({ meta }) =>
          String(meta?.groups_status ?? "").startsWith("unavailable: ") ? `group membership from the users' groups attribute (${String(meta!.groups_status).slice(0, 60)}…)` : undefined,
      },
      file: failedWith(
        /cannot read the file \((EACCES|EISDIR)\)/,
        process.getuid?.() === 0 ? "export path is a directory (EISDIR: tests run as root, where mode 000 does not deny)" : "export file mode 000",
        (lab) => {
          if (process.getuid?.() === 0) {
            const original = lab.config.sources.find((s) => s.id === "file-a")!.options as { path: string };
            const dir = join(lab.dir, "erp-export.csv");
            mkdirSync(dir, { recursive: true });
            fileRestore = { restore: () => void (original.path = lab.fileA) };
            original.path = dir;
          } else {
            chmodSync(lab.fileA, 0);
            fileRestore = { restore: () => chmodSync(lab.fileA, 0o600) };
          }
        },
        restoreFile,
      ),
    },
    na: {},
  },
];

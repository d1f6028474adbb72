// The org's people as the member listings showed them, and the one place that asks GitHub about a
// login a later listing shows but those did not.
import type { GithubClient } from "./client.js";
import { mapOrgRoleGrant, mapOrgUser, type ActivityKnowledge, type MfaKnowledge } from "./map.js";
import { isRefusal, type Batch } from "./paging.js";
import type { GhOrgMembership, GhSimpleUser } from "./wire.js";

/**
 * Who the org's people are, filled by the member and outside-collaborator listings and consulted by
 * later phases (team members, SAML credential owners), so that no grant or credential points at a
 * principal this scope did not return.
 */
export class Roster {
  private readonly ids = new Set<number>();
  private readonly byLogin = new Map<string, string>();
  private readonly late = new Map<string, Promise<string | null>>();
  lateJoiners = 0;

  constructor(
    private readonly client: GithubClient,
    private readonly org: string,
    private readonly activity: ActivityKnowledge | undefined,
    private readonly basePermission: string | null,
  ) {}

  /** Records a listed user; false when already listed (a role change between two listings). */
  add(user: GhSimpleUser): boolean {
    if (this.ids.has(user.id)) return false;
    this.ids.add(user.id);
    this.byLogin.set(user.login.toLowerCase(), user.node_id);
    return true;
  }

  nodeIdOf(login: string): string | undefined {
    return this.byLogin.get(login.toLowerCase());
  }

  /**
   * A login a later listing shows but the member listings did not (joined or left during the run):
   * asks GET /orgs/{org}/memberships/{username} once. An active member is returned to the first
   * caller as records to emit; everyone gets the node id, or null when not an active member.
   */
  resolve(login: string, emit: (b: Batch) => void): Promise<string | null> {
    const known = this.nodeIdOf(login);
    if (known) return Promise.resolve(known);
    const key = login.toLowerCase();
    let lookup = this.late.get(key);
    if (!lookup) {
      lookup = membership(this.client, this.org, login).then((m) => {
        if (!m?.user || m.state !== "active" || (m.role !== "admin" && m.role !== "member")) {
          return null;
        }
        this.lateJoiners++;
        this.add(m.user);
        const relation = m.role === "admin" ? "owner" : "member";
        // Joined after the 2FA listing ran: its 2FA state was not part of it.
        const mfa: MfaKnowledge = { kind: "unknown", reason: "joined during the collection" };
        emit({ principals: [mapOrgUser(m.user, relation, mfa, this.activity)], grants: [mapOrgRoleGrant(m.user, this.org, relation, this.basePermission)] });
        return m.user.node_id;
      });
      this.late.set(key, lookup);
    }
    return lookup;
  }
}

export async function membership(client: GithubClient, org: string, username: string): Promise<GhOrgMembership | undefined> {
  try {
    const { data } = (await client.request("GET /orgs/{org}/memberships/{username}", { org, username })) as unknown as { data: GhOrgMembership };
    return data;
  } catch (err) {
    if (isRefusal(err)) return undefined;
    throw err;
  }
}


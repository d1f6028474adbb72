// The org's people as the member listings showed them, and the one place that asks GitHub about a
// login a later listing shows but those did not.
import type { GithubClient } from "./client.js";
import { mapOrgRoleGrant, mapOrgUser, type ActivityKnowledge, type MfaKnowledge } from "./map.js";
import { isRefusal, type Batch } from "./paging.js";
import type { GhOrgMembership, GhSimpleUser } from "./wire.js";

/** Someone a later listing names: by login, and by GitHub's numeric id where the listing gives one. */
export interface Person {
  login: string;
  id?: number;
}

/**
 * Who the org's people are, filled by the member and outside-collaborator listings and consulted by
 * later phases (team members, PAT owners, SAML credential owners), so that no grant or credential
 * points at a principal this scope did not return, and none at the wrong one.
 */
export class Roster {
  /** GitHub user id (stable across renames) → node id as the scope returned it. */
  private readonly byId = new Map<number, string>();
  private readonly byLogin = new Map<string, string>();
  private readonly late = new Map<string, Promise<string | null>>();
  lateJoiners = 0;
  /** Membership answers about someone other than the person asked about: skipped. */
  mismatched = 0;

  constructor(
    private readonly client: GithubClient,
    private readonly org: string,
    private readonly activity: ActivityKnowledge | undefined,
    private readonly basePermission: string | null,
    private readonly warn: (obj: object, msg: string) => void = () => {},
    /** What the 2FA listing (run before the member listings) established. */
    private readonly memberMfa?: MfaKnowledge,
  ) {}

  /** Records a listed user; false when already listed (a role change between two listings, or a rename). */
  add(user: GhSimpleUser): boolean {
    const known = this.byId.get(user.id);
    if (known !== undefined) {
      // Renamed between two listings: the new login is the same person.
      this.byLogin.set(user.login.toLowerCase(), known);
      return false;
    }
    this.byId.set(user.id, user.node_id);
    this.byLogin.set(user.login.toLowerCase(), user.node_id);
    return true;
  }

  /** The node id this scope returned for a user, by numeric id when known, else by login. */
  nodeIdOf(who: Person): string | undefined {
    if (who.id !== undefined) return this.byId.get(who.id);
    return this.byLogin.get(who.login.toLowerCase());
  }

  /**
   * Someone a later listing shows but the member listings did not (joined, left or renamed during the
   * run): asks GET /orgs/{org}/memberships/{username} once. The answer must be about that person (same
   * login, and same id when the listing gave one); an answer about anyone else is skipped with a
   * warning, never re-emitted, and nothing of the asked person is attached to it. An active member
   * not yet returned is returned to the first caller as records to emit; everyone gets the node id
   * the scope returned, or null when not an active member.
   */
  resolve(who: Person, emit: (b: Batch) => void): Promise<string | null> {
    const known = this.nodeIdOf(who);
    if (known) return Promise.resolve(known);
    const key = who.login.toLowerCase();
    let lookup = this.late.get(key);
    if (!lookup) {
      lookup = membership(this.client, this.org, who.login).then((m) => {
        if (!m?.user) return null;
        if (typeof m.user.login !== "string" || m.user.login.toLowerCase() !== key) {
          this.skipAnswer(who, m.user);
          return null;
        }
        if (m.state !== "active" || (m.role !== "admin" && m.role !== "member")) return null;
        const returned = this.byId.get(m.user.id);
        if (returned !== undefined) {
          // Renamed during the run: already returned (with its 2FA state); only the new login is new.
          this.byLogin.set(key, returned);
          return returned;
        }
        this.lateJoiners++;
        this.add(m.user);
        const relation = m.role === "admin" ? "owner" : "member";
        // Missed by the member listings (joined, or a role change between them). The 2FA listing ran
        // first: "disabled" there is established; absence from it says nothing about someone who joined later.
        const mfa: MfaKnowledge =
          this.memberMfa?.kind === "filter" && this.memberMfa.disabled.has(m.user.id) ? this.memberMfa : { kind: "unknown", reason: "joined during the collection" };
        emit({ principals: [mapOrgUser(m.user, relation, mfa, this.activity)], grants: [mapOrgRoleGrant(m.user, this.org, relation, this.basePermission)] });
        return m.user.node_id;
      });
      this.late.set(key, lookup);
    }
    // One lookup per login, shared; each listing that gave an id must name the same person.
    return lookup.then((nodeId) => {
      if (nodeId === null || who.id === undefined || this.byId.get(who.id) === nodeId) return nodeId;
      this.skipAnswer(who, { login: who.login, id: [...this.byId].find(([, n]) => n === nodeId)?.[0] });
      return null;
    });
  }

  private skipAnswer(asked: Person, answered: { login?: string; id?: number }): void {
    this.mismatched++;
    this.warn(
      { scope: this.org, asked: { login: asked.login, id: asked.id ?? null }, answered: { login: answered.login ?? null, id: answered.id ?? null } },
      "GitHub: a membership answer names another user than the one asked about; skipped",
    );
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


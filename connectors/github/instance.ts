// GitHub Enterprise Server extras: site administrators and suspended users of the whole instance.
// The list endpoint (GET /users) carries site_admin; suspended_at is only on GET /users/{username},
// so suspension costs one request per user looked up.
import type { Attributes } from "../../src/model.js";
import type { GithubClient } from "./client.js";
import { mapBounded } from "./concurrency.js";
import { mapInstanceUser } from "./map.js";
import { pages, type Batch } from "./paging.js";
import type { GhSimpleUser } from "./wire.js";

export type InstanceUsersMode = "site_admins" | "all";

export async function* collectInstance(
  client: GithubClient,
  host: string,
  mode: InstanceUsersMode,
  concurrency: number,
  meta: Attributes,
): AsyncGenerator<Batch> {
  let users = 0;
  let siteAdmins = 0;
  let suspended = 0;
  async function* candidates() {
    for await (const page of pages<GhSimpleUser>(client, "GET /users", {})) {
      for (const u of page) {
        users++;
        if (u.site_admin) siteAdmins++;
        if (mode === "all" || u.site_admin) yield u;
      }
    }
  }
  const detail = async (u: GhSimpleUser) => {
    const { data } = (await client.request("GET /users/{username}", { username: u.login })) as unknown as { data: GhSimpleUser };
    // An answer about someone else (a login renamed meanwhile, or a hostile server) is never mapped as
    // the user asked about; skipping that user would read as a removed site admin, so the scope fails
    // (its previous state is kept) with the reason.
    if (data?.id !== u.id) {
      throw new Error(`GET /users/${u.login} answered about ${JSON.stringify(data?.login ?? null)} (id ${JSON.stringify(data?.id ?? null)}), not user id ${u.id}: refused`);
    }
    return mapInstanceUser(data, host);
  };
  let batch: Batch = { principals: [], grants: [] };
  for await (const m of mapBounded(candidates(), concurrency, detail)) {
    if (m.principal.status === "suspended") suspended++;
    batch.principals!.push(m.principal);
    batch.grants!.push(...m.grants);
    if (batch.principals!.length >= 100) {
      yield batch;
      batch = { principals: [], grants: [] };
    }
  }
  if (batch.principals!.length) yield batch;
  meta.instance_users = users;
  meta.site_admins = siteAdmins;
  meta.suspended_users_seen = suspended;
  meta.users_mode = mode;
}

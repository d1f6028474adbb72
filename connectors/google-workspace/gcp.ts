// Optional Google Cloud part: service accounts and their user-managed keys in the listed projects, through
// the IAM REST API (v1) on the same instrumented google-auth-library client. There is no IAM package in
// this project (googleapis is not a dependency), so the two list calls are made with AuthClient.request,
// which is what the generated clients do underneath.
import type { AuthClient } from "google-auth-library";
import { mapEach, type CollectContext, type CollectEvent } from "../../src/connector.js";
import { loopGuard } from "./client.js";
import { mapServiceAccount, mapServiceAccountKey, type IamKey, type IamServiceAccount } from "./map.js";

export const IAM_ROOT = "https://iam.googleapis.com/";
/** IAM's documented maximum for serviceAccounts.list. */
const SA_PAGE = 100;

export async function* collectProject(
  client: AuthClient,
  project: string,
  scope: string,
  iamRoot: string,
  now: Date,
  ctx: Pick<CollectContext, "quarantine">,
): AsyncGenerator<CollectEvent, { serviceAccounts: number; userManagedKeys: number }> {
  const root = iamRoot.replace(/\/?$/, "/");
  let pageToken: string | undefined;
  let serviceAccounts = 0;
  let userManagedKeys = 0;
  const next = loopGuard();
  do {
    const res = await client.request<{ accounts?: IamServiceAccount[]; nextPageToken?: string }>({
      url: `${root}v1/projects/${encodeURIComponent(project)}/serviceAccounts`,
      params: { pageSize: SA_PAGE, ...(pageToken ? { pageToken } : {}) },
      responseType: "json",
    });
    const principals = mapEach(ctx, scope, "principals", res.data.accounts ?? [], mapServiceAccount, (sa) => ({ id: typeof sa?.uniqueId === "string" ? sa.uniqueId : null, kind: "service" }));
    serviceAccounts += principals.length;
    yield { type: "records", scope, principals };
    const credentials = [];
    for (const sa of principals) {
      // Google-managed keys rotate by themselves every couple of weeks; only user-managed keys leak.
      const keys = await client.request<{ keys?: IamKey[] }>({
        url: `${root}v1/projects/${encodeURIComponent(project)}/serviceAccounts/${encodeURIComponent(sa.email!)}/keys`,
        params: { keyTypes: "USER_MANAGED" },
        responseType: "json",
      });
      credentials.push(...mapEach(ctx, scope, "credentials", keys.data.keys ?? [], (k) => mapServiceAccountKey(sa.id, k, now, sa.email!), () => ({ principalId: sa.id })));
    }
    userManagedKeys += credentials.length;
    if (credentials.length) yield { type: "records", scope, credentials };
    pageToken = next(res.data.nextPageToken);
  } while (pageToken);
  return { serviceAccounts, userManagedKeys };
}

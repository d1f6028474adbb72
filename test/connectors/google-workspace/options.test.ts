// The source's config keys: strict, snake_case, secrets only as references.
import { describe, expect, it } from "vitest";
import { directoryScopes, googleWorkspaceOptions } from "../../../connectors/google-workspace/options.js";

const parse = (o: Record<string, unknown>) => googleWorkspaceOptions.safeParse(o);

describe("options", () => {
  it("defaults: my_customer, read-only scopes, per-user collection off, pages of 500", () => {
    const r = parse({ subject: "admin@example.com", credentials: "file:/etc/whohas/gws.json" });
    expect(r.success).toBe(true);
    expect(r.data).toMatchObject({ customer: "my_customer", collect_oauth_tokens: false, collect_app_passwords: false, page_size: 500, concurrency: 8, gcp_projects: [] });
    expect(directoryScopes(r.data!)).toEqual([
      "https://www.googleapis.com/auth/admin.directory.user.readonly",
      "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
    ]);
    expect(directoryScopes({ collect_oauth_tokens: false, collect_app_passwords: true })).toContain("https://www.googleapis.com/auth/admin.directory.user.security");
  });

  it("rejects typos, literal secrets, both key and keyless, and out-of-range pages", () => {
    expect(parse({ subject: "admin@example.com", colect_oauth_tokens: true }).error?.issues[0]?.code).toBe("unrecognized_keys");
    expect(parse({ subject: "admin@example.com", credentials: '{"type":"service_account"}' }).error?.issues[0]?.message).toMatch(/secret reference/);
    expect(parse({ subject: "admin@example.com", credentials: "file:/k.json", service_account: "r@p.iam.gserviceaccount.com" }).success).toBe(false);
    expect(parse({ subject: "admin@example.com", page_size: 501 }).success).toBe(false);
    expect(parse({ subject: "not-an-email" }).success).toBe(false);
    expect(parse({ subject: "admin@example.com", gcp_projects: ["My Project"] }).success).toBe(false);
  });
});

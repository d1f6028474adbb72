// Pure parts: the options schema, the bounded fan-out, and mapping rules that are easy to get wrong.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mapBounded } from "../../../connectors/github/concurrency.js";
import { credentialKindOf, mapDeployKey, mapOrgUser, repoRoleLevel, sshFingerprint } from "../../../connectors/github/map.js";
import { githubOptions } from "../../../connectors/github/options.js";

const parse = (o: Record<string, unknown>) => githubOptions.safeParse(o);

describe("options", () => {
  it("applies the documented defaults", () => {
    const r = parse({ orgs: ["acme"], token: "env:GH_TOKEN" });
    expect(r.success).toBe(true);
    expect(r.data).toMatchObject({
      collect_teams: true,
      collect_repo_grants: false,
      collaborator_repos: false,
      collect_deploy_keys: false,
      collect_pats: true,
      collect_credential_authorizations: true,
      audit_log: false,
      ghes_users: "auto",
      concurrency: 3,
      rate_limit_max_wait_seconds: 3900,
    });
  });

  it.each([
    [{ orgs: ["acme"], token: "env:T", colect_teams: true }, /colect_teams/],
    [{ orgs: ["acme"], token: "ghp_literal_secret" }, /secret reference/],
    [{ orgs: ["acme"], token: "env:T", app_id: 1, private_key: "file:/k.pem" }, /either token or app_id/],
    [{ orgs: ["acme"], app_id: 1 }, /both app_id and private_key/],
    [{ orgs: ["acme"] }, /set token, or app_id/],
    [{ orgs: ["acme", "ACME"], token: "env:T" }, /listed twice/],
    [{ orgs: [], token: "env:T" }, /orgs/],
    [{ orgs: ["acme"], token: "env:T", base_url: "ftp://x" }, /base_url/],
  ])("rejects %j", (raw, message) => {
    const r = parse(raw);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error!.issues)).toMatch(message);
  });
});

describe("mapBounded", () => {
  it("keeps at most `limit` calls in flight and yields every result", async () => {
    let inFlight = 0;
    let peak = 0;
    const out: number[] = [];
    for await (const v of mapBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5 + (n % 3) * 5));
      inFlight--;
      return n * 10;
    })) out.push(v);
    expect(out.sort((a, b) => a - b)).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });

  it("stops starting work after a failure, lets in-flight calls settle, then throws it", async () => {
    const started: number[] = [];
    let settled = 0;
    const run = async () => {
      for await (const _ of mapBounded([1, 2, 3, 4, 5, 6], 2, async (n) => {
        started.push(n);
        await new Promise((r) => setTimeout(r, n === 2 ? 1 : 20));
        settled++;
        if (n === 2) throw new Error("boom");
        return n;
      })) void _;
    };
    await expect(run()).rejects.toThrow("boom");
    expect(started).toEqual([1, 2]);
    expect(settled).toBe(2);
  });
});

describe("mapping", () => {
  it("computes deploy key fingerprints exactly as ssh-keygen does", () => {
    const dir = mkdtempSync(join(tmpdir(), "whohas-ssh-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
    const pub = readFileSync(join(dir, "k.pub"), "utf8");
    const expected = execFileSync("ssh-keygen", ["-lf", join(dir, "k.pub")], { encoding: "utf8" }).split(" ")[1];
    expect(sshFingerprint(pub)).toBe(expected);
  });

  it("keeps deploy key last use unknown when the server does not return the field", () => {
    const repo = { id: 1, node_id: "R_1", name: "r", full_name: "o/r", owner: { login: "o" }, private: true, fork: false };
    const base = { id: 9, key: "ssh-ed25519 AAAA", title: "t", verified: true, created_at: "2024-01-01T00:00:00Z", read_only: true };
    expect(mapDeployKey(base, repo).lastUsed).toMatchObject({ at: null, known: false });
    expect(mapDeployKey({ ...base, last_used: null }, repo).lastUsed).toMatchObject({ at: null, known: true });
  });

  it("never reports MFA disabled when the 2FA filter was not available", () => {
    const user = { login: "a", id: 1, node_id: "U_1", type: "User", site_admin: false };
    expect(mapOrgUser(user, "member", { kind: "unknown", reason: "refused" }, undefined).mfa).toBe("unknown");
    expect(mapOrgUser(user, "member", { kind: "filter", disabled: new Set([1]) }, undefined).mfa).toBe("disabled");
    expect(mapOrgUser(user, "member", { kind: "filter", disabled: new Set([2]) }, undefined).mfa).toBe("enabled");
    expect(mapOrgUser(user, "member", { kind: "required" }, undefined).mfa).toBe("enabled");
  });

  it("maps custom repository roles through their permission flags", () => {
    expect(repoRoleLevel("security-reviewer", { admin: false, maintain: false, push: true, pull: true })).toBe("write");
    expect(repoRoleLevel("maintain")).toBe("privileged");
    expect(repoRoleLevel("triage")).toBe("read");
    expect(credentialKindOf("SSH key")).toBe("ssh_key");
    expect(credentialKindOf("personal access token")).toBe("pat");
    expect(credentialKindOf("OAuth app token")).toBe("oauth_grant");
  });
});

import { describe, expect, it } from "vitest";
import { CONNECTORS } from "../../connectors/index.js";
import { parseConfig } from "../../src/config/load.js";
import { sourceSecretRefs } from "../../src/config/secret-refs.js";
import { configErrorOf } from "../helpers/config-error.js";

const FILE = "/etc/whohas/test.toml";
const AWS = `[[sources]]
id = "aws"
type = "aws-iam"
access_key_id = "env:AUDIT_KEY"
secret_access_key = "env:AUDIT_SECRET"
member_role_name = "WhohasAudit"
accounts = ["111111111111"]
`;
const errorOf = (text: string): string => configErrorOf(text, FILE);

describe("remediation config", () => {
  it("merges a remediate block over the source's options, without the collector's credentials", () => {
    const c = parseConfig(
      `${AWS}[sources.remediate]\naccess_key_id = "env:FIX_KEY"\nsecret_access_key = "env:FIX_SECRET"\nmember_role_name = "WhohasRemediate"\n[[remediate]]\nrule = "unused-credential"\naction = "deactivate-access-key"\n`,
      FILE,
      CONNECTORS,
    );
    const s = c.sources[0]!;
    expect(s.remediate!.options).toMatchObject({ access_key_id: "env:FIX_KEY", member_role_name: "WhohasRemediate", accounts: ["111111111111"] });
    expect(c.remediate[0]).toMatchObject({ name: "unused-credential-deactivate-access-key", sources: ["aws"], autoApply: false, maxActionsPerRun: 25, notifyBeforeDays: 0 });
    expect(c.remediation.planMaxAgeHours).toBe(24);
    expect(sourceSecretRefs(s).map((r) => r.key)).toEqual(["sources.aws.access_key_id", "sources.aws.secret_access_key", "sources.aws.remediate.access_key_id", "sources.aws.remediate.secret_access_key"]);
  });

  it("never inherits a credential key the collector set: the remediate block's own choice or the default", () => {
    const c = parseConfig(`${AWS}[sources.remediate]\nprofile = "remediate"\n`, FILE, CONNECTORS);
    const o = c.sources[0]!.remediate!.options as Record<string, unknown>;
    expect(o.access_key_id).toBeUndefined();
    expect(o.member_role_name).toBe("OrganizationAccountAccessRole");
  });

  it("refuses a remediate block that reuses the collector's credentials, and says why", () => {
    const msg = errorOf(`${AWS}[sources.remediate]\naccess_key_id = "env:AUDIT_KEY"\nsecret_access_key = "env:FIX_SECRET"\n`);
    expect(msg).toMatch(/sources\[0\]\.remediate\.access_key_id: reuses the collector's access_key_id \("env:AUDIT_KEY"\); remediation needs separate credentials/);
    expect(errorOf(`${AWS}[sources.remediate]\nmember_role_name = "WhohasAudit"\n`)).toMatch(/remediate\.member_role_name: reuses the collector's member_role_name/);
  });

  it("refuses a remediate block without credentials of its own", () => {
    expect(errorOf(`${AWS}[sources.remediate]\nconcurrency = 2\n`)).toMatch(/sources\[0\]\.remediate: expected credentials of its own .*never runs with the collector's credentials/);
  });

  it("validates the merged block with the connector's schema, naming the key", () => {
    expect(errorOf(`${AWS}[sources.remediate]\nprofile = "x"\nconcurrency = "many"\n`)).toMatch(/sources\[0\]\.remediate\.concurrency: expected number/);
    expect(errorOf(`${AWS}[sources.remediate]\nprofile = "x"\ntypo = 1\n`)).toMatch(/sources\[0\]\.remediate\.typo: unknown key/);
  });

  it("refuses a remediate block on a connector without actions", () => {
    expect(errorOf(`[[sources]]\nid = "erp"\ntype = "scim"\nbase_url = "https://scim.example.com/v2"\ntoken = "env:T"\n[sources.remediate]\ntoken = "env:U"\n`)).toMatch(
      /sources\[0\]\.remediate: a scim source cannot be remediated/,
    );
  });

  it.each([
    ["unknown rule", `rule = "new-admin"\naction = "deactivate-access-key"`, /remediate\[0\]\.rule: .*"dormant-account"/],
    ["unknown action", `rule = "dormant-account"\naction = "delete-user"`, /remediate\[0\]\.action:/],
    ["credential rule with an account action", `rule = "unused-credential"\naction = "quarantine-principal"`, /remediate\[0\]\.action: a unused-credential finding names a credential/],
    ["irreversible without opt-in", `rule = "unused-credential"\naction = "revoke-token"`, /remediate\[0\]\.allow_irreversible: revoke-token cannot be undone/],
    ["unknown key", `rule = "dormant-account"\naction = "quarantine-principal"\nauto = true`, /remediate\[0\]\.auto: unknown key/],
    ["source without remediate block", `rule = "dormant-account"\naction = "quarantine-principal"\nsources = ["aws"]`, /remediate\[0\]\.sources\[0\]: source "aws" has no remediate block/],
    ["no source can act", `rule = "dormant-account"\naction = "quarantine-principal"`, /remediate\[0\]\.action: no source with a remediate block can take quarantine-principal/],
    ["bad cap", `rule = "dormant-account"\naction = "quarantine-principal"\nmax_actions_per_run = 0`, /remediate\[0\]\.max_actions_per_run/],
  ])("[[remediate]] %s", (_n, entry, expected) => {
    expect(errorOf(`${AWS}[[remediate]]\n${entry}\n`)).toMatch(expected);
  });

  it("refuses an action the source's connector cannot take", () => {
    expect(errorOf(`${AWS}[sources.remediate]\nprofile = "fix"\n[[remediate]]\nrule = "dormant-account"\naction = "disable-account"\nsources = ["aws"]\n`)).toMatch(
      /remediate\[0\]\.action: source "aws" \(type aws-iam\) cannot take disable-account; it can: deactivate-access-key, quarantine-principal, remove-group-member/,
    );
  });
});

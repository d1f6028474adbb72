// One GetAccountAuthorizationDetails page mapped record by record (mapPrincipalPage, through mapEach): a user or
// role whose mapping throws is quarantined under its id and the page's other records are kept, as in every other
// connector. The records are generated from IAM's service model (test/conformance/descriptions/aws-iam.json);
// the bad ones carry a timestamp no date can be made of, which makes the mapping throw (toISOString).
import { readFileSync } from "node:fs";
import type { RoleDetail, UserDetail } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { mapPrincipalPage } from "../../../connectors/aws-iam/account.js";
import { accountScope, type AccountContext } from "../../../connectors/aws-iam/map.js";
import type { QuarantineNote } from "../../../src/store/validate.js";
import { seededRandom } from "../../../src/simulator/random.js";
import { schemaOf, sdkValue, type Shapes } from "../../conformance/aws-query.js";
import { Generator } from "../../conformance/generate.js";

const { shapes } = JSON.parse(readFileSync(new URL("../../conformance/descriptions/aws-iam.json", import.meta.url), "utf8")) as { shapes: Shapes };
const ACCOUNT = "111111111111";

function context(): AccountContext {
  return { accountId: ACCOUNT, partition: "aws", scope: accountScope(ACCOUNT), policies: new Map(), groups: new Map(), internalAccounts: new Set(), emailTag: "email" };
}

function generated<T>(gen: Generator, shape: string, n: number, complete: (x: T, i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => complete(sdkValue(shapes, shape, gen.value(schemaOf(shapes, shape))) as T, i));
}

describe("mapPrincipalPage", () => {
  it.each([1, 2, 3])("seed %i: a user and a role whose mapping throws are quarantined with their ids; the page's others are kept", (seed) => {
    const gen = new Generator(seededRandom(seed), "random", { nulls: false });
    const users = generated<UserDetail>(gen, "UserDetail", 3, (u, i) => ({ ...u, UserId: `AIDA${seed}${i}`, UserName: `user-${i}`, ...(i === 1 ? { CreateDate: new Date(Number.NaN) } : {}) }));
    const roles = generated<RoleDetail>(gen, "RoleDetail", 3, (r, i) => ({ ...r, RoleId: `AROA${seed}${i}`, RoleName: `role-${i}`, ...(i === 2 ? { RoleLastUsed: { LastUsedDate: new Date(Number.NaN) } } : {}) }));
    const notes: [string, QuarantineNote][] = [];
    const page = mapPrincipalPage(context(), { UserDetailList: users, RoleDetailList: roles }, () => undefined, { quarantine: (scope, note) => notes.push([scope, note]) });

    expect(page.users.map((m) => m.principal.id)).toEqual([`AIDA${seed}0`, `AIDA${seed}2`]);
    expect(page.roles.map((m) => m.principal.id)).toEqual([`AROA${seed}0`, `AROA${seed}1`]);
    expect(notes.map(([scope, n]) => [scope, n.table, n.id])).toEqual([
      [ACCOUNT, "principals", `AIDA${seed}1`],
      [ACCOUNT, "principals", `AROA${seed}2`],
    ]);
    for (const [, n] of notes) expect(n.reason).toMatch(/^could not be mapped: .*Invalid time value/);
  });

  it("a user or role without its id or name is quarantined, naming the missing member", () => {
    const notes: QuarantineNote[] = [];
    const page = mapPrincipalPage(context(), { UserDetailList: [{ UserName: "no-id", Arn: "arn:aws:iam::111111111111:user/no-id" }], RoleDetailList: [{ RoleId: "AROANONAME" }] }, () => undefined, { quarantine: (_s, n) => notes.push(n) });
    expect(page.users.length + page.roles.length).toBe(0);
    expect(notes.map((n) => [n.id ?? null, n.reason])).toEqual([
      [null, "could not be mapped: GetAccountAuthorizationDetails returned a user without UserId (arn:aws:iam::111111111111:user/no-id)"],
      ["AROANONAME", "could not be mapped: GetAccountAuthorizationDetails returned a role without RoleName (no ARN)"],
    ]);
  });
});

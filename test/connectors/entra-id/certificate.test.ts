// Certificate (client assertion) sign-in: msal-node builds and signs the JWT, the simulator checks the
// signature against the certificate registered on the app, as Entra does.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import selfsigned from "selfsigned";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entraIdConnector } from "../../../connectors/entra-id/index.js";
import { drain, testContext } from "../../helpers/collect.js";
import { startFixture, type Fixture } from "./setup.js";

interface Pair {
  key: string;
  cert: string;
}

async function keyPair(cn: string): Promise<Pair> {
  const r = await selfsigned.generate([{ name: "commonName", value: cn }], { keySize: 2048 });
  return { key: r.private, cert: r.cert };
}

describe("certificate credentials", () => {
  let f: Fixture;
  let registered: Pair;
  let other: Pair;
  let thumbprints: { sha1: string; sha256: string };
  let keyFile: string;
  let certFile: string;
  let otherKeyFile: string;
  let combinedFile: string;

  beforeAll(async () => {
    f = await startFixture({ seed: 21, users: 25 });
    [registered, other] = await Promise.all([keyPair("whohas-test"), keyPair("someone-else")]);
    thumbprints = f.tenant.addClientCertificate(f.clientId, registered.cert);
    keyFile = join(f.dir, "key.pem");
    certFile = join(f.dir, "cert.pem");
    otherKeyFile = join(f.dir, "other-key.pem");
    combinedFile = join(f.dir, "combined.pem");
    await writeFile(keyFile, registered.key, { mode: 0o600 });
    await writeFile(certFile, registered.cert, { mode: 0o644 });
    await writeFile(otherKeyFile, other.key, { mode: 0o600 });
    await writeFile(combinedFile, `${registered.key}\n${registered.cert}`, { mode: 0o600 });
  });
  afterAll(() => f.close());

  const run = async (extra: Record<string, unknown>) => {
    f.sim.server.resetCounters();
    const before = f.sim.tokenRequests.length;
    const { scopes } = await drain(entraIdConnector.create("aad", f.options({ client_secret: undefined, ...extra })), testContext("aad", f.env));
    return { scope: [...scopes.values()][0]!, tokens: f.sim.tokenRequests.slice(before) };
  };

  it("signs with PS256 and x5t#S256 when the certificate is at hand", async () => {
    const { scope, tokens } = await run({ certificate_key: `file:${keyFile}`, certificate_file: certFile });
    expect(scope.status).toBe("ok");
    expect(scope.principals.filter((p) => p.attributes?.objectType === "user")).toHaveLength(25);
    expect(tokens).toEqual([expect.objectContaining({ method: "assertion", alg: "PS256", thumbprintHeader: "x5t#S256", status: 200 })]);
  });

  it("reads the certificate from the key file when both are in one PEM", async () => {
    const { scope, tokens } = await run({ certificate_key: `file:${combinedFile}` });
    expect(scope.status).toBe("ok");
    expect(tokens[0]).toMatchObject({ alg: "PS256", status: 200 });
  });

  it("accepts the portal's SHA-1 thumbprint (RS256, x5t)", async () => {
    const { scope, tokens } = await run({ certificate_key: `file:${keyFile}`, certificate_thumbprint: thumbprints.sha1.toUpperCase() });
    expect(scope.status).toBe("ok");
    expect(tokens[0]).toMatchObject({ alg: "RS256", thumbprintHeader: "x5t", status: 200 });
  });

  it("fails with Entra's signature error when the key does not match the registered certificate", async () => {
    const { scope, tokens } = await run({ certificate_key: `file:${otherKeyFile}`, certificate_thumbprint: thumbprints.sha256 });
    expect(scope.status).toBe("failed");
    expect(scope.error).toContain("invalid_client: AADSTS700027: Client assertion failed signature validation.");
    expect(tokens[0]).toMatchObject({ status: 401, error: "AADSTS700027" });
  });

  it("fails with Entra's unknown-key error for a certificate the app does not have", async () => {
    const otherCert = join(f.dir, "other-cert.pem");
    await writeFile(otherCert, other.cert);
    const { scope } = await run({ certificate_key: `file:${otherKeyFile}`, certificate_file: otherCert });
    expect(scope.status).toBe("failed");
    expect(scope.error).toMatch(/AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application/);
  });

  it("catches a key that does not belong to the certificate before asking Entra", async () => {
    const { scope, tokens } = await run({ certificate_key: `file:${otherKeyFile}`, certificate_file: certFile });
    expect(scope.status).toBe("failed");
    expect(scope.error).toContain("certificate_key does not belong to the certificate");
    expect(tokens).toEqual([]);
    expect(scope.error).not.toContain("PRIVATE KEY");
  });

  it("refuses a key file others can read", async () => {
    const loose = join(f.dir, "loose-key.pem");
    await writeFile(loose, registered.key, { mode: 0o644 });
    const { scope } = await run({ certificate_key: `file:${loose}`, certificate_file: certFile });
    expect(scope.status).toBe("failed");
    expect(scope.error).toMatch(/certificate_key: secret file .* is readable by group or others/);
  });
});

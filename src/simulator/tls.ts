// A throwaway CA and a loopback server certificate, for clients that insist on https (msal-node,
// the Graph client). Generated once per process: RSA key generation is the slow part.
import selfsigned from "selfsigned";

export interface TestCa {
  caCert: string;
  serverKey: string;
  serverCert: string;
}

let cached: Promise<TestCa> | undefined;

export function generateTestCa(): Promise<TestCa> {
  cached ??= (async () => {
    const notBeforeDate = new Date(Date.now() - 60_000);
    const notAfterDate = new Date(Date.now() + 7 * 24 * 3600_000);
    const ca = await selfsigned.generate([{ name: "commonName", value: "whohas simulator CA" }], {
      keySize: 2048,
      algorithm: "sha256",
      notBeforeDate,
      notAfterDate,
      extensions: [
        { name: "basicConstraints", cA: true, critical: true },
        { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
      ],
    });
    const leaf = await selfsigned.generate([{ name: "commonName", value: "127.0.0.1" }], {
      keySize: 2048,
      algorithm: "sha256",
      notBeforeDate,
      notAfterDate,
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: "basicConstraints", cA: false },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: [
            { type: 7, ip: "127.0.0.1" },
            { type: 2, value: "localhost" },
          ],
        },
      ],
    });
    return { caCert: ca.cert, serverKey: leaf.private, serverCert: leaf.cert };
  })();
  return cached;
}

// Turns the source's secret references into what MSAL needs, checking the certificate on the way so a
// wrong key or thumbprint fails here with a clear message instead of as an AADSTS error later.
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { CollectContext } from "../../src/connector.js";
import type { ClientCredential } from "./client.js";
import type { EntraOptions } from "./options.js";

const KEY_BLOCK = /-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;
const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

export interface LoadedCredential {
  credential: ClientCredential;
  /** Certificate facts worth a warning (expiry), never key material. */
  certificate?: { subject: string; validTo: string; thumbprintSha256?: string };
}

export async function loadCredential(o: EntraOptions, ctx: Pick<CollectContext, "resolveSecret">): Promise<LoadedCredential> {
  if (o.client_secret !== undefined) {
    return { credential: { kind: "secret", secret: await ctx.resolveSecret(o.client_secret, "client_secret") } };
  }
  const pem = await ctx.resolveSecret(o.certificate_key!, "certificate_key");
  if (pem.includes("ENCRYPTED PRIVATE KEY")) throw new Error("certificate_key: encrypted private keys are not supported; store the key unencrypted with mode 0600");
  const keyPem = KEY_BLOCK.exec(pem)?.[0];
  if (!keyPem) throw new Error("certificate_key: no PEM private key found");
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new Error("certificate_key: the PEM private key cannot be parsed");
  }
  if (key.asymmetricKeyType !== "rsa") throw new Error(`certificate_key: Entra needs an RSA key, this is ${key.asymmetricKeyType ?? "unknown"}`);

  let certPem: string | undefined;
  if (o.certificate_file) {
    try {
      certPem = await readFile(o.certificate_file, "utf8");
    } catch (err) {
      throw new Error(`certificate_file: cannot read ${o.certificate_file}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
    }
  } else if (CERT_BLOCK.test(pem)) {
    certPem = pem;
  }

  let cert: X509Certificate | undefined;
  if (certPem) {
    const block = CERT_BLOCK.exec(certPem)?.[0];
    if (!block) throw new Error("certificate_file: no PEM certificate found");
    cert = new X509Certificate(block);
    if (!cert.checkPrivateKey(key)) throw new Error("certificate_key does not belong to the certificate");
  }

  let thumbprintSha256: string | undefined;
  let thumbprintSha1: string | undefined;
  if (o.certificate_thumbprint) {
    const t = o.certificate_thumbprint.toLowerCase();
    if (t.length === 64) thumbprintSha256 = t;
    else thumbprintSha1 = t;
    if (cert) {
      const actual = (t.length === 64 ? cert.fingerprint256 : cert.fingerprint).replace(/:/g, "").toLowerCase();
      if (actual !== t) throw new Error(`certificate_thumbprint ${t} is not the thumbprint of the certificate (${actual})`);
    }
  } else if (cert) {
    // SHA-256 makes MSAL sign with PS256 and send x5t#S256, which Entra prefers over SHA-1/RS256.
    thumbprintSha256 = cert.fingerprint256.replace(/:/g, "").toLowerCase();
  } else {
    throw new Error("certificate_key: set certificate_thumbprint or certificate_file, or include the certificate in the key file");
  }

  return {
    credential: { kind: "certificate", privateKey: keyPem, thumbprintSha256, thumbprintSha1 },
    certificate: cert ? { subject: cert.subject, validTo: new Date(cert.validTo).toISOString(), thumbprintSha256 } : undefined,
  };
}

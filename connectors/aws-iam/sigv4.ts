// Server-side AWS Signature Version 4 verification for the simulator: recompute the signature the
// way AWS does and compare, so a client that signs wrongly fails here as it would against AWS.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export type SigV4Result =
  | { ok: true; auth: ParsedAuthorization }
  | { ok: false; code: "MissingAuthenticationToken" | "IncompleteSignature" | "SignatureDoesNotMatch" | "RequestExpired" | "InvalidClientTokenId"; message: string; auth?: ParsedAuthorization };

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  if (!header) return undefined;
  const m = AUTH.exec(header.trim());
  if (!m) return undefined;
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signedHeaders: m[5]!.split(";"), signature: m[6]! };
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

function canonicalHeaderValue(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v.join(",") : (v ?? "");
  return s.trim().replace(/\s+/g, " ");
}

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(url: URL): string {
  const pairs = [...url.searchParams.entries()].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const);
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

export interface VerifyInput {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Secret for an access key id; undefined when the key is unknown. */
  secretFor: (accessKeyId: string) => string | undefined;
  now?: Date;
  /** Allowed clock skew; AWS allows 15 minutes. */
  maxSkewMs?: number;
}

export function verifySigV4(input: VerifyInput): SigV4Result {
  const header = input.headers.authorization;
  if (!header) return { ok: false, code: "MissingAuthenticationToken", message: "Request is missing Authentication Token" };
  const auth = parseAuthorization(header);
  if (!auth) return { ok: false, code: "IncompleteSignature", message: `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${header.split(" ")[0]}` };
  const amzDate = String(input.headers["x-amz-date"] ?? "");
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== auth.date) {
    return { ok: false, code: "IncompleteSignature", message: "X-Amz-Date is missing or does not match the credential scope date", auth };
  }
  if (!auth.signedHeaders.includes("host")) return { ok: false, code: "IncompleteSignature", message: "'Host' must be a signed header", auth };
  const at = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  const now = (input.now ?? new Date()).getTime();
  if (Math.abs(now - at) > (input.maxSkewMs ?? 15 * 60_000)) {
    return { ok: false, code: "RequestExpired", message: `Request has expired. Timestamp date is ${amzDate}`, auth };
  }
  const secret = input.secretFor(auth.accessKeyId);
  if (secret === undefined) return { ok: false, code: "InvalidClientTokenId", message: "The security token included in the request is invalid.", auth };

  const bodyHash = sha256(input.body);
  const declared = input.headers["x-amz-content-sha256"];
  if (declared !== undefined && declared !== bodyHash && declared !== "UNSIGNED-PAYLOAD") {
    return { ok: false, code: "SignatureDoesNotMatch", message: "The provided x-amz-content-sha256 header does not match what was computed.", auth };
  }
  const canonicalHeaders = [...auth.signedHeaders].sort().map((h) => `${h}:${canonicalHeaderValue(input.headers[h])}\n`).join("");
  const canonicalRequest = [
    input.method,
    input.url.pathname.split("/").map((seg) => uriEncode(decodeURIComponent(seg))).join("/") || "/",
    canonicalQuery(input.url),
    canonicalHeaders,
    auth.signedHeaders.join(";"),
    typeof declared === "string" ? declared : bodyHash,
  ].join("\n");
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  const kDate = hmac(`AWS4${secret}`, auth.date);
  const kSigning = hmac(hmac(hmac(kDate, auth.region), auth.service), "aws4_request");
  const expected = createHmac("sha256", kSigning).update(stringToSign).digest();
  const given = Buffer.from(auth.signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      ok: false,
      code: "SignatureDoesNotMatch",
      // AWS appends what it computed (signed headers included, so a session token too) to this message.
      message: `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'${canonicalRequest}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`,
      auth,
    };
  }
  return { ok: true, auth };
}

// Credentials for domain-wide delegation, in three forms:
//  1. a service account key (the `credentials` secret reference) → google-auth-library JWT with `subject`;
//  2. Application Default Credentials that are themselves a service account key → the same, via GoogleAuth;
//  3. keyless: ADC of any kind (workload identity, attached service account, impersonation) signs the
//     delegation assertion with IAM Credentials `signJwt` as `service_account`, then exchanges it at the
//     token endpoint. google-auth-library has no built-in for 3, so it is an OAuth2Client refresh handler.
// Every client built here goes through instrumentTransport, so token traffic is counted and redirected too.
import { GoogleAuth, JWT, OAuth2Client, type AuthClient } from "google-auth-library";
import { GOOGLE_TOKEN_URL, instrumentTransport, type TransportHooks } from "./transport.js";

export const IAM_CREDENTIALS_ROOT = "https://iamcredentials.googleapis.com/";
const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

export interface AuthSettings {
  /** Contents of a service account JSON key (already resolved from its secret reference). */
  keyJson?: string;
  /** Keyless mode: the delegated service account whose identity ADC signs as. */
  serviceAccount?: string;
  /** Workspace user to impersonate; absent for the service account's own identity (IAM API). */
  subject?: string;
  scopes: readonly string[];
  iamCredentialsRoot?: string;
}

export interface AuthResult {
  client: OAuth2Client;
  /** The OAuth client ID that needs delegation, when known (key file), for error messages. */
  clientId?: string;
  mode: "key" | "adc-key" | "keyless";
}

export class CredentialsError extends Error {
  override name = "CredentialsError";
}

interface ServiceAccountKey {
  type: "service_account";
  client_email: string;
  private_key: string;
  private_key_id?: string;
  client_id?: string;
}

/** Parses a key without ever echoing its content into an error. */
export function parseServiceAccountKey(text: string): ServiceAccountKey {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CredentialsError("credentials: not JSON; expected the service account key file downloaded from Google Cloud (type service_account)");
  }
  const k = json as Partial<ServiceAccountKey> & { type?: unknown };
  if (k.type !== "service_account" || typeof k.client_email !== "string" || typeof k.private_key !== "string") {
    throw new CredentialsError(
      `credentials: expected a service account key (type "service_account" with client_email and private_key), got type ${JSON.stringify(typeof k.type === "string" ? k.type : null)}`,
    );
  }
  return k as ServiceAccountKey;
}

export async function createAuth(settings: AuthSettings, hooks: TransportHooks): Promise<AuthResult> {
  if (settings.keyJson !== undefined) {
    const key = parseServiceAccountKey(settings.keyJson);
    const client = new JWT({
      email: key.client_email,
      key: key.private_key,
      keyId: key.private_key_id,
      subject: settings.subject,
      scopes: [...settings.scopes],
    });
    instrumentTransport(client, hooks);
    return { client, clientId: key.client_id, mode: "key" };
  }
  if (settings.serviceAccount !== undefined) return keyless(settings, settings.serviceAccount, hooks);

  const auth = new GoogleAuth({ scopes: [...settings.scopes], clientOptions: { subject: settings.subject } });
  const adc = await auth.getClient();
  if (!(adc instanceof JWT) || !adc.key) {
    throw new CredentialsError(
      `Application Default Credentials are a ${adc.constructor.name}, which cannot impersonate a Workspace user; ` +
        "set service_account to the email of the service account authorized for domain-wide delegation (keyless signing through IAM Credentials), " +
        "or point credentials at its key file",
    );
  }
  instrumentTransport(adc, hooks);
  return { client: adc, clientId: (auth.jsonContent as { client_id?: string } | null)?.client_id, mode: "adc-key" };
}

function keyless(settings: AuthSettings, serviceAccount: string, hooks: TransportHooks): AuthResult {
  const root = settings.iamCredentialsRoot ?? IAM_CREDENTIALS_ROOT;
  const client = new OAuth2Client();
  instrumentTransport(client, hooks);
  // ADC is resolved on first use, so a configuration error surfaces as this scope's failure.
  let source: Promise<AuthClient> | undefined;
  const sourceClient = () =>
    (source ??= new GoogleAuth({ scopes: [CLOUD_PLATFORM] }).getClient().then((c) => {
      instrumentTransport(c, hooks);
      return c;
    }));

  let inFlight: Promise<{ access_token: string; expiry_date: number }> | undefined;
  const refresh = async () => {
    const iat = Math.floor(Date.now() / 1000);
    const claims = { iss: serviceAccount, sub: settings.subject, scope: settings.scopes.join(" "), aud: GOOGLE_TOKEN_URL, iat, exp: iat + 3600 };
    const signer = await sourceClient();
    const signed = await signer.request<{ signedJwt: string }>({
      url: `${root.replace(/\/?$/, "/")}v1/projects/-/serviceAccounts/${encodeURIComponent(serviceAccount)}:signJwt`,
      method: "POST",
      data: { payload: JSON.stringify(claims) },
      responseType: "json",
    });
    const token = await client.transporter.request<{ access_token: string; expires_in: number }>({
      url: GOOGLE_TOKEN_URL,
      method: "POST",
      data: new URLSearchParams({ grant_type: JWT_BEARER, assertion: signed.data.signedJwt }),
      responseType: "json",
    });
    return { access_token: token.data.access_token, expiry_date: Date.now() + token.data.expires_in * 1000 };
  };
  // Concurrent first requests would each mint a token; share the one in flight.
  client.refreshHandler = () => (inFlight ??= refresh().finally(() => (inFlight = undefined)));
  return { client, mode: "keyless" };
}

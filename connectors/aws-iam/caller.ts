// Who the configured credentials are: static keys or the SDK chain, then the optional hop into an audit
// account. Shared by the collector and the event feeds, which both start from the same caller.
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { assumeRoleProvider, describeAwsError, isCredentialError, isTransportError, stsClient, type ClientSettings, type CredentialIdentity, type CredentialProvider } from "./client.js";
import type { AwsIamOptions } from "./options.js";
import { principalAccount } from "./policy.js";

export interface Caller {
  callerAccount: string;
  callerCredentials: CredentialProvider;
}

/** Who the configured credentials are, after the optional hop into an audit account (role_arn). */
export async function resolveCaller(opts: AwsIamOptions, settings: ClientSettings, base: CredentialProvider, count: () => void, signal: AbortSignal, sessionName: string): Promise<Caller> {
  if (opts.role_arn) {
    const sts = stsClient(settings, base, count);
    const callerCredentials = assumeRoleProvider(sts, { roleArn: opts.role_arn, externalId: opts.external_id, sessionName }, signal);
    try {
      await callerCredentials();
    } catch (err) {
      throw new Error(`sts:AssumeRole into ${opts.role_arn} failed: ${describeAwsError(err)}`);
    }
    return { callerAccount: principalAccount(opts.role_arn)!, callerCredentials };
  }
  let id: { Account?: string; Arn?: string };
  try {
    id = await stsClient(settings, base, count).send(new GetCallerIdentityCommand({}), { abortSignal: signal });
  } catch (err) {
    // Only a refusal of the credentials asks about them; a reset or timeout says the endpoint was not reached.
    const hint = isCredentialError(err) ? " (are AWS credentials configured?)" : isTransportError(err) ? " (STS not reached)" : "";
    throw new Error(`sts:GetCallerIdentity failed${hint}: ${describeAwsError(err)}`);
  }
  // The model makes every member optional: an answer without Account falls back to the Arn's account, and one
  // without either cannot say which account to collect (an empty scope id would be stored as if it were one).
  const callerAccount = id.Account || principalAccount(id.Arn ?? "");
  if (!callerAccount) throw new Error("sts:GetCallerIdentity named no account (neither Account nor an account in its Arn)");
  return { callerAccount, callerCredentials: base };
}

/** Static keys from the source's secret references, or undefined for the SDK default chain. */
export async function staticKeysOf(opts: AwsIamOptions, resolveSecret: (ref: string, key: string) => Promise<string>): Promise<CredentialIdentity | undefined> {
  if (!opts.access_key_id || !opts.secret_access_key) return undefined;
  return {
    accessKeyId: await resolveSecret(opts.access_key_id, "access_key_id"),
    secretAccessKey: await resolveSecret(opts.secret_access_key, "secret_access_key"),
    ...(opts.session_token ? { sessionToken: await resolveSecret(opts.session_token, "session_token") } : {}),
  };
}

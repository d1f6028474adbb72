// Which npm packages a module log (module-probe.ts) names, and which of them are provider SDKs.
import { readFileSync } from "node:fs";

/** The packages that talk to a provider, or that only a connector's implementation needs. */
const PROVIDER_SDK = /^(@aws-sdk\/|@smithy\/|@azure\/|@microsoft\/|@googleapis\/|googleapis|google-auth-library|gaxios|gcp-metadata|@octokit\/|universal-github-app-jwt|node-fetch)/;

export function loadedPackages(logFile: string): string[] {
  const packages = new Set<string>();
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(line);
    if (m) packages.add(m[1]!);
  }
  return [...packages].sort();
}

export function providerSdks(packages: readonly string[]): string[] {
  return packages.filter((p) => PROVIDER_SDK.test(p));
}

// The registry: connector type → definition. A new provider is one folder and one line here.
import type { ConnectorDefinition } from "../src/connector.js";
import { fileConnector } from "./file/index.js";
import { awsIamConnector } from "./aws-iam/index.js";
import { entraIdConnector } from "./entra-id/index.js";
import { githubConnector } from "./github/index.js";
import { googleWorkspaceConnector } from "./google-workspace/index.js";

export const CONNECTORS: readonly ConnectorDefinition<any>[] = [
  fileConnector,
  awsIamConnector,
  entraIdConnector,
  githubConnector,
  googleWorkspaceConnector,
];

export function findConnector(type: string): ConnectorDefinition<any> | undefined {
  return CONNECTORS.find((c) => c.type === type);
}

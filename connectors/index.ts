// The registry: every connector type whohas knows, as cheap descriptors (options schema, description, whether
// it is an identity provider). A descriptor loads its implementation — and the provider's SDK — only when a
// source of that type runs. A new provider is one folder (with a descriptor.ts) and one line here.
import type { ConnectorDescriptor, ConnectorRegistry } from "../src/connector.js";
import { awsIamDescriptor } from "./aws-iam/descriptor.js";
import { entraIdDescriptor } from "./entra-id/descriptor.js";
import { fileDescriptor } from "./file/descriptor.js";
import { githubDescriptor } from "./github/descriptor.js";
import { googleWorkspaceDescriptor } from "./google-workspace/descriptor.js";
import { scimDescriptor } from "./scim/descriptor.js";

export const CONNECTORS: ConnectorRegistry = [fileDescriptor, awsIamDescriptor, entraIdDescriptor, githubDescriptor, googleWorkspaceDescriptor, scimDescriptor];

export function findConnector(type: string): ConnectorDescriptor<any> | undefined {
  return CONNECTORS.find((c) => c.type === type);
}

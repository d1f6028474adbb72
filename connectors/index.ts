// The registry: connector type → definition. A new provider is one folder and one line here.
import type { ConnectorDefinition } from "../src/connector.js";
import { fileConnector } from "./file/index.js";
import { entraIdConnector } from "./entra-id/index.js";

export const CONNECTORS: readonly ConnectorDefinition<any>[] = [
  fileConnector,
  entraIdConnector,
];

export function findConnector(type: string): ConnectorDefinition<any> | undefined {
  return CONNECTORS.find((c) => c.type === type);
}

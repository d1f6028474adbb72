// HTTP connections that belong to one collect. Node's global fetch pools keep-alive sockets for the whole
// process; a daemon collecting every few minutes would hold whatever a provider or proxy keeps open. A
// connector that speaks plain fetch takes this one instead: its agent is destroyed when the engine ends the
// source, however it ends (the engine runs ctx.defer releases even for a connector stuck on a hung request).
import { Agent, fetch as undiciFetch } from "undici";
import type { CollectContext } from "./connector.js";

export function collectFetch(ctx: Pick<CollectContext, "defer">): typeof globalThis.fetch {
  const agent = new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 30_000 });
  ctx.defer(() => agent.destroy());
  return ((input: string | URL, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher: agent } as never)) as unknown as typeof globalThis.fetch;
}

// whohas who: see inventory.ts (the same listing, as a question)
import { whoAction, type InventoryOptions } from "./inventory.js";

export const action = (opts: InventoryOptions) => whoAction({ ...opts, level: opts.level ?? "read" });

// Synthetic principals as the store's reader yields them, for renderer tests at sizes a store would take
// minutes to fill; every `hostileEvery`-th has a 1 KB name full of terminal escapes and line breaks.
import type { PrincipalView, RunRow } from "../../src/store/reader.js";

export const RUN: RunRow = { id: 7, startedAt: "2026-01-31T00:00:00.000Z", finishedAt: null, status: "ok", trigger: "manual", error: null, digest: null };

export function* principals(n: number, hostileEvery = 0): Generator<PrincipalView> {
  for (let i = 0; i < n; i++) {
    const hostile = hostileEvery > 0 && i % hostileEvery === 0;
    yield {
      source: "hr",
      sourceType: "file",
      scope: "hr",
      id: `u${i}`,
      kind: "human",
      name: hostile ? `evil${i}\u001b]0;owned\u0007\r\ntrusted-${"y".repeat(1000)}` : `user${i}`,
      email: null,
      displayName: null,
      status: "active",
      mfa: "enabled",
      createdAt: null,
      accessLevel: "read",
      lastActive: { at: null, known: false, signal: "export" },
      grants: [{ privilege: "staff", level: "read" } as PrincipalView["grants"][number]],
      credentials: [],
      attributes: null,
    };
  }
}

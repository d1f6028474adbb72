import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashBinary, hashBuffer } from "../../src/hash.js";

// Node before 20.12 has no crypto.hash and gets createHash: both must give the digests stores already hold.
describe("one-shot hashing", () => {
  it.each(["", "plain", "ünïcødé \u{1F600} \u0000 \ud800 lone", "x".repeat(100_000)])("equals createHash for %#", (text) => {
    for (const algorithm of ["sha1", "sha256"] as const) {
      const expected = createHash(algorithm).update(text).digest();
      expect(hashBuffer(algorithm, text).equals(expected)).toBe(true);
      expect(Buffer.from(hashBinary(algorithm, text), "latin1").equals(expected)).toBe(true);
      expect(hashBinary(algorithm, text)).toBe(createHash(algorithm).update(text).digest("binary"));
    }
  });
});

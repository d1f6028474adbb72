// One-shot hashing of text. crypto.hash (no Hash object per call) is about 3× faster per row than createHash,
// which matters when a run hashes every row it writes; Node has it only from 20.12 and 21.7, and `engines`
// says >=20, so an older Node 20 gets createHash, with the same output.
import * as crypto from "node:crypto";

type Algorithm = "sha1" | "sha256";
type OneShot = (algorithm: string, data: string, output: "binary" | "buffer") => string | Buffer;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

/** The digest as latin1 ("binary") characters, one per byte. */
export const hashBinary: (algorithm: Algorithm, text: string) => string = oneShot
  ? (algorithm, text) => oneShot(algorithm, text, "binary") as string
  : (algorithm, text) => crypto.createHash(algorithm).update(text).digest("binary");

export const hashBuffer: (algorithm: Algorithm, text: string) => Buffer = oneShot
  ? (algorithm, text) => oneShot(algorithm, text, "buffer") as Buffer
  : (algorithm, text) => crypto.createHash(algorithm).update(text).digest();

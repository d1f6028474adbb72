// A set of version row ids as a bitmap: row ids are dense integers, so a million-entity scope costs
// bits, not the tens of megabytes a Set<number> of the same size takes.

export class VidSet {
  private bits = new Uint8Array(1024);
  private count = 0;

  /** How many ids the set holds: the writer compares it with a count of the rows that could be in it. */
  get size(): number {
    return this.count;
  }

  /** Whether `vid` was not in the set before. */
  add(vid: number): boolean {
    const byte = vid >>> 3;
    if (byte >= this.bits.length) {
      let size = this.bits.length;
      while (size <= byte) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bits);
      this.bits = grown;
    }
    const bit = 1 << (vid & 7);
    if ((this.bits[byte]! & bit) !== 0) return false;
    this.bits[byte]! |= bit;
    this.count++;
    return true;
  }

  /** Whether `vid` was in the set. */
  delete(vid: number): boolean {
    if (!this.has(vid)) return false;
    this.bits[vid >>> 3]! &= ~(1 << (vid & 7));
    this.count--;
    return true;
  }

  has(vid: number): boolean {
    const byte = vid >>> 3;
    return byte < this.bits.length && (this.bits[byte]! & (1 << (vid & 7))) !== 0;
  }

  clear(): void {
    this.bits = new Uint8Array(1024);
    this.count = 0;
  }
}

// A set of version row ids as a bitmap: row ids are dense integers, so a million-entity scope costs
// bits, not the tens of megabytes a Set<number> of the same size takes.

export class VidSet {
  private bits = new Uint8Array(1024);

  add(vid: number): void {
    const byte = vid >>> 3;
    if (byte >= this.bits.length) {
      let size = this.bits.length;
      while (size <= byte) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[byte]! |= 1 << (vid & 7);
  }

  delete(vid: number): void {
    const byte = vid >>> 3;
    if (byte < this.bits.length) this.bits[byte]! &= ~(1 << (vid & 7));
  }

  has(vid: number): boolean {
    const byte = vid >>> 3;
    return byte < this.bits.length && (this.bits[byte]! & (1 << (vid & 7))) !== 0;
  }

  clear(): void {
    this.bits = new Uint8Array(1024);
  }
}

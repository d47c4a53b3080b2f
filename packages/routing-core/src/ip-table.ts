/**
 * Longest-prefix lookup of IPv4 and IPv6 addresses: one binary trie per
 * family, held in flat typed arrays. A lookup walks at most 32 (IPv4) or 128
 * (IPv6) nodes, whatever the number of entries, and allocates nothing.
 */

import type { IpAddress } from './ip';

class BinaryTrie<T> {
  // Node n's children are child[2n] (bit 0) and child[2n+1] (bit 1), 0 for none
  // (node 0 is the root, never anyone's child); slot[n] indexes values, -1 for none.
  private child = new Int32Array(64);
  private slot = new Int32Array(32).fill(-1);
  private nodes = 1;
  private readonly values: T[] = [];

  constructor(private readonly bits: number) {}

  private grow(): void {
    const child = new Int32Array(this.child.length * 2);
    child.set(this.child);
    this.child = child;
    const slot = new Int32Array(this.slot.length * 2).fill(-1);
    slot.set(this.slot);
    this.slot = slot;
  }

  /** Adds `network/prefix`; returns false (keeping the first value) when that exact prefix is present. */
  insert(words: readonly number[], prefix: number, value: T): boolean {
    let node = 0;
    for (let i = 0; i < prefix; i++) {
      const bit = ((words[i >>> 5] ?? 0) >>> (31 - (i & 31))) & 1;
      let next = this.child[2 * node + bit] ?? 0;
      if (next === 0) {
        if (this.nodes === this.slot.length) this.grow();
        next = this.nodes++;
        this.child[2 * node + bit] = next;
      }
      node = next;
    }
    if ((this.slot[node] ?? -1) >= 0) return false;
    this.slot[node] = this.values.length;
    this.values.push(value);
    return true;
  }

  /** The value of the longest prefix containing the address, if any. */
  lookup(words: readonly number[]): T | undefined {
    const child = this.child;
    const slot = this.slot;
    let best = slot[0] as number;
    let node = 0;
    const bits = this.bits;
    let word = 0;
    for (let i = 0; i < bits; i++) {
      if ((i & 31) === 0) word = (words[i >>> 5] as number) | 0;
      node = child[2 * node + ((word >>> (31 - (i & 31))) & 1)] as number;
      if (node === 0) break;
      const s = slot[node] as number;
      if (s >= 0) best = s;
    }
    return best < 0 ? undefined : this.values[best];
  }

  get size(): number {
    return this.values.length;
  }
}

export class IpPrefixTable<T> {
  private readonly v4 = new BinaryTrie<T>(32);
  private readonly v6 = new BinaryTrie<T>(128);

  /** Adds an entry; false when the same network and prefix is already present (the first is kept). */
  insert(network: IpAddress, prefix: number, value: T): boolean {
    return (network.family === 4 ? this.v4 : this.v6).insert(network.words, prefix, value);
  }

  /** The value of the most specific entry containing `ip`, if any. */
  lookup(ip: IpAddress): T | undefined {
    return (ip.family === 4 ? this.v4 : this.v6).lookup(ip.words);
  }

  get size(): number {
    return this.v4.size + this.v6.size;
  }
}

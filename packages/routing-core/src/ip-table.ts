/**
 * Longest-prefix lookup of IPv4 and IPv6 addresses: one binary trie per
 * family, held in flat number arrays. A lookup walks at most 32 (IPv4) or
 * 128 (IPv6) nodes, whatever the number of entries.
 */

import type { IpAddress } from './ip';

export interface PrefixMatch<T> {
  value: T;
  prefix: number;
}

class BinaryTrie<T> {
  // Node n's children are zero[n] and one[n] (-1 for none); slot[n] indexes values (-1 for none).
  private readonly zero: number[] = [-1];
  private readonly one: number[] = [-1];
  private readonly slot: number[] = [-1];
  private readonly values: T[] = [];
  private readonly prefixes: number[] = [];

  constructor(private readonly bits: number) {}

  /** Adds `network/prefix`; returns false (keeping the first value) when that exact prefix is present. */
  insert(words: readonly number[], prefix: number, value: T): boolean {
    let node = 0;
    for (let i = 0; i < prefix; i++) {
      const bit = ((words[i >>> 5] ?? 0) >>> (31 - (i & 31))) & 1;
      const children = bit ? this.one : this.zero;
      let next = children[node] ?? -1;
      if (next < 0) {
        next = this.slot.length;
        this.zero.push(-1);
        this.one.push(-1);
        this.slot.push(-1);
        children[node] = next;
      }
      node = next;
    }
    if ((this.slot[node] ?? -1) >= 0) return false;
    this.slot[node] = this.values.length;
    this.values.push(value);
    this.prefixes.push(prefix);
    return true;
  }

  lookup(words: readonly number[]): PrefixMatch<T> | undefined {
    let best = this.slot[0] ?? -1;
    let node = 0;
    const bits = this.bits;
    let word = 0;
    for (let i = 0; i < bits; i++) {
      if ((i & 31) === 0) word = words[i >>> 5] ?? 0;
      node = ((word >>> (31 - (i & 31))) & 1 ? this.one[node] : this.zero[node]) ?? -1;
      if (node < 0) break;
      const s = this.slot[node] ?? -1;
      if (s >= 0) best = s;
    }
    if (best < 0) return undefined;
    return { value: this.values[best] as T, prefix: this.prefixes[best] ?? 0 };
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

  /** The most specific entry containing `ip`, if any. */
  lookup(ip: IpAddress): PrefixMatch<T> | undefined {
    return (ip.family === 4 ? this.v4 : this.v6).lookup(ip.words);
  }

  get size(): number {
    return this.v4.size + this.v6.size;
  }
}

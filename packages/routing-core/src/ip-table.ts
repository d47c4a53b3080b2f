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
  // For a large trie, the walk's first 16 steps in one: for each value of an
  // address's top 16 bits, the node reached at depth 16 (0 when the walk ends
  // sooner) and the longest prefix seen on the way (-1 for none). Built on
  // the first lookup after an insert; null for a trie too small to need it.
  private jumpNode: Int32Array | null = null;
  private jumpBest: Int32Array | null = null;
  private jumpStale = true;

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
    this.jumpStale = true;
    this.slot[node] = this.values.length;
    this.values.push(value);
    return true;
  }

  /** The value of the longest prefix containing the address, if any. */
  lookup(words: readonly number[]): T | undefined {
    if (this.jumpStale) this.buildJump();
    const child = this.child;
    const slot = this.slot;
    let best = slot[0] as number;
    let node = 0;
    let i = 0;
    let word = (words[0] as number) | 0;
    const jumpNode = this.jumpNode;
    if (jumpNode !== null) {
      const top = word >>> 16;
      best = (this.jumpBest as Int32Array)[top] as number;
      node = jumpNode[top] as number;
      i = 16;
    }
    const bits = this.bits;
    if (node !== 0 || i === 0) {
      for (; i < bits; i++) {
        if ((i & 31) === 0) word = (words[i >>> 5] as number) | 0;
        node = child[2 * node + ((word >>> (31 - (i & 31))) & 1)] as number;
        if (node === 0) break;
        const s = slot[node] as number;
        if (s >= 0) best = s;
      }
    }
    return best < 0 ? undefined : this.values[best];
  }

  /** Fills jumpNode and jumpBest (see there) for a trie of more than 1,024 nodes. */
  private buildJump(): void {
    this.jumpStale = false;
    if (this.nodes <= 1024) {
      this.jumpNode = null;
      this.jumpBest = null;
      return;
    }
    const jumpNode = new Int32Array(65536);
    const jumpBest = new Int32Array(65536);
    const child = this.child;
    const slot = this.slot;
    const fill = (node: number, depth: number, prefix: number, above: number): void => {
      const best = node !== 0 && (slot[node] as number) >= 0 ? (slot[node] as number) : above;
      if (node === 0 || depth === 16) {
        const from = prefix << (16 - depth);
        const to = (prefix + 1) << (16 - depth);
        jumpNode.fill(node, from, to);
        jumpBest.fill(best, from, to);
        return;
      }
      fill(child[2 * node] as number, depth + 1, prefix * 2, best);
      fill(child[2 * node + 1] as number, depth + 1, prefix * 2 + 1, best);
    };
    // The root's own value (a /0 entry) is the starting best; the root is node 0.
    fill(child[0] as number, 1, 0, slot[0] as number);
    fill(child[1] as number, 1, 1, slot[0] as number);
    this.jumpNode = jumpNode;
    this.jumpBest = jumpBest;
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

/**
 * Never-route entries (checked first, they win over every allow criterion,
 * docs/design.md §2 rule 6): one that covers a whole family, and one that overlaps an
 * allowed client entry. Overlaps are found with one trie lookup each way (an
 * overlap is one prefix inside the other), one finding per never-route entry,
 * so a large list costs O(n + m), not O(n × m).
 */

import { prefixesOverlap } from '../ip';
import { IpPrefixTable } from '../ip-table';
import { type Check, cidr, type Finding, finding, type ParsedEntry } from './finding';

function overlapsOf(
  allowed: readonly ParsedEntry[],
  never: readonly ParsedEntry[],
): Map<ParsedEntry, ParsedEntry> {
  const allowTable = new IpPrefixTable<ParsedEntry>();
  for (const e of allowed) allowTable.insert(e.network, e.prefix, e);
  const neverTable = new IpPrefixTable<ParsedEntry>();
  for (const e of never) neverTable.insert(e.network, e.prefix, e);
  const overlaps = new Map<ParsedEntry, ParsedEntry>();
  for (const n of never) {
    const a = allowTable.lookup(n.network);
    if (a && prefixesOverlap(n.network, n.prefix, a.network, a.prefix)) overlaps.set(n, a);
  }
  for (const a of allowed) {
    const n = neverTable.lookup(a.network);
    if (n && !overlaps.has(n) && prefixesOverlap(n.network, n.prefix, a.network, a.prefix)) {
      overlaps.set(n, a);
    }
  }
  return overlaps;
}

function everything(n: ParsedEntry): Finding {
  return finding(
    {
      code: 'never-route-everything',
      severity: 'warning',
      message:
        n.network.family === 4
          ? `Never-route entry ${cidr(n)} covers every IPv4 client: none may relay, not even users who authenticate.`
          : `Never-route entry ${cidr(n)} covers every IPv6 client: none may relay, not even users who authenticate (IPv4 clients are matched by IPv4 entries).`,
      reference: 'Q260562',
      pointer: n.pointer,
    },
    n.pointer,
  );
}

export const neverRouteOverlaps: Check = (_config, { lists }) => {
  const overlaps = overlapsOf(lists.clientAddresses, lists.neverRoute);
  const out: Finding[] = [];
  for (const n of lists.neverRoute) {
    if (n.prefix === 0) out.push(everything(n));
    const a = overlaps.get(n);
    if (!a) continue;
    out.push(
      finding(
        {
          code: 'never-route-overlaps-allow',
          severity: 'warning',
          message: `Never-route entry ${cidr(n)} overlaps allowed entry ${cidr(a)}: never-route wins, so clients in both cannot relay.`,
          reference: 'Q260562',
          pointer: n.pointer,
        },
        n.pointer,
      ),
    );
  }
  return out;
};

/**
 * Duplicates and shadowing in the routing table (docs/design.md §2 rule 2, Q169683):
 * a "Sent to" listed again never applies; `#d` beside `d` is legal (info); an
 * entry that routes like the broader entry above it changes nothing.
 */

import type { RoutingConfig } from '../config';
import { parseSentTo } from '../validate';
import { type Check, type Finding, finding } from './finding';

function redundant(config: RoutingConfig, index: number, above: number): Finding {
  const pointer = `/routes/${index}`;
  return finding(
    {
      code: 'redundant-route',
      severity: 'info',
      message: `"${config.routes[index]?.sentTo}" routes the same way as the broader "${config.routes[above]?.sentTo}" (entry ${above + 1}): it changes nothing.`,
      reference: 'Q169683',
      pointer,
      fix: {
        description: `Remove "${config.routes[index]?.sentTo}"`,
        patch: [{ op: 'remove', path: pointer }],
      },
    },
    pointer,
  );
}

interface RouteIndex {
  /** Domain of a plain entry → its index (the first one). */
  plain: Map<string, number>;
  /** Domain of a `#` entry → its index (the first one). */
  exact: Map<string, number>;
}

/** Indexes the entries, and reports every "Sent to" that is listed again. */
function indexRoutes(config: RoutingConfig, out: Finding[]): RouteIndex {
  const seen = new Map<string, number>();
  const index: RouteIndex = { plain: new Map(), exact: new Map() };
  config.routes.forEach((route, i) => {
    const pointer = `/routes/${i}`;
    const first = seen.get(route.sentTo);
    if (first !== undefined) {
      out.push(
        finding(
          {
            code: 'duplicate-route',
            severity: config.routes[first]?.routeTo === route.routeTo ? 'info' : 'warning',
            message: `"${route.sentTo}" is listed again (entry ${first + 1} is the one used): this entry never applies.`,
            reference: 'Q169683',
            pointer,
            fix: {
              description: `Remove this "${route.sentTo}" entry`,
              patch: [{ op: 'remove', path: pointer }],
            },
          },
          pointer,
        ),
      );
      return;
    }
    seen.set(route.sentTo, i);
    const s = parseSentTo(route.sentTo);
    if ('error' in s) return;
    (s.exact ? index.exact : index.plain).set(s.domain, i);
  });
  return index;
}

/** The index of the nearest plain entry strictly above `domain`. */
function nearestPlainAbove(plain: Map<string, number>, domain: string): number | undefined {
  let d = domain;
  for (let dot = d.indexOf('.'); dot >= 0; dot = d.indexOf('.')) {
    d = d.slice(dot + 1);
    const i = plain.get(d);
    if (i !== undefined) return i;
  }
  return undefined;
}

export const routeDuplicates: Check = (config) => {
  const out: Finding[] = [];
  const { plain, exact } = indexRoutes(config, out);
  const sameAsAbove = (domain: string, index: number) => {
    const above = nearestPlainAbove(plain, domain);
    if (above !== undefined && config.routes[above]?.routeTo === config.routes[index]?.routeTo) {
      out.push(redundant(config, index, above));
    }
  };
  for (const [domain, index] of exact) {
    const plainIndex = plain.get(domain);
    if (plainIndex === undefined) {
      sameAsAbove(domain, index);
      continue;
    }
    out.push(
      finding(
        {
          code: 'exact-beside-plain',
          severity: 'info',
          message: `"#${domain}" decides ${domain} itself; "${domain}" (entry ${plainIndex + 1}) then applies only to its subdomains.`,
          reference: 'Q169683',
          pointer: `/routes/${plainIndex}`,
        },
        `/routes/${index}`,
      ),
    );
  }
  for (const [domain, index] of plain) sameAsAbove(domain, index);
  return out;
};

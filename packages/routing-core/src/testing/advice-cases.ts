/**
 * Helpers for the advisor's table tests (src/advice/*.test.ts): a document
 * built from the defaults plus a patch, and one check run on it the way
 * advise() runs it.
 */

import { expect } from 'vitest';
import type { AdviceContext, Check, Finding } from '../advise';
import { checkContextOf } from '../advise';
import { defaultConfig, type IpEntry, type RoutingConfig } from '../config';
import { validate } from '../validate';

export type ConfigPatch = Partial<Omit<RoutingConfig, 'restrictions'>> & {
  restrictions?: Partial<RoutingConfig['restrictions']>;
};

/** The defaults for example.com, with `patch` applied (restrictions merged one level deep). */
export function config(patch: ConfigPatch = {}): RoutingConfig {
  const base = defaultConfig('example.com');
  return { ...base, ...patch, restrictions: { ...base.restrictions, ...patch.restrictions } };
}

/** `ip/mask` entries from `"ip/mask"` strings. */
export function entries(...cidrs: string[]): IpEntry[] {
  return cidrs.map((c) => {
    const [ip = '', mask] = c.split('/');
    return { ip, mask: mask ?? (ip.includes(':') ? '128' : '32') };
  });
}

/** One check's findings for a document (which must be valid), as advise() would compute them. */
export function runCheck(check: Check, doc: RoutingConfig, context: AdviceContext = {}): Finding[] {
  const checked = validate(doc);
  if (!checked.ok) throw new Error(`invalid test document: ${JSON.stringify(checked.errors)}`);
  return check(checked.config, checkContextOf(checked.config, checked.notices, context));
}

/** A row of a check's table: a document, its context, and the findings expected (in part). */
export interface AdviceCase {
  name: string;
  doc: RoutingConfig;
  context?: AdviceContext;
  expected: Partial<Finding>[];
}

/**
 * Asserts one row: exactly the expected findings, in order, each matching its
 * partial; a key given as `undefined` (e.g. `fix: undefined`) must be absent.
 */
export function expectCase(check: Check, row: AdviceCase): void {
  const found = runCheck(check, row.doc, row.context);
  const present = row.expected.map((f) =>
    Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)),
  );
  expect(found).toEqual(present.map((f) => expect.objectContaining(f)));
  row.expected.forEach((f, i) => {
    for (const [key, value] of Object.entries(f)) {
      if (value === undefined) expect(found[i], key).not.toHaveProperty(key);
    }
  });
}

/**
 * The README and the docs link only to files in the repository: a clone
 * carries everything a link points at, and no link climbs out of the tree.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const documents = [
  'README.md',
  'e2e/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Link targets of a Markdown text: inline links and images, without the #fragment. */
export function linkTargets(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  for (const m of withoutCode.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    targets.push(m[1] ?? '');
  }
  return targets;
}

describe('links in the documentation', () => {
  it('finds inline links and images, not code', () => {
    expect(
      linkTargets('[a](docs/x.md#y) ![b](docs/p.png) `[c](nope.md)` [d](https://example.com)'),
    ).toEqual(['docs/x.md#y', 'docs/p.png', 'https://example.com']);
  });

  it.each(documents)('%s links only to files in the repository', (doc) => {
    const text = readFileSync(join(ROOT, doc), 'utf8');
    const broken: string[] = [];
    for (const target of linkTargets(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
      const path = resolve(ROOT, dirname(doc), decodeURI(target.split('#')[0] ?? ''));
      const inside = !relative(ROOT, path).startsWith('..');
      if (!inside || !existsSync(path)) broken.push(target);
    }
    expect(broken).toEqual([]);
  });
});

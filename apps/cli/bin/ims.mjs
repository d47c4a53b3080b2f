#!/usr/bin/env node
// The `ims` command. `npm start` builds it to JavaScript (scripts/build.mjs:
// build/main.js), which runs when it is newer than every source file it was
// built from; otherwise the TypeScript source runs through tsx (resolved from
// this package), so a change in development is never hidden by an old build.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const built = fileURLToPath(new URL('../build/main.js', import.meta.url));
const SOURCES = [
  'apps/cli/src',
  'packages/api-client/src',
  'packages/api-contract/src',
  'packages/routing-core/src',
  'packages/settings/src',
];

/** The newest modification time under `dir` (0 when it is missing). */
function newest(dir) {
  let latest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    latest = Math.max(latest, e.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function fresh() {
  try {
    const at = statSync(built).mtimeMs;
    return SOURCES.every((dir) => newest(join(root, dir)) <= at);
  } catch {
    return false;
  }
}

if (fresh()) {
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}

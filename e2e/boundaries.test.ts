/**
 * The dependency directions of STYLE.md §4 are Biome `noRestrictedImports`
 * rules, one override per folder in biome.json, and `npm test` fails on them
 * through its lint step. This proves every rule is live: it writes deliberate
 * violations (and allowed imports, as controls) into the tree, runs the
 * linter on them, and expects exactly the violations to fail.
 *
 * Relative imports that leave a workspace (`../../../apps/server/src/app`)
 * are not covered here: every workspace's tsconfig has `rootDir`, so the
 * type-check refuses them; across workspaces, imports go by package name.
 */

import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { childEnv } from '@ims/test-support';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const biome = join(root, 'node_modules/.bin/biome');

interface Probe {
  /** Where the probe file goes (a folder the rule covers). */
  dir: string;
  ext?: 'ts' | 'tsx';
  imports: { from: string; refused: string | false }[];
}

const PACKAGES = /Packages never import apps, e2e or benchmarks/;
const ROUTING_CORE = /routing-core imports nothing/;
const ROUTING_CORE_TESTING =
  /routing-core's test helpers import only its own files, vitest and fast-check/;
const APPS = /Apps never import each other, e2e or benchmarks/;
const FEATURES = /A web feature imports only components\/, lib\/, config\/, testing\//;

const probes: Probe[] = [
  {
    dir: 'packages/api-contract/src',
    imports: [
      { from: '@ims/server/src/app', refused: PACKAGES.source },
      { from: '@ims/smtp/testing', refused: PACKAGES.source },
      { from: '@ims/e2e/stack', refused: PACKAGES.source },
      { from: 'typebox', refused: false },
    ],
  },
  {
    dir: 'packages/routing-core/src',
    imports: [
      { from: 'node:net', refused: ROUTING_CORE.source },
      { from: 'typebox', refused: ROUTING_CORE.source },
      { from: '@ims/api-contract', refused: ROUTING_CORE.source },
      { from: './compile', refused: false },
    ],
  },
  {
    dir: 'packages/routing-core/src/testing',
    imports: [
      { from: 'node:fs', refused: ROUTING_CORE_TESTING.source },
      { from: 'typebox', refused: ROUTING_CORE_TESTING.source },
      { from: 'vitest', refused: false },
      { from: '../evaluate', refused: false },
    ],
  },
  {
    dir: 'apps/server/src',
    imports: [
      { from: '@ims/smtp', refused: APPS.source },
      { from: '@ims/web/src/main', refused: APPS.source },
      { from: '@ims/e2e/smtp-wire', refused: APPS.source },
      { from: '@ims/routing-core', refused: false },
    ],
  },
  {
    dir: 'apps/smtp/src',
    imports: [
      { from: '@ims/server/src/app', refused: APPS.source },
      { from: '@ims/cli', refused: APPS.source },
      { from: '@ims/api-client', refused: false },
    ],
  },
  {
    dir: 'apps/cli/src',
    imports: [
      { from: '@ims/e2e/smtp-wire', refused: APPS.source },
      { from: '@ims/bench-api', refused: APPS.source },
      { from: '@ims/test-support', refused: false },
    ],
  },
  {
    dir: 'apps/web/src/features/audit',
    ext: 'tsx',
    imports: [
      { from: '../service/api/get-service', refused: FEATURES.source },
      { from: '../../app/app', refused: FEATURES.source },
      { from: '@ims/server', refused: APPS.source },
      { from: './api/get-audit', refused: false },
      { from: '../../lib/api', refused: false },
    ],
  },
  {
    dir: 'apps/web/src/features/audit/components',
    ext: 'tsx',
    imports: [
      { from: '../../routing/api/get-routing', refused: FEATURES.source },
      { from: '../../../app/app', refused: FEATURES.source },
      { from: '../../../main', refused: FEATURES.source },
      { from: '../api/get-audit', refused: false },
      { from: '../../../components/ui/dialog', refused: false },
      { from: '../../../lib/problem', refused: false },
      { from: '../../../config/env', refused: false },
      { from: '../../../testing/render', refused: false },
      { from: '@ims/routing-core', refused: false },
    ],
  },
  {
    dir: 'apps/web/src/features/routing/api/nested',
    imports: [
      { from: '../../../service/api/get-service', refused: FEATURES.source },
      { from: '../get-routing', refused: false },
      { from: '../../../../lib/api', refused: false },
    ],
  },
];

const written: string[] = [];
afterAll(() => {
  for (const f of written) rmSync(f, { force: true });
  rmSync(join(root, 'apps/web/src/features/routing/api/nested'), { recursive: true, force: true });
});

interface Diagnostic {
  category: string;
  message: string;
  location: { path: string; start: { line: number } };
}

function lint(files: string[]): Promise<{ code: number; diagnostics: Diagnostic[] }> {
  return new Promise((done, fail) => {
    execFile(
      biome,
      ['lint', '--reporter=json', '--max-diagnostics=none', ...files],
      { cwd: root, env: childEnv(), maxBuffer: 16 * 1024 * 1024 },
      (err, stdout) => {
        if (err && typeof err.code !== 'number') return fail(err);
        try {
          const report = JSON.parse(stdout) as { diagnostics: Diagnostic[] };
          done({
            code: typeof err?.code === 'number' ? err.code : 0,
            diagnostics: report.diagnostics,
          });
        } catch {
          fail(new Error(`biome printed no JSON report: ${stdout}`));
        }
      },
    );
  });
}

describe('restricted imports (biome.json overrides) fail the lint', () => {
  it('every deliberate violation fails with its rule, and every allowed import passes', async () => {
    const files: string[] = [];
    for (const [n, p] of probes.entries()) {
      mkdirSync(join(root, p.dir), { recursive: true });
      const file = join(p.dir, `boundary-probe-${process.pid}-${n}.${p.ext ?? 'ts'}`);
      const lines = p.imports.map((im, i) => `import * as m${i} from '${im.from}';`);
      lines.push(`export const probe = [${p.imports.map((_, i) => `m${i}`).join(', ')}];`);
      writeFileSync(join(root, file), `${lines.join('\n')}\n`);
      written.push(join(root, file));
      files.push(file);
    }
    const { code, diagnostics } = await lint(files);
    const restricted = diagnostics.filter((d) => d.category === 'lint/style/noRestrictedImports');
    const got = restricted.map((d) => `${d.location.path}:${d.location.start.line} ${d.message}`);
    const expected: string[] = [];
    const allowed: string[] = [];
    probes.forEach((p, n) => {
      p.imports.forEach((im, i) => {
        const at = `${files[n]}:${i + 1}`;
        if (im.refused === false) allowed.push(at);
        else expected.push(`${at} ${im.refused}`);
      });
    });
    // Each violation is reported on its line with its rule's message...
    for (const e of expected) {
      const [at, pattern] = [e.slice(0, e.indexOf(' ')), e.slice(e.indexOf(' ') + 1)];
      expect(
        got.some((g) => g.startsWith(`${at} `) && new RegExp(pattern).test(g)),
        `${at} should be refused (${pattern}); got:\n${got.join('\n')}`,
      ).toBe(true);
    }
    // ...every allowed import passes, and nothing else fails the run.
    expect(got.filter((g) => allowed.some((a) => g.startsWith(`${a} `)))).toEqual([]);
    expect(restricted).toHaveLength(expected.length);
    expect(code).not.toBe(0);
  });
});

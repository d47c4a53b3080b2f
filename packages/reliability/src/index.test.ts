import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv } from '@ims/test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Battery, REPOSITORY_ROOT } from './index';

describe('Battery', () => {
  it('counts checked cases, generated runs and sources; a failed check fails and is recorded', async () => {
    const b = new Battery('t', 'Test battery', 2, 'x.test.ts');
    await b.check('ok', () => undefined, 'nmap');
    await expect(
      b.check('bad', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    b.record('ok', true, 'nmap'); // the same id again replaces, never double-counts
    b.recordRuns('prop', 100, 100, 'fast-check');
    b.note('a note');
    const r = b.toRecord();
    expect(r).toMatchObject({
      id: 't',
      deliverable: 2,
      cases: 102,
      passed: 101,
      failed: [{ id: 'bad', passed: false, detail: 'boom' }],
      sources: {
        nmap: { cases: 1, passed: 1 },
        '(this project)': { cases: 1, passed: 0 },
        'fast-check': { cases: 100, passed: 100 },
      },
      notes: ['a note'],
    });
  });
});

describe('scripts/reliability-report.mjs', () => {
  it('writes the summary from the records, and fails when a battery left no record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ims-reliability-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const b = new Battery('relay', 'Relay battery: x', 1, 'a.test.ts');
    b.record('one', true, 'nmap');
    b.write(dir);
    const report = join(dir, 'reliability.md');
    expect(() =>
      execFileSync(process.execPath, [join(REPOSITORY_ROOT, 'scripts/reliability-report.mjs')], {
        env: childEnv({ IMS_RELIABILITY_DIR: dir, IMS_RELIABILITY_REPORT: report }),
        stdio: 'pipe',
      }),
    ).toThrow(/no record from relay-postfix, smtp-bad-input/);
    const text = readFileSync(report, 'utf8');
    expect(text).toContain('| Relay battery | 1. Relay battery | `a.test.ts` | 1 | 1 | 0 |');
    expect(text).toContain(
      '| smtp-bad-input | | **no record: the battery did not run to the end** |',
    );
    // The script starts Node and formats the page: seconds on a busy machine.
  }, 60_000);
});

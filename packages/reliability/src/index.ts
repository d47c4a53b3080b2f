/**
 * The record of a reliability battery: every case a battery tries
 * and whether it passed, written as JSON when the test file finishes. After
 * the whole run, `scripts/reliability-report.mjs` turns the records into
 * `docs/reliability.md`, so the summary always comes from a real run.
 *
 * Records go to `$IMS_RELIABILITY_DIR`, default `docs/.reliability/` in the
 * repository (gitignored). Test-only: nothing in the product imports this.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

export interface BatteryCase {
  id: string;
  passed: boolean;
  /** Where the case comes from (a public relay tester, an RFC section …). */
  source?: string;
  /** What went wrong, for a failed case. */
  detail?: string;
}

export interface BatteryRecord {
  id: string;
  title: string;
  /** Which battery family it belongs to (1 relay, 2 bad input and fuzzing, 3 crashes, 4 concurrency, 5 API abuse). */
  deliverable: number;
  /** The test file, relative to the repository root. */
  file: string;
  cases: number;
  passed: number;
  failed: BatteryCase[];
  /** Cases per source. */
  sources: Record<string, { cases: number; passed: number }>;
  /** Measurements worth reading beside the counts (duplicates seen, runs of a property …). */
  notes: string[];
  finishedAt: string;
}

export const REPOSITORY_ROOT = resolve(import.meta.dirname, '../../..');

export function recordDir(): string {
  return process.env.IMS_RELIABILITY_DIR ?? join(REPOSITORY_ROOT, 'docs/.reliability');
}

export class Battery {
  private readonly results = new Map<string, BatteryCase>();
  private readonly bulk: { id: string; runs: number; passed: number; source?: string }[] = [];
  private readonly notes: string[] = [];

  constructor(
    readonly id: string,
    readonly title: string,
    readonly deliverable: number,
    readonly file: string,
  ) {}

  /** Records one case's outcome (a later record of the same id replaces it). */
  record(id: string, passed: boolean, source?: string, detail?: string): void {
    this.results.set(id, {
      id,
      passed,
      ...(source ? { source } : {}),
      ...(detail ? { detail } : {}),
    });
  }

  /** Runs one case: passed when `fn` resolves; the error is rethrown so the test fails too. */
  async check<T>(id: string, fn: () => Promise<T> | T, source?: string): Promise<T> {
    try {
      const value = await fn();
      this.record(id, true, source);
      return value;
    } catch (err) {
      this.record(
        id,
        false,
        source,
        err instanceof Error ? err.message.slice(0, 300) : String(err),
      );
      throw err;
    }
  }

  /** Many generated cases at once (a fast-check property: its number of runs). */
  recordRuns(id: string, runs: number, passed: number, source?: string): void {
    const i = this.bulk.findIndex((b) => b.id === id);
    const entry = { id, runs, passed, ...(source ? { source } : {}) };
    if (i >= 0) this.bulk[i] = entry;
    else this.bulk.push(entry);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  toRecord(): BatteryRecord {
    const sources: Record<string, { cases: number; passed: number }> = {};
    const add = (source: string | undefined, cases: number, passed: number) => {
      const key = source ?? '(this project)';
      const s = sources[key] ?? { cases: 0, passed: 0 };
      s.cases += cases;
      s.passed += passed;
      sources[key] = s;
    };
    let cases = 0;
    let passed = 0;
    const failed: BatteryCase[] = [];
    for (const c of this.results.values()) {
      cases++;
      if (c.passed) passed++;
      else failed.push(c);
      add(c.source, 1, c.passed ? 1 : 0);
    }
    for (const b of this.bulk) {
      cases += b.runs;
      passed += b.passed;
      if (b.passed < b.runs)
        failed.push({ id: b.id, passed: false, detail: 'a generated case failed' });
      add(b.source, b.runs, b.passed);
    }
    return {
      id: this.id,
      title: this.title,
      deliverable: this.deliverable,
      file: this.file,
      cases,
      passed,
      failed,
      sources,
      notes: this.notes,
      finishedAt: new Date().toISOString(),
    };
  }

  write(dir = recordDir()): string {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${this.id}.json`);
    writeFileSync(path, `${JSON.stringify(this.toRecord(), null, 2)}\n`);
    return path;
  }
}

/** A battery whose record is written when the test file finishes (vitest's afterAll). */
export function battery(opts: {
  id: string;
  title: string;
  deliverable: number;
  /** import.meta.filename of the test file. */
  file: string;
}): Battery {
  const relative = opts.file.startsWith(REPOSITORY_ROOT)
    ? opts.file.slice(REPOSITORY_ROOT.length + 1)
    : opts.file;
  const b = new Battery(opts.id, opts.title, opts.deliverable, relative);
  afterAll(() => {
    b.write();
  });
  return b;
}

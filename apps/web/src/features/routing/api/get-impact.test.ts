import type { ImpactChange, ImpactResult } from '@ims/api-client';
import { describe, expect, it } from 'vitest';
import { newRefusals, refusals } from './get-impact';

const row = (clientIp: string, before: ImpactChange['before'], after: ImpactChange['after']) => ({
  clientIp,
  serverIp: '127.0.0.1',
  authenticated: false,
  recipientDomain: 'elsewhere.example',
  before,
  after,
  count: 3,
});
const result = (...changes: ImpactChange[]): ImpactResult => ({
  since: '2026-11-23T00:00:00.000Z',
  transactions: 10,
  changes,
});

describe('what Apply asks about', () => {
  it('refusals: rows where mail the running version accepts would be refused', () => {
    const r = result(row('127.0.0.2', 'relay', 'reject'), row('127.0.0.3', 'reject', 'relay'));
    expect(refusals(r).map((c) => c.clientIp)).toEqual(['127.0.0.2']);
    expect(refusals(undefined)).toEqual([]);
  });

  it('newRefusals: only the refusals the draft adds to those of the version it edits', () => {
    const saved = result(row('127.0.0.2', 'relay', 'reject'));
    const draft = result(row('127.0.0.2', 'relay', 'reject'), row('127.0.0.4', 'relay', 'reject'));
    expect(newRefusals(draft, saved).map((c) => c.clientIp)).toEqual(['127.0.0.4']);
    // No preview of the saved version: every refusal of the draft is asked about.
    expect(newRefusals(draft, undefined)).toHaveLength(2);
    expect(newRefusals(saved, saved)).toEqual([]);
  });
});

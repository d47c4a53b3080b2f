import { defaultConfig, INBOUND } from '@ims/routing-core';
import { describe, expect, it } from 'vitest';
import { mergeList, mergeRoutes, rebaseDraft, sameJson } from './config-utils';

describe('sameJson', () => {
  it.each([
    [{ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, true],
    [{ a: 1 }, { a: 2 }, false],
    [[1, 2], [2, 1], false],
    [{ a: undefined }, {}, false],
  ])('%j vs %j → %s', (a, b, want) => expect(sameJson(a, b)).toBe(want));
});

describe('mergeList', () => {
  it.each([
    { base: [1, 2], mine: [1, 2, 3], theirs: [1, 2, 4], want: [1, 2, 4, 3] },
    { base: [1, 2], mine: [2], theirs: [1, 2, 4], want: [2, 4] },
    { base: [1, 2], mine: [1, 5], theirs: [1, 2], want: [1, 5] },
    { base: [1], mine: [1, 3], theirs: [1, 3], want: [1, 3] },
  ])('base $base, mine $mine, theirs $theirs → $want', ({ base, mine, theirs, want }) =>
    expect(mergeList(base, mine, theirs)).toEqual(want),
  );
});

describe('rebaseDraft', () => {
  it('keeps what the user changed and what the other person changed elsewhere', () => {
    const base = defaultConfig('example.com');
    const mine = { ...structuredClone(base), rerouteMode: 'no-reroute' as const };
    mine.routes.push({ sentTo: 'mine.example', routeTo: INBOUND });
    const theirs = { ...structuredClone(base), rejectUnknownRecipients: false };
    theirs.routes.push({ sentTo: 'theirs.example', routeTo: INBOUND });
    const merged = rebaseDraft(base, mine, theirs);
    expect(merged.rerouteMode).toBe('no-reroute');
    expect(merged.rejectUnknownRecipients).toBe(false);
    expect(merged.routes.map((r) => r.sentTo)).toEqual([
      'example.com',
      'theirs.example',
      'mine.example',
    ]);
  });
});

describe('mergeRoutes', () => {
  it('both sides changed the route for one domain: one entry, the user’s', () => {
    const base = [{ sentTo: 'x.example', routeTo: 'a.example' }];
    const mine = [{ sentTo: 'x.example', routeTo: 'b.example' }];
    const theirs = [
      { sentTo: 'X.example', routeTo: 'c.example' },
      { sentTo: 'y.example', routeTo: INBOUND },
    ];
    expect(mergeRoutes(base, mine, theirs)).toEqual([
      { sentTo: 'y.example', routeTo: INBOUND },
      { sentTo: 'x.example', routeTo: 'b.example' },
    ]);
  });
});

/**
 * Query keys of the data more than one feature reads or invalidates (the
 * TkDodo key-factory pattern): a feature imports them from here, never from
 * a sibling feature.
 */

export const routingKeys = {
  all: ['routing'] as const,
  current: () => ['routing', 'current'] as const,
  diff: (from: number | 'running', to?: number) =>
    ['routing', 'diff', from, to ?? 'saved'] as const,
  /** The impact preview of a draft (the draft is the key). */
  impact: <C>(draft: C) => ['routing', 'impact', draft] as const,
};

export const versionKeys = {
  all: ['versions'] as const,
  list: () => ['versions', 'list'] as const,
  detail: (n: number) => ['versions', 'detail', n] as const,
};

export const serviceKeys = {
  all: ['service'] as const,
  status: () => ['service', 'status'] as const,
};

export const auditKeys = {
  all: ['audit'] as const,
  page: <F>(f: F) => ['audit', 'page', f] as const,
};

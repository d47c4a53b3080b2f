import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api';
import type { VersionList } from '../../../lib/contract';

export const versionKeys = {
  all: ['versions'] as const,
  list: () => ['versions', 'list'] as const,
  detail: (n: number) => ['versions', 'detail', n] as const,
};

export const getVersions = (before?: number) =>
  api<VersionList>('/routing/versions', { query: { limit: 20, before } });

export const versionsQuery = () =>
  infiniteQueryOptions({
    queryKey: versionKeys.list(),
    queryFn: ({ pageParam }) => getVersions(pageParam),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.nextBefore,
  });

export const useVersions = () => useInfiniteQuery(versionsQuery());

import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { versionKeys } from '../../../lib/query-keys';

export const getVersions = (before?: number, signal?: AbortSignal) =>
  api.routing.versions(before === undefined ? { limit: 20 } : { limit: 20, before }, { signal });

export const versionsQuery = () =>
  infiniteQueryOptions({
    queryKey: versionKeys.list(),
    queryFn: ({ pageParam, signal }) => getVersions(pageParam, signal),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.nextBefore,
  });

export const useVersions = () => useInfiniteQuery(versionsQuery());

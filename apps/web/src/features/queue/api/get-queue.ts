import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const queueKeys = {
  all: ['queue'] as const,
  list: () => ['queue', 'list'] as const,
};

export const getQueue = (signal?: AbortSignal) => api.queue.list({ signal });

export const queueQuery = () =>
  queryOptions({
    queryKey: queueKeys.list(),
    queryFn: ({ signal }) => getQueue(signal),
    // A queue changes on its own: read it afresh whenever the tab opens.
    staleTime: 0,
  });

export const useQueue = () => useQuery(queueQuery());

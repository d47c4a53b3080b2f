import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { serviceKeys } from '../../../lib/query-keys';

export const getService = (signal?: AbortSignal) => api.service.status({ signal });

export const serviceQuery = () =>
  queryOptions({
    queryKey: serviceKeys.status(),
    queryFn: ({ signal }) => getService(signal),
    refetchInterval: 30_000,
  });

export const useService = () => useQuery(serviceQuery());

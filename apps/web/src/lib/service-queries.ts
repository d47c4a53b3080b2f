/**
 * The service status (GET /api/v1/service: the saved version, where a restart
 * stands, every node and the version it runs), kept live by the event stream:
 * read by the restart banner, the property sheet and the history tab.
 */

import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from './api-client';
import { serviceKeys } from './query-keys';

export const getService = (signal?: AbortSignal) => api.service.status({ signal });

export const serviceQuery = () =>
  queryOptions({
    queryKey: serviceKeys.status(),
    queryFn: ({ signal }) => getService(signal),
    refetchInterval: 30_000,
  });

export const useService = () => useQuery(serviceQuery());

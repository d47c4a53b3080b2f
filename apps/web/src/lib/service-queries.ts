/**
 * The service status (GET /api/v1/service: the saved version, where a restart
 * stands, every node and the version it runs), kept live by the event stream:
 * read by the restart banner, the property sheet and the history tab.
 */

import type { Service } from '@ims/api-client';
import { type QueryClient, queryOptions, useQuery } from '@tanstack/react-query';
import { api } from './api-client';
import { serviceKeys } from './query-keys';

export const getService = (signal?: AbortSignal) => api.service.status({ signal });

/** How many statuses the event stream has written into each client's cache. */
const pushes = new WeakMap<QueryClient, number>();

/** Writes a status the event stream pushed into the cache. */
export function pushService(client: QueryClient, status: Service): void {
  pushes.set(client, (pushes.get(client) ?? 0) + 1);
  client.setQueryData(serviceKeys.status(), status);
}

export const serviceQuery = () =>
  queryOptions({
    queryKey: serviceKeys.status(),
    queryFn: async ({ signal, client }): Promise<Service> => {
      const before = pushes.get(client) ?? 0;
      const answer = await getService(signal);
      // A status pushed while this answer was on its way can be newer than
      // it: the answer to the refetch after Restart now may have been made
      // before the restart the event reports done, and would put "restart
      // pending" back on the banner of an applied version. Every change of
      // the status is pushed, so the pushed one is kept.
      if ((pushes.get(client) ?? 0) !== before) {
        const pushed = client.getQueryData<Service>(serviceKeys.status());
        if (pushed) return pushed;
      }
      return answer;
    },
    refetchInterval: 30_000,
  });

export const useService = () => useQuery(serviceQuery());

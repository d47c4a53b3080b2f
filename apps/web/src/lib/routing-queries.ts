/**
 * The saved routing configuration (with its ETag) and the diff between two
 * versions: read by the routing tab, the history tab and the restart banner.
 */

import type { RoutingState } from '@ims/api-client';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from './api-client';
import { routingKeys } from './query-keys';

export interface RoutingWithEtag extends RoutingState {
  etag: string;
}

/** A saved configuration as the console answered it, with its ETag (If-Match for the next save). */
export function withEtag(answer: { data: RoutingState; etag: string }): RoutingWithEtag {
  return { ...answer.data, etag: answer.etag || `"v${answer.data.version}"` };
}

export async function getRouting({
  signal,
}: {
  signal?: AbortSignal;
} = {}): Promise<RoutingWithEtag> {
  return withEtag(await api.routing.get({ signal }));
}

export const routingQuery = () =>
  queryOptions({ queryKey: routingKeys.current(), queryFn: getRouting });

export const useRouting = () => useQuery(routingQuery());

/** GET /api/v1/routing/diff?from=&to= (to: default the saved version). */
export const getDiff = (from: number | 'running', to?: number, signal?: AbortSignal) =>
  api.routing.diff(to === undefined ? { from } : { from, to }, { signal });

export const diffQuery = (from: number | 'running', to?: number) =>
  queryOptions({
    queryKey: routingKeys.diff(from, to),
    queryFn: ({ signal }) => getDiff(from, to, signal),
  });

export const useDiff = (from: number | 'running' | undefined, to?: number) =>
  useQuery({ ...diffQuery(from ?? 1, to), enabled: from !== undefined });

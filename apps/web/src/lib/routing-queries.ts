import { queryOptions, useQuery } from '@tanstack/react-query';
import { request } from '../../../lib/api';
import type { RoutingState } from '../../../lib/contract';

export const routingKeys = {
  all: ['routing'] as const,
  current: () => ['routing', 'current'] as const,
  diff: (from: number | 'running', to?: number) =>
    ['routing', 'diff', from, to ?? 'saved'] as const,
};

export interface RoutingWithEtag extends RoutingState {
  etag: string;
}

export async function getRouting(): Promise<RoutingWithEtag> {
  const res = await request<RoutingState>('/routing');
  return { ...res.data, etag: res.etag ?? `"v${res.data.version}"` };
}

export const routingQuery = () =>
  queryOptions({ queryKey: routingKeys.current(), queryFn: getRouting });

export const useRouting = () => useQuery(routingQuery());

import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api';
import type { Diff } from '../../../lib/contract';
import { routingKeys } from './get-routing';

/** GET /api/v1/routing/diff?from=&to= (to: default the saved version). */
export const getDiff = (from: number | 'running', to?: number) =>
  api<Diff>('/routing/diff', { query: { from, to } });

export const diffQuery = (from: number | 'running', to?: number) =>
  queryOptions({ queryKey: routingKeys.diff(from, to), queryFn: () => getDiff(from, to) });

export const useDiff = (from: number | 'running' | undefined, to?: number) =>
  useQuery({ ...diffQuery(from ?? 1, to), enabled: from !== undefined });

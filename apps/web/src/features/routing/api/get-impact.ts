/**
 * POST /api/v1/routing/impact: what the draft would change for the traffic
 * the nodes recorded, asked again once the draft has stopped changing for a
 * moment (each keystroke is not a request to every node).
 */

import type { ImpactChange, ImpactResult } from '@ims/api-client';
import type { RoutingConfig } from '@ims/routing-core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { routingKeys } from '../../../lib/query-keys';
import { useDebouncedValue } from '../hooks/use-debounced-value';
import { sameJson } from '../utils/config-utils';

/** How long the draft must stay the same before the preview is asked for. */
export const IMPACT_DEBOUNCE_MS = 600;

export const getImpact = (config: RoutingConfig, signal?: AbortSignal) =>
  api.routing.impact(config, { signal });

export const impactQuery = (config: RoutingConfig | undefined) => ({
  queryKey: routingKeys.impact(config),
  queryFn: ({ signal }: { signal: AbortSignal }) => getImpact(config as RoutingConfig, signal),
  enabled: config !== undefined,
  staleTime: 30_000,
  retry: false,
  placeholderData: keepPreviousData,
});

/** Rows where mail the running version accepts would be refused. */
export const refusals = (impact: ImpactResult | undefined): ImpactChange[] =>
  (impact?.changes ?? []).filter((c) => c.after === 'reject' && c.before !== 'reject');

/**
 * The impact preview of a draft: the query, and `current`, the answer when
 * it is for this very draft (not a previous one still shown while the next
 * is asked for).
 */
export function useImpact(draft: RoutingConfig | undefined) {
  const settled = useDebouncedValue(draft, IMPACT_DEBOUNCE_MS);
  const query = useQuery(impactQuery(settled));
  const current =
    query.data !== undefined && !query.isPlaceholderData && sameJson(settled, draft)
      ? query.data
      : undefined;
  return { query, current };
}

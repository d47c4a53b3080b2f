/**
 * POST /api/v1/routing/impact: what the draft would change for the traffic
 * the nodes recorded, asked again once the draft has stopped changing for a
 * moment (each keystroke is not a request to every node).
 */

import type { ImpactChange, ImpactResult } from '@ims/api-client';
import type { RoutingConfig } from '@ims/routing-core';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api } from '../../../lib/api-client';
import { routingKeys } from '../../../lib/query-keys';
import { useDebouncedValue } from '../hooks/use-debounced-value';
import { sameJson } from '../utils/config-utils';

/** How long the draft must stay the same before the preview is asked for. */
export const IMPACT_DEBOUNCE_MS = 600;

/**
 * How long Apply waits for the preview of the very draft it is about to save
 * (when the one on screen is for an earlier draft, or still on its way)
 * before saving without it: a console that cannot reach its nodes still saves.
 */
export const IMPACT_WAIT_MS = 10_000;

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

const rowKey = (c: ImpactChange) =>
  `${c.clientIp} ${c.serverIp} ${c.authenticated} ${c.recipientDomain}`;

/**
 * The refusals a draft adds to those of the version it edits: what Apply
 * asks about. Both are judged against what runs, so after a saved (not yet
 * applied) version that refuses some mail, every later draft would list the
 * same rows again; the administrator confirmed those when saving it.
 */
export const newRefusals = (
  draft: ImpactResult | undefined,
  saved: ImpactResult | undefined,
): ImpactChange[] => {
  const known = new Set(refusals(saved).map(rowKey));
  return refusals(draft).filter((c) => !known.has(rowKey(c)));
};

/**
 * The impact preview of a draft: the query (the panel shows its last answer
 * while the next is asked for); `pending`, true while the draft has changed
 * since the last question (the debounce) or the answer is on its way; and
 * `previewOf`, which
 * asks afresh and waits for the answer for a given draft (Apply asks it
 * about the draft it saves, rather than trusting whatever is on screen).
 */
export function useImpact(draft: RoutingConfig | undefined) {
  const settled = useDebouncedValue(draft, IMPACT_DEBOUNCE_MS);
  const query = useQuery(impactQuery(settled));
  const queryClient = useQueryClient();
  const forThisDraft = sameJson(settled, draft);
  const previewOf = useCallback(
    (config: RoutingConfig): Promise<ImpactResult | undefined> =>
      // Asked afresh (an answer already on its way is shared): Apply compares
      // two previews, which must judge the same recorded traffic.
      withTimeout(
        queryClient.fetchQuery({ ...impactQuery(config), staleTime: 0 }),
        IMPACT_WAIT_MS,
      ).catch(() => undefined),
    [queryClient],
  );
  return { query, pending: !forThisDraft || query.isFetching, previewOf };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

import type { RoutingConfig } from '@ims/routing-core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { request } from '../../../lib/api';
import type { RoutingState } from '../../../lib/contract';
import { serviceKeys } from '../../service/api/get-service';
import { type RoutingWithEtag, routingKeys } from './get-routing';

export interface SaveRoutingInput {
  config: RoutingConfig;
  /** The ETag of the version the draft is based on (If-Match). */
  etag: string;
  acknowledge?: string[];
  comment?: string;
}

/** PUT /api/v1/routing: 412 when someone saved since `etag`, 422 for invalid or unacknowledged. */
export async function saveRouting(input: SaveRoutingInput): Promise<RoutingWithEtag> {
  const res = await request<RoutingState>('/routing', {
    method: 'PUT',
    headers: { 'if-match': input.etag },
    body: {
      config: input.config,
      ...(input.acknowledge?.length ? { acknowledge: input.acknowledge } : {}),
      ...(input.comment ? { comment: input.comment } : {}),
    },
  });
  return { ...res.data, etag: res.etag ?? `"v${res.data.version}"` };
}

export function useSaveRouting() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: saveRouting,
    onSuccess: (saved) => {
      queryClient.setQueryData(routingKeys.current(), saved);
      void queryClient.invalidateQueries({ queryKey: ['versions'] });
      void queryClient.invalidateQueries({ queryKey: ['audit'] });
      void queryClient.invalidateQueries({ queryKey: serviceKeys.all });
    },
  });
}

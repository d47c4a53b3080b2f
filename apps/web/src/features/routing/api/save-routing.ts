import type { RoutingConfig } from '@ims/routing-core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { auditKeys, routingKeys, serviceKeys, versionKeys } from '../../../lib/query-keys';
import { type RoutingWithEtag, withEtag } from '../../../lib/routing-queries';

export interface SaveRoutingInput {
  config: RoutingConfig;
  /** The ETag of the version the draft is based on (If-Match). */
  etag: string;
  acknowledge?: string[];
  comment?: string;
}

/** PUT /api/v1/routing: 412 when someone saved since `etag`, 422 for invalid or unacknowledged. */
export async function saveRouting(input: SaveRoutingInput): Promise<RoutingWithEtag> {
  return withEtag(
    await api.routing.put(
      {
        config: input.config,
        ...(input.acknowledge?.length ? { acknowledge: input.acknowledge } : {}),
        ...(input.comment ? { comment: input.comment } : {}),
      },
      input.etag,
    ),
  );
}

export function useSaveRouting() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: saveRouting,
    onSuccess: (saved) => {
      queryClient.setQueryData(routingKeys.current(), saved);
      void queryClient.invalidateQueries({ queryKey: versionKeys.all });
      void queryClient.invalidateQueries({ queryKey: auditKeys.all });
      void queryClient.invalidateQueries({ queryKey: serviceKeys.all });
    },
  });
}

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { routingKeys, serviceKeys, versionKeys } from '../../../lib/query-keys';

/**
 * POST /api/v1/service/rollback: saves a copy of the version the fleet ran
 * before the latest rollout and restarts every node onto it.
 */
export const rollbackService = () => api.service.rollback();

export function useRollbackService() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: rollbackService,
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: serviceKeys.all }),
        // A new saved version: the routing sheet and history show it.
        queryClient.invalidateQueries({ queryKey: routingKeys.all }),
        queryClient.invalidateQueries({ queryKey: versionKeys.all }),
      ]),
  });
}

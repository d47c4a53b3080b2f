import type { RestartBody } from '@ims/api-client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { serviceKeys } from '../../../lib/query-keys';

/**
 * POST /api/v1/service/restart: every node is told to apply the saved
 * version, or with `{ strategy: 'rolling', order }` one node at a time.
 */
export const restartService = (body?: RestartBody) => api.service.restart(body);

export function useRestartService() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: restartService,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: serviceKeys.all }),
  });
}

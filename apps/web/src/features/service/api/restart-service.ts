import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { serviceKeys } from '../../../lib/query-keys';

/** POST /api/v1/service/restart: every node is told to apply the saved version. */
export const restartService = () => api.service.restart();

export function useRestartService() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: restartService,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: serviceKeys.all }),
  });
}

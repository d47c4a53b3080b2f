import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api';
import type { RestartResult } from '../../../lib/contract';
import { serviceKeys } from './get-service';

/** POST /api/v1/service/restart: every node is told to apply the saved version. */
export const restartService = () => api<RestartResult>('/service/restart', { method: 'POST' });

export function useRestartService() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: restartService,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: serviceKeys.all }),
  });
}

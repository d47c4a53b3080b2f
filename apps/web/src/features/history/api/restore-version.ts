import { useMutation, useQueryClient } from '@tanstack/react-query';
import { request } from '../../../lib/api';
import type { RoutingState } from '../../../lib/contract';
import { type RoutingWithEtag, routingKeys } from '../../routing/api/get-routing';
import { serviceKeys } from '../../service/api/get-service';

export interface RestoreInput {
  version: number;
  /** ETag of the saved configuration the restore replaces. */
  etag: string;
  acknowledge?: string[];
}

/** POST /api/v1/routing/versions/{n}/restore: a new version equal to version n. */
export async function restoreVersion(input: RestoreInput): Promise<RoutingWithEtag> {
  const res = await request<RoutingState>(`/routing/versions/${input.version}/restore`, {
    method: 'POST',
    headers: { 'if-match': input.etag },
    body: input.acknowledge?.length ? { acknowledge: input.acknowledge } : {},
  });
  return { ...res.data, etag: res.etag ?? `"v${res.data.version}"` };
}

export function useRestoreVersion() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: restoreVersion,
    onSuccess: (saved) => {
      queryClient.setQueryData(routingKeys.current(), saved);
      void queryClient.invalidateQueries({ queryKey: ['versions'] });
      void queryClient.invalidateQueries({ queryKey: ['audit'] });
      void queryClient.invalidateQueries({ queryKey: serviceKeys.all });
    },
  });
}

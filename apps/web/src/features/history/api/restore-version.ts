import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { auditKeys, routingKeys, serviceKeys, versionKeys } from '../../../lib/query-keys';
import { type RoutingWithEtag, withEtag } from '../../../lib/routing-queries';

export interface RestoreInput {
  version: number;
  /** ETag of the saved configuration the restore replaces. */
  etag: string;
  acknowledge?: string[];
}

/** POST /api/v1/routing/versions/{n}/restore: a new version equal to version n. */
export async function restoreVersion(input: RestoreInput): Promise<RoutingWithEtag> {
  return withEtag(
    await api.routing.restore(
      input.version,
      input.etag,
      input.acknowledge?.length ? { acknowledge: input.acknowledge } : {},
    ),
  );
}

export function useRestoreVersion() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: restoreVersion,
    onSuccess: (saved) => {
      queryClient.setQueryData(routingKeys.current(), saved);
      void queryClient.invalidateQueries({ queryKey: versionKeys.all });
      void queryClient.invalidateQueries({ queryKey: auditKeys.all });
      void queryClient.invalidateQueries({ queryKey: serviceKeys.all });
    },
  });
}

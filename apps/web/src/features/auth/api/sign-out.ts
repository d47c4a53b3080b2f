import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, setCsrfToken } from '../../../lib/api-client';
import { isApiProblem } from '../../../lib/problem';
import { sessionKeys } from './get-session';

export async function signOut(): Promise<void> {
  try {
    await api.logout();
  } catch (err) {
    // Already signed out (expired session): the goal is reached all the same.
    if (!isApiProblem(err, 401) && !isApiProblem(err, 404)) throw err;
  }
  setCsrfToken(undefined);
}

export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: signOut,
    onSuccess: () => {
      queryClient.setQueryData(sessionKeys.current(), null);
      // Nothing of the signed-out user stays in the cache.
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== sessionKeys.all[0] });
    },
  });
}

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { sessionListKeys } from './get-sessions';

export const changePassword = (input: { currentPassword: string; newPassword: string }) =>
  api.changePassword(input.currentPassword, input.newPassword);

export function useChangePassword() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: changePassword,
    // The other sessions are gone.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: sessionListKeys.all }),
  });
}

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api';
import { mailboxKeys } from './get-mailboxes';

export const deleteMailbox = (id: number) =>
  api<null>(`/directory/mailboxes/${id}`, { method: 'DELETE' });

export function useDeleteMailbox() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: deleteMailbox,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: mailboxKeys.all }),
  });
}

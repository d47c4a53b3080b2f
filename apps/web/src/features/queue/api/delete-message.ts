import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { queueKeys } from './get-queue';

export const deleteMessage = ({ node, id, ndr }: { node: string; id: string; ndr: boolean }) =>
  api.queue.remove(node, id, ndr);

export function useDeleteMessage() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: deleteMessage,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queueKeys.all }),
  });
}

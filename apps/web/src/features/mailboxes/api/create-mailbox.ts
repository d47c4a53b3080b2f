import type { MailboxCreateBody } from '@ims/api-client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { mailboxKeys } from './get-mailboxes';

export type CreateMailboxInput = MailboxCreateBody;

export const createMailbox = (input: CreateMailboxInput) => api.directory.create(input);

export function useCreateMailbox() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createMailbox,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: mailboxKeys.all }),
  });
}

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api';
import type { Mailbox } from '../../../lib/contract';
import { mailboxKeys } from './get-mailboxes';

export interface CreateMailboxInput {
  address: string;
  displayName: string;
  password: string;
}

export const createMailbox = (input: CreateMailboxInput) =>
  api<Mailbox>('/directory/mailboxes', { method: 'POST', body: input });

export function useCreateMailbox() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createMailbox,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: mailboxKeys.all }),
  });
}

import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api';
import type { MailboxList } from '../../../lib/contract';

export const mailboxKeys = {
  all: ['mailboxes'] as const,
  list: () => ['mailboxes', 'list'] as const,
};

export const getMailboxes = () => api<MailboxList>('/directory/mailboxes');

export const mailboxesQuery = () =>
  queryOptions({ queryKey: mailboxKeys.list(), queryFn: getMailboxes });

export const useMailboxes = () => useQuery(mailboxesQuery());

import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const mailboxKeys = {
  all: ['mailboxes'] as const,
  list: () => ['mailboxes', 'list'] as const,
};

export const getMailboxes = (signal?: AbortSignal) => api.directory.list({ signal });

export const mailboxesQuery = () =>
  queryOptions({ queryKey: mailboxKeys.list(), queryFn: ({ signal }) => getMailboxes(signal) });

export const useMailboxes = () => useQuery(mailboxesQuery());

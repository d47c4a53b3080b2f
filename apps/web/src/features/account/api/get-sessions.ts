import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

export const sessionListKeys = {
  all: ['sessions'] as const,
  list: () => ['sessions', 'list'] as const,
};

export const getSessions = () => api.sessions.list();

export const sessionsQueryOptions = () =>
  queryOptions({ queryKey: sessionListKeys.list(), queryFn: getSessions });

export const useSessions = () => useQuery(sessionsQueryOptions());

import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api';
import type { Service } from '../../../lib/contract';

export const serviceKeys = {
  all: ['service'] as const,
  status: () => ['service', 'status'] as const,
};

export const getService = () => api<Service>('/service');

export const serviceQuery = () =>
  queryOptions({ queryKey: serviceKeys.status(), queryFn: getService, refetchInterval: 30_000 });

export const useService = () => useQuery(serviceQuery());

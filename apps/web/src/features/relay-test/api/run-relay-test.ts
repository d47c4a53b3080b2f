import { useMutation } from '@tanstack/react-query';
import { api } from '../../../lib/api';
import type { RelayTestResult } from '../../../lib/contract';

/** POST /api/v1/service/relay-test: relay attempts against the running service. */
export const runRelayTest = (from?: string) =>
  api<RelayTestResult>('/service/relay-test', { method: 'POST', body: from ? { from } : {} });

export const useRunRelayTest = () => useMutation({ mutationFn: runRelayTest });

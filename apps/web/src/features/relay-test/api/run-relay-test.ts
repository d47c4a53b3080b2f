import { useMutation } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

/** POST /api/v1/service/relay-test: relay attempts against the running service. */
export const runRelayTest = (from?: string) => api.service.relayTest(from ? { from } : {});

export const useRunRelayTest = () => useMutation({ mutationFn: runRelayTest });

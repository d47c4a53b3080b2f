import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { API_BASE } from '../../../lib/api';
import type { Service } from '../../../lib/contract';
import { serviceKeys } from '../api/get-service';

export type StreamState = 'connecting' | 'open' | 'closed';

/**
 * Live service status: GET /api/v1/events (server-sent `service` events) is
 * written into the service query, so every view of it updates at once. The
 * browser's EventSource reconnects by itself.
 */
export function useServiceEvents(enabled = true): StreamState {
  const queryClient = useQueryClient();
  const [state, setState] = useState<StreamState>('connecting');
  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return;
    const source = new EventSource(`${API_BASE}/events`, { withCredentials: true });
    source.onopen = () => setState('open');
    source.onerror = () =>
      setState(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
    source.addEventListener('service', (event) => {
      try {
        queryClient.setQueryData(
          serviceKeys.status(),
          JSON.parse((event as MessageEvent<string>).data) as Service,
        );
      } catch {
        // a malformed event: the next one or the periodic refetch corrects it
      }
    });
    return () => source.close();
  }, [enabled, queryClient]);
  return state;
}

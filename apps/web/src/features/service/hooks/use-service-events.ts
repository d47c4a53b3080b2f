import type { Service } from '@ims/api-client';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from '../../../lib/api-client';
import { isApiProblem } from '../../../lib/problem';
import { pushService } from '../../../lib/service-queries';

export type StreamState = 'connecting' | 'open' | 'closed';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/** Resolves after `ms`, or at once when `signal` aborts. */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Live service status: GET /api/v1/events (server-sent `service` events,
 * read by the api-client) is written into the service query, so every view
 * of it updates at once. A dropped stream is re-opened with backoff, as the
 * browser's EventSource would; an error answer (signed out) closes it.
 */
export function useServiceEvents(enabled = true): StreamState {
  const queryClient = useQueryClient();
  const [state, setState] = useState<StreamState>('connecting');
  useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    const follow = async () => {
      let delay = FIRST_RETRY_MS;
      while (!abort.signal.aborted) {
        setState('connecting');
        try {
          await api.events.service(
            {
              onOpen: () => {
                setState('open');
                delay = FIRST_RETRY_MS;
              },
              onEvent: (event) => {
                // A malformed event: the next one or the periodic refetch corrects it.
                if (event.type !== 'service' || typeof event.data !== 'object' || !event.data)
                  return;
                pushService(queryClient, event.data as Service);
              },
            },
            { signal: abort.signal },
          );
        } catch (err) {
          if (abort.signal.aborted) return;
          if (isApiProblem(err)) {
            setState('closed');
            return;
          }
        }
        if (abort.signal.aborted) return;
        setState('connecting');
        await pause(delay, abort.signal);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    };
    void follow();
    return () => abort.abort();
  }, [enabled, queryClient]);
  return state;
}

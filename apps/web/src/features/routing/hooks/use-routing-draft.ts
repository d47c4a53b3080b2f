import type { RoutingConfig } from '@ims/routing-core';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { RoutingWithEtag } from '../../../lib/routing-queries';
import { cloneConfig, sameJson } from '../utils/config-utils';

interface DraftState {
  /** The saved version the draft is based on (its ETag goes in If-Match). */
  base: RoutingWithEtag | null;
  draft: RoutingConfig | null;
}

/**
 * The property sheet's draft of the routing configuration. A newer saved
 * version is adopted by itself only while there are no unsaved changes;
 * otherwise the draft stays on its base until it is saved (a 412 then) or
 * discarded.
 */
export function useRoutingDraft(server: RoutingWithEtag | undefined) {
  const [state, setState] = useState<DraftState>({ base: null, draft: null });

  useEffect(() => {
    if (!server) return;
    setState((s) => {
      if (!s.base || !s.draft) return { base: server, draft: cloneConfig(server.config) };
      const dirty = !sameJson(s.draft, s.base.config);
      if (!dirty && server.version !== s.base.version) {
        return { base: server, draft: cloneConfig(server.config) };
      }
      return s;
    });
  }, [server]);

  const dirty = useMemo(
    () => !!state.base && !!state.draft && !sameJson(state.draft, state.base.config),
    [state],
  );

  const update = useCallback((change: (draft: RoutingConfig) => RoutingConfig) => {
    setState((s) => (s.draft ? { ...s, draft: change(s.draft) } : s));
  }, []);

  /** Discards the draft: back to its base. */
  const discard = useCallback(() => {
    setState((s) => (s.base ? { base: s.base, draft: cloneConfig(s.base.config) } : s));
  }, []);

  /** A new base (after a save, a reload, or a re-apply on top of a newer version). */
  const reset = useCallback((base: RoutingWithEtag, draft?: RoutingConfig) => {
    setState({ base, draft: draft ?? cloneConfig(base.config) });
  }, []);

  return { base: state.base, draft: state.draft, dirty, update, discard, reset };
}

export type RoutingDraft = ReturnType<typeof useRoutingDraft>;
